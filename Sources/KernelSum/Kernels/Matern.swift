import Foundation

/// Matérn kernels of smoothness ν = 3/2 and 5/2 with length ℓ (Rasmussen & Williams 2006, eq. 4.17):
///
///     ν = 3/2:  κ = (1 + a r) e^(−a r),              a = √3/ℓ,   κ'(r)/r = −a² e^(−a r)
///     ν = 5/2:  κ = (1 + a r + a²r²/3) e^(−a r),     a = √5/ℓ,   κ'(r)/r = −(a²/3)(1 + a r) e^(−a r)
///
/// Finitely differentiable at 0 (an |x|³ or |x|⁵ term), hence `.cusp` for the engines; the
/// gradient itself is continuous.
public struct MaternKernel: RadialKernel {
    /// `matern`.
    public static let name = "matern"
    /// ν, 1.5 or 2.5.
    public let nu: Double
    /// ℓ, the length.
    public let length: Double
    @usableFromInline let a: Double

    /// - Parameters:
    ///   - nu: ν, 1.5 or 2.5 (any other value stops with a message).
    ///   - length: ℓ (the registry keeps it within ``NumericRange/scale``).
    public init(nu: Double, length: Double) {
        guard nu == 1.5 || nu == 2.5 else { fatalError("MaternKernel: ν = \(nu) (1.5 or 2.5)") }
        self.nu = nu
        self.length = length
        a = (nu == 1.5 ? 3.0 : 5.0).squareRoot() / length
    }

    /// `matern:nu=ν,length=ℓ`.
    public var spec: String { "matern:nu=\(formatNumber(nu)),length=\(formatNumber(length))" }
    /// Cusp for the engines: finitely differentiable at 0.
    public var regularity: KernelRegularity { .cusp }
    /// Direct sum with gradient, one thread: 5.3–8.0 ns (ν = 3/2) and 8.5–9.5 ns (ν = 5/2) measured.
    public var directSecondsPerPair: Double { nu > 2 ? 9.0e-9 : 6.5e-9 }

    /// Ψ̂(r) = 2^d π^{d/2} Γ(ν + d/2) a^{2ν} / Γ(ν) · (a² + r²)^{−(ν + d/2)} (Rasmussen & Williams
    /// 2006, eq. 4.15, a² = 2ν/ℓ²).
    /// - Parameters:
    ///   - r: the frequency radius.
    ///   - d: the dimension.
    public func logSpectralDensity(radius r: Double, dimension d: Int) -> Double? {
        let h = Double(d) / 2
        return Double(d) * log(2.0) + h * log(Double.pi) + lgamma(nu + h) - lgamma(nu) + 2 * nu * log(a)
            - (nu + h) * log(a * a + r * r)
    }

    /// κ and κ'(r)/r of the table above, at r = √r2.
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let ar = a * r2.squareRoot()
        let e = exp(-ar)
        if nu == 1.5 { return ((1 + ar) * e, -a * a * e) }
        return ((1 + ar + ar * ar / 3) * e, -(a * a / 3) * (1 + ar) * e)
    }

    static let entry = KernelEntry(
        name: name, summary: "Matérn ν = 3/2 or 5/2, length ℓ",
        parameters: [
            .init(name: "nu", meaning: "smoothness, 1.5 or 2.5", defaultValue: 1.5),
            .init(name: "length", meaning: "length scale ℓ in [1e-150, 1e150]", defaultValue: 1),
        ]
    ) { p in
        MaternKernel(
            nu: try p.real("nu", default: 1.5, where: { $0 == 1.5 || $0 == 2.5 }, allowed: "1.5 or 2.5"),
            length: try p.scale("length"))
    }
}
