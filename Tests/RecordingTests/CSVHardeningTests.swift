import Foundation
import Recording
import TestSupport
import XCTest

/// The CSV readers on hostile input: binary files are refused by position without quoting
/// them, quoted fields are shortened and escaped, files that never end are refused, and run
/// outputs drop a last row cut short instead of parsing a cut number.
final class CSVHardeningTests: XCTestCase {
    var dir: TempDirectory!
    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    func writeBytes(_ name: String, _ bytes: [UInt8]) -> String {
        let path = (dir.path as NSString).appendingPathComponent(name)
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func error(_ read: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> InputFileError? {
        do {
            try read()
            XCTFail("read without error", file: file, line: line)
        } catch let e as InputFileError {
            return e
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    func testAnEnvironmentFileIsNotEchoed() {
        // /proc/self/environ: NUL-separated, no newline.
        let environ = Array("HOME=/root\0WGF_TEST_SECRET=correct-horse-battery-staple\0PATH=/usr/bin\0".utf8)
        let path = writeBytes("environ", environ)
        for read in [{ _ = try readPoints(path: path) }, { _ = try NumericTable.read(path: path) }] {
            let e = error(read)
            XCTAssertEqual(e?.line, 1)
            XCTAssertEqual(
                e?.message, "not a CSV text file: byte 0x00 at column 11 (expected UTF-8 text without NUL bytes)")
            XCTAssertFalse(e?.description.contains("correct-horse") ?? true)
            XCTAssertFalse(e?.description.contains("HOME") ?? true)
        }
        if FileManager.default.isReadableFile(atPath: "/proc/self/environ") {
            let e = error { _ = try readPoints(path: "/proc/self/environ") }
            XCTAssertTrue(e?.message.hasPrefix("not a CSV text file") ?? false, e?.description ?? "")
        }
    }

    func testBytesThatAreNotUTF8AreLocated() {
        let path = writeBytes("latin1.csv", Array("x1,x2\n1,2\n3,".utf8) + [0xE9] + Array("\n".utf8))
        let e = error { _ = try readPoints(path: path) }
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.message, "not a CSV text file: byte 0xE9 at column 3 (expected UTF-8 text without NUL bytes)")
    }

    func testQuotedFieldsAreShortenedAndEscaped() {
        let long = String(repeating: "7", count: 100_000) + "x"
        let e = error { _ = try NumericTable.read(path: self.dir.write("long.csv", "x1\n\(long)\n")) }
        XCTAssertEqual(e?.message, "column x1: '\(String(repeating: "7", count: 40))…' is not a number")
        let esc = error { _ = try NumericTable.read(path: self.dir.write("esc.csv", "x1\n1\u{1B}[2J\n")) }
        XCTAssertEqual(esc?.message, "column x1: '1\\u{001B}[2J' is not a number")
        let header = error { _ = try readPoints(path: self.dir.write("h.csv", "\(long)\n1\n")) }
        XCTAssertEqual(header?.message, "header '\(String(repeating: "7", count: 40))…' is not x1,...,xd")
        let line = String(repeating: "1,", count: 200_000) + "1"
        let ragged = error { _ = try NumericTable.read(path: self.dir.write("r.csv", "a,b\n\(line)\n")) }
        XCTAssertEqual(ragged?.message, "200001 fields, the header has 2")
    }

    func testFilesThatNeverEndAreRefused() throws {
        let fifo = (dir.path as NSString).appendingPathComponent("fifo.csv")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let done = expectation(description: "the reader returns")
        let paths = [fifo, "/dev/zero", dir.path]
        DispatchQueue.global().async {
            for p in paths {
                do {
                    _ = try readPoints(path: p)
                    XCTFail("\(p) was read")
                } catch let e as InputFileError {
                    XCTAssertTrue(e.message.hasPrefix("cannot read ("), e.description)
                } catch { XCTFail("\(error)") }
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
    }

    func testAByteOrderMarkIsSkipped() throws {
        let path = writeBytes("excel.csv", [0xEF, 0xBB, 0xBF] + Array("x1,x2\r\n1,2\r\n".utf8))
        let p = try readPoints(path: path)
        XCTAssertEqual(p.dimension, 2)
        XCTAssertEqual(p.points, [1, 2])
    }

    func testRunOutputsDropACutLastRow() throws {
        // A run killed while writing "10,0.5,0.1234": the file ends inside the number.
        let path = dir.write("metrics.csv", "step,time,mmd\n0,0,1.5\n5,0.25,0.75\n10,0.5,0.12")
        let run = try NumericTable.read(path: path, ending: .completeRowsOnly)
        XCTAssertEqual(run.rows, 2)
        XCTAssertEqual(run.column("mmd"), [1.5, 0.75])
        // A user's file may lack the final newline.
        let user = try NumericTable.read(path: path)
        XCTAssertEqual(user.column("mmd"), [1.5, 0.75, 0.12])
        // Complete files read the same either way; CRLF too.
        let complete = dir.write("complete.csv", "step,mmd\r\n0,1\r\n1,2\r\n")
        XCTAssertEqual(try NumericTable.read(path: complete, ending: .completeRowsOnly).values, [0, 1, 1, 2])
        let file = try CSVFile(path: path, ending: .completeRowsOnly)
        XCTAssertEqual(file.droppedLastRow, 4)
        XCTAssertEqual(file.lines.map(\.number), [1, 2, 3])
    }
}
