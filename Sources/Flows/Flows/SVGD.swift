import Communication
import Foundation
import KernelSum

/// Stein variational gradient descent (Liu & Wang 2016):
///
///     φ(x_i) = Σ_j w_j [ k(x_j, x_i) ∇log π(x_j) + ∇_{x_j} k(x_j, x_i) ],   x ← x + h·P(φ)
///
/// with weights w_j = 1/N. As kernel sums: d channels weighted by w_j ∂_a log π(x_j), plus
/// one channel weighted by w_j whose gradient gives the repulsion
/// Σ_j w_j ∇_{x_j} k(x_j − x_i) = −∇_y Σ_j w_j k(y − x_j) at y = x_i.
///
/// `gaussian:sigma=median` is the reference code's bandwidth, recomputed every step:
/// σ² = ½ med / log(N + 1), med the median of all N² squared distances (zero diagonal
/// included, numpy's median: the mean of the two middle values for an even count).
/// When med = 0 (one particle, or all collapsed) σ = 1, where the reference code divides by 0.
public final class SteinVariationalGradientDescent: Flow {
    /// The kernel as given, or a Gaussian whose σ is the median rule, recomputed every step.
    public enum Bandwidth { case fixed, median }
    /// The target's density, whose score drives the particles.
    public let density: any Density
    /// The kernel of the last step (with the median rule, a Gaussian of the last σ).
    public private(set) var kernel: any RadialKernel
    /// Whether σ follows the median rule.
    public let bandwidth: Bandwidth
    var optimizer: Optimizer
    let engine: any KernelSumEngine
    let threads: Int
    // Work buffers, reused every step.
    var scores: [Double] = [], weights: [Double] = [], values: [Double] = [], gradients: [Double] = []
    var velocity: [Double] = []
    let median: MedianBandwidth
    /// The ranks that share the scores (by blocks of particles) and the sums.
    let communicator: any Communicator
    /// The scenario's seed: a ``MinibatchDensity``'s batches are drawn from it, keyed by the step.
    let seed: UInt64

    /// A flow; with `.median` the `kernel` is replaced every step and `medianSample` is S
    /// (``MedianBandwidth/sampleSize``).
    public init(
        density: any Density, kernel: any RadialKernel, bandwidth: Bandwidth,
        optimizer: Optimizer, engine: any KernelSumEngine, threads: Int,
        medianSample: Int = MedianBandwidth.defaultSampleSize, communicator: (any Communicator)? = nil,
        seed: UInt64 = 0
    ) {
        self.seed = seed
        median = MedianBandwidth(sampleSize: medianSample, communicator: communicator)
        self.communicator = communicator ?? SerialCommunicator()
        self.density = density
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.optimizer = optimizer
        self.engine = engine
        self.threads = threads
    }

    /// φ at every particle of `population` (row-major), with the current kernel; at this rank's
    /// share of the particles when the ranks hold them apart (the sums over every rank's). At a
    /// `step` (from 1) a ``MinibatchDensity`` scores from that step's minibatch; at 0, in full.
    public func direction(_ population: Population, step: Int = 0) -> [Double] {
        let d = population.dimension
        let n = population.count
        let c = d + 1
        let share = population.share
        if bandwidth == .median {
            let x = population.positions
            kernel = GaussianKernel(
                sigma: share.map { median(x, ids: $0.ids, total: $0.total, dimension: d, threads: threads) }
                    ?? median(x, dimension: d, threads: threads))
        }
        // Scores are per particle: a rank holding its share evaluates them alone.
        density.scores(
            population.positions, into: &scores, threads: threads,
            communicator: share == nil ? communicator : SerialCommunicator(),
            minibatch: step > 0 ? (step, seed) : nil)
        if weights.count != c * n { weights = [Double](repeating: 0, count: c * n) }
        for j in 0..<n {
            let w = population.weights[j]
            for a in 0..<d { weights[a * n + j] = w * scores[j * d + a] }
            weights[d * n + j] = w
        }
        if let share, let distributed = engine as? DistributedSum {
            distributed.sumOverRankParticles(
                kernel, dimension: d, sources: population.positions, weights: weights, channels: c,
                targets: population.positions, gradientChannels: [d], sourceIDs: share.ids, sourceTotal: share.total,
                targetIDs: share.ids, targetTotal: share.total, values: &values, gradients: &gradients)
        } else {
            precondition(share == nil, "SVGD: a rank's share of the particles needs a DistributedSum")
            engine.sum(
                kernel, dimension: d, sources: population.positions, weights: weights, channels: c,
                targets: population.positions, gradientChannels: [d], values: &values, gradients: &gradients)
        }
        if velocity.count != n * d { velocity = [Double](repeating: 0, count: n * d) }
        for i in 0..<n { for a in 0..<d { velocity[i * d + a] = values[i * c + a] - gradients[i * d + a] } }
        return velocity
    }

