import Flows
import Foundation
import InputText
import KernelSum
import Recording

/// The scenario file being read: its path (for messages and relative paths).
final class ScenarioSource {
    let path: String
    let directory: String
    /// Keys set with `--set`, by dotted path, with the text given.
    var overrides: [String: String] = [:]
    /// The `[parameters]` of the scenario's formulas, and their watches.
    let formulaScope = FormulaScope()
    /// The parts whose state a checkpoint saves, in the order they were built.
    let parts = PartRegistry()
    /// What the run will need in memory, against what the machine allows.
    let memory: MemoryEstimate

    init(path: String, memoryLimit: MemoryLimit = .unlimited) {
        self.path = path
        memory = MemoryEstimate(limit: memoryLimit)
        directory = (path as NSString).deletingLastPathComponent
    }

    /// Whether the value at this dotted key path came from `--set` (the key, or a table holding it).
    func isOverridden(_ keyPath: String) -> Bool {
        var prefix = keyPath
        while true {
            if overrides[prefix] != nil { return true }
            guard let dot = prefix.lastIndex(of: ".") else { return false }
            prefix = String(prefix[..<dot])
        }
    }

    /// A path in the scenario made absolute: relative to the scenario file's directory, or to
    /// the current directory for a path given on the command line (`--set target.file=…`, as
    /// the shell completed it).
    func resolvePath(_ p: String, fromCommandLine: Bool = false) -> String {
        if p.hasPrefix("/") { return p }
        let base = directory.isEmpty || fromCommandLine ? FileManager.default.currentDirectoryPath : directory
        let joined = (base as NSString).appendingPathComponent(p)
        let absolute =
            joined.hasPrefix("/")
            ? joined : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(joined)
        return (absolute as NSString).standardizingPath
    }
}

/// A table of the scenario read strictly: every key must be used by some reader (else
/// "unknown key"), every error names file, line and key path, and the values in force
/// (defaults included) are collected for the resolved scenario.
final class ScenarioTable: Settings {
    let source: ScenarioSource
    let table: TOMLTable
    /// Dotted path of this table (`population.init`, `expect[2]`); empty for the root.
    let path: String
    var resolved: [(String, Resolved)] = []
    enum Resolved {
        case value(SettingValue)
        case table(ScenarioTable)
        case tables([ScenarioTable])
    }

    init(source: ScenarioSource, table: TOMLTable, path: String) {
        self.source = source
        self.table = table
        self.path = path
    }

    var formulaScope: FormulaScope { source.formulaScope }
    var memory: MemoryEstimate { source.memory }

    func register(_ part: any StatefulPart, as key: String) { source.parts.add(part, key: keyPath(key)) }

    func keyPath(_ key: String) -> String { key.isEmpty ? path : path.isEmpty ? key : "\(path).\(key)" }

    /// `file:line` for a key, or `--set KEY=VALUE` for an override.
    func location(_ key: String) -> String {
        let full = keyPath(key)
        if let text = source.overrides[full] { return ScenarioError.shown(text) }
        return "\(source.path):\(table.lines[key] ?? table.line)"
    }

    func raw(_ key: String) -> SettingValue? {
        switch table.entries[key] {
        case .value(let v)?: return v
        case .table(let t)?: return t.value
        case .tables(let ts)?: return .array(ts.map(\.value))
        case nil: return nil
        }
    }

    func resolve(_ key: String, _ value: SettingValue) { put(key, .value(value)) }

    func put(_ key: String, _ r: Resolved) {
        if let i = resolved.firstIndex(where: { $0.0 == key }) { resolved[i].1 = r } else { resolved.append((key, r)) }
    }

    func fail(_ key: String, _ problem: SettingsProblem) -> SettingsError {
        // A required key that is missing because it was misspelt: report the misspelling.
        if case .missing = problem, table.entries[key] == nil,
            let typo = table.keys.first(where: { k in !resolved.contains { $0.0 == k } && isNear(k, key) })
        {
            return SettingsError(
                location: location(typo), key: keyPath(typo), message: "unknown key (did you mean '\(key)'?)")
        }
        return SettingsError(location: location(key), key: keyPath(key), problem: problem)
    }

