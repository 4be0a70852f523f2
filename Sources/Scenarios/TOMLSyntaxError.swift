import InputText

/// A TOML syntax error at a line and column (1-based). Its ``problem`` carries the data (the
/// key path, the character found, the earlier line); ``message`` renders it in this one place.
public struct TOMLSyntaxError: Error, CustomStringConvertible, Equatable {
    /// What is wrong. `found` is the character at the error (nil at the end of the text);
    /// key paths and values are kept as written and shortened only in the message.
    public enum Problem: Equatable, Sendable {
        // MARK: The text

        /// The byte `byte` is not UTF-8.
        case notUTF8(byte: UInt8)
        /// A control character other than tab, in a comment (`inComment`) or a string.
        case controlCharacter(UInt8, inComment: Bool)
        /// Arrays, inline tables and dotted keys nest deeper than `limit` levels.
        case tooDeep(limit: Int)
        /// Text follows a lone value (`--set KEY=VALUE`).
        case textAfterValue
        /// A line goes on after its key-value pair or header.
        case expectedEndOfLine(found: Unicode.Scalar?)

        // MARK: Keys and tables

        /// A table header lacks its `]` (`]]` for an array of tables).
        case expectedHeaderEnd(arrayOfTables: Bool)
        /// Not a key where one must start.
        case expectedKey(found: Unicode.Scalar?)
        /// A key (dotted `path`) not followed by `=`.
        case expectedEquals(key: [String], found: Unicode.Scalar?)
        /// The key `path` was first defined on `firstLine`.
        case duplicateKey([String], firstLine: Int)
        /// The table `path` was first defined on `firstLine`.
        case tableDefinedTwice([String], firstLine: Int)
        /// `path` goes through `key`, an inline table, which cannot be extended.
        case inlineTableExtended(path: [String], key: String)
        /// `path` goes through `key`, which holds a value (defined on `line`).
        case keyHoldsValue(path: [String], key: String, line: Int)
        /// The array of tables `path` ends in `key`, defined on `line` as something else.
        case notArrayOfTables(path: [String], key: String, line: Int)

        // MARK: Values

        /// No value where one must start.
        case expectedValue(found: Unicode.Scalar?)
        /// A date or a time (not supported).
        case datesUnsupported
        /// The bare `text` is neither a number nor a boolean.
        case invalidValue(String)
        /// An array without its `]`.
        case unterminatedArray
        /// An array's element not followed by `,` or `]`.
        case expectedArraySeparator(found: Unicode.Scalar?)
        /// An inline table's pair not followed by `,` or `}`.
        case expectedInlineTableSeparator(found: Unicode.Scalar?)
        /// A one-line string (literal, or basic) without its closing quote.
        case unterminatedString(literal: Bool)
        /// A multi-line string without its closing quotes.
        case unterminatedMultilineString
        /// `\u` or `\U` not followed by the hex digits of a Unicode scalar.
        case invalidUnicodeEscape
        /// A backslash followed by a character that is no escape.
        case invalidEscape

        /// What is wrong, without the position.
        public var message: String {
            switch self {
            case .notUTF8(let byte): "the file is not UTF-8 text (byte \(Excerpt.byte(byte)) here)"
            case .controlCharacter(let c, let inComment):
                Self.controlCharacterMessage(c, in: inComment ? "a comment" : "a string")
            case .tooDeep(let limit):
                "nested more than \(limit) levels deep (arrays, inline tables and dotted keys count); flatten the data"
            case .textAfterValue: "unexpected text after the value"
            case .expectedEndOfLine(let found): "expected the end of the line, found \(Self.describe(found))"
            case .expectedHeaderEnd(let arrayOfTables):
                arrayOfTables
                    ? "expected ']]' to close the table-array header" : "expected ']' to close the table header"
            case .expectedKey(let found):
                "expected a key (letters, digits, '_' or '-', or a quoted string), found \(Self.describe(found))"
            case .expectedEquals(let key, let found):
                "expected '=' after the key '\(Self.describe(key))', found \(Self.describe(found))"
            case .duplicateKey(let path, let firstLine):
                "duplicate key '\(Self.describe(path))' (first defined on line \(firstLine))"
            case .tableDefinedTwice(let path, let firstLine):
                "[\(Self.describe(path))] is defined twice (first on line \(firstLine))"
            case .inlineTableExtended(let path, let key):
                "\(Self.describe(path)): '\(Excerpt.quote(key))' is an inline table, which cannot be extended"
            case .keyHoldsValue(let path, let key, let line):
                "\(Self.describe(path)): '\(Excerpt.quote(key))' already holds a value (defined on line \(line))"
            case .notArrayOfTables(let path, let key, let line):
                "[[\(Self.describe(path))]]: '\(Excerpt.quote(key))' is already defined (line \(line)) as something other than an array of tables"
            case .expectedValue(let found): "expected a value, found \(Self.describe(found)) (a string needs quotes)"
            case .datesUnsupported: "dates and times are not supported"
            case .invalidValue(let text):
                "'\(Excerpt.quote(text))' is not a valid value (numbers like 2, -1.5, 1e-3; strings need quotes)"
            case .unterminatedArray: "unterminated array: expected ']'"
            case .expectedArraySeparator(let found): "expected ',' or ']' in the array, found \(Self.describe(found))"
            case .expectedInlineTableSeparator(let found):
                "expected ',' or '}' in the inline table, found \(Self.describe(found)) (inline tables stay on one line)"
            case .unterminatedString(let literal):
                literal ? "unterminated string: expected '" : "unterminated string: expected \""
            case .unterminatedMultilineString: "unterminated multi-line string"
            case .invalidUnicodeEscape:
                "invalid unicode escape (\\u takes 4 hex digits, \\U 8, naming a Unicode scalar)"
            case .invalidEscape: "invalid escape sequence in a string"
            }
        }

        /// The character found, quoted and escaped, or "the end of the file".
        static func describe(_ found: Unicode.Scalar?) -> String {
            found.map { "'\(Excerpt.quote(String($0)))'" } ?? "the end of the file"
        }

        /// A key path, shortened.
        static func describe(_ path: [String]) -> String { Excerpt.quote(path.joined(separator: ".")) }

        /// The control character `c` in `place`, with the escape to write instead.
        static func controlCharacterMessage(_ c: UInt8, in place: String) -> String {
            let code = String(repeating: "0", count: c < 0x10 ? 3 : 2) + String(c, radix: 16, uppercase: true)
            return "control character in \(place) (U+\(code): not allowed in TOML; in a basic string write \\u\(code))"
        }
    }

    /// The line, 1-based.
    public let line: Int
    /// The column, 1-based, counted in UTF-8 bytes.
    public let column: Int
    /// What is wrong.
    public let problem: Problem

    /// What is wrong, without the position.
    public var message: String { problem.message }
    /// `line:column: message`: what follows the file's path in a scenario error.
    public var description: String { "\(line):\(column): \(message)" }
}
