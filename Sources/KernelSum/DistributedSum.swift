import Communication
import Foundation

/// An engine shared by the ranks of a job: each rank sums for its block of targets
/// (`BlockPartition`) with `inner`, making every choice from the whole problem
/// (``KernelSumEngine/sum(_:_:targets:values:gradients:)``), and the blocks are gathered in
/// rank order; unless `inner` shares the call its own way
/// (``SharesSumsAcrossRanks/sumAcrossRanks(_:_:values:gradients:)``: a mesh given the same
/// communicator). Every rank holds all sources and ends with all results, identical to one
/// process's bit for bit: the engine's arithmetic per target does not depend on the others.
///
/// Cost per rank: the inner engine's work for M/K targets (a direct sum N·M/K pairs; a mesh
/// shares its grid by slabs, then interpolates and adds the near field at M/K targets:
/// ``MeshSum``), plus gathering M·(C + G·d) doubles.
public final class DistributedSum: KernelSumEngine, @unchecked Sendable {
    /// The engine each rank runs on its block.
    public let inner: any KernelSumEngine
    /// The ranks sharing the sum.
    public let communicator: any Communicator
    /// This rank's block of values and gradients, kept between calls (one call at a time).
    private var localValues: [Double] = []
    private var localGradients: [Double] = []
    private let lock = NSLock()

    /// - Parameters:
    ///   - inner: the engine each rank runs on its block of targets.
    ///   - communicator: the ranks; every rank must call ``sum(_:_:values:gradients:)`` with
    ///     the same problem.
    public init(_ inner: any KernelSumEngine, communicator: any Communicator) {
        self.inner = inner
        self.communicator = communicator
    }

    /// The inner engine's name: the method the sums follow.
    public var name: String { inner.name }
    /// The inner engine's choices.
    public var parameters: [String: String] { inner.parameters }

    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        guard problem.fits(values: values, gradients: gradients) else { return }
        if let own = inner as? any SharesSumsAcrossRanks,
            own.sumAcrossRanks(kernel, problem, values: values, gradients: gradients)
        {
            return
        }
        let blocks = BlockPartition(count: problem.targetCount, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        let valuesPerTarget = problem.channels
        let gradientsPerTarget = problem.gradientChannels.count * problem.dimension
        lock.lock()
        defer { lock.unlock() }
        let valueCount = mine.count * valuesPerTarget
        let gradientCount = mine.count * gradientsPerTarget
        if localValues.count < valueCount { localValues = [Double](repeating: 0, count: valueCount) }
        if localGradients.count < gradientCount { localGradients = [Double](repeating: 0, count: gradientCount) }
        localValues.withUnsafeMutableBufferPointer { v in
            localGradients.withUnsafeMutableBufferPointer { g in
                let ownValues = UnsafeMutableBufferPointer(rebasing: v[0..<valueCount])
                let ownGradients = UnsafeMutableBufferPointer(rebasing: g[0..<gradientCount])
                inner.sum(kernel, problem, targets: mine, values: ownValues, gradients: ownGradients)
                communicator.allGather(
                    UnsafeBufferPointer(ownValues), counts: blocks.counts.map { $0 * valuesPerTarget }, into: values)
                communicator.allGather(
                    UnsafeBufferPointer(ownGradients), counts: blocks.counts.map { $0 * gradientsPerTarget },
                    into: gradients)
            }
        }
    }

