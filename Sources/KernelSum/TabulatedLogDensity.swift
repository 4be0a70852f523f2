import Foundation

/// A kernel whose log spectral density is costly to evaluate (IMQ: a Bessel K by quadrature):
/// ``SliceProfile``, whose quadratures of f read it millions of times, reads it from a table.
protocol CostlySpectralDensity: RadialKernel {
    /// The range of u = log ρ over which the profile in dimension d reads Ψ̂ densely (its
    /// quadrature of f, its series' frequencies); outside it the density is computed.
    /// - Parameter d: the dimension.
    func tabulatedRange(dimension d: Int) -> ClosedRange<Double>
}

/// g(u) = log Ψ̂(e^u) sampled at u_k = k h, h = 1/512, over a range of u, read by 6-point
/// Lagrange interpolation on the nodes u_{k−2} … u_{k+3} about u ∈ [u_k, u_{k+1}); outside the
/// range (and at ρ = 0) the density is computed. The interpolation errs by at most
/// max|g⁽⁶⁾| h⁶ max|Π_i (u − u_i)| / 6! = max|g⁽⁶⁾| h⁶ (5/2 · 3/2 · 1/2)² / 720 ≈ 2.7·10⁻¹⁹ max|g⁽⁶⁾|
/// (the product largest midway between the middle nodes), plus the rounding of the samples
/// (a few ulp of |g|, as the computed density's own): for IMQ, g⁽⁶⁾ = O(cρ + d) (g ≈ −cρ for
/// large ρ), so within 10⁻¹⁵ of Ψ̂ relative up to cρ ~ 10³, far below any profile accuracy.
struct TabulatedLogDensity: Sendable {
    /// h.
    static let step = 1.0 / 512
    /// k of the first sample.
    let first: Int
    /// g(u_k) for k = first, first + 1, ….
    let samples: [Double]
    /// g computed.
    let exact: @Sendable (Double) -> Double

    /// The samples over `range` (u), with the nodes the interpolation needs at its ends.
    /// - Parameters:
    ///   - range: the range of u = log ρ.
    ///   - exact: log Ψ̂(ρ) computed.
    init(range: ClosedRange<Double>, exact: @escaping @Sendable (Double) -> Double) {
        let h = TabulatedLogDensity.step
        first = Int((range.lowerBound / h).rounded(.down)) - 2
        let last = Int((range.upperBound / h).rounded(.up)) + 3
        samples = (first...last).map { exact(exp(Double($0) * h)) }
        self.exact = exact
    }

    /// log Ψ̂(ρ), interpolated within the range.
    /// - Parameter rho: ρ ≥ 0.
    func callAsFunction(_ rho: Double) -> Double {
        let s = log(rho) / TabulatedLogDensity.step
        // Nodes k − 2 … k + 3 (k = ⌊s⌋) within the samples; NaN and −∞ (ρ = 0) fail too.
        guard s >= Double(first + 2), s < Double(first + samples.count - 3) else { return exact(rho) }
        let k = s.rounded(.down)
        let x = s - k
        // Lagrange weights L_j(x) = Π_{m≠j} (x − m)/(j − m) for nodes j = −2 … 3, from the
        // products of the factors x − m before (p) and after (q) node j.
        let (f0, f1, f2, f3, f4, f5) = (x + 2, x + 1, x, x - 1, x - 2, x - 3)
        let p1 = f0
        let p2 = p1 * f1
        let p3 = p2 * f2
        let p4 = p3 * f3
        let p5 = p4 * f4
        let q4 = f5
        let q3 = q4 * f4
        let q2 = q3 * f3
        let q1 = q2 * f2
        let q0 = q1 * f1
        return samples.withUnsafeBufferPointer { g in
            let i = Int(k) - 2 - first
            return q0 / -120 * g[i] + p1 * q1 / 24 * g[i + 1] + p2 * q2 / -12 * g[i + 2]
                + p3 * q3 / 12 * g[i + 3] + p4 * q4 / -24 * g[i + 4] + p5 / 120 * g[i + 5]
        }
    }

    /// log Ψ̂ of `kernel` in dimension d as ``SliceProfile`` reads it: tabulated for a
    /// `CostlySpectralDensity`, computed otherwise (−∞ where the kernel gives none).
    /// - Parameters:
    ///   - kernel: the kernel.
    ///   - d: the dimension.
    static func logDensity(_ kernel: any RadialKernel, dimension d: Int) -> @Sendable (Double) -> Double {
        let exact: @Sendable (Double) -> Double = { kernel.logSpectralDensity(radius: $0, dimension: d) ?? -.infinity }
        guard let costly = kernel as? any CostlySpectralDensity else { return exact }
        let table = TabulatedLogDensity(range: costly.tabulatedRange(dimension: d), exact: exact)
        return { table($0) }
    }
}

extension SliceProfile {
    /// log Ψ̂(ρ) as the profile reads it: the kernel's
    /// ``RadialKernel/logSpectralDensity(radius:dimension:)``, interpolated from a table (within
    /// 10⁻¹⁵ relative) where it is costly to compute (IMQ, for cρ in [10⁻⁹, 2(d + 2|β|) + 100]).
    /// - Parameter rho: ρ ≥ 0.
    public func logSpectralDensity(_ rho: Double) -> Double { logDensity(rho) }
}
