import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

final class TOMLWriterTests: XCTestCase {
    static let awkward =
        "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} del \u{7F} nul \u{00} é 😀 # not a comment"

    /// A nested value with every kind of entry.
    static let nested: SettingValue = .table([
        ("int", .integer(-42)),
        ("big", .integer(Int.min)),
        ("one", .real(1.0)),
        ("small", .real(1e-06)),
        ("tiny", .real(.leastNonzeroMagnitude)),
        ("huge", .real(.greatestFiniteMagnitude)),
        ("neg-zero", .real(-0.0)),
        ("inf", .real(-.infinity)),
        ("flag", .bool(false)),
        ("text", .string(awkward)),
        ("key with spaces", .string("")),
        ("dot.ted", .array([.real(0.1), .integer(2), .string("x"), .array([])])),
        ("", .integer(0)),
        (
            "sub",
            .table([
                ("x", .real(2.5)),
                ("deeper", .table([("y", .array([.array([.integer(1)]), .array([.real(1.0)])]))])),
            ])
        ),
        (
            "items",
            .array([
                .table([("name", .string("a")), ("at-most", .real(1.0)), ("inner", .table([("k", .integer(1))]))]),
                .table([("name", .string("b\"c")), ("list", .array([.table([("z", .bool(true))])]))]),
            ])
        ),
        ("empty", .table([])),
    ])

    func testInlineRoundTrip() throws {
        let v = Self.nested
        XCTAssertEqual(try TOMLParser.parseValue(TOMLWriter.inline(v)), v)
        for item in [SettingValue.real(1.0), .real(1e-06), .real(-1.5e300), .integer(7), .string(Self.awkward)] {
            XCTAssertEqual(try TOMLParser.parseValue(TOMLWriter.inline(item)), item, "\(item)")
        }
        // 1.0 is written as a real, not as the integer 1.
        XCTAssertEqual(TOMLWriter.inline(.real(1.0)), "1.0")
        XCTAssertEqual(TOMLWriter.inline(.real(1e-06)), "1e-06")
        XCTAssertEqual(TOMLWriter.inline(.integer(1)), "1")
        XCTAssertEqual(TOMLWriter.inline(.real(.nan)), "nan")
        guard case .real(let z) = try TOMLParser.parseValue(TOMLWriter.inline(.real(-0.0))) else { return XCTFail() }
        XCTAssertEqual(z.sign, .minus)
    }

    func testRandomRealsRoundTripExactly() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let x = Double(bitPattern: g.next())
            guard x.isFinite else { continue }
            guard case .real(let y) = try TOMLParser.parseValue(TOMLWriter.inline(.real(x))) else {
                return XCTFail("\(x) did not read back as a real")
            }
            XCTAssertEqual(y.bitPattern, x.bitPattern, "\(x)")
        }
    }

    func testDocumentLayout() {
        let v: SettingValue = .table([
            ("b", .table([("c", .integer(1))])),
            ("a", .real(1.0)),
            (
                "list",
                .array([
                    .table([("k", .string("x"))]), .table([("k", .string("y")), ("s", .table([("t", .bool(true))]))]),
                ])
            ),
            ("weird key", .integer(2)),
            ("nums", .array([.integer(1), .real(2.0)])),
        ])
        let expected = """
            # header
            a = 1.0
            "weird key" = 2
            nums = [1, 2.0]

            [b]
            c = 1

            [[list]]
            k = "x"

            [[list]]
            k = "y"

            [list.s]
            t = true

            """
        XCTAssertEqual(TOMLWriter.write(v, header: "# header\n"), expected)
        XCTAssertNoThrow(try TOMLParser.parse(expected))
        XCTAssertEqual(TOMLWriter.write(.integer(1)), "")
    }

    func testDocumentOfAwkwardKeysParses() {
        let text = TOMLWriter.write(Self.nested)
        XCTAssertNoThrow(try TOMLParser.parse(text), text)
        XCTAssertTrue(text.contains("\n[[items]]\n"), text)
        XCTAssertTrue(text.contains("\n[items.inner]\n"), text)
        XCTAssertTrue(text.contains("\n[sub.deeper]\n"), text)
        XCTAssertTrue(text.contains("\n\"dot.ted\" = [0.1, 2, \"x\", []]\n"), text)
        XCTAssertTrue(text.contains("\n\"\" = 0\n"), text)
    }

    /// write → parse through the scenario loader: a scenario given as a value, with arrays
    /// of tables (expect), nested tables (population.init), strings needing escapes and reals.
    func testDocumentRoundTripThroughTheLoader() throws {
        let dir = TempDirectory()
        let title = "a \"title\"\twith\\escapes\né"
        let scenario: SettingValue = .table([
            ("title", .string(title)),
            ("steps", .integer(4)),
            ("step-size", .real(1e-06)),
            (
                "target",
                .table([
                    ("kind", .string("gaussian")), ("mean", .array([.real(1.0), .integer(-1)])), ("std", .real(1.0)),
                ])
            ),
            (
                "population",
                .table([
                    ("count", .integer(10)),
                    (
                        "init",
                        .table([
                            ("kind", .string("uniform")), ("low", .real(-1.0)),
                            ("high", .array([.integer(1), .real(2.0)])),
                        ])
                    ),
                ])
            ),
            (
                "flow",
                .table([
                    ("kind", .string("mmd")), ("target-samples", .integer(30)),
                    ("kernel", .string("gaussian:sigma=1.5")),
                ])
            ),
            ("record", .table([("metrics", .array([.string("energy"), .string("mean-error")]))])),
            (
                "expect",
                .array([
                    .table([("metric", .string("energy")), ("at-most", .real(1.0))]),
                    .table([("metric", .string("mean-error")), ("at-least", .real(1e-06)), ("by-step", .integer(2))]),
                ])
            ),
        ])
        let path = dir.write("written.toml", TOMLWriter.write(scenario))
        let s = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertEqual(s.simulation.title, title)
        XCTAssertEqual(s.simulation.stepSize, 1e-06)
        XCTAssertEqual(s.simulation.state.populations[0].count, 10)
        XCTAssertEqual(
            s.simulation.expectations,
            [
                Expectation(metric: "energy", bound: .atMost(1), byStep: 4),
                Expectation(metric: "mean-error", bound: .atLeast(1e-06), byStep: 2),
            ])
        XCTAssertEqual(try ScenarioLoader.expectations(path: path), s.simulation.expectations)
        let resolved = lines(s.resolvedTOML)
        XCTAssertTrue(resolved.contains("at-most = 1.0"), s.resolvedTOML)
        XCTAssertTrue(resolved.contains("step-size = 1e-06"), s.resolvedTOML)
        XCTAssertTrue(resolved.contains("high = [1, 2.0]"), s.resolvedTOML)
    }
}
