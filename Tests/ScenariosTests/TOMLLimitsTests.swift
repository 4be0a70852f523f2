import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// The TOML reader on hostile input: nesting is bounded with a located error (parsing, and the
/// readers and writer after it, recurse once per level), any bytes at all give a located
/// error, and messages quote at most a shortened piece of the input.
final class TOMLLimitsTests: XCTestCase {
    let message = "nested more than 64 levels deep (arrays, inline tables and dotted keys count); flatten the data"

    func testFiftyThousandLevelsAreALocatedError() {
        let deep = 50_000
        let cases: [(String, Int, Int)] = [
            (
                "title = \"x\"\na = " + String(repeating: "[", count: deep) + String(repeating: "]", count: deep)
                    + "\n", 2, 5 + 64
            ),
            (
                "a = " + String(repeating: "{ b = ", count: deep) + "1" + String(repeating: " }", count: deep) + "\n",
                1, 5 + 64 * 6
            ),
            (String(repeating: "a.", count: deep) + "b = 1\n", 1, 1),
            ("x = 1\n[" + String(repeating: "t.", count: deep) + "u]\n", 2, 1),
            ("[[" + String(repeating: "t.", count: deep) + "u]]\n", 1, 1),
            ("a = [" + String(repeating: "{ b = [", count: deep) + "\n", 1, 12 + 31 * 7),
        ]
        for (text, line, column) in cases {
            guard let e = syntaxError(text) else { continue }
            XCTAssertEqual(e.line, line, String(text.prefix(30)))
            XCTAssertEqual(e.column, column, String(text.prefix(30)))
            XCTAssertEqual(e.message, message)
        }
        XCTAssertEqual(valueError(String(repeating: "[", count: deep))?.message, message)
    }

