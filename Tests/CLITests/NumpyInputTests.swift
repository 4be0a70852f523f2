import Foundation
import Recording
import XCTest

/// Points files as numpy and pandas write them (written here by numpy and pandas themselves, a
/// client independent of wgf): .npy arrays of every numeric dtype, byte order, memory order and
/// format version numpy writes, `numpy.savetxt`'s commented header and pandas' index column,
/// each read back to the bits of the array numpy holds.
final class NumpyInputTests: ScratchTestCase {
    /// Writes every case with numpy and, beside each, `NAME.expected`: the array numpy holds, as
    /// little-endian float64 in C order.
    static let writer = """
        import sys, numpy as np, pandas as pd
        d = sys.argv[1]
        rng = np.random.default_rng(7)
        x = rng.normal(size=(5, 3)) * np.array([1, 1e-300, 1e300])
        cases = {
            "f8": x,
            "f4": rng.normal(size=(4, 2)).astype("<f4"),
            "f8-big": x.astype(">f8"),
            "i4-big": np.arange(-3, 3, dtype=">i4").reshape(3, 2),
            "i8": np.array([[-(2**53), 2**53], [7, -1]], dtype="<i8"),
            "i2": np.array([[-32768, 32767]], dtype="<i2"),
            "i1": np.array([[-128, 127, 0]], dtype="i1"),
            "u1": np.array([[0, 255], [1, 2]], dtype="u1"),
            "u2": np.array([[65535]], dtype="<u2"),
            "u4": np.array([[4294967295]], dtype="<u4"),
            "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
            "one-d": rng.normal(size=6),
        }
        for name, a in cases.items():
            np.save(f"{d}/{name}.npy", a)
            np.ascontiguousarray(a, dtype="<f8").tofile(f"{d}/{name}.expected")
        with open(f"{d}/version-2.npy", "wb") as f:
            np.lib.format.write_array(f, x, version=(2, 0))
        x.astype("<f8").tofile(f"{d}/version-2.expected")
        # Text: numpy's commented header (default format %.18e: exact), pandas' index column.
        np.savetxt(f"{d}/savetxt.csv", x[:, :2], delimiter=",", header="x1,x2")
        x[:, :2].astype("<f8").tofile(f"{d}/savetxt.expected")
        pd.DataFrame(x, columns=["x1", "x2", "x3"]).to_csv(f"{d}/pandas.csv")
        x.astype("<f8").tofile(f"{d}/pandas.expected")
        pd.DataFrame({"x1": x[:, 0], "w": x[:, 1] ** 2}).to_csv(f"{d}/pandas-weights.csv")
        x[:, 0].astype("<f8").tofile(f"{d}/pandas-weights.expected")
        # What is refused.
        np.save(f"{d}/strings.npy", np.array(["a", "b"]))
        np.save(f"{d}/complex.npy", np.ones((2, 2), dtype=complex))
        np.save(f"{d}/three-d.npy", np.zeros((2, 2, 2)))
        np.save(f"{d}/empty.npy", np.zeros((0, 2)))
        np.save(f"{d}/nan.npy", np.array([[1.0, np.nan]]))
        np.save(f"{d}/structured.npy", np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
        """

    func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

