/// Input quoted in an error message, made safe to print: at most a few dozen characters,
/// control characters and invalid UTF-8 escaped.
///
/// Every reader quotes the offending field or token so that the user sees what is wrong, but
/// a file may be anything (`/proc/self/environ` named as a CSV file, a binary, a 1 GB line):
/// echoing it whole would print secrets, flood the terminal, or send escape sequences to it.
public enum Excerpt {
    /// Characters shown before an excerpt is cut with "…".
    public static let limit = 40

    /// `bytes` as printable text: at most `limit` characters (then "…"), `\n`, `\t`, `\r` and
    /// other controls written as escapes, bytes that are not UTF-8 as `\xNN`.
    public static func quote<C: Collection>(bytes: C, limit: Int = Excerpt.limit) -> String where C.Element == UInt8 {
        // Each shown character takes at most 4 bytes: this head is enough to fill the limit
        // and to tell whether anything is left over.
        let head = Array(bytes.prefix(4 * limit + 1))
        return head.withUnsafeBufferPointer { b in
            var out = ""
            var i = 0
            var shown = 0
            while i < b.count && shown < limit {
                if let (s, length) = UTF8Scan.scalar(in: b, at: i) {
                    out += escaped(s)
                    i += length
                } else {
                    out += "\\x" + hex(b[i], width: 2)
                    i += 1
                }
                shown += 1
            }
            return i < b.count ? out + "…" : out
        }
    }

    /// `text` as printable text (see ``quote(bytes:limit:)``).
    public static func quote(_ text: some StringProtocol, limit: Int = Excerpt.limit) -> String {
        quote(bytes: text.utf8, limit: limit)
    }

    /// One scalar, escaped if it is not printable (C0 and C1 controls, DEL, and the bidirectional
    /// overrides that could reorder a terminal line).
    static func escaped(_ s: Unicode.Scalar) -> String {
        switch s {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default:
            if isPrintable(s) { return String(s) }
            return "\\u{" + hex(s.value, width: 4) + "}"
        }
    }

    /// Printable as itself on one terminal line.
    public static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return false }
        if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0xFEFF { return false }
        return true
    }

    /// A byte for a message: `0x0A`.
    public static func byte(_ b: UInt8) -> String { "0x" + hex(b, width: 2) }

    static func hex<T: BinaryInteger>(_ v: T, width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// A window of the one-line `text` around `column` (1-based, in Unicode scalars), at most
    /// `width` characters, for a caret display: cut ends are marked with "…", and characters that
    /// are not printable are shown as one space each so that the caret stays under its column.
    /// Returns the window and the caret's 0-based offset in it.
    public static func window(_ text: String, column: Int, width: Int = 72) -> (text: String, caret: Int) {
        let scalars = Array(text.unicodeScalars)
        let at = max(0, min(column - 1, scalars.count))
        var lo = 0
        var hi = scalars.count
        if hi - lo > width {
            lo = max(0, at - width / 2)
            hi = min(scalars.count, lo + width)
            lo = max(0, hi - width)
        }
        var shown = String.UnicodeScalarView()
        if lo > 0 { shown.append("…") }
        for s in scalars[lo..<hi] { shown.append(isPrintable(s) ? s : " ") }
        if hi < scalars.count { shown.append("…") }
        return (String(shown), at - lo + (lo > 0 ? 1 : 0))
    }
}
