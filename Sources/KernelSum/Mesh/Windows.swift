import Foundation

/// The "exponential of semicircle" window of FINUFFT (Barnett, Magland & af Klinteberg 2019),
/// times 1 − t²: φ(t) = (1 − t²) exp(β(√(1 − t²) − 1)) on [−1, 1], zero outside. Compact, and
/// its Fourier transform falls to about e^(−β) beyond |ω| ≈ β: near-optimal for spreading.
/// The factor 1 − t² keeps φ' bounded (the plain ES window's derivative blows up like
/// 1/√(1 − t²) at the ends, which spoils interpolated gradients at points that fall next to
/// the window's edge).
public struct ESWindow: Sendable {
    /// β, the shape: larger β, narrower spectrum and steeper window (the mesh takes 2.3 w).
    public let beta: Double

    /// The window of shape β.
    /// - Parameter beta: β > 0.
    public init(beta: Double) { self.beta = beta }

    /// φ(t).
    /// - Parameter t: the argument (φ is 0 outside [−1, 1]).
    @inlinable public func value(_ t: Double) -> Double {
        let s = 1 - t * t
        return s > 0 ? s * Foundation.exp(beta * (s.squareRoot() - 1)) : 0
    }

    /// φ'(t) = −t (2 + β √(1 − t²)) exp(β(√(1 − t²) − 1)) (0 beyond the ends).
    /// - Parameter t: the argument.
    @inlinable public func derivative(_ t: Double) -> Double {
        let s = 1 - t * t
        guard s > 0 else { return 0 }
        let r = s.squareRoot()
        return -t * (2 + beta * r) * Foundation.exp(beta * (r - 1))
    }

    /// ∫_{−1}^{1} φ(t) cos(ω t) dt, by Gauss–Legendre quadrature (φ is smooth inside and
    /// e^(−β)-small at the ends, so a rule of a few times β + |ω| nodes is exact to rounding).
    /// - Parameters:
    ///   - omega: the frequency ω.
    ///   - rule: the quadrature rule on [−1, 1].
    public func fourier(_ omega: Double, rule: GaussLegendre) -> Double {
        var s = 0.0
        for k in 0..<rule.nodes.count {
            s += rule.weights[k] * value(rule.nodes[k]) * cos(omega * rule.nodes[k])
        }
        return s
    }
}

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton iteration on P_n from Chebyshev guesses).
public struct GaussLegendre: Sendable {
    /// The n nodes x_k, ascending in [−1, 1]: Σ_k w_k f(x_k) = ∫_{−1}^{1} f for every
    /// polynomial f of degree < 2n.
    public let nodes: [Double]
    /// The weights w_k of the nodes.
    public let weights: [Double]

    /// The n-point rule.
    /// - Parameter n: the nodes, at least 1.
    public init(_ n: Int) {
        var x = [Double](repeating: 0, count: n)
        var w = x
        for i in 0..<(n + 1) / 2 {
            var z = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var dp = 0.0
            for _ in 0..<100 {
                var p0 = 1.0
                var p1 = 0.0
                for j in 0..<n {
                    let p2 = p1
                    p1 = p0
                    p0 = ((2 * Double(j) + 1) * z * p1 - Double(j) * p2) / Double(j + 1)
                }
                dp = Double(n) * (z * p0 - p1) / (z * z - 1)
                let dz = p0 / dp
                z -= dz
                if abs(dz) < 1e-16 { break }
            }
            x[i] = -z
            x[n - 1 - i] = z
            w[i] = 2 / ((1 - z * z) * dp * dp)
            w[n - 1 - i] = w[i]
        }
        nodes = x
        weights = w
    }
}

/// A smooth step ψ on [0, 1]: ψ = 1 for t ≤ 0, ψ = 0 for t ≥ 1, and in between one minus the
/// normalised integral of an ES window (derivative −2φ(2t − 1)/Z). Its spectrum inherits the
/// window's: about e^(−β) beyond |ω| ≈ 2β. It cuts kernels into a smooth far part and a
/// compact near part. ψ is a cubic Hermite interpolant of a table (error ~1e−12 for β ≤ 30),
/// and ``valueAndDerivative(_:)`` differentiates that same interpolant: the near part's
/// gradient is then exactly consistent with the far part's.
public struct SmoothStep: Sendable {
    /// φ, whose integral the step is (its β is the step's).
    public let window: ESWindow
    let normaliser: Double
    /// ψ and dψ/dt at the nodes t_k = k/n (the mesh's near field reads them directly).
    @usableFromInline let values: [Double]
    @usableFromInline let slopes: [Double]
    @usableFromInline static let intervals = 4096

    /// The step of shape β: tabulated at `intervals` + 1 nodes by 24-point Gauss–Legendre
    /// quadrature per interval (~10⁵ exponentials, which is why the mesh reuses a table).
    /// - Parameter beta: β_ψ > 0.
    public init(beta: Double) {
        let window = ESWindow(beta: beta)
        self.window = window
        let rule = GaussLegendre(24)
        // Cumulative ∫_{−1}^{u} φ over the table's subintervals.
        let n = SmoothStep.intervals
        var cumulative = [Double](repeating: 0, count: n + 1)
        for k in 0..<n {
            let a = -1 + 2 * Double(k) / Double(n)
            let b = -1 + 2 * Double(k + 1) / Double(n)
            var s = 0.0
            for q in 0..<rule.nodes.count {
                s += rule.weights[q] * window.value(0.5 * (a + b) + 0.5 * (b - a) * rule.nodes[q])
            }
            cumulative[k + 1] = cumulative[k] + 0.5 * (b - a) * s
        }
        let z = cumulative[n]
        normaliser = z
        values = cumulative.map { 1 - $0 / z }
        slopes = (0...n).map { k in -2 * window.value(2 * Double(k) / Double(n) - 1) / z }
    }

    /// ψ(t).
    /// - Parameter t: the argument, r/ε.
    @inlinable public func value(_ t: Double) -> Double { valueAndDerivative(t).value }

    /// ψ(t) and ψ'(t), both of the interpolant.
    /// - Parameter t: the argument, r/ε.
    @inlinable @inline(__always)
    public func valueAndDerivative(_ t: Double) -> (value: Double, derivative: Double) {
        if t <= 0 { return (1, 0) }
        if t >= 1 { return (0, 0) }
        let n = Double(SmoothStep.intervals)
        let u = t * n
        let k = min(SmoothStep.intervals - 1, Int(u))
        let s = u - Double(k)
        let dt = 1 / n
        let y0 = values[k]
        let y1 = values[k + 1]
        let m0 = slopes[k] * dt
        let m1 = slopes[k + 1] * dt
        let s2 = s * s
        let s3 = s2 * s
        let v = (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * m1
        let dv = (6 * s2 - 6 * s) * y0 + (3 * s2 - 4 * s + 1) * m0 + (6 * s - 6 * s2) * y1 + (3 * s2 - 2 * s) * m1
        return (v, dv * n)
    }
}
