import KernelSum

/// `w2`: the exact 2-Wasserstein distance W₂(μ_N, ν_M) between the first population (with its
/// weights) and M samples of the target drawn once (`w2-samples`, uniform weights), by
/// ``ExactTransport``. An estimate of W₂(μ, π) biased upwards by the samples' own distance to
/// π (of order M^(−1/d) for d ≥ 3): compare runs at one M, not with zero.
public final class W2Metric: Metric {
    let samples: Deferred<[Double]>
    let dimension: Int

    /// W₂ to `samples` (row-major, M × d), drawn at first use.
    init(samples: Deferred<[Double]>, dimension: Int) {
        self.samples = samples
        self.dimension = dimension
    }

    /// W₂ between the first population and the samples.
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let y = samples.value
        let m = y.count / dimension
        let squared = ExactTransport.squaredW2(
            x: p.positions, a: p.weights, y: y, b: [Double](repeating: 1, count: m), dimension: dimension)
        return squared.squareRoot()
    }

    static let entry = MetricEntry(
        name: "w2", summary: "exact 2-Wasserstein distance to a fixed target sample (w2-samples; O((N+M)·N·M))"
    ) { s, ctx in
        try requireTargetSamples(s, ctx, "w2")
        let n = ctx.particleCount
        let m = try s.integer("w2-samples", default: ctx.target.naturalSampleCount ?? min(n, 1000), .count)
        guard Double(n) * Double(m) <= Double(ExactTransport.maximumPairs) else {
            throw s.fail(
                "metrics",
                "w2 between \(n) particles and \(m) samples: the exact solver takes N·M ≤ \(ExactTransport.maximumPairs) "
                    + "pairs (and O((N + M)·N·M) time); record sliced-w2, or set record.w2-samples lower")
        }
        let d = ctx.dimension
        s.memory.add(
            s, "w2-samples", "\(m) sample\(m == 1 ? "" : "s") of the w2 metric in d = \(d)", parts: "the samples",
            bytes: 8 * Double(m) * Double(d))
        s.memory.add(
            s, "w2-samples", "the exact transport between \(n) particles and \(m) samples",
            parts: "the cost matrix and the coupling (n × m each)", bytes: 16 * Double(n) * Double(m), transient: true,
            derived: true)
        return W2Metric(samples: samples(of: ctx.target, count: m, seed: ctx.seed), dimension: d)
    }

    /// The target samples of `w2` and `sliced-w2` (the same points, so the two compare), drawn at
    /// first use from `RandomStream(seed, .metricSample, 1)`.
    static func samples(of target: any Target, count m: Int, seed: UInt64) -> Deferred<[Double]> {
        Deferred {
            var rng = RandomStream(seed: seed, .metricSample, 1)
            return target.sample(count: m, using: &rng)
        }
    }
}