    func testArraysAndTablesNumpyAndPandasWriteAreReadExactly() throws {
        let dir = scratch.path
        try assertPython(Self.writer, [dir], "numpy and pandas write the cases")
        func expected(_ name: String) throws -> [Double] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).expected"))
            return data.withUnsafeBytes { raw in
                (0..<(data.count / 8)).map {
                    Double(bitPattern: UInt64(littleEndian: raw.load(fromByteOffset: 8 * $0, as: UInt64.self)))
                }
            }
        }
        let dimensions = [
            "f8": 3, "f4": 2, "f8-big": 3, "i4-big": 2, "i8": 2, "i2": 2, "i1": 3, "u1": 2, "u2": 1, "u4": 1,
            "fortran": 4, "one-d": 1, "version-2": 3,
        ]
        for (name, d) in dimensions {
            let p = try readPoints(path: "\(dir)/\(name).npy", allowWeights: true)
            XCTAssertEqual(p.dimension, d, name)
            XCTAssertEqual(bits(p.points), bits(try expected(name)), name)
            XCTAssertNil(p.weights, name)
        }
        for name in ["savetxt", "pandas"] {
            let p = try readPoints(path: "\(dir)/\(name).csv")
            XCTAssertEqual(bits(p.points), bits(try expected(name)), name)
        }
        let weighted = try readPoints(path: "\(dir)/pandas-weights.csv", allowWeights: true)
        XCTAssertEqual(bits(weighted.points), bits(try expected("pandas-weights")))
        XCTAssertEqual(weighted.weights?.count, 5)

        let refused: [(String, String)] = [
            ("strings", "dtype '<U1' is not a number type wgf reads (float64, float32, integers)"),
            ("complex", "dtype '<c16' is not a number type wgf reads (float64, float32, integers)"),
            ("three-d", "an array of shape (2, 2, 2); expected (N, d) points, or (N,) in 1-D"),
            ("empty", "no data rows"),
            ("nan", "contains NaN or infinite values"),
            (
                "structured",
                "dtype 'a structured dtype' is not a number type wgf reads (float64, float32, integers)"
            ),
        ]
        for (name, message) in refused {
            XCTAssertThrowsError(try readPoints(path: "\(dir)/\(name).npy")) { e in
                XCTAssertEqual((e as? InputFileError)?.description, "\(dir)/\(name).npy: \(message)", name)
            }
        }
    }

    /// Hostile headers and sizes: each a located error, before any allocation the file cannot fill.
    func testBadNPYBytesAreRefusedWithTheirReason() throws {
        func header(_ text: String, version: UInt8 = 1) -> [UInt8] {
            let h = Array(text.utf8)
            let length: [UInt8] =
                version == 1
                ? [UInt8(h.count & 0xff), UInt8(h.count >> 8)]
                : [UInt8(h.count & 0xff), UInt8(h.count >> 8 & 0xff), 0, 0]
            return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + h
        }
        let cases: [([UInt8], NPY.FormatError)] = [
            (Array("x1\n1\n".utf8), .notNPY),
            ([0x93] + Array("NUMPY".utf8) + [1, 0, 0xff, 0xff], .truncatedHeader),
            (header("{}", version: 4), .version(4, 0)),
            (
                header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"),
                .dataBytes(0, [99_999_999_999, 99_999_999_999])
            ),
            // 2⁶¹ values: 2⁶⁴ bytes would overflow the byte count.
            (
                header("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"),
                .dataBytes(0, [2_305_843_009_213_693_952])
            ),
            (
                header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }") + [0, 0, 0],
                .dataBytes(3, [2, 1])
            ),
            (
                header("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }"),
                .header("expected a non-negative integer of at most 19 digits", offset: 51)
            ),
            (header("{'descr': '<f8', 'shape': (1,), }"), .header("no 'fortran_order'", offset: 33)),
            (
                header("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }"),
                .header("fortran_order is not True or False", offset: 39)
            ),
            (header("{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }"), .unsupportedDType("<f16")),
            (header("{'descr': '|f8', 'fortran_order': False, 'shape': (1,), }"), .unsupportedDType("|f8")),
            (
                header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}"),
                .header("an unknown key 'extra'", offset: 64)
            ),
        ]
        for (bytes, error) in cases {
            XCTAssertThrowsError(try NPY.decode(bytes)) { XCTAssertEqual($0 as? NPY.FormatError, error) }
        }
        // A 2.0 header and a shape of zero length in 3-D are fine.
        XCTAssertEqual(
            try NPY.decode(header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3, 2), }", version: 2)),
            NPYArray(descr: "<f8", shape: [0, 3, 2], values: []))
        // What wgf writes reads back.
        let values = [1.5, -0.0, .infinity, 4, 5, 6]
        XCTAssertEqual(
            try NPY.decode([UInt8](NPY.encode(values, shape: [3, 2]))),
            NPYArray(descr: "<f8", shape: [3, 2], values: values))
    }
}
