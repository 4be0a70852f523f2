import Formula
import XCTest

/// Formulas at the limits: very long chains must compile and evaluate (nothing recurses once
/// per term), deep nesting is a located error, and messages about huge formulas stay short.
final class LimitsTests: XCTestCase {
    private let d2 = FormulaVariables.position(dimension: 2)

    /// `term` repeated `count` times, joined by `op`.
    private func chain(_ term: String, _ op: String, _ count: Int) -> String {
        Array(repeating: term, count: count).joined(separator: op)
    }

    func testAnEightThousandTermSumEvaluates() throws {
        let text = chain("x1", "+", 8000)
        XCTAssertGreaterThan(text.utf8.count, 23_000)
        let f = try Formula(text, variables: d2)
        let (v, g) = f.valueAndGradient(at: [0.5, 7])
        XCTAssertEqual(v, 4000)
        XCTAssertEqual(g, [8000, 0])
    }

    func testLongChainsOfEveryOperatorEvaluate() throws {
        // 1 - 2 + 3 - 4 ... over 8000 terms of k*x1: -4000 x1.
        let alternating = (1...8000).map { "\($0)*x1" }.enumerated()
            .map { $0.offset == 0 ? $0.element : ($0.offset % 2 == 1 ? "-" : "+") + $0.element }.joined()
        let f = try Formula(alternating, variables: d2)
        XCTAssertEqual(f.value(at: [2, 0]), -8000)
        XCTAssertEqual(f.gradient(at: [2, 0]), [-4000, 0])
        // x2 * x1 / x1 * x1 / x1 ...: x2 wherever x1 ≠ 0.
        let g = try Formula("x2*" + chain("x1/x1", "*", 4000), variables: d2)
        XCTAssertEqual(g.value(at: [3, 5]), 5, accuracy: 1e-9)
        XCTAssertEqual(g.gradient(at: [3, 5])[1], 1, accuracy: 1e-9)
        // A sum of many different terms, so that nothing is folded away: Σ_k x1/k.
        let h = try Formula((1...8000).map { "x1/\($0)" }.joined(separator: " + "), variables: d2)
        let harmonic = (1...8000).reduce(0.0) { $0 + 1 / Double($1) }
        XCTAssertEqual(h.value(at: [1, 0]), harmonic, accuracy: 1e-9)
    }

    func testAQuarterMillionTermSumCompiles() throws {
        let f = try Formula(chain("x2", "+", 250_000), variables: d2)
        XCTAssertEqual(f.value(at: [0, 1]), 250_000)
        XCTAssertEqual(f.gradient(at: [0, 1]), [0, 250_000])
    }

    /// Up to 1 MiB of text compiles; one byte more is refused before it is tokenised (a 200 MB
    /// formula once took 7.5 GB of tokens), with a message that does not quote all of it.
    func testFormulasUpToOneMebibyte() throws {
        var text = chain("x2", "+", Formula.maximumLength / 3)
        text += String(repeating: " ", count: Formula.maximumLength - text.utf8.count)
        XCTAssertEqual(text.utf8.count, 1 << 20)
        XCTAssertEqual(try Formula(text, variables: d2).value(at: [0, 1]), Double(Formula.maximumLength / 3))
        guard let e = compileError(text + " ", d2) else { return }
        XCTAssertEqual(e.message, "the formula is 1048577 bytes long; at most 1048576 (1 MiB) are accepted")
        XCTAssertLessThan(e.description.count, 400)
    }

    func testNestingUpToTheLimitIsAccepted() throws {
        let n = 100
        XCTAssertEqual(
            try Formula(String(repeating: "(", count: n) + "x1" + String(repeating: ")", count: n), variables: d2)
                .value(at: [2, 0]), 2)
        XCTAssertEqual(try Formula(String(repeating: "-", count: n) + "x1", variables: d2).value(at: [2, 0]), 2)
        XCTAssertEqual(
            try Formula(String(repeating: "abs(", count: n) + "x1" + String(repeating: ")", count: n), variables: d2)
                .value(at: [-2, 0]), 2)
    }

