import KernelSum

/// `w2`: the exact 2-Wasserstein distance W₂(μ_N, ν_M) between the first population (with its
/// weights) and M samples of the target drawn once (`w2-samples`, uniform weights), by
/// ``ExactTransport``. An estimate of W₂(μ, π) biased upwards by the samples' own distance to
/// π (of order M^(−1/d) for d ≥ 3): compare runs at one M, not with zero. In a game without a
/// target: W₂ between the two players' weighted particles (of one dimension, in R^d).
public final class W2Metric: Metric {
    /// The target's samples, or nil: the second population (a game's max player).
    let samples: Deferred<[Double]>?
    let dimension: Int

    /// W₂ to `samples` (row-major, M × d), drawn at first use; nil: to the second population.
    init(samples: Deferred<[Double]>?, dimension: Int) {
        self.samples = samples
        self.dimension = dimension
    }

    /// W₂ between the first population and the samples (or the second population).
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let (y, b): ([Double], [Double])
        if let samples {
            y = samples.value
            b = [Double](repeating: 1, count: y.count / dimension)
        } else {
            (y, b) = (state.populations[1].positions, state.populations[1].weights)
        }
        return ExactTransport.squaredW2(x: p.positions, a: p.weights, y: y, b: b, dimension: dimension).squareRoot()
    }

    static let entry = MetricEntry(
        name: "w2", summary: "exact 2-Wasserstein distance to a fixed target sample (w2-samples; O((N+M)·N·M))"
    ) { s, ctx in
        if ctx.target.isAbsent, let game = ctx.flow as? GameFlow { return try betweenPlayers(s, ctx, game) }
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

    /// `w2` between a game's players: of one dimension, in R^d (the box's distance is not the
    /// Euclidean one).
    static func betweenPlayers(_ s: Settings, _ ctx: MetricContext, _ game: GameFlow) throws -> W2Metric {
        guard game.payoff.minDimension == game.payoff.maxDimension else {
            throw s.fail(
                "metrics",
                "w2 between the players needs one dimension for both (min: \(game.payoff.minDimension), max: \(game.payoff.maxDimension))"
            )
        }
        guard game.minPlayer.domain == .free, game.maxPlayer.domain == .free else {
            throw s.fail(
                "metrics", "w2 between the players is Euclidean: a periodic box's players need the torus's distance")
        }
        let (n, m) = (ctx.particleCount, game.maxCount)
        guard Double(n) * Double(m) <= Double(ExactTransport.maximumPairs) else {
            throw s.fail(
                "metrics",
                "w2 between \(n) and \(m) particles: the exact solver takes N·M ≤ \(ExactTransport.maximumPairs) pairs")
        }
        s.memory.add(
            s, "metrics", "the exact transport between the players' \(n) and \(m) particles",
            parts: "the cost matrix and the coupling (n × m each)", bytes: 16 * Double(n) * Double(m), transient: true,
            derived: true)
        return W2Metric(samples: nil, dimension: ctx.dimension)
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