    func testSixtyFourLevelsAreAccepted() throws {
        func nested(_ n: Int) -> String { String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n) }
        XCTAssertNoThrow(try TOMLParser.parse("a = \(nested(64))\n"))
        XCTAssertNotNil(syntaxError("a = \(nested(65))\n"))
        // Levels add up across a header, a dotted key, inline tables and arrays.
        let header = (1...30).map { "h\($0)" }.joined(separator: ".")
        let key = (1...20).map { "k\($0)" }.joined(separator: ".")
        // 30 tables of the header, 19 of the dotted key, the inline table, 14 arrays: 64.
        XCTAssertNoThrow(try TOMLParser.parse("[\(header)]\n\(key) = { a = \(nested(14)) }\n"))
        let e = syntaxError("[\(header)]\n\(key) = { a = \(nested(15)) }\n")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.message, message)
    }

    func testDeepAcceptedValuesWriteAndCompareWithoutRecursionTrouble() throws {
        let n = 62
        let text =
            "{ a = " + String(repeating: "[", count: n) + "1.5" + String(repeating: "]", count: n)
            + ", b = " + String(repeating: "{ c = ", count: n) + "2" + String(repeating: " }", count: n) + " }"
        let value = try TOMLParser.parseValue(text)
        XCTAssertEqual(try TOMLParser.parseValue(TOMLWriter.inline(value)), value)
        XCTAssertNoThrow(try TOMLParser.parse(TOMLWriter.write(value)))
    }

    func testOverrideKeysAreBounded() {
        let dir = TempDirectory()
        let path = dir.write("s.toml", baseScenario)
        let override = String(repeating: "a.", count: 50_000) + "b=1"
        let e = loadError(path, overrides: [override])
        XCTAssertTrue(e.hasSuffix(": the key has 50001 segments (at most 64)"), String(e.prefix(300)))
        XCTAssertLessThan(e.count, 300)
        XCTAssertTrue(
            loadError(path, overrides: ["target." + String(repeating: "a.", count: 60) + "b=1"]).contains("unknown key")
        )
    }

    func testBytesThatAreNotUTF8AreLocated() throws {
        let dir = TempDirectory()
        let path = (dir.path as NSString).appendingPathComponent("bad.toml")
        let bytes = Array("title = \"ok\"\nseed = 3 # caf".utf8) + [0xE9] + Array(" au lait\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(loadError(path), "\(path):2:15: the file is not UTF-8 text (byte 0xE9 here)")
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            XCTAssertThrowsError(try TOMLParser.parse(bytes: Array("a = \"".utf8) + bad + Array("\"\n".utf8))) { e in
                XCTAssertEqual((e as? TOMLSyntaxError)?.column, 6, "\(bad)")
            }
        }
    }

    func testByteOrderMarkAndCRLFAreAccepted() throws {
        let dir = TempDirectory()
        let path = (dir.path as NSString).appendingPathComponent("windows.toml")
        let text = baseScenario.replacingOccurrences(of: "\n", with: "\r\n")
        try Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)).write(to: URL(fileURLWithPath: path))
        let s = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertEqual(s.simulation.steps, 5)
        // The BOM takes no column.
        let e = syntaxError("\u{FEFF}a = $\n")
        XCTAssertEqual(e?.column, 5)
    }

    func testControlCharactersInStringsAreRejected() {
        let cases: [(String, Int)] = [
            ("a = \"x\u{0}y\"\n", 7), ("a = \"x\u{1}y\"\n", 7), ("a = 'x\u{7F}y'\n", 7), ("a = \"x\ry\"\n", 7),
            ("a = \"\"\"\nx\u{1B}[2J\"\"\"\n", 2), ("a = '''x\u{0}'''\n", 9),
        ]
        for (text, column) in cases {
            guard let e = syntaxError(text) else { continue }
            XCTAssertTrue(e.message.hasPrefix("control character in a string (U+00"), e.message)
            if column > 2 { XCTAssertEqual(e.column, column, text.debugDescription) }
        }
        XCTAssertNoThrow(try TOMLParser.parse("a = \"tab\there\"\nb = \"\"\"\r\nline\r\n\"\"\"\nc = \"\\u0001\"\n"))
        // A NUL between tokens is reported as what it is.
        XCTAssertEqual(syntaxError("a = 1\u{0}\n")?.message, "expected the end of the line, found '\\u{0000}'")
    }

    func testUnicodeEscapesNeedHexDigits() {
        for text in ["a = \"\\u+123\"\n", "a = \"\\u 123\"\n", "a = \"\\U-0000041\"\n", "a = \"\\uD800\"\n"] {
            XCTAssertTrue(syntaxError(text)?.message.hasPrefix("invalid unicode escape") ?? false, text)
        }
        XCTAssertEqual(try TOMLParser.parseValue("\"\\u00e9\\U0001D11E\""), .string("é𝄞"))
    }

    func testMessagesQuoteShortenedInput() {
        let long = String(repeating: "k", count: 100_000)
        let texts = [
            "\(long) 1\n", "a = \(long)\n", "a = 1\n\(long) = 2\n\(long) = 3\n", "\(long) = 1\n[\(long)]\n",
            "a = \"\(long)\" x\n", "a = [1 \(long)]\n", "a = 1\n[a.\(long)]\n",
        ]
        for text in texts {
            guard let e = syntaxError(text) else { continue }
            XCTAssertLessThan(e.message.count, 300, String(e.message.prefix(300)))
        }
        let dir = TempDirectory()
        let path = dir.write("s.toml", edit(baseScenario, "title = \"tiny\"", "title = \"tiny\"\n\(long) = 1"))
        XCTAssertLessThan(loadError(path).count, 600)
        let kind = dir.write("k.toml", edit(baseScenario, "kind = \"svgd\"", "kind = \"\(long)\""))
        XCTAssertLessThan(loadError(kind).count, 600)
        let file = dir.write(
            "f.toml",
            edit(
                baseScenario, "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }",
                "init = { kind = \"file\", file = \"\(long)\" }"))
        let e = loadError(file)
        XCTAssertTrue(e.contains("population.init.file: /"), e)
        XCTAssertLessThan(e.count, 600)
    }
}
