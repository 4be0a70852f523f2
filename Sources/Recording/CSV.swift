import Foundation

/// A parsed CSV file of numbers: header names and row-major values.
public struct NumericTable {
    /// The column names, as written (trimmed).
    public let header: [String]
    /// The number of data rows.
    public let rows: Int
    /// `values[i * header.count + c]`: row i, column c.
    public let values: [Double]

    /// The column named `name`, one value per row; nil when there is no such column.
    public func column(_ name: String) -> [Double]? {
        guard let c = header.firstIndex(of: name) else { return nil }
        return (0..<rows).map { values[$0 * header.count + c] }
    }

    /// Reads a CSV file whose fields are all numbers (blank lines ignored). `ending` says
    /// whether a last line without "\n" is a row (files users write) or a cut record (run outputs).
    ///
    /// - Throws: ``InputFileError`` for an unreadable or non-text file, an empty one, a row
    ///   whose field count differs from the header's, or a field that is not a number.
    public static func read(path: String, ending: CSVEnding = .lenient) throws -> NumericTable {
        let file = try CSVFile(path: path, ending: ending)
        guard let first = file.lines.first else { throw file.error(line: 1, .empty) }
        let headerFields = file.fields(first.range)
        let header = headerFields.map(file.text)
        var values: [Double] = []
        values.reserveCapacity((file.lines.count - 1) * header.count)
        var rows = 0
        for (number, line) in file.lines.dropFirst() {
            let fields = file.fields(line)
            guard fields.count == header.count else {
                throw file.error(line: number, .fieldCount(fields: fields.count, header: header.count))
            }
            for (c, f) in fields.enumerated() {
                guard let v = file.number(f) else {
                    throw file.error(line: number, .notANumber(column: header[c], field: file.text(f)))
                }
                values.append(v)
            }
            rows += 1
        }
        return NumericTable(header: header, rows: rows, values: values)
    }
}

/// Points from a CSV file with header `x1,...,xd` and, when `allowWeights`, an optional `w`
/// column. Returns row-major points, d, and the weights if present. Used for init files,
/// target samples and `wgf sum` inputs.
///
/// - Throws: ``InputFileError`` for a file ``NumericTable/read(path:ending:)`` refuses, another
///   header, no data rows, or a NaN or infinite value.
public func readPoints(
    path: String, allowWeights: Bool = false
) throws -> (dimension: Int, points: [Double], weights: [Double]?) {
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
        throw InputFileError(path: path, line: 1, .pointsHeader(t.header, weightsAllowed: allowWeights))
    }
    guard t.rows > 0 else { throw InputFileError(path: path, line: 2, .noDataRows) }
    guard t.values.allSatisfy(\.isFinite) else { throw InputFileError(path: path, line: nil, .nonFinite) }
    let columns = expected.map { t.header.firstIndex(of: $0)! }
    var points = [Double](repeating: 0, count: t.rows * d)
    for i in 0..<t.rows { for a in 0..<d { points[i * d + a] = t.values[i * t.header.count + columns[a]] } }
    return (d, points, weights)
}
