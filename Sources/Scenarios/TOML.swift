import Flows
import InputText

/// A TOML document as parsed: mutable tables that remember where each key was written, so
/// every later error can name its line. Covers TOML 1.0 except dates and times (rejected
/// with a clear message: no scenario key takes one).
public final class TOMLTable {
    enum Entry {
        case value(SettingValue)
        case table(TOMLTable)
        case tables([TOMLTable])
    }
    var keys: [String] = []
    var entries: [String: Entry] = [:]
    var lines: [String: Int] = [:]
    /// Where the table was opened (its header, or the key that created it).
    var line: Int
    /// Defined by a header or inline; implicit tables (from `[a.b]` or `a.b = 1`) may be defined later.
    var explicit: Bool
    var inline = false

    init(line: Int, explicit: Bool) {
        self.line = line
        self.explicit = explicit
    }

    func set(_ key: String, _ entry: Entry, line: Int) {
        if entries[key] == nil { keys.append(key) }
        entries[key] = entry
        lines[key] = line
    }

    /// A table built from a plain value (an inline table given with `--set`, or an element of
    /// an array of inline tables); every key gets `line`.
    convenience init(value: SettingValue, line: Int) {
        self.init(line: line, explicit: true)
        inline = true
        if case .table(let entries) = value {
            for (k, v) in entries { set(k, TOMLTable.entry(for: v, line: line), line: line) }
        }
    }

    static func entry(for value: SettingValue, line: Int) -> Entry {
        if case .table = value { return .table(TOMLTable(value: value, line: line)) }
        return .value(value)
    }

    /// The table as a plain value (sub-tables and arrays of tables included).
    var value: SettingValue {
        .table(
            keys.map { key in
                switch entries[key]! {
                case .value(let v): return (key, v)
                case .table(let t): return (key, t.value)
                case .tables(let ts): return (key, .array(ts.map(\.value)))
                }
            })
    }
}

/// A recursive-descent TOML parser over UTF-8 bytes.
public struct TOMLParser {
    /// The deepest nesting accepted: each array, inline table, dotted-key segment and header
    /// segment opens a level. Parsing recurses once per level (and so do the readers and the
    /// writer of the values), so the bound keeps hostile input (50 000 `[`) from overflowing
    /// the stack; no scenario needs more than a few levels.
    public static let maxNesting = 64

    let bytes: [UInt8]
    var pos = 0
    var line = 1
    var lineStart = 0
    /// Levels open around the value being parsed (see `maxNesting`).
    var nesting = 0

