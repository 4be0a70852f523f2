/// `bures-w2`: the 2-Wasserstein distance between the Gaussians with the particles' moments and
/// with the target's,
///
///     W₂²(N(m₁, Σ₁), N(m₂, Σ₂)) = |m₁ − m₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2},
///
/// with m₁, Σ₁ the weighted mean and covariance of the first population (Σ_i w_i (x_i − m₁)(x_i −
/// m₁)ᵀ / Σ_i w_i: the moments of the empirical measure itself) and m₂, Σ₂ the target's (a
/// Gaussian target's exactly; a samples target's from its file). It is W₂ itself when both
/// laws are Gaussian, and a lower bound on W₂ between any laws with these moments (Gelbrich).
public final class BuresW2Metric: Metric {
    let mean: [Double]
    let covariance: [Double]
    /// Σ₂^{1/2}, the target covariance's square root.
    public let rootCovariance: [Double]

    /// To the Gaussian N(`mean`, `covariance`) (row-major d × d, symmetric positive semi-definite).
    public init(mean: [Double], covariance: [Double]) {
        self.mean = mean
        self.covariance = covariance
        rootCovariance = symmetricSquareRoot(covariance, size: mean.count)
    }

    /// The Bures–Wasserstein distance from the first population's moments.
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let d = p.dimension
        let (m, c) = Self.weightedMoments(p.positions, p.weights, dimension: d)
        return Self.distance(mean: m, covariance: c, toMean: mean, covariance: covariance, root: rootCovariance)
    }

    /// W₂ between N(m₁, Σ₁) and N(m₂, Σ₂), given Σ₂^{1/2} (`root`).
    public static func distance(
        mean m1: [Double], covariance s1: [Double], toMean m2: [Double], covariance s2: [Double], root r2: [Double]
    ) -> Double {
        let d = m1.count
        var squared = 0.0
        for a in 0..<d { squared += (m1[a] - m2[a]) * (m1[a] - m2[a]) + s1[a * d + a] + s2[a * d + a] }
        // Σ₂^{1/2} Σ₁ Σ₂^{1/2} (two products, O(d³)), symmetrised against rounding.
        func multiply(_ x: [Double], _ y: [Double]) -> [Double] {
            var z = [Double](repeating: 0, count: d * d)
            for i in 0..<d {
                for k in 0..<d {
                    let xik = x[i * d + k]
                    for j in 0..<d { z[i * d + j] += xik * y[k * d + j] }
                }
            }
            return z
        }
        var product = multiply(r2, multiply(s1, r2))
        for i in 0..<d {
            for j in 0..<i {
                let mean = (product[i * d + j] + product[j * d + i]) / 2
                product[i * d + j] = mean
                product[j * d + i] = mean
            }
        }
        let (values, _) = symmetricEigen(product, size: d)
        for lambda in values { squared -= 2 * max(0, lambda).squareRoot() }
        return max(0, squared).squareRoot()
    }

    /// The weighted mean and covariance Σ_i w_i (x_i − m)(x_i − m)ᵀ / Σ_i w_i, in index order.
    public static func weightedMoments(
        _ x: [Double], _ w: [Double], dimension d: Int
    ) -> (mean: [Double], covariance: [Double]) {
        let total = w.reduce(0, +)
        var m = [Double](repeating: 0, count: d)
        for i in 0..<w.count { for a in 0..<d { m[a] += w[i] * x[i * d + a] } }
        for a in 0..<d { m[a] /= total }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<w.count {
            for a in 0..<d {
                let da = x[i * d + a] - m[a]
                for b in 0...a { c[a * d + b] += w[i] * da * (x[i * d + b] - m[b]) }
            }
        }
        for a in 0..<d {
            for b in 0...a {
                c[a * d + b] /= total
                c[b * d + a] = c[a * d + b]
            }
        }
        return (m, c)
    }

    static let entry = MetricEntry(
        name: "bures-w2", summary: "W₂ between the Gaussians with the particles' and the target's moments (closed form)"
    ) { s, ctx in
        try reserveMoments(s, ctx, "bures-w2")
        if ctx.target.isAbsent {
            return BuresW2Metric(
                mean: try s.reals("reference-mean", count: ctx.dimension),
                covariance: try readReferenceCovariance(s, dimension: ctx.dimension))
        }
        guard let m = ctx.target.moments else {
            throw s.fail("metrics", "bures-w2 needs a target with a known mean and covariance")
        }
        return BuresW2Metric(mean: m.mean, covariance: m.covariance)
    }
}
