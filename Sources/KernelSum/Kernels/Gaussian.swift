import Foundation

/// Gaussian kernel k(x) = exp(−|x|² / (2σ²)).
public struct GaussianKernel: RadialKernel {
    public static let name = "gaussian"
    public let sigma: Double
    @usableFromInline let minusHalfInverseVariance: Double

    public init(sigma: Double) {
        self.sigma = sigma
        self.minusHalfInverseVariance = -0.5 / (sigma * sigma)
    }

    public var spec: String { "gaussian:sigma=\(formatParameter(sigma))" }
    public var regularity: KernelRegularity { .smooth }

    /// κ = exp(−r²/(2σ²)), κ'(r)/r = −κ/σ².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let v = exp(minusHalfInverseVariance * r2)
        return (v, 2 * minusHalfInverseVariance * v)
    }

    /// Vectorised: κ for a block at once with ``VectorMath/exp(_:)``, then the slopes.
    public func profiles(_ r2: UnsafePointer<Double>, count: Int,
                         values: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>) {
        let a = minusHalfInverseVariance
        VectorMath.map(r2, values, count: count) { VectorMath.exp($0 * VectorMath.V(repeating: a)) }
        let twoA = 2 * a
        for k in 0..<count { slopes[k] = twoA * values[k] }
    }

    static let entry = KernelEntry(
        name: name, summary: "exp(−|x|²/(2σ²))",
        parameters: [.init(name: "sigma", meaning: "bandwidth σ > 0", defaultValue: 1)]
    ) { p in GaussianKernel(sigma: try p.real("sigma", default: 1, where: { $0 > 0 }, allowed: "a number > 0")) }
}