    /// The sums at this rank's targets over every rank's sources, the ranks holding the particles
    /// apart (the domain decomposition): `problem` holds this rank's sources (global indices
    /// `sourceIDs`, each of 0 ..< `sourceTotal` held by one rank) and targets (`targetIDs`, of
    /// 0 ..< `targetTotal`). Collective. The inner engine sums so if it can
    /// (``SharesSumsAcrossRanks/sumOverRankParticles(_:_:sourceIDs:values:gradients:)``: the
    /// mesh); otherwise every rank gathers the whole problem in index order, the ranks share its
    /// sum as ``sum(_:_:values:gradients:)`` does, and each keeps its targets' results. Either
    /// way, bit for bit one process's.
    public func sumOverRankParticles(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, sourceIDs: [Int], sourceTotal: Int,
        targetIDs: [Int], targetTotal: Int,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        precondition(
            problem.fits(values: values, gradients: gradients) && sourceIDs.count == problem.sourceCount
                && targetIDs.count == problem.targetCount, "DistributedSum.sumOverRankParticles: shapes")
        if let own = inner as? any SharesSumsAcrossRanks,
            sourceIDs.withUnsafeBufferPointer({
                own.sumOverRankParticles(kernel, problem, sourceIDs: $0, values: values, gradients: gradients)
            })
        {
            return
        }
        let d = problem.dimension
        let c = problem.channels
        let n = problem.sourceCount
        // Sources as rows of coordinates and weights; targets as rows of coordinates.
        var rows = [Double](repeating: 0, count: n * (d + c))
        for i in 0..<n {
            for a in 0..<d { rows[i * (d + c) + a] = problem.sources[i * d + a] }
            for ch in 0..<c { rows[i * (d + c) + d + ch] = problem.weights[ch * n + i] }
        }
        let sources = rows.withUnsafeBufferPointer { r in
            sourceIDs.withUnsafeBufferPointer {
                communicator.gatherRows(r, width: d + c, ids: $0, total: sourceTotal)
            }
        }
        let targets = targetIDs.withUnsafeBufferPointer {
            communicator.gatherRows(problem.targets, width: d, ids: $0, total: targetTotal)
        }
        let points = (0..<sourceTotal).flatMap { i in sources[(i * (d + c))..<(i * (d + c) + d)] }
        let weights = (0..<c).flatMap { ch in (0..<sourceTotal).map { sources[$0 * (d + c) + d + ch] } }
        let g = problem.gradientChannels.count * d
        var allValues = [Double](repeating: 0, count: targetTotal * c)
        var allGradients = [Double](repeating: 0, count: targetTotal * g)
        points.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { w in
                targets.withUnsafeBufferPointer { t in
                    var whole = problem
                    (whole.sources, whole.weights, whole.targets) = (s, w, t)
                    allValues.withUnsafeMutableBufferPointer { v in
                        allGradients.withUnsafeMutableBufferPointer { sum(kernel, whole, values: v, gradients: $0) }
                    }
                }
            }
        }
        for (j, id) in targetIDs.enumerated() {
            for k in 0..<c { values[j * c + k] = allValues[id * c + k] }
            for k in 0..<g { gradients[j * g + k] = allGradients[id * g + k] }
        }
    }

    /// Array front-end of ``sumOverRankParticles(_:_:sourceIDs:sourceTotal:targetIDs:targetTotal:values:gradients:)``
    /// (the layout of ``KernelSumEngine/sum(_:dimension:sources:weights:channels:targets:gradientChannels:values:gradients:)``):
    /// `values` and `gradients` are resized to this rank's targets.
    public func sumOverRankParticles(
        _ kernel: any RadialKernel, dimension d: Int, sources: [Double], weights: [Double], channels: Int,
        targets: [Double], gradientChannels: [Int], sourceIDs: [Int], sourceTotal: Int, targetIDs: [Int],
        targetTotal: Int, values: inout [Double], gradients: inout [Double]
    ) {
        let m = targets.count / d
        if values.count != m * channels { values = [Double](repeating: 0, count: m * channels) }
        if gradients.count != m * gradientChannels.count * d {
            gradients = [Double](repeating: 0, count: m * gradientChannels.count * d)
        }
        sources.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                targets.withUnsafeBufferPointer { y in
                    values.withUnsafeMutableBufferPointer { v in
                        gradients.withUnsafeMutableBufferPointer { g in
                            guard
                                let problem = KernelSumProblem(
                                    dimension: d, sources: x, weights: w, channels: channels, targets: y,
                                    gradientChannels: gradientChannels)
                            else { preconditionFailure("DistributedSum.sumOverRankParticles: shapes") }
                            sumOverRankParticles(
                                kernel, problem, sourceIDs: sourceIDs, sourceTotal: sourceTotal, targetIDs: targetIDs,
                                targetTotal: targetTotal, values: v, gradients: g)
                        }
                    }
                }
            }
        }
    }
}
