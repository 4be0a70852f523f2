import Flows

/// Writes a table of values as TOML: scalars and arrays first, then sub-tables as
/// `[a.b]` sections and arrays of tables as `[[a]]`. Reals keep a decimal point or exponent,
/// so they read back as reals.
public enum TOMLWriter {
    /// The document for `value` (a table; anything else gives ""), after `header` (comment lines).
    public static func write(_ value: SettingValue, header: String = "") -> String {
        guard case .table(let entries) = value else { return "" }
        var out = header
        section(entries, path: [], into: &out)
        return out
    }

    static func isTableArray(_ v: SettingValue) -> Bool {
        if case .array(let items) = v, !items.isEmpty,
            items.allSatisfy({ if case .table = $0 { return true } else { return false } })
        {
            return true
        }
        return false
    }

    static func section(_ entries: [(String, SettingValue)], path: [String], into out: inout String) {
        for (k, v) in entries {
            if case .table = v { continue }
            if isTableArray(v) { continue }
            out += "\(key(k)) = \(inline(v))\n"
        }
        for (k, v) in entries {
            if case .table(let sub) = v {
                let p = path + [k]
                out += "\n[\(p.map(key).joined(separator: "."))]\n"
                section(sub, path: p, into: &out)
            } else if isTableArray(v), case .array(let items) = v {
                let p = path + [k]
                for case .table(let sub) in items {
                    out += "\n[[\(p.map(key).joined(separator: "."))]]\n"
                    section(sub, path: p, into: &out)
                }
            }
        }
    }

    static func key(_ k: String) -> String {
        !k.isEmpty && k.utf8.allSatisfy(TOMLParser.isBare) ? k : quote(k)
    }

    static func quote(_ s: String) -> String {
        var r = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            case "\r": r += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    let hex = String(c.value, radix: 16)
                    r += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    r.unicodeScalars.append(c)
                }
            }
        }
        return r + "\""
    }

    /// One value as TOML on one line: arrays as `[a, b]`, tables as inline `{ k = v }`.
    public static func inline(_ v: SettingValue) -> String {
        switch v {
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .real(let r):
            if r.isNaN { return "nan" }
            if r.isInfinite { return r > 0 ? "inf" : "-inf" }
            return "\(r)"
        case .string(let s): return quote(s)
        case .array(let items): return "[" + items.map(inline).joined(separator: ", ") + "]"
        case .table(let entries):
            return "{ " + entries.map { "\(key($0.0)) = \(inline($0.1))" }.joined(separator: ", ") + " }"
        }
    }
}
