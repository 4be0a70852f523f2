/// Which runs of a sweep this process does, and how it waits for the processes doing the
/// others before the tables are written.
///
/// On one machine one process does every run (``whole``). Under `mpirun -np K`, rank r does
/// the runs of index i with i % K == r (``rank(_:of:barrier:)``), every rank waits at a
/// barrier, and rank 0 alone writes sweep.csv and summary.csv from the run directories (on a
/// file system the ranks share): the files do not depend on K.
public struct SweepShare: Sendable {
    /// Whether this process does the run of that index in ``SweepPlan/runs``.
    public let includes: @Sendable (Int) -> Bool
    /// Whether this process writes the tables (and prints the final table).
    public let writesTables: Bool
    /// Returns once every process has done its runs.
    public let waitForAll: @Sendable () throws -> Void

    /// A share; see the properties.
    public init(
        includes: @escaping @Sendable (Int) -> Bool, writesTables: Bool,
        waitForAll: @escaping @Sendable () throws -> Void
    ) {
        self.includes = includes
        self.writesTables = writesTables
        self.waitForAll = waitForAll
    }

    /// Every run, in this process.
    public static let whole = SweepShare(includes: { _ in true }, writesTables: true, waitForAll: {})

    /// Rank `rank` of `size`: runs i with i % size == rank; rank 0 writes the tables after `barrier`.
    public static func rank(_ rank: Int, of size: Int, barrier: @escaping @Sendable () throws -> Void) -> SweepShare {
        SweepShare(includes: { $0 % size == rank }, writesTables: rank == 0, waitForAll: barrier)
    }
}
