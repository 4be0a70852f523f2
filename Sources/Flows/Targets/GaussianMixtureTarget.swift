import Foundation
import KernelSum

/// Σ_k w_k N(μ_k, Σ_k). The score is Σ_k r_k(x) ∇log N_k(x) with responsibilities
/// r_k = w_k N_k(x) / π(x), computed by log-sum-exp so that far-away points do not underflow.
public struct GaussianMixtureTarget: Target, HessianDensity {
    /// w_k, normalised to sum to 1.
    public let weights: [Double]
    /// The components N(μ_k, Σ_k).
    public let components: [GaussianTarget]
    let logWeights: [Double]

    /// A mixture; `weights` (positive, one per component) are normalised.
    public init(weights: [Double], components: [GaussianTarget]) {
        guard weights.count == components.count, !weights.isEmpty else {
            fatalError(
                "GaussianMixtureTarget: \(weights.count) weights for \(components.count) components (at least one)")
        }
        let total = weights.reduce(0, +)
        self.weights = weights.map { $0 / total }
        self.components = components
        self.logWeights = self.weights.map { log($0) }
    }

    /// d.
    public var dimension: Int { components[0].dimension }

    /// Mean Σ w_k μ_k and covariance Σ w_k (Σ_k + (μ_k − μ)(μ_k − μ)ᵀ).
    public var moments: (mean: [Double], covariance: [Double])? {
        let d = dimension
        var mean = [Double](repeating: 0, count: d)
        for (w, c) in zip(weights, components) { for a in 0..<d { mean[a] += w * c.mean[a] } }
        var cov = [Double](repeating: 0, count: d * d)
        for (w, c) in zip(weights, components) {
            for a in 0..<d {
                for b in 0..<d {
                    cov[a * d + b] +=
                        w * (c.covariance.entries[a * d + b] + (c.mean[a] - mean[a]) * (c.mean[b] - mean[b]))
                }
            }
        }
        return (mean, cov)
    }

    /// log Σ_k w_k N_k(x), by log-sum-exp.
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        var best = -Double.infinity
        var terms = [Double](repeating: 0, count: weights.count)
        for k in 0..<weights.count {
            terms[k] = logWeights[k] + components[k].logDensity(x)
            best = max(best, terms[k])
        }
        return best + log(terms.reduce(0) { $0 + exp($1 - best) })
    }

    /// r_k(x) = w_k N_k(x)/Σ_j w_j N_j(x) into `r[0..<k]`, by log-sum-exp.
    func responsibilities(_ x: UnsafePointer<Double>, into r: UnsafeMutablePointer<Double>) {
        let k = weights.count
        var best = -Double.infinity
        for c in 0..<k {
            r[c] = logWeights[c] + components[c].logDensity(x)
            best = max(best, r[c])
        }
        var total = 0.0
        for c in 0..<k {
            r[c] = exp(r[c] - best)
            total += r[c]
        }
        for c in 0..<k { r[c] /= total }
    }

    /// Σ_k r_k(x) ∇log N_k(x).
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        let d = dimension
        let k = weights.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: k + d) { buf in
            responsibilities(x, into: buf.baseAddress!)
            for a in 0..<d { g[a] = 0 }
            let gc = buf.baseAddress! + k
            for c in 0..<k {
                components[c].score(x, into: gc)
                let r = buf[c]
                for a in 0..<d { g[a] += r * gc[a] }
            }
        }
    }

    /// ∇²log π v = Σ_k r_k (−Σ_k⁻¹v + g_k (g_k·v)) − s (s·v), g_k = ∇log N_k(x) the components'
    /// scores, r_k the responsibilities, s = Σ_k r_k g_k the score.
    public func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        let d = dimension
        let k = weights.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: k + 3 * d) { buf in
            responsibilities(x, into: buf.baseAddress!)
            let gc = buf.baseAddress! + k
            let hc = gc + d
            let score = hc + d
            for a in 0..<d {
                out[a] = 0
                score[a] = 0
            }
            for c in 0..<k {
                let r = buf[c]
                components[c].score(x, into: gc)
                components[c].hessianVectorProduct(x, v, into: hc)
                var gv = 0.0
                for a in 0..<d { gv += gc[a] * v[a] }
                for a in 0..<d {
                    out[a] += r * (hc[a] + gc[a] * gv)
                    score[a] += r * gc[a]
                }
            }
            var sv = 0.0
            for a in 0..<d { sv += score[a] * v[a] }
            for a in 0..<d { out[a] -= score[a] * sv }
        }
    }

    /// A component drawn by weight, then a point of it, per sample.
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count * dimension)
        for _ in 0..<count {
            var u = rng.uniform()
            var c = 0
            while c < weights.count - 1 && u >= weights[c] {
                u -= weights[c]
                c += 1
            }
            out += components[c].sample(count: 1, using: &rng)
        }
        return out
    }

    static let entry = TargetEntry(
        name: "gaussian-mixture",
        summary: "Σ weights_k N(means_k, covariances_k) (or std: one number, or one per component)"
    ) { s in
        let weights = try s.reals("weights", default: nil, .positive)
        let k = weights.count
        let means = try s.matrix("means", rows: k)
        let d = means[0].count
        try s.checkDimension(d, at: "means")
        try GaussianTarget.reserveCovariances(s, "means", count: k, dimension: d)
        let covs: [SPDMatrix]
        if s.contains("covariances") {
            if s.contains("std") { throw s.fail("std", "give either covariances or std, not both") }
            covs = try s.matrices("covariances", count: k, size: d).enumerated().map { i, m in
                guard let c = SPDMatrix(size: d, entries: m.flatMap { $0 }) else {
                    throw s.fail("covariances", "matrix \(i + 1) is not symmetric positive definite")
                }
                return c
            }
        } else {
            covs = try s.realOrReals("std", count: k, default: 1, .standardDeviation).map { std in
                guard let c = SPDMatrix.diagonal([Double](repeating: std * std, count: d)) else {
                    throw s.fail("std", "\(std)² is not a positive variance")
                }
                return c
            }
        }
        return GaussianMixtureTarget(
            weights: weights,
            components: zip(means, covs).map { GaussianTarget(mean: $0, covariance: $1) })
    }
}
