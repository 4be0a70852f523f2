import TestSupport

/// Seeded mutations of text inputs: byte edits, tokens the readers treat specially, deep
/// nesting, long runs, line-level edits, encodings (BOM, CRLF, invalid UTF-8, NUL).
struct Mutator {
    /// Tokens worth inserting: syntax of TOML, CSV and formulas, and awkward values.
    var dictionary: [String]
    /// The most mutations stacked on one input.
    var maxStack = 6

    static let common = [
        "\n", "\r\n", "\r", "\t", " ", ",", "\"", "'", "\\", "#", "=", ".", "-", "+", "e", "E",
        "nan", "inf", "-inf", "-0", "0", "1e309", "1e-320", "0x1p3", "\u{0}", "\u{7F}", "\u{1B}[2J",
        "é", "\u{202E}", "\u{FEFF}", "\u{FFFF}", "𝄞",
    ]
    static let toml = [
        "[", "]", "[[", "]]", "{", "}", "{ a = 1 }", "[1, 2]", "\"\"\"", "'''", "\\u0000", "\\U0010FFFF",
        "\\uD800", "true", "false", "a.b.c", "[x]\n", "[[expect]]\n", "kind = \"formula\"\n",
        "file = \"/proc/self/environ\"\n", "file = \"/dev/zero\"\n", "file = \".\"\n", "1979-05-27",
        "0o7", "0b1", "0xff", "1_0", "+1.5", "_", "= = =",
    ]
    static let formula = [
        "(", ")", "^", "*", "/", "-", "--", "x", "x1", "x2", "x0", "x9", "y", "y1", "r", "s", "pi", "e",
        "exp(", "log(", "sqrt(", "min(", "max(", "norm(", "norm2(", "dot(", "dot(x, x)", "abs(",
        "sigmoid(", "softplus(", "tanh(", "**", "2e", ".5", "1e300", "0^0", "1/0", ",", "()", "x^-1",
    ]
    /// .npy header tokens and the bytes around them.
    static let npy = [
        "\u{93}NUMPY", "\u{1}\u{0}", "\u{2}\u{0}", "\u{3}\u{0}", "'descr'", "'<f8'", "'>f4'", "'|u1'", "'<i2'",
        "'<c16'", "'fortran_order'", "True", "False", "'shape'", "()", "(0,)", "(3, 2)", "(99999999999, 99999999999)",
        "(9223372036854775807,)", "[('a', '<f8')]", "3L", ": ", ", ", "{", "}",
    ]
    static let csv = [
        "x1", "x2", "w", "step", "time", "wall", "population", "particle", "weight", "v1", ",,", "1e400",
        "0x10", "  ", "\"1\"", "+", "1.5.5", "NaN", "Infinity",
    ]

