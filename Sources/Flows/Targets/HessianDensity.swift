/// A density whose log has an exact Hessian: ∇²log π(x) v, the Jacobian of the score ∇log π
/// applied to a vector (what KSD descent's gradient needs: ∇_x[s(x)ᵀv] = ∇²log π(x) v).
public protocol HessianDensity: Density {
    /// ∇²log π(x) v at the d coordinates `x`, for the d coordinates `v`, written to `out[0..<d]`.
    func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>)
}

extension HessianDensity {
    /// ∇²log π(x) v at one point. Allocates; for tests and tools.
    public func hessianVectorProduct(_ x: [Double], _ v: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: dimension)
        x.withUnsafeBufferPointer { xp in
            v.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer {
                    hessianVectorProduct(xp.baseAddress!, vp.baseAddress!, into: $0.baseAddress!)
                }
            }
        }
        return out
    }
}

/// A density whose score flows may estimate from minibatches and whose Hessian is estimated from
/// the same minibatches: what KSD descent takes a minibatch step with.
public protocol MinibatchHessianDensity: MinibatchDensity, HessianDensity {
    /// The density the minibatch of `step` (from 1) drawn with `seed` estimates: its scores are
    /// ``MinibatchDensity/minibatchScores(_:count:into:threads:step:seed:)``'s, and its Hessian
    /// comes from the same rows with the same scale (the density itself when not minibatched).
    func minibatch(step: Int, seed: UInt64) -> any HessianDensity
}
