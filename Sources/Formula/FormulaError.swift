import InputText

/// An error found while parsing or compiling a formula.
///
/// `description` is a three-line rendering meant for users:
///
///     error in formula at column 15:
///     (x1^2 - 1)^2 +* 0.5
///                   ^ expected a number, a name or '(' after '+'
///
/// A long formula is shown as a window around the column (see `excerpt`).
/// Errors that are not tied to a position in the formula (a bad parameter name, for
/// instance) have `column == 0` and render without the caret line.
public struct FormulaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers and tests that branch on it (the message says it to users).
    public enum Kind: Sendable, Equatable {
        /// The text is not a well-formed expression (bad token, missing operand, unbalanced parenthesis).
        case syntax
        /// A name that is neither a variable, a parameter, a constant nor a function.
        case unknownName
        /// A variable that exists in the language but not for this kind of formula or dimension
        /// (`x3` in a 2-D formula, `y` in a position formula, `x` in a radial kernel formula).
        case unavailableVariable
        /// A vector where a scalar is expected (or the reverse), or a dimension mismatch.
        case type
        /// A function called with the wrong number of arguments, or a name used the wrong way
        /// (a function without parentheses, a variable called like a function).
        case arity
        /// A parameter that is not a valid name, conflicts with a built-in name, or is not finite.
        case parameter
    }

    /// What went wrong.
    public let kind: Kind
    /// One line, without position information.
    public let message: String
    /// 1-based column (in Unicode scalars) of the offending token; 0 when not tied to a position.
    public let column: Int
    /// The formula text as given.
    public let source: String

    /// An error of `kind` at `column` (1-based, 0 for none) of `source`; `message` is one line.
    public init(kind: Kind, message: String, column: Int, source: String) {
        self.kind = kind
        self.message = message
        self.column = column
        self.source = source
    }

    /// The rendering for users: a heading with the column, the formula (or a window of it) and a
    /// caret line with the message; without a column, the heading with the message and the formula.
    public var description: String {
        if column <= 0 {
            return "error in formula: \(message)\n\(Excerpt.window(source, column: 1).text)"
        }
        let (line, caret) = excerpt
        return "error in formula at column \(column):\n\(line)\n\(String(repeating: " ", count: caret))^ \(message)"
    }

    /// The formula on one line around `column` (a window of it when it is long, so that a
    /// 24 KB formula does not fill the terminal), and the caret's 0-based offset in that line.
    /// Newlines, tabs and other unprintable characters are shown as spaces, so the caret stays
    /// under its column.
    public var excerpt: (line: String, caret: Int) {
        let w = Excerpt.window(source, column: column)
        return (w.text, w.caret)
    }
}
