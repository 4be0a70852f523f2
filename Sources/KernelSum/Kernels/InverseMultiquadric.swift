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

    /// With b = −β and ν = d/2 − b, Ψ̂(r) = (2π)^{d/2} c^d 2^{1−b} / Γ(b) · (cr)^{−ν} K_ν(cr)
    /// (Wendland 2005, Thm 8.15, rescaled: K_ν the modified Bessel function of the second kind,
    /// K_ν = K_{−ν}; in 1-D with b = 1 it is πc e^{−c|ω|}). At r = 0 it is ∫κ =
    /// π^{d/2} c^d Γ(−ν) / Γ(b) for ν < 0, infinite otherwise. Nil in 1-D, where the slicing
    /// profile is κ itself, and for b < ½: κ ~ r^{−2b} and the profile's tails then fall too
    /// slowly for a periodised series (f̂ ~ ρ^{2b−1} at 0: not integrable below b = ½; at b = ½
    /// f̂(0) = ∫f is finite and the profile falls like |t|^{−d}).
    /// - Parameters:
    ///   - r: the frequency radius.
    ///   - d: the dimension.
    public func logSpectralDensity(radius r: Double, dimension d: Int) -> Double? {
        guard d > 1, beta <= -0.5 else { return nil }
        let b = -beta
        let nu = Double(d) / 2 - b
        let logFront = Double(d) / 2 * log(2 * Double.pi) + Double(d) * log(c) - lgamma(b)
        guard r > 0 else { return nu < 0 ? logFront - Double(d) / 2 * log(2.0) + lgamma(-nu) : .infinity }
        let z = c * r
        return logFront + (1 - b) * log(2.0) - nu * log(z) + InverseMultiquadricKernel.logBesselK(nu, z)
    }

    /// log K_ν(z), z > 0, from K_ν(z) = e^{−z} ∫₀^∞ exp(−2z sinh²(t/2)) cosh(νt) dt
    /// (cosh t = 1 + 2 sinh²(t/2)) by the trapezoid rule with the integrand's largest value
    /// factored out (no overflow for ν, z up to 10³⁰⁰). The integrand is even and analytic in
    /// |Im t| < π/2: steps of 0.25 err by about e^{−π²/0.25}; about its peak t* = asinh(|ν|/z)
    /// its width is (z² + ν²)^{−1/4}, a third of which bounds the step. The sum stops where the
    /// log integrand is 40 below its peak: after about 27 steps at large z, where z(cosh t − 1),
    /// unlike z cosh t, resolves the integrand's fall (with z cosh t the sum ran until cosh t
    /// rounded away from 1: 4.5·10⁵ steps at z = 10²⁶, where ``SliceProfile`` scans the spectrum).
    /// - Parameters:
    ///   - nu: ν.
    ///   - z: the argument.
    static func logBesselK(_ nu: Double, _ z: Double) -> Double {
        let nu = abs(nu)
        // log(exp(−2z sinh²(t/2)) cosh(νt)), cosh(νt) = e^{νt}(1 + e^{−2νt})/2.
        func logIntegrand(_ t: Double) -> Double {
            let s = sinh(0.5 * t)
            return -2 * z * s * s + nu * t + log1p(exp(-2 * nu * t)) - M_LN2
        }
        let peak = asinh(nu / z)
        let h = min(0.25, 1 / (3 * hypot(z, nu).squareRoot()))
        let top = logIntegrand(peak)
        let k0 = Int((peak / h).rounded())
        var sum = 0.0
        var k = k0
        while k >= 0 {
            let v = logIntegrand(Double(k) * h)
            sum += (k == 0 ? 1 : 2) * exp(v - top)
            if v < top - 40 { break }
            k -= 1
        }
        k = k0 + 1
        while true {
            let v = logIntegrand(Double(k) * h)
            sum += 2 * exp(v - top)
            if v < top - 40 { break }
            k += 1
        }
        // The trapezoid over the whole line, halved.
        return -z + top + log(0.5 * h * sum)
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

extension InverseMultiquadricKernel: CostlySpectralDensity {
    /// z = cρ in [10⁻⁹, 2(d + 2b) + 100], b = −β. The profile's f̂ ∝ z^{d/2+b−1} K_ν(z) has ρf̂
    /// peak at z of order 1 to d/2 + b, and ∫ρf̂ falls below 10⁻¹⁵ before z = 2(d + 2b) + 100
    /// (f̂ ~ z^{(d−3)/2+b} e^{−z}); its quadrature of f reads ρ down to about 2·10⁻⁶ times the
    /// peak.
    /// - Parameter d: the dimension.
    func tabulatedRange(dimension d: Int) -> ClosedRange<Double> {
        log(1e-9 / c)...log((2 * (Double(d) - 2 * beta) + 100) / c)
    }
}
