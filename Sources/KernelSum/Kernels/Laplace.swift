import Foundation

/// Laplace (exponential) kernel k(x) = exp(−α|x|). It has a cusp at 0: the gradient there is 0.
public struct LaplaceKernel: RadialKernel {
    /// `laplace`.
    public static let name = "laplace"
    /// α, the rate (1/α the length).
    public let alpha: Double

    /// - Parameter alpha: α (the registry keeps it within ``NumericRange/scale``).
    public init(alpha: Double) { self.alpha = alpha }

    /// `laplace:alpha=α`.
    public var spec: String { "laplace:alpha=\(formatNumber(alpha))" }
    /// Cusp: finite but not differentiable at 0.
    public var regularity: KernelRegularity { .cusp }
    /// Direct sum with gradient, one thread: 5.5–6.2 ns measured.
    public var directSecondsPerPair: Double { 5.8e-9 }

    /// Ψ̂(r) = 2^d π^{(d−1)/2} Γ((d+1)/2) α (α² + r²)^{−(d+1)/2} (Matérn with ν = 1/2).
    /// - Parameters:
    ///   - r: the frequency radius.
    ///   - d: the dimension.
    public func logSpectralDensity(radius r: Double, dimension d: Int) -> Double? {
        let h = Double(d + 1) / 2
        return Double(d) * log(2.0) + (h - 1) * log(Double.pi) + lgamma(h) + log(alpha) - 2 * h * log(hypot(alpha, r))
    }

    /// The profile's kink: f̂(ρ) = A ρ^{d−1}(α² + ρ²)^{−h}, h = (d+1)/2, A = 2α c_d (c_d of
    /// ``SlicedSum/sliceConstant(dimension:)``), falls like Aρ^{−2}(1 − hα²/ρ² + …); the
    /// exponential c e^{−a|t|} with a = α√h, c = c_d/√h has the spectrum 2ca/(a² + ρ²) =
    /// Aρ^{−2}(1 − hα²/ρ² + …), so the remainder ĝ = A[(1 + x)^{−h} − 1/(1 + hx)]/ρ², x = α²/ρ²,
    /// is O(ρ^{−6}), taken as A·expm1(log(1 + hx) − h log(1 + x))/(ρ² + hα²) free of cancellation
    /// (ĝ ≤ 0: (1 + x)^h ≥ 1 + hx). In 1-D f is the exponential itself.
    /// - Parameter d: the dimension.
    public func slicingCusp(dimension d: Int) -> SliceCusp? {
        let h = Double(d + 1) / 2
        let cd = SlicedSum.sliceConstant(dimension: d)
        let (alpha, big) = (alpha, 2 * alpha * cd)
        guard d > 1 else { return SliceCusp(weight: 1, rate: alpha, remainderSpectrum: nil) }
        return SliceCusp(weight: cd / h.squareRoot(), rate: alpha * h.squareRoot()) { rho in
            let x = (alpha / rho) * (alpha / rho)
            let e = x.isFinite ? expm1(log1p(h * x) - h * log1p(x)) : -1
            return big * e / (rho * rho + h * alpha * alpha)
        }
    }

    /// κ = e^(−αr), κ'(r)/r = −α e^(−αr) / r (0 at r = 0).
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let r = r2.squareRoot()
        let v = exp(-alpha * r)
        return (v, r > 0 ? -alpha * v / r : 0)
    }

    static let entry = KernelEntry(
        name: name, summary: "exp(−α|x|)",
        parameters: [.init(name: "alpha", meaning: "rate α in [1e-150, 1e150]", defaultValue: 1)]
    ) { p in LaplaceKernel(alpha: try p.scale("alpha")) }
}
