import InputText
import KernelSum

/// A scenario value, independent of the file format it came from.
public indirect enum SettingValue: Equatable, Sendable {
    /// `true` or `false`.
    case bool(Bool)
    /// An integer (readers of reals accept it too).
    case integer(Int)
    /// A floating-point number (nan and ±inf included).
    case real(Double)
    /// A string.
    case string(String)
    /// An array, possibly of mixed values.
    case array([SettingValue])
    /// A table: keys and values in the file's order.
    case table([(String, SettingValue)])

    /// Structural equality, where NaN equals NaN (a resolved scenario equals its rereading).
    public static func == (a: SettingValue, b: SettingValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.real(let x), .real(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.table(let x), .table(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// What the value is, for error messages: "the string \"abc\"", "an array of 3 values".
    public var found: String {
        switch self {
        case .bool(let b): return "the boolean \(b)"
        case .integer(let i): return "the integer \(i)"
        case .real(let r): return "the number \(r)"
        case .string(let s): return "the string \"\(Excerpt.quote(s))\""
        case .array(let a): return "an array of \(a.count) value\(a.count == 1 ? "" : "s")"
        case .table: return "a table"
        }
    }

    /// A number where a real is expected: integers are accepted.
    public var asReal: Double? {
        switch self {
        case .real(let r): return r
        case .integer(let i): return Double(i)
        default: return nil
        }
    }
}

/// What is wrong at a key of a scenario.
public enum SettingsProblem: Equatable, Sendable {
    /// A required key or table is absent; `required` says what it must hold ("" for nothing
    /// more to say). The scenario layer reports a misspelt key near it instead, when there is one.
    case missing(required: String)
    /// The value (or table) given is not allowed, or does not fit: the message says why.
    case invalid(String)

    /// "missing (required: a number > 0)", or the invalid value's message.
    public var message: String {
        switch self {
        case .missing(let required): required.isEmpty ? "missing" : "missing (\(required))"
        case .invalid(let message): message
        }
    }
}

/// A located error in a scenario: `file:line: key: what is wrong (what is allowed)`.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    /// `file:line`, or `--set KEY=VALUE` for an override.
    public let location: String
    /// The dotted key path (`population.init.mean`); empty for the table itself.
    public let key: String
    /// What is wrong.
    public let problem: SettingsProblem
    /// The problem's message.
    public var message: String { problem.message }
    /// An error at `key`, written at `location`.
    public init(location: String, key: String, problem: SettingsProblem) {
        self.location = location
        self.key = key
        self.problem = problem
    }
    /// An invalid value at `key`; `message` says why.
    public init(location: String, key: String, message: String) {
        self.init(location: location, key: key, problem: .invalid(message))
    }
    /// `location: key: message` (the key shortened when long).
    public var description: String {
        // Keys come from the file: a long one is shortened like any quoted input.
        key.isEmpty ? "\(location): \(message)" : "\(location): \(Excerpt.quote(key, limit: 80)): \(message)"
    }
}

/// One table of a scenario, as the flows, targets and metrics read it. Each registry entry
/// reads its own parameters through this, so a new target or flow needs no decoding code
/// elsewhere; the scenario layer implements it (strict keys, file and line in errors,
/// defaults written back into the resolved scenario).
public protocol Settings: AnyObject {
    /// The value at `key`, if given.
    func raw(_ key: String) -> SettingValue?
    /// Records the value in force for `key` (given or default) in the resolved scenario and
    /// marks the key as used: a key never resolved is reported as unknown.
    func resolve(_ key: String, _ value: SettingValue)
    /// An error located at `key` of this table (or at the table itself for an empty key).
    func fail(_ key: String, _ problem: SettingsProblem) -> SettingsError
    /// The sub-table at `key`; nil when absent.
    func optionalTable(_ key: String) throws -> Settings?
    /// Points from a CSV file named by the string at `key` (relative to the scenario file),
    /// with header `x1,...,xd`: row-major values and d.
    func points(_ key: String) throws -> (dimension: Int, values: [Double])
    /// The tables of an array of tables at `key` (`[[key]]` or `key = [{...}, {...}]`), each
    /// read strictly like any table; nil when absent. The default implementation rejects it.
    func optionalTables(_ key: String) throws -> [Settings]?
    /// The scenario's formula parameters and watches, shared by all its tables.
    var formulaScope: FormulaScope { get }
    /// Enrols a part built from `key` of this table whose state outlives a step (an
    /// optimizer, a mesh engine): checkpoints save it under the key's dotted path.
    func register(_ part: any StatefulPart, as key: String)
    /// The scenario's memory estimate, shared by all its tables: entries add what they will
    /// allocate, and the scenario is refused when it exceeds the machine (``MemoryEstimate``).
    var memory: MemoryEstimate { get }
}

extension Settings {
    /// Settings outside a scenario: no parameters, nothing watched.
    public var formulaScope: FormulaScope { FormulaScope() }
    /// Settings outside a scenario: nothing is checkpointed.
    public func register(_ part: any StatefulPart, as key: String) {}
    /// Settings outside a scenario: nothing is counted, nothing refused.
    public var memory: MemoryEstimate { MemoryEstimate(limit: .unlimited) }

    /// Settings outside a scenario: an array of tables is an error.
    public func optionalTables(_ key: String) throws -> [Settings]? {
        guard raw(key) != nil else { return nil }
        throw fail(key, "arrays of tables are not supported here")
    }
}

/// A validity condition with its description for messages, e.g. `> 0`.
public struct Allowed<T>: @unchecked Sendable {
    /// Whether a value is allowed.
    public let test: (T) -> Bool
    /// What is allowed, for messages ("a number > 0").
    public let text: String
    /// A condition `test`, described by `text`.
    public init(_ text: String, _ test: @escaping (T) -> Bool) {
        self.text = text
        self.test = test
    }
}

extension Allowed where T == Double {
    /// Any finite number.
    public static let any = Allowed("any finite number") { $0.isFinite }
    /// A finite number > 0.
    public static let positive = Allowed("a number > 0") { $0 > 0 && $0.isFinite }
    /// A finite number ≥ 0.
    public static let nonNegative = Allowed("a number ≥ 0") { $0 >= 0 && $0.isFinite }
    /// A standard deviation (`NumericRange.scale`): its square, the variance, must be a
    /// positive normal double, or the covariance is not positive definite.
    public static let standardDeviation = Allowed(
        NumericRange.describe(NumericRange.scale) + ": its square must be a positive double"
    ) {
        NumericRange.scale.contains($0)
    }
    /// A periodic box's side L (`NumericRange.period`).
    public static let period = Allowed(
        NumericRange.describe(NumericRange.period) + ": squared distances in the box must be normal doubles"
    ) {
        NumericRange.period.contains($0)
    }
    /// A relative tolerance of the approximate engines (`NumericRange.tolerance`).
    public static let tolerance = Allowed(
        NumericRange.describe(NumericRange.tolerance)
            + ": the mesh is tested down to 1e-9, below which its rounding takes over; for exact sums use direct"
    ) {
        NumericRange.tolerance.contains($0)
    }
    /// A number in the open interval (a, b).
    public static func open(_ a: Double, _ b: Double) -> Allowed {
        Allowed("a number in (\(formatNumber(a)), \(formatNumber(b)))") { $0 > a && $0 < b }
    }
    /// A number in the closed interval [a, b].
    public static func closed(_ a: Double, _ b: Double) -> Allowed {
        Allowed("a number in [\(formatNumber(a)), \(formatNumber(b))]") { $0 >= a && $0 <= b }
    }
    /// A number in the half-open interval [a, b).
    public static func closedOpen(_ a: Double, _ b: Double) -> Allowed {
        Allowed("a number in [\(formatNumber(a)), \(formatNumber(b)))") { $0 >= a && $0 < b }
    }
}

extension Allowed where T == Int {
    /// An integer ≥ 0.
    public static let nonNegativeInteger = Allowed("an integer ≥ 0") { $0 >= 0 }
    /// An integer ≥ 1.
    public static let positiveInteger = Allowed("an integer ≥ 1") { $0 >= 1 }
    /// Any integer.
    public static let anyInteger = Allowed("an integer") { _ in true }
    /// A number of points (particles, samples, directions, grid points per axis): 1 to 2³¹ − 1
    /// (``MemoryEstimate/maximumCount``); what they take in memory is checked by the estimate.
    public static let count = Allowed("an integer from 1 to \(MemoryEstimate.maximumCount)") {
        $0 >= 1 && $0 <= MemoryEstimate.maximumCount
    }
    /// A dimension: 1 to ``MemoryEstimate/maximumDimension``.
    public static let dimension = Allowed("an integer from 1 to \(MemoryEstimate.maximumDimension)") {
        $0 >= 1 && $0 <= MemoryEstimate.maximumDimension
    }
}

// Typed readers shared by every registry entry.
extension Settings {
    /// Whether `key` is given (reading nothing, resolving nothing).
    public func contains(_ key: String) -> Bool { raw(key) != nil }

    /// Checks a dimension set by the length of the vector or the columns of the file at `key`
    /// against ``MemoryEstimate/maximumDimension`` (integer keys use ``Allowed/dimension``).
    public func checkDimension(_ d: Int, at key: String) throws {
        guard d <= MemoryEstimate.maximumDimension else {
            throw fail(key, "gives \(d) coordinates, more than the \(MemoryEstimate.maximumDimension) allowed")
        }
    }

    /// An error at `key`: the value given there is not allowed (`message` says why).
    public func fail(_ key: String, _ message: String) -> SettingsError { fail(key, .invalid(message)) }

    /// An error at `key`: it is required and absent (`required` says what it must hold).
    public func missing(_ key: String, _ required: String) -> SettingsError { fail(key, .missing(required: required)) }

    /// The sub-table at `key`; absent, it is a missing-key error.
    public func table(_ key: String) throws -> Settings {
        guard let t = try optionalTable(key) else { throw missing(key, "a table is required") }
        return t
    }

    /// The number at `key` (an integer is accepted), or `value` when absent; without a default a
    /// missing key is an error. Throws when the value is not a number or not `allowed`.
    public func real(_ key: String, default value: Double? = nil, _ allowed: Allowed<Double> = .any) throws -> Double {
        guard let v = try optionalReal(key, allowed) else {
            guard let value else { throw missing(key, "required: \(allowed.text)") }
            resolve(key, .real(value))
            return value
        }
        return v
    }

    /// The number at `key`, nil when absent (nothing is resolved then).
    public func optionalReal(_ key: String, _ allowed: Allowed<Double> = .any) throws -> Double? {
        guard let raw = raw(key) else { return nil }
        guard let v = raw.asReal else { throw fail(key, "expected a number, found \(raw.found) (\(allowed.text))") }
        guard v.isFinite, allowed.test(v) else {
            throw fail(key, "\(formatNumber(v)) is out of range (\(allowed.text))")
        }
        resolve(key, raw)
        return v
    }

    /// The integer at `key`, or `value` when absent; a real such as `2.0` is refused.
    public func integer(_ key: String, default value: Int? = nil, _ allowed: Allowed<Int> = .anyInteger) throws -> Int {
        guard let raw = raw(key) else {
            guard let value else { throw missing(key, "required: \(allowed.text)") }
            resolve(key, .integer(value))
            return value
        }
        guard case .integer(let v) = raw else {
            throw fail(key, "expected an integer, found \(raw.found) (\(allowed.text))")
        }
        guard allowed.test(v) else { throw fail(key, "\(v) is out of range (\(allowed.text))") }
        resolve(key, raw)
        return v
    }

    /// The boolean at `key`, or `value` when absent.
    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = raw(key) else {
            resolve(key, .bool(value))
            return value
        }
        guard case .bool(let v) = raw else { throw fail(key, "expected true or false, found \(raw.found)") }
        resolve(key, raw)
        return v
    }

    /// The string at `key`, or `value` when absent; with `choices`, it must be one of them.
    public func string(_ key: String, default value: String? = nil, oneOf choices: [String]? = nil) throws -> String {
        let allowed = choices.map { "one of: " + $0.joined(separator: ", ") } ?? "a string"
        guard let raw = raw(key) else {
            guard let value else { throw missing(key, "required: \(allowed)") }
            resolve(key, .string(value))
            return value
        }
        guard case .string(let v) = raw else { throw fail(key, "expected a string, found \(raw.found) (\(allowed))") }
        if let choices, !choices.contains(v) { throw fail(key, "unknown value \"\(Excerpt.quote(v))\" (\(allowed))") }
        resolve(key, raw)
        return v
    }

    /// An array of distinct strings at `key` (each one of `choices` when given), or `value` when absent.
    public func strings(_ key: String, default value: [String], oneOf choices: [String]? = nil) throws -> [String] {
        let allowed = choices.map { "an array of: " + $0.joined(separator: ", ") } ?? "an array of strings"
        guard let raw = raw(key) else {
            resolve(key, .array(value.map { .string($0) }))
            return value
        }
        guard case .array(let items) = raw else {
            throw fail(key, "expected an array, found \(raw.found) (\(allowed))")
        }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else {
                throw fail(key, "expected strings, found \(item.found) (\(allowed))")
            }
            if let choices, !choices.contains(s) {
                throw fail(key, "unknown value \"\(Excerpt.quote(s))\" (\(allowed))")
            }
            if out.contains(s) { throw fail(key, "\"\(Excerpt.quote(s))\" is listed twice") }
            out.append(s)
        }
        resolve(key, raw)
        return out
    }

    /// A vector of reals; `count` fixes its length when known.
    public func reals(
        _ key: String, count: Int? = nil, default value: [Double]? = nil,
        _ allowed: Allowed<Double> = .any
    ) throws -> [Double] {
        guard let raw = raw(key) else {
            guard let value else { throw missing(key, "required: an array of \(count.map(String.init) ?? "") numbers") }
            resolve(key, .array(value.map { .real($0) }))
            return value
        }
        let v = try Self.vector(raw, count: count, allowed, fail: { self.fail(key, $0) })
        resolve(key, raw)
        return v
    }

    /// A number or a vector of `count` numbers (a number is repeated).
    public func realOrReals(
        _ key: String, count: Int, default value: Double? = nil,
        _ allowed: Allowed<Double> = .any
    ) throws -> [Double] {
        if let raw = raw(key), raw.asReal != nil {
            return [Double](repeating: try real(key, allowed), count: count)
        }
        return try reals(key, count: count, default: value.map { [Double](repeating: $0, count: count) }, allowed)
    }

    /// A matrix given as an array of rows.
    public func matrix(
        _ key: String, rows: Int? = nil, columns: Int? = nil,
        _ allowed: Allowed<Double> = .any
    ) throws -> [[Double]] {
        guard let raw = raw(key) else { throw missing(key, "required: an array of rows") }
        let m = try Self.matrix(raw, rows: rows, columns: columns, allowed, fail: { self.fail(key, $0) })
        resolve(key, raw)
        return m
    }

    /// An array of square d×d matrices.
    public func matrices(_ key: String, count: Int, size: Int) throws -> [[[Double]]] {
        guard let raw = raw(key) else { throw missing(key, "required: an array of \(count) matrices") }
        guard case .array(let items) = raw, items.count == count else {
            throw fail(key, "expected an array of \(count) matrices (\(size)×\(size)), found \(raw.found)")
        }
        let ms = try items.map { try Self.matrix($0, rows: size, columns: size, .any, fail: { self.fail(key, $0) }) }
        resolve(key, raw)
        return ms
    }

    static func vector(
        _ raw: SettingValue, count: Int?, _ allowed: Allowed<Double>,
        fail: (String) -> SettingsError
    ) throws -> [Double] {
        let want = count.map { "an array of \($0) numbers" } ?? "an array of numbers"
        guard case .array(let items) = raw else { throw fail("expected \(want), found \(raw.found)") }
        if let count, items.count != count { throw fail("expected \(want), found \(raw.found)") }
        if count == nil && items.isEmpty { throw fail("expected \(want), found an empty array") }
        return try items.map { item in
            guard let v = item.asReal else { throw fail("expected numbers, found \(item.found) (\(want))") }
            guard v.isFinite, allowed.test(v) else {
                throw fail("\(formatNumber(v)) is out of range (\(allowed.text))")
            }
            return v
        }
    }

    static func matrix(
        _ raw: SettingValue, rows: Int?, columns: Int?, _ allowed: Allowed<Double>,
        fail: (String) -> SettingsError
    ) throws -> [[Double]] {
        let shape = "\(rows.map(String.init) ?? "n")×\(columns.map(String.init) ?? "d")"
        guard case .array(let items) = raw, !items.isEmpty, rows == nil || items.count == rows else {
            throw fail("expected a \(shape) matrix (an array of rows), found \(raw.found)")
        }
        let m = try items.map { try vector($0, count: columns, allowed, fail: fail) }
        let width = m[0].count
        guard m.allSatisfy({ $0.count == width }) else { throw fail("rows of different lengths (a \(shape) matrix)") }
        return m
    }
}
