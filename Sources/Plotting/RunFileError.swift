import InputText
import Recording

/// A run file (trajectory.csv, metrics.csv, trajectory.h5) that cannot be used, located by
/// path and line where known. Its ``problem`` carries the data; ``description`` renders it,
/// in this one place, as `path:line: message`.
public struct RunFileError: Error, CustomStringConvertible, Equatable {
    /// What is wrong with the run file.
    public enum Problem: Equatable, Sendable {
        /// A problem of the file as CSV (unreadable, not text, a row's field count, a field
        /// that is not a number, no data rows).
        case csv(InputFileError.Problem)
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
            case .trajectoryHeader(let line): "header '\(Excerpt.quote(line))' is not step,time,population,particle,weight,x1,...,xd"
            case .rowNotNumbers: "step, time, particle or weight is not a number"
            case .noStepColumn: "no step column"
            case let .noRecord(record, count): "no record \(record) (the file has \(count))"
            }
        }
    }

    /// The run file.
    public let path: String
    /// The 1-based line at fault; nil when the problem is not tied to one.
    public let line: Int?
    /// What is wrong.
    public let problem: Problem

    /// An error at `line` of `path`.
    ///
    /// - Parameters:
    ///   - path: The run file.
    ///   - line: The 1-based line at fault; nil when the problem is not tied to one.
    ///   - problem: What is wrong, with its data.
    public init(path: String, line: Int?, _ problem: Problem) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    /// A CSV problem of a run file, where it was found.
    ///
    /// - Parameter error: The reader's error.
    public init(_ error: InputFileError) {
        self.init(path: error.path, line: error.line, .csv(error.problem))
    }

    /// What is wrong, without the location.
    public var message: String { problem.message }
    /// `path:line: message`, or `path: message` without a line.
    public var description: String { line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)" }
}
