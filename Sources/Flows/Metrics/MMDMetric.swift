import Communication
import KernelSum

/// `mmd`: MMD(μ_N, ν_M), the square root of the V-statistic
///
///     MMD² = Σ_ij a_i a_j k(x_i, x_j) − 2 Σ_im a_i b_m k(x_i, y_m) + Σ_mn b_m b_n k(y_m, y_n)
///
/// against M samples of the target drawn once (independently of the flow's own samples),
/// with kernel `mmd-kernel` (default gaussian:sigma=1), summed exactly (the ranks of a job
/// share the sums by targets: `DistributedSum`).
public final class MMDMetric: Metric {
    let kernel: any RadialKernel
    let dimension: Int
    let engine: any KernelSumEngine
    /// The samples and Σ_mn b_m b_n k(y_m, y_n), made at the first evaluation.
    let target: Deferred<(samples: [Double], term: Double)>
    /// Whether the metric is MMD² (the energy distance's convention) rather than MMD.
    let squared: Bool
    var sources: [Double] = [], weights: [Double] = []

    /// The MMD (or MMD², `squared`) to the given target samples (row-major, M × d) with `kernel`.
    public convenience init(
        kernel: any RadialKernel, samples: [Double], dimension: Int, threads: Int,
        communicator: any Communicator = SerialCommunicator(), squared: Bool = false
    ) {
        self.init(
            kernel: kernel, samples: Deferred(samples), dimension: dimension, threads: threads,
            communicator: communicator, squared: squared)
    }

    /// `samples`: the target's M samples, drawn (and their O(M²) term summed) at first use.
    init(
        kernel: any RadialKernel, samples: Deferred<[Double]>, dimension: Int, threads: Int,
        communicator: any Communicator, squared: Bool = false
    ) {
        self.kernel = kernel
        self.squared = squared
        self.dimension = dimension
        let direct = DirectSum(threads: threads)
        let engine: any KernelSumEngine =
            communicator.size > 1 ? DistributedSum(direct, communicator: communicator) : direct
        self.engine = engine
        target = Deferred {
            let y = samples.value
            let m = y.count / dimension
            var v: [Double] = []
            var g: [Double] = []
            engine.sum(
                kernel, dimension: dimension, sources: y, weights: [Double](repeating: 1 / Double(m), count: m),
                channels: 1, targets: y, gradientChannels: [], values: &v, gradients: &g)
            return (y, v.reduce(0, +) / Double(m))
        }
    }

    /// MMD between the first population (with its weights) and the target samples.
    public func evaluate(_ state: SimulationState) -> Double {
        let (samples, targetTerm) = target.value
        let p = state.populations[0]
        let m = samples.count / dimension
        // Σ_i a_i [Σ_j a_j k(x_i, x_j) − 2 Σ_m b_m k(x_i, y_m)] + Σ_mn b_m b_n k(y_m, y_n)
        // Particles then samples; the sample part is filled once and kept.
        if sources.count != p.positions.count + samples.count {
            sources = p.positions + samples
            weights = p.weights + [Double](repeating: -2 / Double(m), count: m)
        } else {
            sources.replaceSubrange(0..<p.positions.count, with: p.positions)
            weights.replaceSubrange(0..<p.count, with: p.weights)
        }
        var v: [Double] = []
        var g: [Double] = []
        engine.sum(
            kernel, dimension: dimension, sources: sources, weights: weights, channels: 1,
            targets: p.positions, gradientChannels: [], values: &v, gradients: &g)
        var total = targetTerm
        for i in 0..<p.count { total += p.weights[i] * v[i] }
        return squared ? max(0, total) : max(0, total).squareRoot()
    }

    static let entry = MetricEntry(
        name: "mmd", summary: "MMD to a fixed target sample (V-statistic; mmd-kernel, mmd-samples)"
    ) { s, ctx in
        try make(
            s, ctx, name: "mmd", kernel: try readKernel(s, "mmd-kernel", default: "gaussian:sigma=1"),
            samplesKey: "mmd-samples", squared: false)
    }

    /// The metric `name`: MMD (or MMD², `squared`) with `kernel` against `samplesKey` samples of
    /// the target (default: the target's own count, else 1000), drawn from
    /// `RandomStream(seed, .metricSample)`; or, when `referenceKey` names a CSV file, against
    /// every row of that file (held-out data; no target needed).
    static func make(
        _ s: Settings, _ ctx: MetricContext, name: String, kernel: any RadialKernel, samplesKey: String, squared: Bool,
        referenceKey: String? = nil
    ) throws -> MMDMetric {
        let m: Int
        let samples: Deferred<[Double]>
        if let key = referenceKey, s.contains(key) {
            let file = try s.points(key)
            guard file.dimension == ctx.dimension else {
                throw s.fail(key, "the file has \(file.dimension) columns; the particles have d = \(ctx.dimension)")
            }
            m = file.values.count / file.dimension
            samples = Deferred(file.values)
        } else {
            try requireTargetSamples(s, ctx, name)
            m = try s.integer(samplesKey, default: ctx.target.naturalSampleCount ?? 1000, .count)
            let target = ctx.target
            let seed = ctx.seed
            samples = Deferred<[Double]> {
                var rng = RandomStream(seed: seed, .metricSample)
                return target.sample(count: m, using: &rng)
            }
        }
        // Memory: the samples with their copy among the sources, and the sources' weights;
        // the exact sums (particles and samples onto the particles; samples onto themselves).
        let (n, d) = (ctx.particleCount, ctx.dimension)
        s.memory.add(
            s, samplesKey, "\(m) sample\(m == 1 ? "" : "s") of the \(name) metric in d = \(d)",
            parts: "the samples, their copy among the sources, weights", bytes: 8 * Double(m) * Double(2 * d + 1))
        s.memory.addWork(population: 0, doubles: Double(n) * Double(d + 1), "the \(name) metric's sources")
        let direct = DirectSum(threads: ctx.threads)
        for (sources, targets) in [(n + m, n), (m, m)] {
            s.memory.addKernelSum(
                s, samplesKey, direct, kernel: kernel, dimension: d, sources: sources, targets: targets,
                channels: 1, gradients: 0, threads: ctx.threads)
        }
        return MMDMetric(
            kernel: kernel, samples: samples, dimension: d, threads: ctx.threads, communicator: ctx.communicator,
            squared: squared)
    }
}
