import InputText

/// One `--vary KEY=V1,V2,...` option: a scenario key (a dotted path, as for `--set`) and the
/// values it takes, in order.
///
/// The values are split at the commas that are not inside brackets, braces or quotes, so
/// that array and inline-table values need no escaping: `--vary 'record.metrics=["ksd"],["ksd","mmd"]'`
/// gives two values. Spaces around a value are dropped.
public struct Vary: Sendable, Equatable {
    /// The dotted key, e.g. `flow.step-size` or `expect[1].at-most`.
    public let key: String
    /// The values, each a TOML value or text (as `--set` takes them), at least one, no two equal.
    public let values: [String]

    /// A vary of `key` over `values` (not checked: ``parse(_:)`` checks).
    public init(key: String, values: [String]) {
        self.key = key
        self.values = values
    }

    /// Keys a sweep sets itself, which `--vary` and `--set` may not name.
    public static let reservedKeys: [String: String] = [
        "seed": "the seeds are given by --seeds"
    ]

    /// Reads `KEY=V1,V2,...`.
    ///
    /// - Throws: ``SweepError`` (`.usage`) for a missing `=`, an empty key or value list, an
    ///   empty value, a value given twice, or a reserved key.
    public static func parse(_ text: String) throws(SweepError) -> Vary {
        let shown = Excerpt.quote(text, limit: 120)
        func usage(_ m: String) -> SweepError { SweepError(.usage, "--vary \(shown): \(m)") }
        guard let eq = text.firstIndex(of: "=") else {
            throw usage("expected KEY=V1,V2,..., e.g. flow.step-size=0.1,0.05")
        }
        let key = text[..<eq].trimmingSpaces
        guard !key.isEmpty else { throw usage("the key before '=' is empty") }
        guard !key.contains(where: { $0 == "," || $0 == " " || $0 == "\t" }) else {
            throw usage("'\(Excerpt.quote(key))' is not a key (a dotted path such as flow.step-size)")
        }
        if let why = reservedKeys[key] { throw usage("'\(key)' cannot be varied: \(why)") }
        let list = text[text.index(after: eq)...]
        guard !list.trimmingSpaces.isEmpty else { throw usage("no values after '=' (expected V1,V2,...)") }
        let values = splitTopLevel(list).map(\.trimmingSpaces)
        if let k = values.firstIndex(where: \.isEmpty) {
            throw usage("value \(k + 1) is empty (values are separated by single commas)")
        }
        var seen: Set<String> = []
        for v in values where !seen.insert(v).inserted {
            throw usage("the value '\(Excerpt.quote(v))' is given twice")
        }
        return Vary(key: key, values: values)
    }

    /// `list` split at commas outside `[]`, `{}` and quotes.
    static func splitTopLevel(_ list: Substring) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var quote: Character? = nil
        var escaped = false
        var start = list.startIndex
        for i in list.indices {
            let c = list[i]
            if let q = quote {
                if escaped {
                    escaped = false
                } else if c == "\\" && q == "\"" {
                    escaped = true
                } else if c == q {
                    quote = nil
                }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "[", "{": depth += 1
            case "]", "}": depth = max(0, depth - 1)
            case "," where depth == 0:
                parts.append(list[start..<i])
                start = list.index(after: i)
            default: break
            }
        }
        parts.append(list[start...])
        return parts
    }

    /// Checks the options together: no key varied twice, and none both varied and `--set`.
    ///
    /// - Throws: ``SweepError`` (`.usage`) naming the key.
    public static func checkTogether(_ varies: [Vary], sets: [String]) throws(SweepError) {
        var keys: Set<String> = []
        for v in varies where !keys.insert(v.key).inserted {
            throw SweepError(.usage, "--vary \(v.key): the key is varied twice (give one --vary with all its values)")
        }
        for s in sets {
            guard let eq = s.firstIndex(of: "=") else { continue }
            let key = s[..<eq].trimmingSpaces
            if let why = reservedKeys[key] {
                throw SweepError(
                    .usage, "--set \(Excerpt.quote(s, limit: 120)): '\(key)' cannot be set in a sweep: \(why)")
            }
            if keys.contains(key) {
                throw SweepError(
                    .usage, "--set \(Excerpt.quote(s, limit: 120)): \(key) is also varied (--vary); give it once")
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
