import Foundation
import KernelSum

/// The twisted Gaussian of Haario, Saksman & Tamminen (1999): π = N(0, C) ∘ φ_b with
/// C = diag(v, 1, …, 1) and φ_b(x) = (x1, x2 + b x1² − v b, x3, …, xd). φ_b has unit
/// Jacobian, so π is normalised; its mean is 0 and its covariance diag(v, 1 + 2b²v², 1, …).
/// Haario et al. use v = 100 with b = 0.03 (moderate) and b = 0.1 (strong twist).
public struct BananaTarget: Target, Density {
    /// d ≥ 2.
    public let dimension: Int
    /// The twist b.
    public let b: Double
    /// v, the variance of x1.
    public let variance: Double

    /// The banana in d dimensions with twist `b` and variance `variance` of x1.
    public init(dimension: Int, b: Double, variance: Double) {
        self.dimension = dimension
        self.b = b
        self.variance = variance
    }

    /// Mean 0, covariance diag(v, 1 + 2b²v², 1, …).
    public var moments: (mean: [Double], covariance: [Double])? {
        let d = dimension
        var cov = [Double](repeating: 0, count: d * d)
        for a in 0..<d { cov[a * d + a] = 1 }
        cov[0] = variance
        cov[d + 1] = 1 + 2 * b * b * variance * variance
        return ([Double](repeating: 0, count: d), cov)
    }

    /// −½ (x1²/v + y2² + Σ_{a>2} xa²) − ½ (d log 2π + log v), y2 = x2 + b x1² − v b.
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        let y2 = x[1] + b * x[0] * x[0] - variance * b
        var q = x[0] * x[0] / variance + y2 * y2
        for a in 2..<max(2, dimension) { q += x[a] * x[a] }
        return -0.5 * q - 0.5 * (Double(dimension) * log(2 * Double.pi) + log(variance))
    }

    /// ∂/∂x1 = −x1/v − 2b x1 y2, ∂/∂x2 = −y2, ∂/∂xa = −xa for a > 2, with y2 = x2 + b x1² − v b.
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        let y2 = x[1] + b * x[0] * x[0] - variance * b
        g[0] = -x[0] / variance - 2 * b * x[0] * y2
        g[1] = -y2
        for a in 2..<max(2, dimension) { g[a] = -x[a] }
    }

    /// φ_b⁻¹ of N(0, C) draws: exact samples.
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count * dimension)
        for _ in 0..<count {
            let z1 = variance.squareRoot() * rng.normal()
            out.append(z1)
            out.append(rng.normal() - b * z1 * z1 + variance * b)
            for _ in 2..<max(2, dimension) { out.append(rng.normal()) }
        }
        return out
    }

    static let entry = TargetEntry(
        name: "banana",
        summary: "twisted Gaussian of Haario et al.: N(0, diag(variance, 1, …)) ∘ (x1, x2 + b x1² − variance·b, …)"
    ) { s in
        BananaTarget(
            dimension: try s.integer(
                "dimension", default: 2,
                Allowed("an integer from 2 to \(MemoryEstimate.maximumDimension)") {
                    $0 >= 2 && $0 <= MemoryEstimate.maximumDimension
                }),
            b: try s.real("b", default: 0.03),
            variance: try s.real("variance", default: 100, .positive))
    }
}
