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
