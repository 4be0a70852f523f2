import Flows
import Foundation
import Scenarios
import XCTest

/// A small valid scenario (2-D mixture, SVGD, 20 particles, 5 steps). Line numbers matter
/// to the tests: 3 steps, 4 step-size, 6 [target], 7 target.kind, 10 std, 12 [population],
/// 13 count, 14 init, 16 [flow], 17 flow.kind, 19 [record], 20 metrics, 22 [[expect]],
/// 23-24 expect[1], 26 [[expect]], 27-29 expect[2].
let baseScenario = """
    title = "tiny"
    seed = 3
    steps = 5
    step-size = 0.05

    [target]
    kind = "gaussian-mixture"
    weights = [0.5, 0.5]
    means = [[-2, 0], [2, 0]]
    std = 0.6

    [population]
    count = 20
    init = { kind = "gaussian", mean = [0, 4], std = 0.5 }

    [flow]
    kind = "svgd"

    [record]
    metrics = ["ksd", "mean-error"]

    [[expect]]
    metric = "ksd"
    at-most = 10

    [[expect]]
    metric = "mean-error"
    at-least = 0.001
    by-step = 4

    """

/// `text` with the one occurrence of `old` replaced by `new` (fails the test if `old` is not there exactly once).
func edit(_ text: String, _ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    let n = text.components(separatedBy: old).count - 1
    XCTAssertEqual(n, 1, "'\(old)' occurs \(n) times in the scenario", file: file, line: line)
    return text.replacingOccurrences(of: old, with: new)
}

/// The 1-based line of the first line of `text` that contains `needle`.
func lineOf(_ needle: String, in text: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
    let lines = text.components(separatedBy: "\n")
    guard let i = lines.firstIndex(where: { $0.contains(needle) }) else {
        XCTFail("'\(needle)' not in the scenario", file: file, line: line)
        return -1
    }
    return i + 1
}

/// Loads `path`, expecting a ScenarioError; returns its message ("" after a test failure).
func loadError(
    _ path: String, contents: [UInt8]? = nil, overrides: [String] = [], file: StaticString = #filePath,
    line: UInt = #line
) -> String {
    do {
        _ = try ScenarioLoader.load(path: path, contents: contents, overrides: overrides, threads: 1)
        XCTFail("the scenario loaded but an error was expected", file: file, line: line)
        return ""
    } catch let e as ScenarioError {
        return e.description
    } catch {
        XCTFail("unexpected error type \(type(of: error)): \(error)", file: file, line: line)
        return ""
    }
}

/// The resolved TOML without its leading comment lines (which name the source file).
func resolvedBody(_ toml: String) -> String {
    toml.components(separatedBy: "\n").drop { $0.hasPrefix("#") }.joined(separator: "\n")
}

/// The lines of a resolved TOML, for membership checks.
func lines(_ toml: String) -> [String] { toml.components(separatedBy: "\n") }

/// A syntax error from TOMLParser.parse, or nil (with a test failure) if the text parses.
func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLSyntaxError? {
    do {
        _ = try TOMLParser.parse(text)
        XCTFail("parsed without error: \(text.debugDescription)", file: file, line: line)
    } catch let e as TOMLSyntaxError {
        return e
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}

/// A syntax error from TOMLParser.parseValue, or nil (with a test failure).
func valueError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLSyntaxError? {
    do {
        let v = try TOMLParser.parseValue(text)
        XCTFail("\(text.debugDescription) parsed as \(v)", file: file, line: line)
    } catch let e as TOMLSyntaxError {
        return e
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}

/// Asserts a syntax error at `line`:`column` whose message contains `message`; `name` (a table's
/// row) starts every failure message.
func assertSyntaxError(
    _ e: TOMLSyntaxError?, line: Int, column: Int, _ message: String, name: String? = nil,
    file: StaticString = #filePath, sourceLine: UInt = #line
) {
    guard let e else { return }
    let row = name.map { "\($0): " } ?? ""
    XCTAssertEqual(e.line, line, "\(row)line of: \(e.message)", file: file, line: sourceLine)
    XCTAssertEqual(e.column, column, "\(row)column of: \(e.message)", file: file, line: sourceLine)
    XCTAssertTrue(
        e.message.contains(message), "\(row)'\(e.message)' does not contain '\(message)'", file: file, line: sourceLine)
}

/// A table of texts that must not parse, each with the line, the column (nil: any) and a part
/// of the message of its syntax error; `parse` is `syntaxError` (documents) or `valueError`
/// (values). A failure names the row's text.
func assertSyntaxErrors(
    _ rows: [(text: String, line: Int, column: Int?, message: String)],
    parse: (String, StaticString, UInt) -> TOMLSyntaxError? = syntaxError,
    file: StaticString = #filePath, line: UInt = #line
) {
    for row in rows {
        let e = parse(row.text, file, line)
        assertSyntaxError(
            e, line: row.line, column: row.column ?? e?.column ?? 0, row.message, name: row.text.debugDescription,
            file: file, sourceLine: line)
    }
}
