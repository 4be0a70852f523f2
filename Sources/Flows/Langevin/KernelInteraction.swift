import Communication
import Foundation
import KernelSum

/// W = weight · k for a kernel k of the registry, summed by the kernel-sum engine of the flow's
/// `summation` (so `mesh` gives the NUFFT far field with the exact near field, which handles the
/// singular log and Coulomb kernels): with weights w_j·weight, the engine's gradient
/// ∇_y Σ_j w_j W(y − x_j) at y = x_i is exactly Σ_j w_j ∇W(x_i − x_j). In the periodic box the
/// engine has the box's period (`DirectSum`, `MeshSum` or `AutoSum` with `period`): each
/// pair through its minimum image (no Ewald sum: suited to kernels that have decayed by L/2).
public final class KernelInteraction: Interaction {
    /// k.
    public let kernel: any RadialKernel
    /// The term's weight: W = weight · k.
    public let weight: Double
    let engine: any KernelSumEngine
    let domain: Domain
    let threads: Int
    var scaled: [Double] = [], values: [Double] = [], gradients: [Double] = []

    /// `engine` nil: the minimum-image direct sum of the periodic box (`domain` must be one).
    /// An engine given for a periodic domain must have been made with the same period.
    public init(kernel: any RadialKernel, weight: Double, engine: (any KernelSumEngine)?, domain: Domain, threads: Int)
    {
        guard engine != nil || domain != .free else { fatalError("KernelInteraction: R^d needs an engine") }
        self.kernel = kernel
        self.weight = weight
        self.engine = engine ?? DirectSum(threads: threads, domain: domain)
        self.domain = domain
        self.threads = threads
    }

    /// `weight·SPEC`.
    public var spec: String { "\(formatNumber(weight))·\(kernel.spec)" }

    /// The engine and its parameters.
    public var report: [String: String] {
        var r = ["summation": engine.name]
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        return r
    }

    /// Values s_i = Σ_j w_j·weight·k(x_i − x_j) (diagonal included where the engine includes it)
    /// and gradients, into `values` and `gradients`.
    func sums(_ x: [Double], _ w: [Double], _ d: Int) {
        if scaled.count != w.count { scaled = [Double](repeating: 0, count: w.count) }
        for j in 0..<w.count { scaled[j] = w[j] * weight }
        engine.sum(
            kernel, dimension: d, sources: x, weights: scaled, channels: 1, targets: x,
            gradientChannels: [0], values: &values, gradients: &gradients)
    }

    /// Adds Σ_j w_j ∇W(x_i − x_j) for every i (the engine's gradient; 0 from j = i).
    public func addGradients(_ positions: [Double], weights: [Double], dimension d: Int, into out: inout [Double]) {
        sums(positions, weights, d)
        for k in 0..<out.count { out[k] += gradients[k] }
    }

    /// At this rank's share of the particles: the engine's sum over every rank's particles held
    /// apart (`DistributedSum.sumOverRankParticles(_:_:sourceIDs:sourceTotal:targetIDs:targetTotal:values:gradients:)`:
    /// the mesh exchanges only the sources each rank's slab needs).
    public func addGradients(atShare p: Population, communicator: any Communicator, into out: inout [Double]) {
        guard let share = p.share, let distributed = engine as? DistributedSum else {
            precondition(p.share == nil, "KernelInteraction: a rank's share of the particles needs a DistributedSum")
            return addGradients(p.positions, weights: p.weights, dimension: p.dimension, into: &out)
        }
        let d = p.dimension
        let n = p.count
        if scaled.count != n { scaled = [Double](repeating: 0, count: n) }
        for j in 0..<n { scaled[j] = p.weights[j] * weight }
        distributed.sumOverRankParticles(
            kernel, dimension: d, sources: p.positions, weights: scaled, channels: 1, targets: p.positions,
            gradientChannels: [0], sourceIDs: share.ids, sourceTotal: share.total, targetIDs: share.ids,
            targetTotal: share.total, values: &values, gradients: &gradients)
        for k in 0..<out.count { out[k] += gradients[k] }
    }

    /// Adds Σ_{j≠i} w_j W(x_i − x_j) for every i: the engine's value less the diagonal
    /// w_i·weight·k(0) where the engine includes it (kernels finite at 0).
    public func addValues(_ positions: [Double], weights: [Double], dimension d: Int, into out: inout [Double]) {
        sums(positions, weights, d)
        let k0 = kernel.regularity != .singular ? weight * kernel.value(squaredDistance: 0) : 0
        for i in 0..<weights.count { out[i] += values[i] - weights[i] * k0 }
    }

    /// ½ Σ_{i≠j} w_i w_j W(x_i − x_j): the engine's sum without its diagonal.
    public func energy(_ positions: [Double], weights: [Double], dimension d: Int) -> Double {
        sums(positions, weights, d)
        var e = 0.0
        for i in 0..<weights.count { e += weights[i] * values[i] }
        // Engines include the diagonal w_i² W(0) for kernels finite at 0; leave it out.
        if kernel.regularity != .singular {
            let k0 = weight * kernel.value(squaredDistance: 0)
            for w in weights { e -= w * w * k0 }
        }
        return 0.5 * e
    }

    /// A term from a kernel spec (a registry kernel or `formula:EXPR` in r, as everywhere kernels
    /// are taken), read from `key` of `s`, where errors are located. In the periodic box
    /// `summation` defaults to `direct` (`auto` and `mesh` are accepted, `sliced` is not).
    static func make(
        _ text: String, _ s: Settings, _ key: String, context ctx: InteractionContext
    ) throws -> KernelInteraction {
        let kernel = try readKernelSpec(text, s, key)
        let engine = try readEngine(
            ctx.flowSettings, kernel: kernel, dimension: ctx.dimension, threads: ctx.threads, seed: ctx.seed,
            domain: ctx.domain, communicator: ctx.communicator)
        // Memory: the scaled weights, values and gradients kept per particle; one sum of the
        // particles onto themselves.
        let s = ctx.flowSettings
        let n = ctx.particleCount
        s.memory.addWork(population: 0, doubles: Double(n) * Double(ctx.dimension + 2))
        s.memory.addKernelSum(
            s, "summation", engine, kernel: kernel, dimension: ctx.dimension, sources: n, targets: n,
            channels: 1, gradients: 1, threads: ctx.threads)
        return KernelInteraction(
            kernel: kernel, weight: ctx.weight, engine: engine, domain: ctx.domain, threads: ctx.threads)
    }
}