    /// Close enough to be a misspelling.
    func isNear(_ a: String, _ b: String) -> Bool {
        let limit = max(2, b.count / 3)
        // The distance is at least the difference in length: a long key is not compared at all.
        return abs(a.count - b.count) <= limit && editDistance(a, b) <= limit
    }

    func optionalTable(_ key: String) throws -> Settings? {
        switch table.entries[key] {
        case nil: return nil
        case .table(let t)?:
            let child = ScenarioTable(source: source, table: t, path: keyPath(key))
            put(key, .table(child))
            return child
        case .value(let v)?: throw fail(key, "expected a table, found \(v.found)")
        case .tables?: throw fail(key, "expected a single table, found an array of tables")
        }
    }

    /// The array of tables at `key` (`[[key]]`), empty when absent.
    func tables(_ key: String) throws -> [ScenarioTable] {
        switch table.entries[key] {
        case nil: return []
        case .value(.array([]))?:
            put(key, .value(.array([])))
            return []
        case .tables(let ts)?:
            return tableArray(key, ts)
        case .value(.array(let items))?
        where items.allSatisfy({ if case .table = $0 { return true } else { return false } }):
            // `key = [{ ... }, { ... }]`: the same as [[key]] tables.
            let line = table.lines[key] ?? table.line
            return tableArray(key, items.map { TOMLTable(value: $0, line: line) })
        case .table?: throw fail(key, "expected an array of tables ([[\(keyPath(key))]]), found a single table")
        case .value(let v)?: throw fail(key, "expected an array of tables ([[\(keyPath(key))]]), found \(v.found)")
        }
    }

    func optionalTables(_ key: String) throws -> [Settings]? {
        table.entries[key] == nil ? nil : try tables(key)
    }

    func tableArray(_ key: String, _ ts: [TOMLTable]) -> [ScenarioTable] {
        let children = ts.enumerated().map {
            ScenarioTable(source: source, table: $1, path: "\(keyPath(key))[\($0 + 1)]")
        }
        put(key, .tables(children))
        return children
    }

    func points(_ key: String) throws -> (dimension: Int, values: [Double]) {
        guard let raw = raw(key) else { throw missing(key, "required: the path of a CSV file with header x1,...,xd") }
        guard case .string(let name) = raw else {
            throw fail(key, "expected a file path (a string), found \(raw.found)")
        }
        let file = source.resolvePath(name, fromCommandLine: source.isOverridden(keyPath(key)))
        do {
            let p = try readPoints(path: file)
            resolve(key, .string(file))
            return (p.dimension, p.points)
        } catch let e as InputFileError {
            // The path is the scenario's string: shortened like any quoted input.
            throw fail(key, e.located(as: Excerpt.quote(e.path, limit: 200)))
        }
    }

    /// Throws for the first key that no reader used, with the keys allowed here and a suggestion.
    func rejectUnknownKeys() throws {
        let used = Set(resolved.map(\.0))
        for key in table.keys where !used.contains(key) {
            let allowed = resolved.map(\.0)
            var message = "unknown key"
            if let guess = allowed.filter({ isNear(key, $0) }).min(by: { editDistance($0, key) < editDistance($1, key) }
            ) {
                message += " (did you mean '\(guess)'?)"
            }
            message +=
                allowed.isEmpty ? " (this table takes no keys)" : " (allowed here: \(allowed.joined(separator: ", ")))"
            throw fail(key, message)
        }
        for (_, r) in resolved {
            switch r {
            case .table(let t): try t.rejectUnknownKeys()
            case .tables(let ts): for t in ts { try t.rejectUnknownKeys() }
            case .value: break
            }
        }
    }

    /// The values in force, in reading order.
    var resolvedValue: SettingValue {
        .table(
            resolved.map { key, r in
                switch r {
                case .value(let v): return (key, v)
                case .table(let t): return (key, t.resolvedValue)
                case .tables(let ts): return (key, .array(ts.map(\.resolvedValue)))
                }
            })
    }
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var prev = row[0]
        row[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            let t = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = t
        }
    }
    return row[b.count]
}
