import Foundation
import Recording

/// NumPy `.npy` files (format version 1.0): little-endian float64 (`<f8`) or int64 (`<i8`)
/// arrays in C order.
public enum NPY {
    /// The bytes of an .npy file holding `values` with `shape`.
    public static func encode(_ values: [Double], shape: [Int]) -> Data {
        encode(descr: "<f8", shape: shape, count: values.count) { d in
            for v in values {
                var b = v.bitPattern.littleEndian
                withUnsafeBytes(of: &b) { d.append(contentsOf: $0) }
            }
        }
    }

    /// The bytes of an int64 .npy file holding `values` with `shape` (steps.npy).
    public static func encode(_ values: [Int64], shape: [Int]) -> Data {
        encode(descr: "<i8", shape: shape, count: values.count) { d in
            for v in values {
                var b = v.littleEndian
                withUnsafeBytes(of: &b) { d.append(contentsOf: $0) }
            }
        }
    }

    static func encode(descr: String, shape: [Int], count: Int, body: (inout Data) -> Void) -> Data {
        guard shape.reduce(1, *) == count else { fatalError("NPY: shape \(shape) does not hold \(count) values") }
        var d = header(descr: descr, shape: shape)
        d.reserveCapacity(d.count + count * 8)
        body(&d)
        return d
    }

    /// The bytes before the values: magic, version 1.0, the header's length, and the header
    /// dictionary padded with spaces so that the values start at a multiple of 64 bytes.
    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + "\n" is a multiple of 64.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        d.append(UInt8(n & 0xff))
        d.append(UInt8(n >> 8))
        d.append(contentsOf: Array(header.utf8))
        return d
    }

    /// Reads an .npy file written by `encode` (`<f8` or `<i8`, C order): shape and values as doubles.
    ///
    /// - Throws: ``NPYError`` for another format, a truncated file or another dtype.
    public static func decode(_ data: Data) throws -> (descr: String, shape: [Int], values: [Double]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NPYError.notNPY
        }
        let len = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + len, let header = String(bytes: bytes[10..<(10 + len)], encoding: .ascii) else {
            throw NPYError.truncatedHeader
        }
        guard let dr = header.range(of: "'descr': '"), let de = header[dr.upperBound...].firstIndex(of: "'") else {
            throw NPYError.noDescription
        }
        let descr = String(header[dr.upperBound..<de])
        guard header.contains("'fortran_order': False") else { throw NPYError.fortranOrder }
        guard let sr = header.range(of: "'shape': ("), let se = header[sr.upperBound...].firstIndex(of: ")") else {
            throw NPYError.noShape
        }
        let shape = header[sr.upperBound..<se].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let start = 10 + len
        guard bytes.count == start + 8 * count else {
            throw NPYError.dataBytes(bytes.count - start, expected: 8 * count)
        }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var u: UInt64 = 0
            for b in 0..<8 { u |= UInt64(bytes[start + 8 * i + b]) << (8 * UInt64(b)) }
            switch descr {
            case "<f8": values[i] = Double(bitPattern: u)
            case "<i8": values[i] = Double(Int64(bitPattern: u))
            default: throw NPYError.unsupportedDType(descr)
            }
        }
        return (descr, shape, values)
    }
}

/// A float64 .npy file (or several identical copies) written as its values arrive, in C order:
/// the header with the final shape first, so memory holds one record, not the array. `finish`
/// checks that exactly the shape's count of values came.
final class NPYWriter {
    let paths: [String]
    let files: [UnsafeMutablePointer<FILE>]
    let expected: Int
    var written = 0

    /// Opens (creates or empties) every path and writes the header for `shape`.
    init(paths: [String], shape: [Int]) throws {
        var files: [UnsafeMutablePointer<FILE>] = []
        for path in paths {
            guard let f = fopen(path, "w") else {
                files.forEach { fclose($0) }
                throw IOFailure(path: path, .cannotOpenForWriting(reason: String(cString: strerror(errno))))
            }
            files.append(f)
        }
        self.paths = paths
        self.files = files
        expected = shape.reduce(1, *)
        try write(NPY.header(descr: "<f8", shape: shape))
    }

    deinit { files.forEach { fclose($0) } }

    /// Appends values (little-endian float64).
    func append<C: Collection>(_ values: C) throws where C.Element == Double {
        written += values.count
        guard written <= expected else { throw NPYError.tooManyValues(path: paths[0], capacity: expected) }
        #if _endian(little)
            let bytes =
                values.withContiguousStorageIfAvailable { Data(buffer: $0) }
                ?? Array(values).withUnsafeBufferPointer { Data(buffer: $0) }
        #else
            var bytes = Data(capacity: values.count * 8)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
        try write(bytes)
    }

    /// Checks the count and flushes.
    func finish() throws {
        guard written == expected else {
            throw NPYError.valueCount(path: paths[0], written: written, capacity: expected)
        }
        for (f, path) in zip(files, paths) where fflush(f) != 0 {
            throw IOFailure(path: path, .writeFailed(reason: String(cString: strerror(errno))))
        }
    }

    private func write(_ data: Data) throws {
        for (f, path) in zip(files, paths) {
            let n = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            guard n == data.count else {
                throw IOFailure(path: path, .writeFailed(reason: String(cString: strerror(errno))))
            }
        }
    }
}
