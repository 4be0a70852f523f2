import Foundation
import Recording
import TestSupport
import XCTest

final class CSVTests: XCTestCase {
    var dir: TempDirectory!
    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    func readError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (String, InputFileError?) {
        let path = dir.write("t.csv", text)
        do {
            let t = try NumericTable.read(path: path)
            XCTFail("read \(t.rows) rows without error", file: file, line: line)
        } catch let e as InputFileError {
            return (path, e)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return (path, nil)
    }

    func pointsError(
        _ text: String, allowWeights: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) -> (String, InputFileError?) {
        let path = dir.write("p.csv", text)
        do {
            let p = try readPoints(path: path, allowWeights: allowWeights)
            XCTFail("read \(p.points.count) values without error", file: file, line: line)
        } catch let e as InputFileError {
            return (path, e)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return (path, nil)
    }

    func testHeaderAndColumns() throws {
        let path = dir.write("m.csv", "step, time ,mmd\n0,0.0,1.5\n\n1, 0.1 ,2.5e-3\n\n  \n")
        let t = try NumericTable.read(path: path)
        XCTAssertEqual(t.header, ["step", "time", "mmd"])
        XCTAssertEqual(t.rows, 2)
        XCTAssertEqual(t.values, [0, 0, 1.5, 1, 0.1, 2.5e-3])
        XCTAssertEqual(t.column("mmd"), [1.5, 2.5e-3])
        XCTAssertEqual(t.column("time"), [0, 0.1])
        XCTAssertNil(t.column("ksd"))
    }

    func testNoDataRows() throws {
        let t = try NumericTable.read(path: dir.write("h.csv", "a,b\n"))
        XCTAssertEqual(t.header, ["a", "b"])
        XCTAssertEqual(t.rows, 0)
        XCTAssertEqual(t.column("a"), [])
        let (path, e) = pointsError("x1,x2\n\n")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.description, "\(path):2: no data rows")
    }

    func testEmptyFile() {
        for text in ["", "\n", "  \n\n"] {
            let (path, e) = readError(text)
            XCTAssertEqual(e?.line, 1)
            XCTAssertEqual(e?.description, "\(path):1: empty file (expected a header line)")
        }
    }

    func testMissingFile() {
        let path = dir.path + "/absent.csv"
        XCTAssertThrowsError(try NumericTable.read(path: path)) { e in
            guard let e = e as? InputFileError else { return XCTFail("\(e)") }
            XCTAssertNil(e.line)
            XCTAssertEqual(e.path, path)
            XCTAssertTrue(e.description.hasPrefix("\(path): cannot read"), e.description)
        }
    }

    func testRaggedRowNamesTheLine() {
        let (path, e) = readError("a,b\n1,2\n\n3\n4,5\n")
        XCTAssertEqual(e?.line, 4)
        XCTAssertEqual(e?.message, "1 fields, the header has 2")
        XCTAssertEqual(e?.description, "\(path):4: 1 fields, the header has 2")
        let (_, e2) = readError("a,b\n1,2,\n")
        XCTAssertEqual(e2?.line, 2)
        XCTAssertEqual(e2?.message, "3 fields, the header has 2")
    }

    func testNonNumberNamesLineAndColumn() {
        let (path, e) = readError("x1,x2,x3\n1,2,3\n4, five ,6\n")
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.description, "\(path):3: column x2: 'five' is not a number")
        let (_, e2) = readError("a,b\n1,\n")
        XCTAssertEqual(e2?.message, "column b: '' is not a number")
    }

    func testCRLF() throws {
        let path = dir.write("crlf.csv", "x1,x2\r\n1,2\r\n3,4\r\n")
        let t: NumericTable
        t = try NumericTable.read(path: path)
        XCTAssertEqual(t.header, ["x1", "x2"])
        XCTAssertEqual(t.rows, 2)
        XCTAssertEqual(t.values, [1, 2, 3, 4])
        let p = try readPoints(path: path)
        XCTAssertEqual(p.dimension, 2)
        XCTAssertEqual(p.points, [1, 2, 3, 4])
    }

    func testReadPoints() throws {
        let p = try readPoints(path: dir.write("p.csv", "x1,x2,x3\n1,2,3\n4,5,6\n"))
        XCTAssertEqual(p.dimension, 3)
        XCTAssertEqual(p.points, [1, 2, 3, 4, 5, 6])
        XCTAssertNil(p.weights)
        let one = try readPoints(path: dir.write("one.csv", "x1\n-1.5\n"))
        XCTAssertEqual(one.dimension, 1)
        XCTAssertEqual(one.points, [-1.5])
    }

    func testWeightsColumn() throws {
        let path = dir.write("w.csv", "x1,w,x2\n1,0.25,2\n3,0.75,4\n")
        let p = try readPoints(path: path, allowWeights: true)
        XCTAssertEqual(p.dimension, 2)
        XCTAssertEqual(p.points, [1, 2, 3, 4])
        XCTAssertEqual(p.weights, [0.25, 0.75])
        // Without allowWeights, w is a bad header.
        let (path2, e) = pointsError("x1,w,x2\n1,0.25,2\n")
        XCTAssertEqual(e?.line, 1)
        XCTAssertEqual(e?.description, "\(path2):1: header 'x1,w,x2' is not x1,...,xd")
        let (_, e2) = pointsError("y1\n1\n", allowWeights: true)
        XCTAssertEqual(e2?.message, "header 'y1' is not x1,...,xd and optionally w")
        // Only w: no coordinates.
        let (_, e3) = pointsError("w\n1\n", allowWeights: true)
        XCTAssertEqual(e3?.line, 1)
    }

    func testBadHeaders() {
        for header in ["x2,x1", "x1,x3", "x1,x1", "X1", "a,b", "x0", "x1,"] {
            let (_, e) = pointsError(
                "\(header)\n"
                    + String(
                        repeating: "1,", count: header.split(separator: ",", omittingEmptySubsequences: false).count - 1
                    ) + "1\n")
            XCTAssertEqual(e?.line, 1, header)
            XCTAssertEqual(e?.message, "header '\(header)' is not x1,...,xd", header)
        }
    }

    func testNonFinitePointsRejected() {
        for v in ["nan", "inf", "-inf"] {
            let (path, e) = pointsError("x1,x2\n1,2\n3,\(v)\n")
            XCTAssertNil(e?.line)
            XCTAssertEqual(e?.description, "\(path): contains NaN or infinite values")
        }
        // A plain numeric table accepts them (metrics may be NaN).
        XCTAssertNoThrow(try NumericTable.read(path: dir.write("n.csv", "a\nnan\ninf\n")))
    }
}
