/// What is wrong with a file, for ``FileError``: each reader's own cases, with their data.
public protocol FileProblem: Equatable, Sendable {
    /// What is wrong, without the location.
    var message: String { get }
}

/// A file that cannot be used, located by path and line where known: the errors of the
/// readers (``InputFileError`` for inputs, `RunFileError` in Plotting for a run's files),
/// told apart by their ``FileProblem``. The location is rendered here, in this one place:
/// `path:line: message`.
public struct FileError<Problem: FileProblem>: Error, CustomStringConvertible, Equatable {
    /// The file.
    public let path: String
    /// The 1-based line at fault; nil when the problem is the whole file.
    public let line: Int?
    /// What is wrong.
    public let problem: Problem

    /// An error at `line` of `path`.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - line: The 1-based line at fault; nil when the problem is the whole file.
    ///   - problem: What is wrong, with its data.
    public init(path: String, line: Int?, _ problem: Problem) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    /// What is wrong, without the location.
    public var message: String { problem.message }
    /// `path:line: message`, or `path: message` without a line.
    public var description: String { located(as: path) }

    /// The message located at the file shown as `shownPath`: a caller that quotes the path
    /// from a scenario shortens it, like any quoted input.
    ///
    /// - Parameter shownPath: The path as the message shows it.
    public func located(as shownPath: String) -> String {
        line.map { "\(shownPath):\($0): \(message)" } ?? "\(shownPath): \(message)"
    }
}
