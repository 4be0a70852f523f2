import KernelSum

/// Which rows of a data target's R rows a step's score is estimated from, and their weights:
/// `batch-size` B (0: all of them) and `batches`: `iid`, B rows drawn with replacement at every
/// step; `epoch`, a fresh permutation of the rows every epoch cut into ⌈R/B⌉ batches whose sizes
/// differ by at most one; `dpp`, B rows from a projection determinantal point process on the rows
/// (``DPPMinibatch``: one row from each of B cells of similar rows), weighted by the
/// Ermakov–Zolotukhin weights. Every draw is keyed by the scenario's seed and the step (or the
/// epoch), so a run is the same on any thread or rank count and after a resume. The estimate is
/// the batch's weighted sum: R/|batch| each for `iid` and `epoch` (unbiased, and over an epoch with
/// B dividing R it averages to the full sum exactly), unbiased for `dpp` too.
public struct MinibatchSchedule: Sendable, Equatable {
    /// How minibatches are drawn.
    public enum Batches: String, Sendable { case iid, epoch, dpp }
    /// R, the rows.
    public let rowCount: Int
    /// B, rows per minibatch (0: the full data).
    public let batchSize: Int
    /// How minibatches are drawn.
    public let batches: Batches
    /// The DPP of `dpp` batches (built from the rows at load), else nil.
    public let dpp: DPPMinibatch?

    /// A schedule over `rowCount` rows; `dpp` batches build their kernel from `data`, the rows'
    /// `columns` values each (row-major).
    public init(
        rowCount: Int, batchSize: Int = 0, batches: Batches = .iid, data: [Double] = [], columns: Int = 0
    ) {
        self.rowCount = rowCount
        self.batchSize = batchSize
        self.batches = batches
        let minibatched = batchSize > 0 && batchSize < rowCount
        dpp =
            batches == .dpp && minibatched
            ? DPPMinibatch.strata(rows: data, columns: columns, rowCount: rowCount, size: batchSize) : nil
    }

    /// Whether a batch is smaller than the data.
    public var isMinibatched: Bool { batchSize > 0 && batchSize < rowCount }

    /// The rows of the minibatch of `step` (from 1).
    public func rows(step: Int, seed: UInt64) -> [Int] { batch(step: step, seed: seed).rows }

    /// The rows of the minibatch of `step` (from 1) and their weights: the score's estimate is
    /// Σ_k weights[k] ∇ℓ_{rows[k]}.
    public func batch(step: Int, seed: UInt64) -> (rows: [Int], weights: [Double]) {
        let rows = rowCount
        let b = min(batchSize, rows)
        func uniform(_ batch: [Int]) -> (rows: [Int], weights: [Double]) {
            (batch, [Double](repeating: Double(rows) / Double(batch.count), count: batch.count))
        }
        switch batches {
        case .dpp where dpp != nil:
            return dpp!.draw(step: step, seed: seed)
        case .iid, .dpp:
            var rng = RandomStream(seed: seed, .minibatch, step)
            return uniform((0..<b).map { _ in rng.index(below: rows) })
        case .epoch:
            let perEpoch = (rows + b - 1) / b
            let (epoch, k) = (max(step, 1) - 1).quotientAndRemainder(dividingBy: perEpoch)
            var rng = RandomStream(seed: seed, .minibatch, epoch)
            var order = Array(0..<rows)
            for i in stride(from: rows - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
            return uniform(Array(order[(k * rows / perEpoch)..<((k + 1) * rows / perEpoch)]))
        }
    }

    /// R·B above which `dpp` batches are refused: the kernel's basis holds R·B doubles (128 MiB)
    /// and a draw costs O(R·B²).
    public static let dppEntryLimit = 1 << 24

    /// Reads `batch-size` and `batches` for `rows` rows (validated; nothing is allocated).
    static func read(_ s: Settings, rows: Int) throws -> (batchSize: Int, batches: Batches) {
        let batchSize = try s.integer(
            "batch-size", default: 0,
            Allowed("an integer from 0 (the full data) to the \(rows) rows") { $0 >= 0 && $0 <= rows })
        let batches = Batches(rawValue: try s.string("batches", default: "iid", oneOf: ["iid", "epoch", "dpp"]))!
        if batches == .dpp, batchSize.multipliedReportingOverflow(by: rows).partialValue > dppEntryLimit {
            throw s.fail(
                "batch-size",
                "\(batchSize) with batches = \"dpp\": the DPP's kernel keeps \(rows) rows × \(batchSize) values, over the limit of \(dppEntryLimit) (R × B); take a smaller batch-size or batches = \"epoch\""
            )
        }
        return (batchSize, batches)
    }
}
