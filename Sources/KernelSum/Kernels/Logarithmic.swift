/// The logarithmic kernel k(x) = −log|x| (the 2-D Coulomb potential). Singular at 0:
/// coincident points contribute nothing (no self-interaction), in value and gradient.
public struct LogarithmicKernel: RadialKernel {
    public static let name = "log"
    public init() {}

    public var spec: String { "log" }
    public var regularity: KernelRegularity { .singular }

    /// κ = −½ log r², κ'(r)/r = −1/r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        guard r2 > 0 else { return (0, 0) }
        return (-0.5 * Foundation.log(r2), -1 / r2)
    }

    /// Vectorised with ``VectorMath/log(_:)``; coincident lanes give (0, 0).
    @inlinable @inline(__always) public func profile8(_ r2: SIMD8<Double>) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        let zero = r2 .<= SIMD8(repeating: 0)
        var v = SIMD8(repeating: -0.5) * VectorMath.log(r2), s = SIMD8(repeating: -1) / r2
        v.replace(with: 0, where: zero)
        s.replace(with: 0, where: zero)
        return (v, s)
    }

    static let entry = KernelEntry(name: name, summary: "−log|x| (coincident points excluded)", parameters: []) { _ in
        LogarithmicKernel()
    }
}

import Foundation
