import Foundation
import Recording

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