    /// Parses a document given as text.
    ///
    /// - Throws: ``TOMLSyntaxError`` at the first error.
    public static func parse(_ text: String) throws -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses a document given as bytes: they must be UTF-8 (a leading byte-order mark is
    /// skipped); the first byte that is not is a located error.
    public static func parse(bytes: [UInt8]) throws -> TOMLTable {
        var p = TOMLParser(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            p.pos = 3
            p.lineStart = 3
        }
        if let bad = UTF8Scan.firstInvalid(in: bytes) {
            while p.pos < bad { p.advance() }
            throw p.error(.notUTF8(byte: bytes[bad]))
        }
        return try p.document()
    }

    /// Parses a lone value (for `--set KEY=VALUE`).
    public static func parseValue(_ text: String) throws -> SettingValue {
        var p = TOMLParser(bytes: Array(text.utf8))
        p.skipSpaces()
        let v = try p.value()
        p.skipSpaces()
        guard p.atEnd else { throw p.error(.textAfterValue) }
        return v
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }
    var peek: UInt8 { pos < bytes.count ? bytes[pos] : 0 }
    func peek(_ k: Int) -> UInt8 { pos + k < bytes.count ? bytes[pos + k] : 0 }

    /// An error at the current position.
    func error(_ problem: TOMLSyntaxError.Problem) -> TOMLSyntaxError {
        TOMLSyntaxError(line: line, column: pos - lineStart + 1, problem: problem)
    }

    /// What is at the current position, for messages: one character (U+FFFD for a byte that
    /// is not UTF-8), or nil at the end.
    var found: Unicode.Scalar? {
        if atEnd { return nil }
        return bytes.withUnsafeBufferPointer { UTF8Scan.scalar(in: $0, at: pos)?.0 } ?? "\u{FFFD}"
    }

    /// Opens `levels` nesting levels (see `maxNesting`) for what starts at byte `start` of
    /// the current line; the caller restores `nesting`.
    mutating func deepen(_ levels: Int, at start: Int) throws {
        nesting += levels
        guard nesting <= TOMLParser.maxNesting else {
            pos = start
            throw error(.tooDeep(limit: TOMLParser.maxNesting))
        }
    }

    /// Control characters other than tab are not allowed in TOML strings and comments.
    func isControl(_ c: UInt8) -> Bool { (c < 0x20 && c != 0x09) || c == 0x7F }

    mutating func advance() {
        if peek == UInt8(ascii: "\n") {
            line += 1
            lineStart = pos + 1
        }
        pos += 1
    }

    mutating func skipSpaces() { while peek == 0x20 || peek == 0x09 { pos += 1 } }

    mutating func skipComment() throws {
        guard peek == UInt8(ascii: "#") else { return }
        while !atEnd && peek != UInt8(ascii: "\n") {
            if isControl(peek) && !(peek == 0x0D && peek(1) == 0x0A) {
                throw error(.controlCharacter(peek, inComment: true))
            }
            pos += 1
        }
    }

    /// Spaces, comments and newlines (inside arrays, and between lines).
    mutating func skipBlank() throws {
        while true {
            skipSpaces()
            try skipComment()
            if peek == 0x0D && peek(1) == 0x0A { pos += 1 }
            if peek == UInt8(ascii: "\n") { advance() } else { return }
        }
    }

    mutating func endOfLine() throws {
        skipSpaces()
        try skipComment()
        if peek == 0x0D && peek(1) == 0x0A { pos += 1 }
        if atEnd { return }
        guard peek == UInt8(ascii: "\n") else { throw error(.expectedEndOfLine(found: found)) }
        advance()
    }

    mutating func document() throws -> TOMLTable {
        let root = TOMLTable(line: 1, explicit: true)
        var current = root
        while true {
            try skipBlank()
            if atEnd { return root }
            if peek == UInt8(ascii: "[") {
                let headerLine = line
                let headerStart = pos
                let isArray = peek(1) == UInt8(ascii: "[")
                pos += isArray ? 2 : 1
                skipSpaces()
                let path = try key()
                nesting = 0
                try deepen(path.count, at: headerStart)
                skipSpaces()
                guard peek == UInt8(ascii: "]"), !isArray || peek(1) == UInt8(ascii: "]") else {
                    throw error(.expectedHeaderEnd(arrayOfTables: isArray))
                }
                pos += isArray ? 2 : 1
                current = try openHeader(root, path, isArray: isArray, line: headerLine)
                try endOfLine()
            } else {
                try keyValue(into: current)
                try endOfLine()
            }
        }
    }

    /// Walks `path` from `table`, creating implicit tables; arrays of tables lead to their last element.
    func descend(_ table: TOMLTable, _ path: ArraySlice<String>, line: Int, full: [String]) throws -> TOMLTable {
        var t = table
        for k in path {
            switch t.entries[k] {
            case nil:
                let child = TOMLTable(line: line, explicit: false)
                t.set(k, .table(child), line: line)
                t = child
            case .table(let child)?:
                if child.inline { throw error(.inlineTableExtended(path: full, key: k)) }
                t = child
            case .tables(let ts)?:
                t = ts[ts.count - 1]
            case .value?:
                throw error(.keyHoldsValue(path: full, key: k, line: t.lines[k]!))
            }
        }
        return t
    }

    func openHeader(_ root: TOMLTable, _ path: [String], isArray: Bool, line: Int) throws -> TOMLTable {
        let parent = try descend(root, path.dropLast(), line: line, full: path)
        let last = path[path.count - 1]
        if isArray {
            let t = TOMLTable(line: line, explicit: true)
            switch parent.entries[last] {
            case nil: parent.set(last, .tables([t]), line: line)
            case .tables(let ts)?: parent.entries[last] = .tables(ts + [t])
            default: throw error(.notArrayOfTables(path: path, key: last, line: parent.lines[last]!))
            }
            return t
        }
        switch parent.entries[last] {
        case nil:
            let t = TOMLTable(line: line, explicit: true)
            parent.set(last, .table(t), line: line)
            return t
        case .table(let t)? where !t.explicit && !t.inline:
            t.explicit = true
            t.line = line
            parent.lines[last] = line
            return t
        default:
            throw error(.tableDefinedTwice(path, firstLine: parent.lines[last]!))
        }
    }

    mutating func keyValue(into table: TOMLTable) throws {
        let keyLine = line
        let keyStart = pos
        let keyColumn = pos - lineStart + 1
        let path = try key()
        let outer = nesting
        defer { nesting = outer }
        try deepen(path.count - 1, at: keyStart)
        skipSpaces()
        guard peek == UInt8(ascii: "=") else { throw error(.expectedEquals(key: path, found: found)) }
        pos += 1
        skipSpaces()
        let v = try valueEntry()
        let parent = try descend(table, path.dropLast(), line: keyLine, full: path)
        let last = path[path.count - 1]
        if parent.entries[last] != nil {
            throw TOMLSyntaxError(
                line: keyLine, column: keyColumn, problem: .duplicateKey(path, firstLine: parent.lines[last]!))
        }
        parent.set(last, v, line: keyLine)
    }

    /// A dotted key: simple keys separated by dots.
    mutating func key() throws -> [String] {
        var parts = [try simpleKey()]
        while true {
            skipSpaces()
            guard peek == UInt8(ascii: ".") else { return parts }
            pos += 1
            skipSpaces()
            parts.append(try simpleKey())
        }
    }

    static func isBare(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    mutating func simpleKey() throws -> String {
        if peek == UInt8(ascii: "\"") { return try basicString() }
        if peek == UInt8(ascii: "'") { return try literalString() }
        let start = pos
        while TOMLParser.isBare(peek) { pos += 1 }
        guard pos > start else {
            throw error(.expectedKey(found: found))
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    /// A value, or an inline table kept as a table (so that keys inside it keep their lines).
    mutating func valueEntry() throws -> TOMLTable.Entry {
        if peek == UInt8(ascii: "{") { return .table(try inlineTable()) }
        return .value(try value())
    }

    mutating func value() throws -> SettingValue {
        switch peek {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"") {
                return .string(try multilineString(literal: false))
            }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'") && peek(2) == UInt8(ascii: "'") {
                return .string(try multilineString(literal: true))
            }
            return .string(try literalString())
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "{"): return try inlineTable().value
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if match("true") { return .bool(true) }
            if match("false") { return .bool(false) }
            throw error(.expectedValue(found: found))
        default:
            return try number()
        }
    }

    mutating func match(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w,
            !TOMLParser.isBare(peek(w.count))
        else { return false }
        pos += w.count
        return true
    }

    mutating func number() throws -> SettingValue {
        let start = pos
        while !atEnd,
            TOMLParser.isBare(peek) || peek == UInt8(ascii: "+") || peek == UInt8(ascii: ".")
                || peek == UInt8(ascii: ":")
        { pos += 1 }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard !text.isEmpty else { throw error(.expectedValue(found: found)) }
        if text.contains(":") || (text.count >= 10 && text.dropFirst(4).first == "-" && text.first!.isNumber) {
            pos = start
            throw error(.datesUnsupported)
        }
        switch text {
        case "inf", "+inf": return .real(.infinity)
        case "-inf": return .real(-.infinity)
        case "nan", "+nan", "-nan": return .real(.nan)
        default: break
        }
        func fail() -> TOMLSyntaxError {
            pos = start
            return error(.invalidValue(text))
        }
        // Underscores only between digits.
        let u = Array(text.utf8)
        for (i, c) in u.enumerated() where c == UInt8(ascii: "_") {
            guard i > 0, i < u.count - 1, isHexDigit(u[i - 1]), isHexDigit(u[i + 1]) else { throw fail() }
        }
        let clean = text.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where clean.hasPrefix(prefix) {
            guard let v = Int(clean.dropFirst(2), radix: radix) else { throw fail() }
            return .integer(v)
        }
        let unsigned = clean.first == "+" || clean.first == "-" ? String(clean.dropFirst()) : clean
        guard let f = unsigned.first, f.isNumber else { throw fail() }
        if unsigned.count > 1 && f == "0" && unsigned.dropFirst().first!.isNumber { throw fail() }  // no leading zeros
        if !clean.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            guard let v = Int(clean) else { throw fail() }
            return .integer(v)
        }
        // A dot must have digits on both sides.
        if let dot = u.firstIndex(of: UInt8(ascii: ".")) {
            guard dot > 0, dot + 1 < u.count, u[dot - 1] >= 0x30 && u[dot - 1] <= 0x39,
                u[dot + 1] >= 0x30 && u[dot + 1] <= 0x39
            else { throw fail() }
        }
        guard let v = Double(clean) else { throw fail() }
        return .real(v)
    }

