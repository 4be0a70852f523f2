import Communication
import Foundation
import KernelSum

/// The MMD gradient flow of Arbel, Korba, Salim & Gretton (2019) towards a target given by
/// M samples y_m. With the witness function
///
///     f(z) = Σ_i w_i k(z − x_i) − (1/M) Σ_m k(z − y_m)
///
/// (one kernel sum with signed weights over particles and target samples) a step is
/// x_i ← x_i − h·P(∇f(x_i + β_n u_i)), u_i ~ N(0, I): noise injection evaluates the gradient
/// at a perturbed point without moving the particle. β_n = β₀ · 2^(−⌊(n−1)/K⌋) halves every K
/// steps as in their code (K = 0 keeps β constant; β₀ = 0 is the plain flow).
/// The objective (`energy`) is ½ MMD²(μ_N, ν_M), V-statistic, with the flow's kernel.
/// With sliced sums and `fresh-directions`, every step draws its own P directions (seeded by
/// the step), as Hertrich et al.'s generative sliced MMD flows do: each step's gradient is then an
/// unbiased estimate of the exact one, and the flow follows the exact MMD rather than the
/// sliced MMD along one fixed set of directions (which it would match, and stop).
///
/// Wasserstein–Fisher–Rao (`fisher-rao = α > 0`, `transport = β`, noise 0): the first variation
/// of F = ½MMD² at x_i is the witness f(x_i), which the step's kernel sum computes with its
/// gradient; the weights follow it by `FisherRaoWeights` (w_i ← w_i exp(−αh(f(x_i) −
/// Σ_k w_k f(x_k)))/Z, from the state before the step) and the optimizer's step is βh.
public final class MMDFlow: Flow {
    /// The kernel k of the witness function and of the energy.
    public let kernel: any RadialKernel
    /// M samples of the target (row-major), drawn at first use.
    public var targetSamples: [Double] { samples.value }
    let samples: Deferred<[Double]>
    let sampleCount: Int
    /// β₀, the initial noise level (0: no noise injection).
    public let noise: Double
    /// K: β halves every K steps (0: never).
    public let halvingEvery: Int
    let engine: any KernelSumEngine
    /// Whether a sliced engine draws fresh directions every step (``stepEngine(_:)``).
    public let freshDirections: Bool
    var optimizer: Optimizer
    /// α ≥ 0, the rate of the Fisher–Rao weight update (0: the weights stay).
    public let fisherRao: Double
    /// β ≥ 0, the rate of the positions' motion: the optimizer's step is βh.
    public let transport: Double
    let seed: UInt64
    let dimension: Int
    // Work buffers, reused every step.
    var sources: [Double] = [], weights: [Double] = [], points: [Double] = []
    var values: [Double] = [], gradients: [Double] = [], velocity: [Double] = []

    /// A flow towards the given target samples (row-major, M × d).
    public convenience init(
        kernel: any RadialKernel, targetSamples: [Double], dimension: Int, noise: Double, halvingEvery: Int,
        optimizer: Optimizer, engine: any KernelSumEngine, seed: UInt64, freshDirections: Bool = false,
        fisherRao: Double = 0, transport: Double = 1
    ) {
        self.init(
            kernel: kernel, samples: Deferred(targetSamples), count: targetSamples.count / dimension,
            dimension: dimension,
            noise: noise, halvingEvery: halvingEvery, optimizer: optimizer, engine: engine, seed: seed,
            freshDirections: freshDirections, fisherRao: fisherRao, transport: transport)
    }

    /// `samples`: the M = `count` target samples, drawn when the run first needs them.
    init(
        kernel: any RadialKernel, samples: Deferred<[Double]>, count: Int, dimension: Int, noise: Double,
        halvingEvery: Int,
        optimizer: Optimizer, engine: any KernelSumEngine, seed: UInt64, freshDirections: Bool = false,
        fisherRao: Double = 0, transport: Double = 1
    ) {
        self.fisherRao = fisherRao
        self.transport = transport
        self.freshDirections = freshDirections
        self.kernel = kernel
        self.samples = samples
        sampleCount = count
        self.dimension = dimension
        self.noise = noise
        self.halvingEvery = halvingEvery
        self.optimizer = optimizer
        self.engine = engine
        self.seed = seed
    }

    /// β at step n (from 1).
    public func noiseLevel(step n: Int) -> Double {
        guard noise > 0, halvingEvery > 0 else { return noise }
        return noise * pow(0.5, Double((n - 1) / halvingEvery))
    }

    /// The engine of step n (from 1): with ``freshDirections``, the sliced engine (also inside a
    /// `DistributedSum`) reseeded from `RandomStream(seed, .slicing, n)`, so that the directions
    /// depend on the step alone (a resumed run and any rank count draw the same); else the engine.
    public func stepEngine(_ n: Int) -> any KernelSumEngine {
        guard freshDirections else { return engine }
        var rng = RandomStream(seed: seed, .slicing, n)
        let stepSeed = rng.next()
        if let sliced = engine as? SlicedSum { return sliced.reseeded(stepSeed) }
        if let shared = engine as? DistributedSum, let sliced = shared.inner as? SlicedSum {
            return DistributedSum(sliced.reseeded(stepSeed), communicator: shared.communicator)
        }
        return engine
    }

