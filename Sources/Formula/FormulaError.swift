/// An error found while parsing or compiling a formula.
///
/// `description` is a three-line rendering meant for users:
///
///     error in formula at column 15:
///     (x1^2 - 1)^2 +* 0.5
///                   ^ expected a number, a name or '(' after '+'
///
/// Errors that are not tied to a position in the formula (a bad parameter name, for
/// instance) have `column == 0` and render without the caret line.
public struct FormulaError: Error, CustomStringConvertible, Sendable, Equatable {
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

    public let kind: Kind
    /// One line, without position information.
    public let message: String
    /// 1-based column (in Unicode scalars) of the offending token; 0 when not tied to a position.
    public let column: Int
    /// The formula text as given.
    public let source: String

    public init(kind: Kind, message: String, column: Int, source: String) {
        self.kind = kind
        self.message = message
        self.column = column
        self.source = source
    }

    public var description: String {
        // Newlines and tabs are shown as spaces so that the caret stays under its column.
        let shown = String(String.UnicodeScalarView(source.unicodeScalars.map {
            $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0
        }))
        if column <= 0 {
            return "error in formula: \(message)\n\(shown)"
        }
        let pad = String(repeating: " ", count: column - 1)
        return "error in formula at column \(column):\n\(shown)\n\(pad)^ \(message)"
    }
}
