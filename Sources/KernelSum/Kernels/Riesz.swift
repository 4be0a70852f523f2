import Foundation

/// Riesz kernel k(x) = −|x|^r, r in (0, 2). Conditionally positive definite; its MMD is the
/// energy distance for r = 1 (Székely & Rizzo; Hertrich et al. 2023). Cusp at 0 (gradient 0 there).
public struct RieszKernel: RadialKernel {
    /// `riesz`.
    public static let name = "riesz"
    /// The exponent r, in (0, 2).
    public let r: Double

    /// - Parameter r: the exponent, in (0, 2).
    public init(r: Double) { self.r = r }

    /// `riesz:r=r`.
    public var spec: String { "riesz:r=\(formatNumber(r))" }
    /// Cusp: finite but not differentiable at 0.
    public var regularity: KernelRegularity { .cusp }
    /// Direct sum, one thread, d = 4: 4.1–4.3 ns measured for r = 1 (a square root), 15–17 ns
    /// for r = 0.75 and 1.5 (a `pow`).
    public var directSecondsPerPair: Double { r == 1 ? 4.0e-9 : 16e-9 }

    /// κ = −ρ^r with ρ = |x|, κ'(ρ)/ρ = −r ρ^(r−2) (0 at ρ = 0).
    /// - Parameter r2: ρ².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        guard r2 > 0 else { return (0, 0) }
        if r == 1 {
            let rho = r2.squareRoot()
            return (-rho, -1 / rho)
        }
        let v = pow(r2, 0.5 * r)
        return (-v, -r * v / r2)
    }

    static let entry = KernelEntry(
        name: name, summary: "−|x|^r, r in (0, 2) (energy distance for r = 1)",
        parameters: [.init(name: "r", meaning: "exponent in (0, 2)", defaultValue: 1)]
    ) { p in RieszKernel(r: try p.real("r", default: 1, where: { $0 > 0 && $0 < 2 }, allowed: "a number in (0, 2)")) }
}
