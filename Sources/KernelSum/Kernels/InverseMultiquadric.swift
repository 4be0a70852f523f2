import Foundation

/// Inverse multiquadric k(x) = (1 + |x|²/c²)^β, β = −1/2 by default (Gorham & Mackey's choice
/// for Stein discrepancies; any β in (−1, 0) keeps the kernel characteristic).
public struct InverseMultiquadricKernel: RadialKernel {
    /// `imq`.
    public static let name = "imq"
    /// c, the scale.
    public let c: Double
    /// β, the exponent (negative).
    public let beta: Double
    @usableFromInline let inverseC2: Double

    /// - Parameters:
    ///   - c: the scale (the registry keeps it within ``NumericRange/scale``).
    ///   - beta: the exponent β (the registry keeps it within ``NumericRange/imqExponent``).
    public init(c: Double, beta: Double = -0.5) {
        self.c = c
        self.beta = beta
        self.inverseC2 = 1 / (c * c)
    }

    /// `imq:c=c`, with `,beta=β` unless β = −½.
    public var spec: String {
        beta == -0.5 ? "imq:c=\(formatNumber(c))" : "imq:c=\(formatNumber(c)),beta=\(formatNumber(beta))"
    }
    /// Smooth: analytic at 0.
    public var regularity: KernelRegularity { .smooth }
    /// Direct sum with gradient, one thread: 2.7–3.5 ns measured.
    public var directSecondsPerPair: Double { 3.0e-9 }

    /// The spectrum falls like (c|ω|)^(|β| − (d+1)/2) exp(−c|ω|) for large ω (a Bessel K): the
    /// last mode sits where x = c|ω| has x − (|β| − 1)⁺ ln x ≥ l + 5. The kernel decays only
    /// algebraically: its reach is infinite.
    /// - Parameter l: the decay.
    public func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)? {
        var x = l + 5
        for _ in 0..<8 { x = l + 5 + max(0, abs(beta) - 1) * log(x) }
        return (Double.pi * c / x, .infinity)
    }

    /// κ = q^β with q = 1 + r²/c², κ'(r)/r = 2β q^(β−1) / c².
    /// - Parameter r2: r².
    @inlinable public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let q = 1 + r2 * inverseC2
        if beta == -0.5 {
            let v = 1 / q.squareRoot()
            return (v, -v / q * inverseC2)
        }
        let v = pow(q, beta)
        return (v, 2 * beta * v / q * inverseC2)
    }

    /// Vectorised for β = −½ (a vector square root); other β lane by lane.
    /// - Parameter r2: eight values of r².
    @inline(__always) public func profile8(_ r2: SIMD8<Double>) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        guard beta == -0.5 else {
            var v = SIMD8<Double>()
            var s = SIMD8<Double>()
            for k in 0..<8 { (v[k], s[k]) = profile(squaredDistance: r2[k]) }
            return (v, s)
        }
        let q = SIMD8<Double>(repeating: 1).multiplyAdd(r2, SIMD8(repeating: inverseC2))
        let v = 1 / q.squareRoot()
        return (v, -v / q * SIMD8(repeating: inverseC2))
    }

    static let entry = KernelEntry(
        name: name, summary: "(1 + |x|²/c²)^β",
        parameters: [
            .init(name: "c", meaning: "scale c in [1e-150, 1e150]", defaultValue: 1),
            .init(name: "beta", meaning: "exponent β in [−100, 0)", defaultValue: -0.5),
        ]
    ) { p in
        InverseMultiquadricKernel(
            c: try p.scale("c"),
            beta: try p.real(
                "beta", default: -0.5, where: NumericRange.imqExponent.contains,
                allowed: NumericRange.describe(NumericRange.imqExponent)
                    + ": below −100 it is a Gaussian up to rounding (use gaussian)"))
    }
}
