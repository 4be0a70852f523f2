import Communication
import KernelSum

/// A normalised log-density log π and its gradient, the score ∇log π.
public protocol Density: Sendable {
    /// d, the coordinates of a point.
    var dimension: Int { get }
    /// log π(x) at the d coordinates `x`.
    func logDensity(_ x: UnsafePointer<Double>) -> Double
    /// ∇log π(x) at the d coordinates `x`, written to `g[0..<d]`.
    func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>)
    /// Whether ``logDensity(_:)`` is normalised (∫π = 1): true but for a formula, known up to a
    /// constant (what a KL estimate against the density needs).
    var isNormalised: Bool { get }
    /// Scores of `count` points (row-major) into `out` (count × d), in parallel; each point
    /// independently (the default calls ``score(_:into:)`` per point).
    func scores(_ points: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Double>, threads: Int)
    /// The fewest points a thread scores at once (256 unless a point's score is costly, as a
    /// data target's sum over its rows).
    var pointsPerChunk: Int { get }
}

extension Density {
    /// True: a density is normalised unless it says otherwise.
    public var isNormalised: Bool { true }
    /// 256: a score costs about a microsecond.
    public var pointsPerChunk: Int { 256 }

    /// Per point, in parallel.
    public func scores(
        _ points: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>, threads: Int
    ) {
        let d = dimension
        let src = SharedPointer(points)
        let dst = SharedMutablePointer(out)
        Parallel.forEachChunk(n, threads: threads, minimumChunk: pointsPerChunk) { range in
            for i in range { self.score(src.base + i * d, into: dst.base + i * d) }
        }
    }

    /// Scores of all points (row-major). On the ranks of `communicator` each scores its block
    /// of the points and the blocks are gathered (each point's score is its own: one process's
    /// numbers). With `minibatch` (the step, from 1, and the seed) a ``MinibatchDensity``
    /// estimates them from that step's minibatch.
    public func scores(
        _ points: [Double], into out: inout [Double], threads: Int,
        communicator: any Communicator = SerialCommunicator(), minibatch: (step: Int, seed: UInt64)? = nil
    ) {
        let d = dimension
        let n = points.count / d
        if out.count != points.count { out = [Double](repeating: 0, count: points.count) }
        let blocks = BlockPartition(count: n, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        points.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                guard !mine.isEmpty, let from = p.baseAddress, let to = o.baseAddress else { return }
                if let minibatch, let estimated = self as? any MinibatchDensity, estimated.isMinibatched {
                    estimated.minibatchScores(
                        from + mine.lowerBound * d, count: mine.count, into: to + mine.lowerBound * d, threads: threads,
                        step: minibatch.step, seed: minibatch.seed)
                } else {
                    scores(
                        from + mine.lowerBound * d, count: mine.count, into: to + mine.lowerBound * d, threads: threads)
                }
            }
        }
        communicator.gatherBlocks(of: &out, width: d, blocks: blocks)
    }

    /// log π(x) at one point (`x.count == dimension`).
    public func logDensity(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { logDensity($0.baseAddress!) } }
    /// ∇log π(x) at one point. Allocates; for tests and tools.
    public func score(_ x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: dimension)
        x.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer { score(p.baseAddress!, into: $0.baseAddress!) }
        }
        return g
    }
}

/// What a flow samples or pushes particles towards.
public protocol Target: Sendable {
    /// d, the coordinates of a point.
    var dimension: Int { get }
    /// The normalised density and score, for targets that have one (nil for `samples`).
    var density: (any Density)? { get }
    /// Exact mean and covariance (row-major d×d), where known.
    var moments: (mean: [Double], covariance: [Double])? { get }
    /// The natural number of samples (the rows of a sample file), where there is one.
    var naturalSampleCount: Int? { get }
    /// `count` points (row-major) drawn from one stream.
    func sample(count: Int, using rng: inout RandomStream) -> [Double]
    /// Whether `sample` works (false for targets known only by a formula for their density).
    var canSample: Bool { get }
}

extension Target {
    /// True: a target samples unless it says otherwise.
    public var canSample: Bool { true }
    /// The target itself when it is a ``Density``.
    public var density: (any Density)? { self as? any Density }
    /// None.
    public var naturalSampleCount: Int? { nil }
}

/// One target kind of the registry: its name, a summary for `wgf list`, and how it reads its
/// parameters from its scenario table.
public struct TargetEntry: Sendable {
    /// The `kind` in scenario files (`gaussian`, `banana`, ...).
    public let name: String
    /// One line for `wgf list`.
    public let summary: String
    /// Reads the `[target]` table and builds the target; throws a located ``SettingsError``.
    public let make: @Sendable (Settings) throws -> any Target
}

/// The target kinds a scenario may name.
public enum TargetRegistry {
    /// Every target kind. A new target adds one line here.
    public static let entries: [TargetEntry] = [
        GaussianTarget.entry,
        GaussianMixtureTarget.entry,
        BananaTarget.entry,
        SampleTarget.entry,
        FormulaTarget.entry,
        DirichletTarget.entry,
        LogisticRegressionTarget.entry,
        DataTarget.entry,
    ]
    /// The kinds, in registry order.
    public static var names: [String] { entries.map(\.name) }
}
