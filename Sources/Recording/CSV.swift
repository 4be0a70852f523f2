import Foundation

/// An I/O failure, with the path involved.
public struct IOFailure: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// A bad input file (CSV), located by path, line and column name where known.
public struct InputFileError: Error, CustomStringConvertible {
    public let path: String
    public let line: Int?
    public let message: String
    public var description: String { line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)" }
}

/// A parsed CSV file of numbers: header names and row-major values.
public struct NumericTable {
    public let header: [String]
    public let rows: Int
    public let values: [Double]

    public func column(_ name: String) -> [Double]? {
        guard let c = header.firstIndex(of: name) else { return nil }
        return (0..<rows).map { values[$0 * header.count + c] }
    }

    /// Reads a CSV file whose fields are all numbers (empty lines ignored).
    public static func read(path: String) throws -> NumericTable {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InputFileError(path: path, line: nil, message: "cannot read (\(error.localizedDescription))")
        }
        // "\r\n" is one Character in Swift: split on both line ends.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw InputFileError(path: path, line: 1, message: "empty file (expected a header line)") }
        let header = first.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        values.reserveCapacity((lines.count - 1) * header.count)
        var rows = 0
        for (k, line) in lines.enumerated().dropFirst() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw InputFileError(path: path, line: k + 1, message: "\(fields.count) fields, the header has \(header.count)")
            }
            for (c, f) in fields.enumerated() {
                let t = f.trimmingCharacters(in: .whitespaces)
                guard let v = Double(t) else {
                    throw InputFileError(path: path, line: k + 1, message: "column \(header[c]): '\(t)' is not a number")
                }
                values.append(v)
            }
            rows += 1
        }
        return NumericTable(header: header, rows: rows, values: values)
    }
}

/// Points from a CSV file with header `x1,...,xd` and, when `allowWeights`, an optional `w`
/// column. Returns row-major points, d, and the weights if present.
public func readPoints(path: String, allowWeights: Bool = false) throws -> (dimension: Int, points: [Double], weights: [Double]?) {
    let t = try NumericTable.read(path: path)
    var coords = t.header
    var weights: [Double]? = nil
    if allowWeights, let w = t.header.firstIndex(of: "w") {
        weights = t.column("w")
        coords.remove(at: w)
    }
    let d = coords.count
    let expected = (1...max(1, d)).map { "x\($0)" }
    guard d >= 1, coords == expected else {
        let allowed = "x1,...,xd" + (allowWeights ? " and optionally w" : "")
        throw InputFileError(path: path, line: 1, message: "header '\(t.header.joined(separator: ","))' is not \(allowed)")
    }
    guard t.rows > 0 else { throw InputFileError(path: path, line: 2, message: "no data rows") }
    guard t.values.allSatisfy(\.isFinite) else { throw InputFileError(path: path, line: nil, message: "contains NaN or infinite values") }
    let columns = expected.map { t.header.firstIndex(of: $0)! }
    var points = [Double](repeating: 0, count: t.rows * d)
    for i in 0..<t.rows { for a in 0..<d { points[i * d + a] = t.values[i * t.header.count + columns[a]] } }
    return (d, points, weights)
}
