import Foundation
import KernelSum

/// `sliced-w2`: the sliced 2-Wasserstein distance between the first population (with its
/// weights) and M samples of the target drawn once (the `w2` metric's samples),
///
///     SW₂(μ, ν) = ( (1/P) Σ_p W₂²(θ_p#μ, θ_p#ν) )^{1/2},
///
/// over P directions θ_p uniform on the sphere, drawn once (`sliced-w2-directions`, default
/// 100). Each 1-D distance is exact (``squaredW2(_:_:_:_:)``, the quantile functions of the
/// sorted projections), so the cost is O(P·(N + M)·log(N + M)): any N. POT's
/// `ot.sliced_wasserstein_distance` with the same projections gives the same value.
public final class SlicedW2Metric: Metric {
    let samples: Deferred<[Double]>
    /// The directions, row-major P × d, unit vectors.
    public let directions: [Double]
    let dimension: Int

    /// SW₂ to `samples` (row-major, M × d) over `directions` (P × d, unit rows).
    init(samples: Deferred<[Double]>, directions: [Double], dimension: Int) {
        self.samples = samples
        self.directions = directions
        self.dimension = dimension
    }

    /// P unit vectors, uniform on the sphere S^(d−1): normalised Gaussian vectors, direction p
    /// drawn from `RandomStream(seed, .metricSample, 2, p)`.
    public static func directions(count: Int, dimension d: Int, seed: UInt64) -> [Double] {
        var out = [Double](repeating: 0, count: count * d)
        for p in 0..<count {
            var rng = RandomStream(seed: seed, .metricSample, 2, p)
            var norm = 0.0
            repeat {
                norm = 0
                for a in 0..<d {
                    out[p * d + a] = rng.normal()
                    norm += out[p * d + a] * out[p * d + a]
                }
            } while norm == 0
            let scale = 1 / norm.squareRoot()
            for a in 0..<d { out[p * d + a] *= scale }
        }
        return out
    }

    /// SW₂ between the first population and the samples.
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let y = samples.value
        let m = y.count / dimension
        return Self.sliced(
            x: p.positions, a: p.weights, y: y, b: [Double](repeating: 1, count: m), directions: directions,
            dimension: dimension)
    }

    /// SW₂ between `x` (weights `a`) and `y` (weights `b`) over `directions` (P × d).
    public static func sliced(
        x: [Double], a: [Double], y: [Double], b: [Double], directions: [Double], dimension d: Int
    ) -> Double {
        let count = directions.count / d
        var total = 0.0
        var u = [Double](repeating: 0, count: a.count)
        var v = [Double](repeating: 0, count: b.count)
        for p in 0..<count {
            let theta = directions[(p * d)..<((p + 1) * d)]
            for i in 0..<a.count { u[i] = zip(theta, x[(i * d)..<((i + 1) * d)]).reduce(0) { $0 + $1.0 * $1.1 } }
            for j in 0..<b.count { v[j] = zip(theta, y[(j * d)..<((j + 1) * d)]).reduce(0) { $0 + $1.0 * $1.1 } }
            total += squaredW2(u, a, v, b)
        }
        return (total / Double(count)).squareRoot()
    }

    /// W₂² between the 1-D measures Σ a_i δ_{u_i} and Σ b_j δ_{v_j} (each side's weights
    /// normalised to total 1): ∫₀¹ (F⁻¹(t) − G⁻¹(t))² dt over the quantile functions, which are
    /// steps at the sorted values' cumulative weights.
    public static func squaredW2(_ u: [Double], _ a: [Double], _ v: [Double], _ b: [Double]) -> Double {
        let su = u.indices.sorted { u[$0] < u[$1] || (u[$0] == u[$1] && $0 < $1) }
        let sv = v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }
        let ta = a.reduce(0, +)
        let tb = b.reduce(0, +)
        // The cumulative weights and the integral as compensated sums (Neumaier): thousands of
        // steps would otherwise cost digits.
        var ca = CompensatedSum(a[su[0]] / ta)  // F at the i-th sorted value
        var cb = CompensatedSum(b[sv[0]] / tb)
        var i = 0
        var j = 0
        var t = 0.0
        var w = CompensatedSum()
        while true {
            let next = min(ca.value, cb.value)
            let gap = u[su[i]] - v[sv[j]]
            w.add((next - t) * gap * gap)
            t = next
            // Step past whichever quantile ends here (both when they end together).
            let endU = ca.value <= cb.value
            let endV = cb.value <= ca.value
            if endU {
                i += 1
                if i == su.count { break }
                ca.add(a[su[i]] / ta)
            }
            if endV {
                j += 1
                if j == sv.count { break }
                cb.add(b[sv[j]] / tb)
            }
        }
        return w.value
    }

    static let entry = MetricEntry(
        name: "sliced-w2",
        summary: "sliced 2-Wasserstein distance to the w2 metric's target sample (sliced-w2-directions, default 100)"
    ) { s, ctx in
        try requireTargetSamples(s, ctx, "sliced-w2")
        let n = ctx.particleCount
        let m = try s.integer("w2-samples", default: ctx.target.naturalSampleCount ?? min(n, 1000), .count)
        let count = try s.integer("sliced-w2-directions", default: 100, .count)
        let d = ctx.dimension
        s.memory.add(
            s, "sliced-w2-directions", "\(count) directions and \(m) samples of the sliced-w2 metric in d = \(d)",
            parts: "directions, samples, projections", bytes: 8 * (Double(count + m) * Double(d) + 2 * Double(n + m)))
        return SlicedW2Metric(
            samples: W2Metric.samples(of: ctx.target, count: m, seed: ctx.seed),
            directions: directions(count: count, dimension: d, seed: ctx.seed), dimension: d)
    }
}

/// A sum with Neumaier's compensation: the rounding error of each addition is kept apart and
/// added back, so n terms lose O(1) ulps rather than O(n).
struct CompensatedSum {
    private var sum: Double
    private var compensation = 0.0

    init(_ first: Double = 0) { sum = first }

    mutating func add(_ x: Double) {
        let t = sum + x
        compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
    }

    var value: Double { sum + compensation }
}