    func testDeepNestingIsALocatedError() {
        let deep = 10_000
        let cases: [(String, Int)] = [
            (String(repeating: "(", count: deep) + "x1" + String(repeating: ")", count: deep), 101),
            (String(repeating: "-", count: deep) + "x1", 101),
            (String(repeating: "+", count: deep) + "x1", 101),
            (String(repeating: "exp(", count: deep) + "x1" + String(repeating: ")", count: deep), 4 * 100 + 4),
            (chain("x1", "^", deep), 3 * 101),
            (String(repeating: "min(x1, ", count: deep) + "x1" + String(repeating: ")", count: deep), 8 * 100 + 4),
            ("x2 + " + String(repeating: "(-", count: deep) + "x1" + String(repeating: ")", count: deep), 5 + 101),
        ]
        for (text, column) in cases {
            guard let e = compileError(text, d2) else { continue }
            XCTAssertEqual(e.kind, .syntax, String(text.prefix(20)))
            XCTAssertEqual(e.column, column, String(text.prefix(20)))
            XCTAssertEqual(
                e.message,
                "nested more than 100 levels deep (parentheses, function calls, signs and exponents); simplify the formula"
            )
            XCTAssertLessThan(e.description.count, 400, "a window of the formula, not all of it")
        }
    }

    func testErrorsInLongFormulasShowAWindowAroundTheCaret() {
        let text = chain("x1", "+", 8000) + " + $ + " + chain("x2", "*", 100)
        guard let e = compileError(text, d2) else { return }
        XCTAssertEqual(e.message, "unexpected character '$'")
        let lines = e.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertLessThanOrEqual(lines[1].count, 80)
        XCTAssertTrue(lines[1].hasPrefix("…") && lines[1].hasSuffix("…"), lines[1])
        let caret = lines[2].firstIndex(of: "^")!
        XCTAssertEqual(Array(lines[1])[lines[2].distance(from: lines[2].startIndex, to: caret)], "$")
        XCTAssertEqual(e.excerpt.line, lines[1])
    }

    func testQuotedInputIsShortenedInMessages() {
        let long = String(repeating: "z", count: 100_000)
        for text in [
            "x1 + \(long)", "\(long)(x1)", "x\(String(repeating: "9", count: 50_000))",
            "1" + String(repeating: "0", count: 400) + " x1",
            "norm(x1 + \(long))",
        ] {
            guard let e = compileError(text, d2) else { continue }
            XCTAssertLessThan(e.message.count, 1000, String(e.message.prefix(200)))
            XCTAssertLessThan(e.description.count, 1200)
        }
        // Vectors in a scalar place quote the offending subexpression, shortened.
        guard let e = compileError("exp(x + " + chain("x", "+", 1000) + ")", d2) else { return }
        XCTAssertEqual(e.message, "exp expects a scalar, but 'x + \(chain("x", "+", 18))+…' is a vector of dimension 2")
    }

    func testMinAndMaxTakeManyArguments() throws {
        let args = (1...500).map { "x1 - \($0)" }.joined(separator: ", ")
        XCTAssertEqual(try Formula("min(\(args))", variables: d2).value(at: [0, 0]), -500)
        XCTAssertEqual(try Formula("max(\(args))", variables: d2).valueAndGradient(at: [0, 0]).gradient, [1, 0])
    }

    func testWorkspacesOfHugeFormulasStayBounded() throws {
        // 100 000 terms (889 kB, under the 1 MiB limit): a tape of ~10⁵ instructions, whose
        // workspace at the batch of 64 asked for would be 6.4 M doubles.
        let f = try Formula((1...100_000).map { "x1*\($0)" }.joined(separator: "+"), variables: d2)
        XCTAssertGreaterThan(64 * f.instructionCount, 1 << 22)
        let ws = FormulaWorkspace(for: f, batch: 64)
        XCTAssertLessThan(ws.batch * f.instructionCount, 1 << 21, "at most a few MB of scratch per thread")
        var values = [Double](repeating: 0, count: 5)
        var gradients = [Double](repeating: 0, count: 10)
        var w = ws
        f.evaluate(
            inputs: [1, 0, 2, 0, 0, 0, -1, 0, 0.5, 0], count: 5, values: &values, gradients: &gradients, workspace: &w)
        let s = 100_000.0 * 100_001 / 2
        XCTAssertEqual(values, [s, 2 * s, 0, -s, s / 2])
        XCTAssertEqual(gradients[0], s)
    }
}
