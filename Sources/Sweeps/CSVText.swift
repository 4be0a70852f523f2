/// The CSV of the sweep's tables (RFC 4180): fields with a comma, a quote, a line break or
/// surrounding spaces are quoted, quotes doubled; numbers in the shortest form that reads
/// back to the same double (as every wgf CSV), missing values empty.
enum CSVText {
    /// One field, quoted when it must be.
    static func field(_ s: String) -> String {
        let special =
            s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || s.first == " " || s.last == " "
        return special ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A number, or an empty field for none.
    static func number(_ v: Double?) -> String { v.map { $0.description } ?? "" }

    /// An integer, or an empty field for none.
    static func integer<T: BinaryInteger>(_ v: T?) -> String { v.map { String($0) } ?? "" }

    /// A row of fields (already formatted), ended by "\n".
    static func row(_ fields: [String]) -> String { fields.joined(separator: ",") + "\n" }

    /// The rows of a CSV text, each split into fields (quotes removed); nil for a malformed
    /// quote. Empty lines are skipped; a last line without "\n" is kept.
    static func parse(_ text: String) -> [[String]]? {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var wasQuoted = false
        var chars = Array(text.unicodeScalars)[...]
        func endRow() {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty && !wasQuoted) { rows.append(row) }
            row = []
            field = ""
            wasQuoted = false
        }
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.unicodeScalars.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else { return nil }
                quoted = true
                wasQuoted = true
            case ",":
                row.append(field)
                field = ""
                wasQuoted = false
            case "\n":
                endRow()
            case "\r" where chars.first == "\n":
                break
            default:
                guard !wasQuoted else { return nil }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { return nil }
        if !field.isEmpty || !row.isEmpty || wasQuoted { endRow() }
        return rows
    }
}