    /// Particles then target samples as sources, with weights w_i and −1/M.
    func loadSources(_ p: Population) {
        let m = targetSamples.count / dimension
        if sources.count != p.positions.count + targetSamples.count {
            sources = p.positions + targetSamples
            weights = p.weights + [Double](repeating: -1 / Double(m), count: m)
        } else {
            sources.replaceSubrange(0..<p.positions.count, with: p.positions)
            weights.replaceSubrange(0..<p.count, with: p.weights)
        }
    }

    /// One step on the first population: −∇f at the (noisy) points, through the optimizer.
    /// With `fisher-rao`, the weights' update by the witness values of the same kernel sum.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let v = direction(state.populations[0], step: step)
        if fisherRao > 0 {
            state.populations[0].weights = FisherRaoWeights.update(
                weights: state.populations[0].weights, values: values, rate: -fisherRao * h)
        }
        optimizer.apply(v, to: &state.populations[0].positions, stepSize: transport * h)
    }

    /// The witness f(x_i) = Σ_j w_j k(x_i − x_j) − (1/M) Σ_m k(x_i − y_m) at every particle:
    /// the first variation of ½MMD² that the weights follow (with noise 0).
    public func firstVariation(_ p: Population) -> [Double] {
        _ = direction(p, step: 1)
        return Array(values[0..<p.count])
    }

    /// −∇f(x_i + β_n u_i) at every particle of `p` (row-major; at this rank's share when the
    /// ranks hold the particles apart), with the noise of step `step` (from 1).
    public func direction(_ p: Population, step: Int) -> [Double] {
        let d = dimension
        let n = p.count
        loadSources(p)
        let beta = noiseLevel(step: step)
        points = p.positions
        if beta > 0 {
            for i in 0..<n {
                // Keyed by the particle's global index.
                var rng = RandomStream(seed: seed, .noise, step, p.share?.ids[i] ?? i)
                for a in 0..<d { points[i * d + a] += beta * rng.normal() }
            }
        }
        let engine = stepEngine(step)
        if let share = p.share, let distributed = engine as? DistributedSum {
            witnessGradients(at: share, distributed)
        } else {
            precondition(p.share == nil, "MMDFlow: a rank's share of the particles needs a DistributedSum")
            engine.sum(
                kernel, dimension: d, sources: sources, weights: weights, channels: 1,
                targets: points, gradientChannels: [0], values: &values, gradients: &gradients)
        }
        if velocity.count != n * d { velocity = [Double](repeating: 0, count: n * d) }
        for k in 0..<(n * d) { velocity[k] = -gradients[k] }
        return velocity
    }

    /// ∇f at `points`, the (noisy) points of this rank's particles, when the ranks hold the
    /// particles apart: the sources are every rank's particles (global indices 0 ..< N) and the
    /// target samples, dealt to the ranks in blocks (indices N + m), so that each sample is a
    /// source of exactly one rank, as the sum over the ranks' particles wants.
    func witnessGradients(at share: ParticleShare, _ distributed: DistributedSum) {
        let d = dimension
        let n = share.ids.count
        let communicator = distributed.communicator
        let blocks = BlockPartition(count: sampleCount, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        // This rank's particles, then its block of samples (sources was loaded as particles then all samples).
        let held = Array(sources[0..<(n * d)]) + Array(targetSamples[(mine.lowerBound * d)..<(mine.upperBound * d)])
        let signed = Array(weights[0..<n]) + [Double](repeating: -1 / Double(sampleCount), count: mine.count)
        let ids = share.ids + mine.map { share.total + $0 }
        distributed.sumOverRankParticles(
            kernel, dimension: d, sources: held, weights: signed, channels: 1, targets: points, gradientChannels: [0],
            sourceIDs: ids, sourceTotal: share.total + sampleCount, targetIDs: share.ids, targetTotal: share.total,
            values: &values, gradients: &gradients)
    }

    /// True: the noise and the update are per particle, the witness sums over the ranks'
    /// particles and their blocks of target samples, and AdaGrad's history moves with them.
    /// With `fisher-rao` the weights' normalisation sums over every particle: each rank then
    /// holds the whole state.
    public var distributesParticles: Bool { fisherRao == 0 }
    /// The optimizer (AdaGrad's history, when it is adagrad).
    public var particleState: [any ParticleStatePart] { [optimizer] }

    /// "½ MMD²(particles, target samples)" with the kernel's spec.
    public var energyDescription: String? { "½ MMD²(particles, target samples) with kernel \(kernel.spec)" }

    /// ½ MMD² = ½ [Σ_i w_i f(x_i) − (1/M) Σ_m f(y_m)].
    public func energy(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let n = p.count
        let m = targetSamples.count / dimension
        loadSources(p)
        var v: [Double] = []
        var g: [Double] = []
        engine.sum(
            kernel, dimension: dimension, sources: sources, weights: weights, channels: 1,
            targets: sources, gradientChannels: [], values: &v, gradients: &g)
        var total = 0.0
        for i in 0..<n { total += weights[i] * v[i] }
        for k in 0..<m { total -= v[n + k] / Double(m) }
        return 0.5 * total
    }

    /// The optimizer, kernel, sample count and summation engine with its parameters.
    public var report: [String: String] {
        var r = optimizer.report
        r["kernel"] = kernel.spec
        r["target-samples"] = String(sampleCount)
        r["summation"] = engine.name
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        if fisherRao > 0 || transport != 1 {
            r["fisher-rao"] = formatNumber(fisherRao)
            r["transport"] = formatNumber(transport)
        }
        return r
    }

    static let entry = FlowEntry(name: "mmd", summary: "MMD gradient flow with noise injection (Arbel et al. 2019)") {
        s, ctx in try read(s, ctx, flowName: "mmd") { try Optimizer.read(s, default: "sgd") }
    }

    /// Reads mmd's keys (`kernel`, `target-samples`, the optimizer's through `optimizer`, the
    /// engine's, `noise`, `noise-halving-every`) and builds the flow; `flowName` names the flow in
    /// messages. ``UnderdampedMMDFlow`` reads its force through it.
    static func read(
        _ s: Settings, _ ctx: FlowContext, flowName: String, optimizer readOptimizer: () throws -> Optimizer
    ) throws -> MMDFlow {
        guard ctx.target.canSample else {
            throw s.fail(
                "kind", "the \(flowName) flow needs samples of its target, and a formula target has none (use svgd)")
        }
        let kernel = try readKernel(s, "kernel", default: "gaussian:sigma=1")
        let m = try s.integer("target-samples", default: ctx.target.naturalSampleCount ?? 1000, .count)
        let target = ctx.target
        let seed = ctx.seed
        let samples = Deferred<[Double]> {
            var rng = RandomStream(seed: seed, .targetSample)
            return target.sample(count: m, using: &rng)
        }
        let optimizer = try readOptimizer()
        let engine = try readEngine(
            s, kernel: kernel, dimension: ctx.dimension, threads: ctx.threads, seed: ctx.seed,
            communicator: ctx.communicator)
        // Memory: the samples with their copy among the sums' sources; per particle the noisy
        // points, sources, weights, values, gradients, velocity (and AdaGrad's history); the
        // step's sum (particles and samples onto the particles) and the energy's (onto both).
        let (n, d) = (ctx.particleCount, Double(ctx.dimension))
        let (nd, md) = (Double(n), Double(m))
        s.memory.add(
            s, "target-samples", "\(m) target sample\(m == 1 ? "" : "s") in d = \(ctx.dimension)",
            parts: "the samples and their copy among the kernel sums' sources", bytes: 8 * md * (2 * d + 2))
        s.memory.addWork(population: 0, doubles: nd * (4 * d + 2 + optimizer.historyPerCoordinate * d))
        for targets in [n, n + m] {
            s.memory.addKernelSum(
                s, "summation", engine, kernel: kernel, dimension: ctx.dimension, sources: n + m, targets: targets,
                channels: 1, gradients: targets == n ? 1 : 0, threads: ctx.threads)
        }
        let noise = try s.real("noise", default: 0, .nonNegative)
        let halvingEvery = try s.integer("noise-halving-every", default: 1000, .nonNegativeInteger)
        let freshDirections = try readFreshDirections(s, engine)
        // fisher-rao and transport (mmd only) are read only when given, so other scenarios
        // resolve unchanged.
        let weighted = flowName == "mmd"
        let fisherRao =
            weighted && s.contains("fisher-rao") ? try s.real("fisher-rao", default: 0, .nonNegative) : 0
        let transport = weighted && s.contains("transport") ? try s.real("transport", default: 1, .nonNegative) : 1
        if fisherRao > 0 && noise > 0 {
            throw s.fail(
                "fisher-rao",
                "needs noise = 0 (the weights follow the witness at the particles, not at noise-injected points)")
        }
        return MMDFlow(
            kernel: kernel, samples: samples, count: m, dimension: ctx.dimension, noise: noise,
            halvingEvery: halvingEvery, optimizer: optimizer, engine: engine, seed: ctx.seed,
            freshDirections: freshDirections, fisherRao: fisherRao, transport: transport)
    }

    /// `fresh-directions` (read only when given, so that other scenarios resolve unchanged):
    /// allowed with sliced sums of a fixed number of directions.
    static func readFreshDirections(_ s: Settings, _ engine: any KernelSumEngine) throws -> Bool {
        guard s.contains("fresh-directions") else { return false }
        let fresh = try s.bool("fresh-directions", default: false)
        let sliced = (engine as? SlicedSum) ?? ((engine as? DistributedSum)?.inner as? SlicedSum)
        guard !fresh || (sliced.map { $0.tolerance == nil } ?? false) else {
            throw s.fail(
                "fresh-directions",
                "needs summation = \"sliced\" with a fixed number of directions (directions = P)")
        }
        return fresh
    }
}
