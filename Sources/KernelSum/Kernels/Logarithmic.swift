import Foundation

/// The logarithmic kernel k(x) = −log|x| (the 2-D Coulomb potential). Singular at 0:
/// coincident points contribute nothing (no self-interaction), in value and gradient.
public struct LogarithmicKernel: RadialKernel {
    /// `log`.
    public static let name = "log"
    /// The kernel (it has no parameters).
    public init() {}

    /// `log`.
    public var spec: String { "log" }
    /// Singular: unbounded at 0.
    public var regularity: KernelRegularity { .singular }
    /// Direct sum with gradient, one thread: 5.0 ns measured.
    public var directSecondsPerPair: Double { 5.0e-9 }

    /// κ = −½ log r², κ'(r)/r = −1/r²; (0, 0) at r = 0.
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        guard r2 > 0 else { return (0, 0) }
        return (-0.5 * Foundation.log(r2), -1 / r2)
    }

    /// Vectorised with ``VectorMath/logOfNormal(_:)``; coincident lanes give (0, 0). No lane
    /// masks: r² is floored at 2⁻¹⁰⁰⁰ for the log and the result multiplied by
    /// min(r² 2¹⁰⁰⁰, 1), which is 1 for every r² ≥ 2⁻¹⁰⁰⁰ and 0 at r² = 0.
    /// - Parameter r2: eight values of r².
    @inlinable @inline(__always) public func profile8(
        _ r2: SIMD8<Double>
    ) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        typealias V = SIMD8<Double>
        let floored = pointwiseMax(r2, V(repeating: 0x1p-1000))
        let present = pointwiseMin(r2 * V(repeating: 0x1p1000), V(repeating: 1))
        return (V(repeating: -0.5) * VectorMath.logOfNormal(floored) * present, V(repeating: -1) / floored * present)
    }

    static let entry = KernelEntry(name: name, summary: "−log|x| (coincident points excluded)", parameters: []) { _ in
        LogarithmicKernel()
    }
}