    func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    mutating func array() throws -> SettingValue {
        try deepen(1, at: pos)
        defer { nesting -= 1 }
        pos += 1
        var items: [SettingValue] = []
        while true {
            try skipBlank()
            if peek == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            if atEnd { throw error(.unterminatedArray) }
            items.append(try value())
            try skipBlank()
            if peek == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if peek == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            throw error(.expectedArraySeparator(found: found))
        }
    }

    mutating func inlineTable() throws -> TOMLTable {
        try deepen(1, at: pos)
        defer { nesting -= 1 }
        let t = TOMLTable(line: line, explicit: true)
        pos += 1
        skipSpaces()
        if peek == UInt8(ascii: "}") {
            pos += 1
            t.inline = true
            return t
        }
        while true {
            skipSpaces()
            try keyValue(into: t)
            skipSpaces()
            if peek == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if peek == UInt8(ascii: "}") {
                pos += 1
                break
            }
            throw error(.expectedInlineTableSeparator(found: found))
        }
        func seal(_ t: TOMLTable) {
            t.inline = true
            for case .table(let c) in t.entries.values { seal(c) }
        }
        seal(t)
        return t
    }

    mutating func literalString() throws -> String {
        pos += 1
        let start = pos
        while peek != UInt8(ascii: "'") {
            if atEnd || peek == UInt8(ascii: "\n") { throw error(.unterminatedString(literal: true)) }
            if isControl(peek) { throw error(.controlCharacter(peek, inComment: false)) }
            pos += 1
        }
        let s = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return s
    }

