import KernelSum

/// Which rows of a data target's R rows a step's score is estimated from: `batch-size` B (0: all
/// of them) and `batches`: `iid`, B rows drawn with replacement at every step; `epoch`, a fresh
/// permutation of the rows every epoch cut into ⌈R/B⌉ batches whose sizes differ by at most one.
/// Every draw is keyed by the scenario's seed and the step (or the epoch), so a run is the same
/// on any thread or rank count and after a resume. The estimate scales the batch's sum by
/// R/|batch|: unbiased, and over an epoch with B dividing R it averages to the full sum exactly.
public struct MinibatchSchedule: Sendable, Equatable {
    /// How minibatches are drawn.
    public enum Batches: String, Sendable { case iid, epoch }
    /// R, the rows.
    public let rowCount: Int
    /// B, rows per minibatch (0: the full data).
    public let batchSize: Int
    /// How minibatches are drawn.
    public let batches: Batches

    /// A schedule over `rowCount` rows.
    public init(rowCount: Int, batchSize: Int = 0, batches: Batches = .iid) {
        self.rowCount = rowCount
        self.batchSize = batchSize
        self.batches = batches
    }

    /// Whether a batch is smaller than the data.
    public var isMinibatched: Bool { batchSize > 0 && batchSize < rowCount }

    /// The rows of the minibatch of `step` (from 1).
    public func rows(step: Int, seed: UInt64) -> [Int] {
        let rows = rowCount
        let b = min(batchSize, rows)
        switch batches {
        case .iid:
            var rng = RandomStream(seed: seed, .minibatch, step)
            return (0..<b).map { _ in rng.index(below: rows) }
        case .epoch:
            let perEpoch = (rows + b - 1) / b
            let (epoch, k) = (max(step, 1) - 1).quotientAndRemainder(dividingBy: perEpoch)
            var rng = RandomStream(seed: seed, .minibatch, epoch)
            var order = Array(0..<rows)
            for i in stride(from: rows - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
            return Array(order[(k * rows / perEpoch)..<((k + 1) * rows / perEpoch)])
        }
    }

    /// The rows of the minibatch of `step` and the scale R/|batch| of their sum's estimate.
    public func estimate(step: Int, seed: UInt64) -> (rows: [Int], scale: Double) {
        let selected = rows(step: step, seed: seed)
        return (selected, Double(rowCount) / Double(selected.count))
    }

    /// Reads `batch-size` and `batches` for `rows` rows.
    static func read(_ s: Settings, rows: Int) throws -> MinibatchSchedule {
        let batchSize = try s.integer(
            "batch-size", default: 0,
            Allowed("an integer from 0 (the full data) to the \(rows) rows") { $0 >= 0 && $0 <= rows })
        let batches = Batches(rawValue: try s.string("batches", default: "iid", oneOf: ["iid", "epoch"]))!
        return MinibatchSchedule(rowCount: rows, batchSize: batchSize, batches: batches)
    }
}
