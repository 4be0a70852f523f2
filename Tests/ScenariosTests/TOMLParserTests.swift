import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// The parser's values through `parseValue` (the `--set` entry point), its documents through
/// `parse` (errors) and through ScenarioLoader (structure: TOMLTable's contents are not public).
final class TOMLParserTests: XCTestCase {
    func value(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SettingValue? {
        do { return try TOMLParser.parseValue(text) } catch {
            XCTFail("\(text.debugDescription) does not parse: \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: values

    func testBasicStringEscapes() {
        XCTAssertEqual(value(#""a\nb\"c\u00e9\\d\te\U0001F600""#), .string("a\nb\"cé\\d\te😀"))
        XCTAssertEqual(value(#""\b\f\r""#), .string("\u{08}\u{0C}\r"))
        XCTAssertEqual(value(#""""#), .string(""))
        XCTAssertEqual(value("\"café ☃\""), .string("café ☃"))
    }

    func testLiteralStrings() {
        XCTAssertEqual(value(#"'C:\Users\n "quoted"'"#), .string(#"C:\Users\n "quoted""#))
        XCTAssertEqual(value("''"), .string(""))
    }

    func testMultiLineBasicStrings() {
        // The newline right after the opening quotes is trimmed.
        XCTAssertEqual(value("\"\"\"\nfirst\n  second\"\"\""), .string("first\n  second"))
        // A line-ending backslash removes the newline and the whitespace that follows.
        XCTAssertEqual(value("\"\"\"The quick \\\n     brown \\   \n\n  fox\"\"\""), .string("The quick brown fox"))
        // Escapes still apply; up to two quotes may end the content.
        XCTAssertEqual(value("\"\"\"a \\u00e9 \"\" b\"\"\"\"\""), .string("a é \"\" b\"\""))
        // CRLF right after the opening quotes is trimmed too.
        XCTAssertEqual(value("\"\"\"\r\nx\"\"\""), .string("x"))
    }

    func testMultiLineLiteralStrings() {
        XCTAssertEqual(value("'''\nraw \\n text\\\n  kept'''"), .string("raw \\n text\\\n  kept"))
        XCTAssertEqual(value("'''one 'quoted' ''two'''''"), .string("one 'quoted' ''two''"))
    }

    func testIntegers() {
        let cases: [(String, Int)] = [
            ("0", 0), ("+17", 17), ("-17", -17), ("-0", 0), ("1_000", 1000), ("5_349_221", 5_349_221),
            ("0xDEAD_beef", 0xDEAD_BEEF), ("0xff", 255), ("0o755", 0o755), ("0b1101", 13),
            ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ]
        for (text, expected) in cases { XCTAssertEqual(value(text), .integer(expected), text) }
    }

    func testFloats() {
        let cases: [(String, Double)] = [
            ("1.0", 1), ("3.1415", 3.1415), ("-0.01", -0.01), ("+1.5", 1.5), ("5e+22", 5e22), ("1e06", 1e6),
            ("-2E-2", -0.02), ("6.626e-34", 6.626e-34), ("1e-06", 1e-6), ("1_000.5", 1000.5), ("0.0", 0),
            ("inf", .infinity), ("+inf", .infinity), ("-inf", -.infinity),
        ]
        for (text, expected) in cases {
            guard case .real(let v)? = value(text) else {
                XCTFail("\(text) is not a real")
                continue
            }
            XCTAssertEqual(v, expected, text)
        }
        // 1.0 stays real (not the integer 1); -0.0 keeps its sign.
        XCTAssertNotEqual(value("1.0"), .integer(1))
        guard case .real(let z)? = value("-0.0") else { return XCTFail("-0.0 is not a real") }
        XCTAssertEqual(z.sign, .minus)
        for text in ["nan", "+nan", "-nan"] {
            guard case .real(let v)? = value(text) else {
                XCTFail("\(text) is not a real")
                continue
            }
            XCTAssertTrue(v.isNaN, text)
        }
    }

    func testBooleans() {
        XCTAssertEqual(value("true"), .bool(true))
        XCTAssertEqual(value("false"), .bool(false))
        XCTAssertNotNil(valueError("truee"))
        XCTAssertNotNil(valueError("True"))
    }

    func testMultiLineArraysWithCommentsAndTrailingComma() {
        let text = """
            [
              1,        # one
              2.5,      # a real
              # a comment line
              "x",
              [ 'nested', [ ] ],
              { a = 1 },
            ]
            """
        XCTAssertEqual(
            value(text),
            .array([
                .integer(1), .real(2.5), .string("x"), .array([.string("nested"), .array([])]),
                .table([("a", .integer(1))]),
            ]))
        XCTAssertEqual(value("[ ]"), .array([]))
        XCTAssertEqual(value("[1,2,]"), .array([.integer(1), .integer(2)]))
        XCTAssertEqual(value("[\r\n  1, # c\r\n  2\r\n]"), .array([.integer(1), .integer(2)]))
    }

    func testNestedInlineTablesAndKeys() {
        let text = #"{ a = 1, b.c = "x", "quoted key" = { d = [1, 2], e = { f = true } }, 'lit' = 2, bare-key_1 = 3 }"#
        XCTAssertEqual(
            value(text),
            .table([
                ("a", .integer(1)),
                ("b", .table([("c", .string("x"))])),
                (
                    "quoted key",
                    .table([("d", .array([.integer(1), .integer(2)])), ("e", .table([("f", .bool(true))]))])
                ),
                ("lit", .integer(2)),
                ("bare-key_1", .integer(3)),
            ]))
        XCTAssertEqual(value("{}"), .table([]))
        XCTAssertEqual(
            value("{ a . b . c = 1 , a.d = 2 }"),
            .table([("a", .table([("b", .table([("c", .integer(1))])), ("d", .integer(2))]))]))
    }

    func testParseValueSurroundingSpaces() {
        XCTAssertEqual(value("  7  "), .integer(7))
        assertSyntaxError(valueError("7 8"), line: 1, column: 3, "unexpected text after the value")
        // A bare word is not a value (the --set layer then takes it as a string).
        XCTAssertNotNil(valueError("gaussian"))
        XCTAssertNotNil(valueError("gaussian:sigma=2"))
        XCTAssertNotNil(valueError(""))
    }

    func testBadNumbers() {
        for text in [
            "01", "-01", "00", "1.", ".5", "-.5", "1.e5", "1e", "1__0", "_1", "1_", "0x", "0xG", "1-2", "+0x10",
            "0b102", "0o8", "9223372036854775808", "1e5.5", "infinity",
        ] {
            guard let e = valueError(text) else { continue }
            XCTAssertEqual(e.line, 1, text)
            XCTAssertEqual(e.column, 1, text)
            XCTAssertTrue(e.message.contains("'\(text)' is not a valid value"), "\(text): \(e.message)")
        }
    }

    func testDatesRejected() {
        assertSyntaxErrors(
            [
                "1979-05-27", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27 07:32:00",
                "1979-05-27T00:32:00.999999-07:00",
            ]
            .map { ($0, 1, 1, "dates and times are not supported") }, parse: valueError)
        assertSyntaxErrors([("a = 1\nd = 1979-05-27\n", 2, 5, "dates and times are not supported")])
    }

    func testBadStringsAndEscapes() {
        assertSyntaxErrors(
            [
                (#""abc"#, 1, 5, "unterminated string"),
                ("'abc", 1, 5, "unterminated string"),
                (#""a\qb""#, 1, 4, "invalid escape sequence"),
                ("\"\"\"abc\n", 2, 1, "unterminated multi-line string"),
            ], parse: valueError)
        XCTAssertNotNil(valueError(#""\uD800""#))  // a surrogate is not a scalar
        XCTAssertNotNil(valueError(#""\u12""#))
    }

    func testBadArraysAndInlineTables() {
        XCTAssertNotNil(valueError("[1, 2"))
        assertSyntaxErrors(
            [
                ("[1 2]", 1, 4, "expected ',' or ']'"),
                ("{ a = 1, }", 1, 10, "expected a key"),
                ("{ a = 1 b = 2 }", 1, 9, "expected ',' or '}'"),
            ], parse: valueError)
        XCTAssertNotNil(valueError("{ a = 1,\n b = 2 }"))
        guard let dup = valueError("{ a = 1, a = 2 }") else { return }
        XCTAssertTrue(dup.message.contains("duplicate key 'a'"), dup.message)
    }

    // MARK: documents

    func testDocumentParses() throws {
        let text = """
            # comment
            a = 1 # trailing comment
            "quoted key" = "v"
            'literal key' = 'v'
            dotted . key = 2
            dotted.other = 3
            [t]
            x = [
              1, # in an array
              2,
            ]
            [a2.b.c]
            [a2]
            y = 1
            [a2.b]
            z = 2
            [[arr]]
            n = 1
            [arr.sub]
            m = 1
            [[arr]]
            n = 2
            [[arr.inner]]
            k = 1
            """
        XCTAssertNoThrow(try TOMLParser.parse(text))
        XCTAssertNoThrow(try TOMLParser.parse(""))
        XCTAssertNoThrow(try TOMLParser.parse("# only a comment"))
        XCTAssertNoThrow(try TOMLParser.parse(text.replacingOccurrences(of: "\n", with: "\r\n")))
    }

    func testDuplicateKey() {
        assertSyntaxErrors([
            ("a = 1\nb = 2\na = 3\n", 3, nil, "duplicate key 'a' (first defined on line 1)"),
            ("[t]\nx.y = 1\nx.y = 2\n", 3, nil, "duplicate key 'x.y' (first defined on line 2)"),
        ])
        XCTAssertNotNil(syntaxError("a = 1\n\"a\" = 2\n"))  // quoted and bare spellings are the same key
    }

    func testDuplicateKeyIsLocatedAtTheKey() throws {
        // The error should point at the repeated key (line 3, column 1), not past its value.
        let e = syntaxError("a = 1\nb = 2\na = [\n  3,\n]\n")
        guard let e else { return }
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.column, 1)
    }

    func testTableDefinedTwice() {
        assertSyntaxErrors([
            ("[t]\nx = 1\n[t]\ny = 2\n", 3, nil, "[t] is defined twice (first on line 1)"),
            // An implicit table may be defined once; not twice.
            ("[a.b.c]\n[a.b]\nx = 1\n[a.b]\n", 4, nil, "[a.b] is defined twice (first on line 2)"),
            ("[a]\n[[a]]\n", 2, nil, "'a' is already defined (line 1)"),
            ("[[a]]\n[a]\n", 2, nil, "[a] is defined twice"),
        ])
        let e = syntaxError("a = 1\n[a]\n")
        XCTAssertEqual(e?.line, 2)
    }

    func testUnterminatedStringInDocument() {
        assertSyntaxErrors([
            ("x = 1\na = \"abc\nb = 1\n", 2, 9, "unterminated string"),
            ("x = 1\na = '''abc\nb = 1\n", 4, 1, "unterminated multi-line string"),
        ])
    }

    func testMissingEquals() {
        assertSyntaxErrors([
            ("a = 1\nb 2\n", 2, 3, "expected '=' after the key 'b'"),
            ("a.b  \n", 1, 6, "expected '=' after the key 'a.b'"),
            ("= 1\n", 1, 1, "expected a key"),
            ("[t\n", 1, 3, "expected ']'"),
            ("[[t]\n", 1, 4, "expected ']]'"),
        ])
    }

    func testBadNumbersInDocument() {
        assertSyntaxErrors([
            ("a = 1\nb = 01\n", 2, 5, "'01' is not a valid value"),
            ("a = 1.\n", 1, 5, "'1.' is not a valid value"),
            ("a = [1, .5]\n", 1, 9, "'.5' is not a valid value"),
            ("a = gaussian\n", 1, 5, "is not a valid value"),
            ("a =\n", 1, 4, "expected a value"),
        ])
    }

    func testTextAfterAValue() {
        assertSyntaxErrors([
            ("a = 1 2\n", 1, 7, "expected the end of the line, found '2'"),
            ("a = \"x\" y\n", 1, 9, "expected the end of the line, found 'y'"),
            ("[t] x = 1\n", 1, 5, "expected the end of the line"),
            ("a = 1\nb = true false\n", 2, 10, "expected the end of the line"),
        ])
    }

    func testExtendingAnInlineTable() {
        assertSyntaxErrors([
            ("a = { x = 1 }\n[a.b]\n", 2, nil, "'a' is an inline table, which cannot be extended"),
            ("a = { x = 1 }\na.y = 2\n", 2, nil, "'a' is an inline table, which cannot be extended"),
        ])
        let nested = syntaxError("a = { x = { y = 1 } }\na.x.z = 2\n")
        XCTAssertTrue(nested?.message.contains("inline table") ?? false, nested?.message ?? "")
        let header = syntaxError("a = { x = 1 }\n[a]\n")
        XCTAssertEqual(header?.line, 2)
    }

    func testDottedKeyThroughAValue() {
        assertSyntaxErrors([("a = 1\na.b = 2\n", 2, nil, "'a' already holds a value (defined on line 1)")])
    }

    func testLineNumbersAfterMultiLineConstructsAndCRLF() {
        assertSyntaxErrors([
            ("a = 1\r\nb = 2\r\nc = 01\r\n", 3, 5, "'01'"),
            ("s = \"\"\"\nx\ny\"\"\"\nz = 01\n", 4, 5, "'01'"),
            ("s = \"\"\"\r\nx\r\ny\"\"\"\r\nz = 01\r\n", 4, 5, "'01'"),
            ("a = [\n 1, # c\n 2,\n]\nb = 01\n", 5, 5, "'01'"),
            ("s = \"\"\"a \\\n\n   b\"\"\"\nz = 01\n", 4, 5, "'01'"),
            ("# c\r\n\r\n[t]\r\nx = 1 # c\r\ny = 1 2\r\n", 5, 7, "end of the line"),
        ])
    }

    func testControlCharacterInComment() {
        assertSyntaxError(
            syntaxError("a = 1 # bad \u{01} char\n"), line: 1, column: 13, "control character in a comment")
    }

    // MARK: documents through the scenario loader (the parsed structure)

    /// The base scenario written with most TOML features (CRLF, comments, dotted and quoted
    /// keys, [a.b] before [a], hex/binary/underscore integers, exponents, literal and
    /// multi-line strings, multi-line arrays) resolves exactly like the plain one.
    func testEquivalentSpellingsResolveIdentically() throws {
        let dir = TempDirectory()
        let fancy = """
            # A comment before anything
            title = 'tiny'   # a literal string
            "seed" = 0x3
            steps = +5
            step-size = 5e-2
            target . kind = "gaussian-mixture"   # dotted key: implicit table
            target.weights = [
              0.5,   # first
              # a comment line in the array
              0.5,
            ]
            target.'means' = [ [ -2, 0 ], [ 2, 0, ], ]
            target.std = 6e-1

            [population.init]   # defines a sub-table of a table not yet defined
            kind = \"\"\"
            gaussian\"\"\"
            mean = [0, 4]
            std = 0.5

            [population]        # now defined
            count = 2_0

            [flow]
            kind = '''svgd'''

            [record]
            metrics = ["ksd", "mean-\\u0065rror"]

            [[expect]]
            metric = "ksd"
            at-most = 0xa

            [[expect]]
            "metric" = "mean-error"
            at-least = 1e-3
            by-step = 0b100
            """
        let plain = dir.write("plain.toml", baseScenario)
        let crlf = dir.write("fancy.toml", fancy.replacingOccurrences(of: "\n", with: "\r\n"))
        let a = try ScenarioLoader.load(path: plain, threads: 1)
        let b = try ScenarioLoader.load(path: crlf, threads: 1)
        XCTAssertEqual(resolvedBody(b.resolvedTOML), resolvedBody(a.resolvedTOML))
        XCTAssertEqual(b.simulation.title, "tiny")
        XCTAssertEqual(b.seed, 3)
        XCTAssertEqual(b.simulation.steps, 5)
        XCTAssertEqual(b.simulation.stepSize, 0.05)
        XCTAssertEqual(b.simulation.state.populations[0].count, 20)
        XCTAssertEqual(b.simulation.state.populations[0].positions, a.simulation.state.populations[0].positions)
        XCTAssertEqual(b.simulation.metricNames, ["ksd", "mean-error"])
        XCTAssertEqual(
            b.simulation.expectations,
            [
                Expectation(metric: "ksd", bound: .atMost(10), byStep: 5),
                Expectation(metric: "mean-error", bound: .atLeast(0.001), byStep: 4),
            ])
    }

    /// Strings reach the scenario intact: the title carries escapes and multi-line forms.
    func testStringsReachTheScenario() throws {
        let dir = TempDirectory()
        let cases: [(String, String)] = [
            (#"title = "tab\there \"q\" caf\u00e9""#, "tab\there \"q\" café"),
            ("title = 'C:\\dir\\n'", "C:\\dir\\n"),
            ("title = \"\"\"\nline one\nline two \\\n    continued\"\"\"", "line one\nline two continued"),
            ("title = '''\n  raw \\t '''", "  raw \\t "),
        ]
        for (k, (line, expected)) in cases.enumerated() {
            let path = dir.write("s\(k).toml", edit(baseScenario, "title = \"tiny\"", line))
            let s = try ScenarioLoader.load(path: path, threads: 1)
            XCTAssertEqual(s.simulation.title, expected)
            // The multi-line title shifts the following lines, but the scenario still resolves.
            XCTAssertEqual(s.simulation.steps, 5)
        }
    }

    func testSyntaxErrorThroughTheLoader() {
        let dir = TempDirectory()
        let path = dir.write("bad.toml", edit(baseScenario, "count = 20", "count = 020"))
        XCTAssertEqual(
            loadError(path),
            "\(path):13:9: '020' is not a valid value (numbers like 2, -1.5, 1e-3; strings need quotes)")
        let missing = dir.path + "/nope.toml"
        XCTAssertEqual(loadError(missing), "\(missing): cannot read the scenario (no such file)")
    }
}
