import Communication

/// An engine shared by the ranks of a job: each rank sums for its block of targets
/// (`BlockPartition`) with `inner`, making every choice from the whole problem
/// (``KernelSumEngine/sum(_:_:targets:values:gradients:)``), and the blocks are gathered in
/// rank order. Every rank holds all sources and ends with all results, identical to one
/// process's bit for bit: the engine's arithmetic per target does not depend on the others.
///
/// Cost per rank: the inner engine's work for M/K targets (a direct sum N·M/K pairs; the mesh
/// spreads all N sources, then interpolates and adds the near field for M/K targets), plus
/// gathering M·(C + G·d) doubles.
public final class DistributedSum: KernelSumEngine, @unchecked Sendable {
    /// The engine each rank runs on its block.
    public let inner: any KernelSumEngine
    /// The ranks sharing the sum.
    public let communicator: any Communicator

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
        let blocks = BlockPartition(count: problem.targetCount, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        let valuesPerTarget = problem.channels
        let gradientsPerTarget = problem.gradientChannels.count * problem.dimension
        var localValues = [Double](repeating: 0, count: mine.count * valuesPerTarget)
        var localGradients = [Double](repeating: 0, count: mine.count * gradientsPerTarget)
        localValues.withUnsafeMutableBufferPointer { v in
            localGradients.withUnsafeMutableBufferPointer { g in
                inner.sum(kernel, problem, targets: mine, values: v, gradients: g)
            }
        }
        localValues.withUnsafeBufferPointer {
            communicator.allGather($0, counts: blocks.counts.map { $0 * valuesPerTarget }, into: values)
        }
        localGradients.withUnsafeBufferPointer {
            communicator.allGather($0, counts: blocks.counts.map { $0 * gradientsPerTarget }, into: gradients)
        }
    }
}
