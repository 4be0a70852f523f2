/// The Coulomb kernel of R³, k(x) = |x|^(2−d) = 1/|x| for d = 3 (in 2-D the Coulomb kernel is
/// `log`). Singular at 0: coincident points contribute nothing, in value and gradient.
public struct CoulombKernel: RadialKernel {
    /// `coulomb`.
    public static let name = "coulomb"
    /// The kernel (it has no parameters).
    public init() {}

    /// `coulomb`.
    public var spec: String { "coulomb" }
    /// Singular: unbounded at 0.
    public var regularity: KernelRegularity { .singular }
    /// Direct sum with gradient, one thread: 3.6–4.5 ns measured.
    public var directSecondsPerPair: Double { 4.0e-9 }

    /// κ = 1/r, κ'(r)/r = −1/r³; (0, 0) at r = 0.
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        guard r2 > 0 else { return (0, 0) }
        let inv = 1 / r2.squareRoot()
        return (inv, -inv * inv * inv)
    }

    static let entry = KernelEntry(
        name: name, summary: "1/|x|, the Coulomb kernel of R³ (coincident points excluded)", parameters: []
    ) { _ in
        CoulombKernel()
    }
}