    /// One step on the first population: φ through the optimizer.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let v = direction(state.populations[0], step: step)
        optimizer.apply(v, to: &state.populations[0].positions, stepSize: h)
    }

    /// True: scores and the update are per particle, the bandwidth's subsample is sent by its
    /// holders, the sums run over the ranks' particles, and AdaGrad's history moves with them.
    public var distributesParticles: Bool { true }
    /// The optimizer (AdaGrad's history).
    public var particleState: [any ParticleStatePart] { [optimizer] }

    /// The optimizer, kernel (and last σ with the median rule) and summation engine.
    public var report: [String: String] {
        var r = optimizer.report
        r["kernel"] = bandwidth == .median ? "gaussian:sigma=median" : kernel.spec
        if bandwidth == .median, let g = kernel as? GaussianKernel { r["last-sigma"] = "\(g.sigma)" }
        if bandwidth == .median { r["median-sample"] = String(median.sampleSize) }
        r["summation"] = engine.name
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        return r
    }

    static let entry = FlowEntry(name: "svgd", summary: "Stein variational gradient descent (Liu & Wang 2016)") {
        s, ctx in try read(s, ctx, flowName: "svgd") { try Optimizer.read(s, default: "adagrad") }
    }

    /// Reads svgd's keys (`kernel`, `median-sample`, the optimizer's through `optimizer`, the
    /// engine's) and builds the flow; `flowName` names the flow in messages. Flows built on SVGD's
    /// direction (``AcceleratedSVGD``) read their kernel through it, passing the `kernel` text
    /// they have read already.
    static func read(
        _ s: Settings, _ ctx: FlowContext, flowName: String, kernel given: String? = nil,
        optimizer readOptimizer: () throws -> Optimizer
    ) throws -> SteinVariationalGradientDescent {
        guard let density = ctx.target.density else {
            throw s.fail(
                "kind", "\(flowName) needs a target with a score (gaussian, gaussian-mixture, banana), not samples")
        }
        let text = try given ?? s.string("kernel", default: "gaussian:sigma=median")
        let kernel: any RadialKernel
        var median = false
        if text.hasPrefix("formula:") {
            kernel = try readKernelSpec(text, s, "kernel")
        } else {
            var spec: KernelSpec
            do { spec = try KernelSpec(parsing: text) } catch let e as KernelSpecError {
                throw s.fail("kernel", e.message)
            }
            median = spec.name == GaussianKernel.name && spec["sigma"] == "median"
            if median { spec["sigma"] = nil }
            do { kernel = try KernelRegistry.make(spec) } catch let e as KernelSpecError {
                throw s.fail(
                    "kernel",
                    e.message
                        + (spec.name == GaussianKernel.name
                            ? " (or sigma=median)" : " (or formula:EXPR, a formula in r)"))
            }
        }
        let sample =
            median
            ? try s.integer(
                "median-sample", default: MedianBandwidth.defaultSampleSize,
                Allowed("an integer from 2 to \(MemoryEstimate.maximumCount)") {
                    $0 >= 2 && $0 <= MemoryEstimate.maximumCount
                })
            : MedianBandwidth.defaultSampleSize
        let optimizer = try readOptimizer()
        let engine = try readEngine(
            s, kernel: kernel, dimension: ctx.dimension, threads: ctx.threads, seed: ctx.seed,
            communicator: ctx.communicator)
        // Memory: per particle the scores, the d + 1 weight channels and values, the repulsion
        // gradient, the velocity (and AdaGrad's history); one sum of the particles onto
        // themselves; the median's pairs over min(N, median-sample) particles.
        let (n, d) = (ctx.particleCount, ctx.dimension)
        s.memory.addWork(
            population: 0,
            doubles: Double(n) * (3 * Double(d) + 2 * Double(d + 1) + optimizer.historyPerCoordinate * Double(d)))
        s.memory.addKernelSum(
            s, "summation", engine, kernel: kernel, dimension: d, sources: n, targets: n,
            channels: d + 1, gradients: 1, threads: ctx.threads)
        if median {
            let m = min(n, sample)
            s.memory.add(
                s, "median-sample", "a median bandwidth over the pairs of \(m) particles",
                parts: "a tenth of the \(m)(\(m) − 1)/2 squared distances, histograms",
                bytes: MemoryEstimate.medianBandwidth(points: m, dimension: d, threads: ctx.threads))
        }
        return SteinVariationalGradientDescent(
            density: density, kernel: kernel, bandwidth: median ? .median : .fixed,
            optimizer: optimizer, engine: engine, threads: ctx.threads, medianSample: sample,
            communicator: ctx.communicator, seed: ctx.seed)
    }
}
