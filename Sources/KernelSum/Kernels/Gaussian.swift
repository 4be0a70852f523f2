import Foundation

/// Gaussian kernel k(x) = exp(−|x|² / (2σ²)).
public struct GaussianKernel: RadialKernel {
    /// `gaussian`.
    public static let name = "gaussian"
    /// σ, the bandwidth.
    public let sigma: Double
    @usableFromInline let minusHalfInverseVariance: Double

    /// - Parameter sigma: σ (the registry keeps it within ``NumericRange/scale``).
    public init(sigma: Double) {
        self.sigma = sigma
        self.minusHalfInverseVariance = -0.5 / (sigma * sigma)
    }

    /// `gaussian:sigma=σ`.
    public var spec: String { "gaussian:sigma=\(formatNumber(sigma))" }
    /// Smooth: analytic at 0.
    public var regularity: KernelRegularity { .smooth }
    /// Direct sum with gradient, one thread: 1.8–2.0 ns measured (the vector exp).
    public var directSecondsPerPair: Double { 1.9e-9 }

    /// The spectrum is ∝ exp(−σ²ω²/2): Ω = √(2l)/σ, h = π/Ω; κ = e^(−l) at σ√(2l).
    /// - Parameter l: the decay.
    public func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)? {
        (Double.pi * sigma / (2 * l).squareRoot(), sigma * (2 * l).squareRoot())
    }

    /// Ψ̂(r) = (2πσ²)^{d/2} e^{−σ²r²/2}.
    /// - Parameters:
    ///   - r: the frequency radius.
    ///   - d: the dimension.
    public func logSpectralDensity(radius r: Double, dimension d: Int) -> Double? {
        0.5 * Double(d) * log(2 * Double.pi * sigma * sigma) - 0.5 * sigma * sigma * r * r
    }

    /// κ = exp(−r²/(2σ²)), κ'(r)/r = −κ/σ².
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let v = exp(minusHalfInverseVariance * r2)
        return (v, 2 * minusHalfInverseVariance * v)
    }

    /// Vectorised with ``VectorMath/exp(_:)``.
    /// - Parameter r2: eight values of r².
    @inlinable @inline(__always) public func profile8(
        _ r2: SIMD8<Double>
    ) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        let v = VectorMath.exp(r2 * SIMD8(repeating: minusHalfInverseVariance))
        return (v, v * SIMD8(repeating: 2 * minusHalfInverseVariance))
    }

    static let entry = KernelEntry(
        name: name, summary: "exp(−|x|²/(2σ²))",
        parameters: [.init(name: "sigma", meaning: "bandwidth σ in [1e-150, 1e150]", defaultValue: 1)]
    ) { p in GaussianKernel(sigma: try p.scale("sigma")) }
}
