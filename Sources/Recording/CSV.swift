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
        try read(CSVFile(path: path, ending: ending))
    }

    /// Reads the numbers of a CSV file split into lines already.
    static func read(_ file: CSVFile) throws -> NumericTable {
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
/// column, or from a NumPy .npy array of shape (N, d), or (N,) for d = 1 (told by its magic
/// bytes, whatever the name). Returns row-major points, d, and the weights if present (a CSV's
/// `w`; an .npy array has none). Used for init files, target samples, training data and `wgf
/// sum` inputs.
///
/// The CSV may be what numpy and pandas write: a header commented out by `numpy.savetxt`
/// (`# x1,x2`) is read as the header, and an unnamed first column (pandas' index, `,x1,x2`)
/// is skipped.
///
/// - Throws: ``InputFileError`` for a file ``NumericTable/read(path:ending:)`` or
///   ``NPY/decode(_:)`` refuses, another header or shape, no rows, or a NaN or infinite value.
public func readPoints(
    path: String, allowWeights: Bool = false
) throws -> (dimension: Int, points: [Double], weights: [Double]?) {
    let bytes: [UInt8]
    do { bytes = try readInputFile(path: path) } catch {
        throw InputFileError(path: path, line: nil, .unreadable(error.reason))
    }
    if NPY.hasMagic(bytes) { return try readPoints(npy: bytes, path: path) }
    let t = try NumericTable.read(CSVFile(path: path, bytes: bytes, ending: .lenient))
    let (names, skipped) = userColumns(t.header)
    var coords = names
    var weights: [Double]? = nil
    if allowWeights, let w = coords.firstIndex(of: "w") {
        weights = (0..<t.rows).map { t.values[$0 * t.header.count + skipped + w] }
        coords.remove(at: w)
    }
    let d = coords.count
    let expected = (1...max(1, d)).map { "x\($0)" }
    guard d >= 1, coords == expected else {
        throw InputFileError(path: path, line: 1, .pointsHeader(t.header, weightsAllowed: allowWeights))
    }
    guard t.rows > 0 else { throw InputFileError(path: path, line: 2, .noDataRows) }
    let columns = expected.map { skipped + names.firstIndex(of: $0)! }
    var points = [Double](repeating: 0, count: t.rows * d)
    for i in 0..<t.rows { for a in 0..<d { points[i * d + a] = t.values[i * t.header.count + columns[a]] } }
    guard points.allSatisfy(\.isFinite), weights?.allSatisfy(\.isFinite) ?? true else {
        throw InputFileError(path: path, line: nil, .nonFinite)
    }
    return (d, points, weights)
}

/// The column names of a table a user wrote, as numpy and pandas write them: a header commented
/// out by `numpy.savetxt` (`# x1,x2`) is the header, and an unnamed first column (pandas'
/// index, `,x1,x2`) is skipped. Returns the names after the skipped columns, and how many.
func userColumns(_ header: [String]) -> (names: [String], skipped: Int) {
    var names = header
    if let first = names.first, first.hasPrefix("#") {
        names[0] = String(first.drop { $0 == "#" || $0 == " " || $0 == "\t" })
    }
    let skipped = names.count > 1 && names[0].isEmpty ? 1 : 0
    return (Array(names.dropFirst(skipped)), skipped)
}

/// An .npy array from a file, any failure located at the file.
///
/// - Throws: ``InputFileError`` for a file that cannot be read or is not an array wgf reads.
public func readNPY(path: String) throws -> NPYArray {
    let bytes: [UInt8]
    do { bytes = try readInputFile(path: path) } catch {
        throw InputFileError(path: path, line: nil, .unreadable(error.reason))
    }
    return try decodeNPY(bytes, path: path)
}

/// The array in the bytes of an .npy file, its format errors located at `path`.
func decodeNPY(_ bytes: [UInt8], path: String) throws -> NPYArray {
    do { return try NPY.decode(bytes) } catch { throw InputFileError(path: path, line: nil, .npy(error)) }
}

/// Points from the bytes of an .npy file: shape (N, d), or (N,) for d = 1.
func readPoints(npy bytes: [UInt8], path: String) throws -> (dimension: Int, points: [Double], weights: [Double]?) {
    let array = try decodeNPY(bytes, path: path)
    guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] >= 1) else {
        throw InputFileError(path: path, line: nil, .npyShape(array.shape, expected: "(N, d) points, or (N,) in 1-D"))
    }
    guard array.shape[0] > 0 else { throw InputFileError(path: path, line: nil, .noDataRows) }
    guard array.values.allSatisfy(\.isFinite) else { throw InputFileError(path: path, line: nil, .nonFinite) }
    return (array.shape.count == 1 ? 1 : array.shape[1], array.values, nil)
}

/// One value per point (weights): an .npy array of shape (N,) or (N, 1), or a CSV file with
/// the single column `name`.
///
/// - Throws: ``InputFileError`` for a file the readers refuse, another header or shape, no
///   rows, or a NaN or infinite value.
public func readValues(path: String, name: String) throws -> [Double] {
    let bytes: [UInt8]
    do { bytes = try readInputFile(path: path) } catch {
        throw InputFileError(path: path, line: nil, .unreadable(error.reason))
    }
    let values: [Double]
    if NPY.hasMagic(bytes) {
        let array = try decodeNPY(bytes, path: path)
        guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
            throw InputFileError(path: path, line: nil, .npyShape(array.shape, expected: "(N,) values"))
        }
        values = array.values
    } else {
        let t = try NumericTable.read(CSVFile(path: path, bytes: bytes, ending: .lenient))
        let (names, skipped) = userColumns(t.header)
        guard names == [name] else {
            throw InputFileError(path: path, line: 1, .valuesHeader(t.header, expected: name))
        }
        values = (0..<t.rows).map { t.values[$0 * t.header.count + skipped] }
    }
    guard !values.isEmpty else { throw InputFileError(path: path, line: nil, .noDataRows) }
    guard values.allSatisfy(\.isFinite) else { throw InputFileError(path: path, line: nil, .nonFinite) }
    return values
}
