import Foundation
import KernelSum

/// V(x) = (a/2)|x − c|², the Ornstein–Uhlenbeck potential: with no interaction its Gibbs
/// measure exp(−V/λ)/Z is N(c, (λ/a) I).
public struct QuadraticPotential: Potential {
    /// a > 0, the stiffness.
    public let a: Double
    /// c, the minimum (d numbers).
    public let centre: [Double]

    /// V(x) = (a/2)|x − `centre`|².
    public init(a: Double, centre: [Double]) {
        self.a = a
        self.centre = centre
    }

    /// `quadratic:a=…`, with `centre=[…]` when it is not 0.
    public var spec: String {
        "quadratic:a=\(formatNumber(a))" + (centre.allSatisfy { $0 == 0 } ? "" : ",centre=\(centre.map(formatNumber))")
    }

    /// V and ∇V = a(x − c) at each point.
    public func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension d: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?
    ) {
        for i in 0..<count {
            var r2 = 0.0
            for k in 0..<d {
                let t = x[i * d + k] - centre[k]
                r2 += t * t
                gradients?[i * d + k] = a * t
            }
            values?[i] = 0.5 * a * r2
        }
    }

    /// Z = (2πλ/a)^{d/2}.
    public func logPartition(temperature lambda: Double, dimension d: Int) -> Double? {
        lambda > 0 ? 0.5 * Double(d) * log(2 * Double.pi * lambda / a) : nil
    }

    static let entry = PotentialEntry(name: "quadratic", summary: "(a/2)|x − centre|² (a > 0, centre = 0 by default)") {
        s, ctx in
        QuadraticPotential(
            a: try s.real("a", default: 1, .positive),
            centre: try s.realOrReals("centre", count: ctx.dimension, default: 0))
    }
}
