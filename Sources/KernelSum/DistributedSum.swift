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
}
