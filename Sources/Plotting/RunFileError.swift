import InputText
import Recording

/// A run file (trajectory.csv, metrics.csv, trajectory.h5) that cannot be used, located by
/// path and line where known; its ``RunFileProblem`` carries the data, rendered as
/// `path:line: message` (`FileError`).
public typealias RunFileError = FileError<RunFileProblem>

/// What is wrong with a run file (``RunFileError``).
public enum RunFileProblem: FileProblem {
    /// A problem of the file as CSV (unreadable, not text, a row's field count, a field that
    /// is not a number, no data rows).
    case csv(InputFileProblem)
    /// trajectory.csv's header (`line`, as read) is not `step,time,population,particle,weight,x1,...,xd`.
    case trajectoryHeader(line: String)
    /// A trajectory row's step, time, particle or weight is not a number.
    case rowNotNumbers
    /// metrics.csv has no `step` column.
    case noStepColumn
    /// Record `record` was asked of a trajectory of `count` records.
    case noRecord(Int, count: Int)

    /// What is wrong, without the location.
    public var message: String {
        switch self {
        case .csv(let problem): problem.message
        case .trajectoryHeader(let line):
            "header '\(Excerpt.quote(line))' is not step,time,population,particle,weight,x1,...,xd"
        case .rowNotNumbers: "step, time, particle or weight is not a number"
        case .noStepColumn: "no step column"
        case .noRecord(let record, let count): "no record \(record) (the file has \(count))"
        }
    }
}

/// Errors in a run's files, read back for plotting and export.
extension FileError where Problem == RunFileProblem {
    /// A CSV problem of a run file, where the reader found it.
    ///
    /// - Parameter error: The reader's error.
    public init(_ error: InputFileError) {
        self.init(path: error.path, line: error.line, .csv(error.problem))
    }
}
