import InputText
import XCTest

final class ExcerptTests: XCTestCase {
    func testShortTextIsShownAsIs() {
        XCTAssertEqual(Excerpt.quote("1.5e3"), "1.5e3")
        XCTAssertEqual(Excerpt.quote("héllo ✓"), "héllo ✓")
        XCTAssertEqual(Excerpt.quote(""), "")
    }

    func testLongTextIsCutWithAnEllipsis() {
        let long = String(repeating: "a", count: 10_000)
        XCTAssertEqual(Excerpt.quote(long), String(repeating: "a", count: Excerpt.limit) + "…")
        XCTAssertEqual(
            Excerpt.quote(String(repeating: "a", count: Excerpt.limit)), String(repeating: "a", count: Excerpt.limit))
        XCTAssertEqual(Excerpt.quote("abcdef", limit: 3), "abc…")
    }

    func testControlsAndInvalidUTF8AreEscaped() {
        XCTAssertEqual(Excerpt.quote(bytes: Array("a\u{0}b\u{1B}[2J\n\t\r".utf8)), "a\\u{0000}b\\u{001B}[2J\\n\\t\\r")
        XCTAssertEqual(Excerpt.quote(bytes: [0x41, 0xFF, 0xC3, 0x28, 0x42]), "A\\xFF\\xC3(B")
        // Bidirectional overrides could reorder the terminal line.
        XCTAssertEqual(Excerpt.quote("a\u{202E}b"), "a\\u{202E}b")
    }

    func testEnvironmentLikeInputIsNotEchoed() {
        let environ = Array("PATH=/usr/bin\0HOME=/root\0SECRET_TOKEN=abcdefghijklmnopqrstuvwxyz0123456789\0".utf8)
        let shown = Excerpt.quote(bytes: environ)
        XCTAssertFalse(shown.contains("SECRET_TOKEN=abcdefghijklmnopqrstuvwxyz0123456789"), shown)
        XCTAssertTrue(shown.hasSuffix("…"))
    }

    func testUTF8ScanFindsTheFirstInvalidByte() {
        XCTAssertNil(UTF8Scan.firstInvalid(in: Array("ok ✓ 𝄞".utf8)))
        XCTAssertEqual(UTF8Scan.firstInvalid(in: [0x61, 0x62, 0xFF]), 2)
        XCTAssertEqual(UTF8Scan.firstInvalid(in: [0x61, 0xC0, 0x80]), 1, "overlong")
        XCTAssertEqual(UTF8Scan.firstInvalid(in: [0xED, 0xA0, 0x80]), 0, "surrogate")
        XCTAssertEqual(UTF8Scan.firstInvalid(in: [0xF4, 0x90, 0x80, 0x80]), 0, "above U+10FFFF")
        XCTAssertEqual(UTF8Scan.firstInvalid(in: [0x61, 0xE2, 0x9C]), 1, "cut at the end")
    }

    func testWindowKeepsTheCaretUnderItsColumn() {
        XCTAssertEqual(Excerpt.window("x1 +\n $", column: 7).text, "x1 +  $")
        XCTAssertEqual(Excerpt.window("x1 +\n $", column: 7).caret, 6)
        let long = (0..<1000).map { _ in "x1" }.joined(separator: "+") + "$"
        let column = long.unicodeScalars.count
        let (text, caret) = Excerpt.window(long, column: column, width: 60)
        XCTAssertLessThanOrEqual(text.count, 62)
        XCTAssertTrue(text.hasPrefix("…"))
        XCTAssertEqual(Array(text)[caret], "$")
        let (middle, at) = Excerpt.window(long, column: 1501, width: 60)
        XCTAssertTrue(middle.hasPrefix("…") && middle.hasSuffix("…"), middle)
        XCTAssertEqual(Array(middle)[at], Array(long)[1500])
    }
}
