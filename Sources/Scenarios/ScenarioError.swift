import Flows
import InputText
import Recording

/// A scenario that cannot be used: syntax, a key, a value or a file it names. Each case
/// carries its data; ``description`` renders it in this one place, starting with where:
/// `file:line:` (`file:` alone for an unreadable file), or `--set KEY=VALUE:`.
public enum ScenarioError: Error, CustomStringConvertible {
    /// The scenario file at `path` cannot be read (or, given in memory, is too large).
    case unreadable(path: String, reason: UnreadableFile.Reason)
    /// The file at `path` is not valid TOML.
    case syntax(path: String, TOMLSyntaxError)
    /// The `--set` override `text` cannot be applied.
    case override(text: String, OverrideProblem)
    /// A key or value of the scenario (or one set by an override) is invalid.
    case settings(SettingsError)

    /// Why a `--set KEY=VALUE` override cannot be applied.
    public enum OverrideProblem: Equatable, Sendable {
        /// No `=`, or nothing before it.
        case notKeyValue
        /// The key has `segments` dotted segments, more than `limit`.
        case tooManySegments(Int, limit: Int)
        /// The segment is written `NAME[...]` without a valid index.
        case badIndex(segment: String)
        /// A segment of the key is empty (`a..b`).
        case emptySegment
        /// `name[index]` of an array of `count` tables.
        case indexOutOfRange(name: String, index: Int, count: Int)
        /// The dotted `path` leads through something that is not a table.
        case notATable(path: String)
        /// The key names a whole table rather than one of its keys.
        case wholeTable

        /// What is wrong, after `--set KEY=VALUE: `.
        public var message: String {
            switch self {
            case .notKeyValue: "expected KEY=VALUE, e.g. population.count=500"
            case .tooManySegments(let segments, let limit): "the key has \(segments) segments (at most \(limit))"
            case .badIndex(let segment): "bad index in '\(Excerpt.quote(segment))' (expected NAME[N], N from 1)"
            case .emptySegment: "empty key segment"
            case .indexOutOfRange(let name, let index, let count):
                "\(name) has \(count) entries (index from 1 to \(count)), not \(index)"
            case .notATable(let path): "'\(Excerpt.quote(path))' is not a table of the scenario"
            case .wholeTable: "the key names a whole table; name one of its keys"
            }
        }
    }

    /// How an override is shown in messages (and in the location of the errors it causes):
    /// `--set` followed by its text, shortened.
    ///
    /// - Parameter text: The override's `KEY=VALUE` text as given.
    static func shown(_ text: String) -> String { "--set \(Excerpt.quote(text, limit: 120))" }

    /// The message for users.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read the scenario (\(reason))"
        case .syntax(let path, let error): "\(path):\(error)"
        case .override(let text, let problem): "\(Self.shown(text)): \(problem.message)"
        case .settings(let error): error.description
        }
    }
}
