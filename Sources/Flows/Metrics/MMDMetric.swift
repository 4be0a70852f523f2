import KernelSum

/// `mmd`: MMD(μ_N, ν_M), the square root of the V-statistic
///
///     MMD² = Σ_ij a_i a_j k(x_i, x_j) − 2 Σ_im a_i b_m k(x_i, y_m) + Σ_mn b_m b_n k(y_m, y_n)
///
/// against M samples of the target drawn once (independently of the flow's own samples),
/// with kernel `mmd-kernel` (default gaussian:sigma=1), summed exactly.
public final class MMDMetric: Metric {
    let kernel: any RadialKernel
    let samples: [Double]
    let dimension: Int
    let engine: DirectSum
    let targetTerm: Double
    var sources: [Double] = [], weights: [Double] = []

    public init(kernel: any RadialKernel, samples: [Double], dimension: Int, threads: Int) {
        self.kernel = kernel
        self.samples = samples
        self.dimension = dimension
        self.engine = DirectSum(threads: threads)
        let m = samples.count / dimension
        var v: [Double] = [], g: [Double] = []
        engine.sum(kernel, dimension: dimension, sources: samples, weights: [Double](repeating: 1 / Double(m), count: m),
                   channels: 1, targets: samples, gradientChannels: [], values: &v, gradients: &g)
        targetTerm = v.reduce(0, +) / Double(m)
    }

    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0], m = samples.count / dimension
        // Σ_i a_i [Σ_j a_j k(x_i, x_j) − 2 Σ_m b_m k(x_i, y_m)] + Σ_mn b_m b_n k(y_m, y_n)
        // Particles then samples; the sample part is filled once and kept.
        if sources.count != p.positions.count + samples.count {
            sources = p.positions + samples
            weights = p.weights + [Double](repeating: -2 / Double(m), count: m)
        } else {
            sources.replaceSubrange(0..<p.positions.count, with: p.positions)
            weights.replaceSubrange(0..<p.count, with: p.weights)
        }
        var v: [Double] = [], g: [Double] = []
        engine.sum(kernel, dimension: dimension, sources: sources, weights: weights, channels: 1,
                   targets: p.positions, gradientChannels: [], values: &v, gradients: &g)
        var total = targetTerm
        for i in 0..<p.count { total += p.weights[i] * v[i] }
        return max(0, total).squareRoot()
    }

    static let entry = MetricEntry(name: "mmd", summary: "MMD to a fixed target sample (V-statistic; mmd-kernel, mmd-samples)") { s, ctx in
        guard !ctx.target.isAbsent else { throw s.fail("metrics", "mmd needs a [target] to sample (this scenario has none)") }
        guard ctx.target.canSample else { throw s.fail("metrics", "mmd needs samples of the target, and a formula target has none (use ksd)") }
        let kernel = try readKernel(s, "mmd-kernel", default: "gaussian:sigma=1")
        let m = try s.integer("mmd-samples", default: ctx.target.naturalSampleCount ?? 1000, .positiveInteger)
        var rng = RandomStream(seed: ctx.seed, .metricSample)
        return MMDMetric(kernel: kernel, samples: ctx.target.sample(count: m, using: &rng),
                         dimension: ctx.dimension, threads: ctx.threads)
    }
}