    /// Up to `maxStack` mutations of `input`.
    func mutate(_ input: [UInt8], using g: inout TestRNG) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...maxStack, using: &g) { b = mutateOnce(b, using: &g) }
        return b
    }

    func mutateOnce(_ b: [UInt8], using g: inout TestRNG) -> [UInt8] {
        var b = b
        let at = b.isEmpty ? 0 : Int.random(in: 0...b.count, using: &g)
        func range() -> Range<Int> {
            guard !b.isEmpty else { return 0..<0 }
            let lo = Int.random(in: 0..<b.count, using: &g)
            return lo..<min(b.count, lo + Int.random(in: 1...64, using: &g))
        }
        switch Int.random(in: 0..<14, using: &g) {
        case 0:  // flip a bit
            if !b.isEmpty {
                b[Int.random(in: 0..<b.count, using: &g)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &g)
            }
        case 1:  // any byte
            b.insert(UInt8.random(in: 0...255, using: &g), at: at)
        case 2:  // delete a range
            b.removeSubrange(range())
        case 3:  // duplicate a range
            let r = range()
            b.insert(contentsOf: Array(b[r]), at: at)
        case 4, 5:  // a token
            b.insert(contentsOf: Array(dictionary.randomElement(using: &g)!.utf8), at: at)
        case 6:  // replace a number-like run with a token
            if let r = numberRun(in: b, near: at) {
                b.replaceSubrange(r, with: Array(dictionary.randomElement(using: &g)!.utf8))
            }
        case 7:  // deep nesting: opening (and maybe closing) brackets of one kind
            let pairs: [(String, String)] = [
                ("[", "]"), ("{a=", "}"), ("(", ")"), ("-", ""), ("exp(", ")"), ("x1^", ""),
            ]
            let (open, close) = pairs.randomElement(using: &g)!
            let depth = [10, 63, 64, 65, 99, 100, 101, 300, 5000, 50_000].randomElement(using: &g)!
            let middle =
                Array(String(repeating: open, count: depth).utf8) + Array("1".utf8)
                + Array(String(repeating: close, count: depth).utf8)
            b.insert(contentsOf: middle, at: at)
        case 8:  // a long run
            let unit = Array(
                (dictionary.randomElement(using: &g)! + ["+x1", "a", ",1", "."].randomElement(using: &g)!).utf8)
            b.insert(
                contentsOf: Array([[UInt8]](repeating: unit, count: Int.random(in: 100...3000, using: &g)).joined()),
                at: at)
        case 9:  // duplicate or drop a line
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            guard !lines.isEmpty else { break }
            let k = Int.random(in: 0..<lines.count, using: &g)
            if Bool.random(using: &g) {
                lines.insert(lines[k], at: Int.random(in: 0...lines.count, using: &g))
            } else {
                lines.remove(at: k)
            }
            b = Array(lines.joined(separator: [0x0A]))
        case 10:  // swap two lines
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            guard lines.count > 1 else { break }
            lines.swapAt(Int.random(in: 0..<lines.count, using: &g), Int.random(in: 0..<lines.count, using: &g))
            b = Array(lines.joined(separator: [0x0A]))
        case 11:  // encodings
            switch Int.random(in: 0..<4, using: &g) {
            case 0: b = [0xEF, 0xBB, 0xBF] + b
            case 1:
                b = Array(b.split(separator: 0x0A, omittingEmptySubsequences: false).joined(separator: [0x0D, 0x0A]))
            case 2:
                b.insert(
                    contentsOf: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]
                        .randomElement(using: &g)!, at: at)
            default: b.insert(0, at: at)
            }
        case 12:  // truncate (a file cut short)
            b.removeSubrange(at..<b.count)
        default:  // a common token
            b.insert(contentsOf: Array(Mutator.common.randomElement(using: &g)!.utf8), at: at)
        }
        return b
    }

    /// The run of digits (and signs, dots, exponents) around `at`, if there is one.
    func numberRun(in b: [UInt8], near at: Int) -> Range<Int>? {
        func isNumeric(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D || c == 0x2B || c == 0x65
        }
        guard let start = b[min(at, b.count)...].firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var lo = start
        var hi = start
        while lo > 0 && isNumeric(b[lo - 1]) { lo -= 1 }
        while hi < b.count && isNumeric(b[hi]) { hi += 1 }
        return lo..<hi
    }
}

/// Whether a scenario asks for sizes that another part of the validation refuses (or should):
/// integer literals above `limit` (reals, with a dot or an exponent, are not sizes). Those inputs are skipped here; they belong to the size checks, not
/// to the readers under test.
func asksForLargeSizes(_ bytes: [UInt8], limit: Int = 100_000) -> Bool {
    var token: [UInt8] = []
    func check() -> Bool {
        defer { token.removeAll(keepingCapacity: true) }
        var t = String(decoding: token.filter { $0 != 0x5F }, as: UTF8.self)
        if t.hasPrefix("+") || t.hasPrefix("-") { t.removeFirst() }
        let digits: Substring
        let radix: Int
        if t.hasPrefix("0x") {
            digits = t.dropFirst(2)
            radix = 16
        } else if t.hasPrefix("0o") {
            digits = t.dropFirst(2)
            radix = 8
        } else if t.hasPrefix("0b") {
            digits = t.dropFirst(2)
            radix = 2
        } else {
            digits = Substring(t)
            radix = 10
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && Int(String($0), radix: radix) != nil }) else {
            return false
        }
        guard let v = Int(digits, radix: radix) else { return true }  // beyond Int
        return v > limit
    }
    for c in bytes {
        let isTokenByte =
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2B
            || c == 0x2D || c == 0x2E
        if isTokenByte { token.append(c) } else if !token.isEmpty, check() { return true }
    }
    return !token.isEmpty && check()
}
