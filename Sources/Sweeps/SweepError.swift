/// Why a sweep cannot start or finish, with the exit code `wgf sweep` gives for it.
public struct SweepError: Error, CustomStringConvertible {
    /// What kind of problem: it decides the exit code (README's table).
    public enum Kind: Sendable, Equatable {
        /// A bad command line: `--vary` or `--seeds` syntax, a duplicate key, too many runs (exit 64).
        case usage
        /// A variant whose scenario is invalid (a bad `--vary` key or value), or a sweep file that cannot be read back (exit 3).
        case badInput
        /// A file of the sweep that cannot be read or written (exit 5).
        case io
    }
    /// What kind of problem.
    public let kind: Kind
    /// The message for users, starting with where (the option, the variant, the file).
    public let description: String

    /// An error of `kind` with `description`.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