    mutating func basicString() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while peek != UInt8(ascii: "\"") {
            if atEnd || peek == UInt8(ascii: "\n") { throw error(.unterminatedString(literal: false)) }
            if isControl(peek) { throw error(.controlCharacter(peek, inComment: false)) }
            if peek == UInt8(ascii: "\\") {
                out += try escape()
            } else {
                out.append(peek)
                pos += 1
            }
        }
        pos += 1
        return String(decoding: out, as: UTF8.self)
    }

    mutating func escape() throws -> [UInt8] {
        pos += 1
        let c = peek
        pos += 1
        switch c {
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "b"): return [0x08]
        case UInt8(ascii: "f"): return [0x0C]
        case UInt8(ascii: "\""): return [0x22]
        case UInt8(ascii: "\\"): return [0x5C]
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = c == UInt8(ascii: "u") ? 4 : 8
            guard pos + n <= bytes.count, bytes[pos..<(pos + n)].allSatisfy(isHexDigit),
                let code = UInt32(String(decoding: bytes[pos..<(pos + n)], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else {
                throw error(.invalidUnicodeEscape)
            }
            pos += n
            return Array(String(Character(scalar)).utf8)
        default:
            pos -= 1
            throw error(.invalidEscape)
        }
    }

    mutating func multilineString(literal: Bool) throws -> String {
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        pos += 3
        if peek == 0x0D && peek(1) == 0x0A { pos += 1 }
        if peek == UInt8(ascii: "\n") { advance() }
        var out: [UInt8] = []
        while true {
            if atEnd { throw error(.unterminatedMultilineString) }
            if peek == quote && peek(1) == quote && peek(2) == quote {
                var extra = 0
                while peek(3 + extra) == quote && extra < 2 { extra += 1 }
                out += [UInt8](repeating: quote, count: extra)
                pos += 3 + extra
                return String(decoding: out, as: UTF8.self)
            }
            if !literal && peek == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and the following whitespace.
                var k = pos + 1
                while k < bytes.count && (bytes[k] == 0x20 || bytes[k] == 0x09) { k += 1 }
                if k < bytes.count && (bytes[k] == 0x0A || bytes[k] == 0x0D) {
                    pos = k
                    while peek == 0x20 || peek == 0x09 || peek == 0x0A || peek == 0x0D { advance() }
                    continue
                }
                out += try escape()
                continue
            }
            if isControl(peek) && peek != 0x0A && !(peek == 0x0D && peek(1) == 0x0A) {
                throw error(.controlCharacter(peek, inComment: false))
            }
            out.append(peek)
            advance()
        }
    }
}
