import Formula
import XCTest

final class ErrorTests: XCTestCase {
    private let d2 = FormulaVariables.position(dimension: 2)

    func testParseErrorCaretAndMessage() {
        guard let e = compileError("(x1^2 - 1)^2 +* 0.5", d2) else { return }
        XCTAssertEqual(e.kind, .syntax)
        XCTAssertEqual(e.column, 15)
        XCTAssertEqual(e.message, "expected a number, a name or '(' after '+'")
        XCTAssertEqual(
            e.description,
            """
            error in formula at column 15:
            (x1^2 - 1)^2 +* 0.5
                          ^ expected a number, a name or '(' after '+'
            """)
        XCTAssertEqual(e.description.split(separator: "\n").count, 3)
    }

    func testMultiLineFormulaKeepsCaretAligned() {
        guard let e = compileError("x1^2 +\n  $x2", d2) else { return }
        XCTAssertEqual(e.column, 10)
        XCTAssertEqual(
            e.description, "error in formula at column 10:\nx1^2 +   $x2\n         ^ unexpected character '$'")
        XCTAssertNoThrow(try Formula("x1^2 +\n\t0.5*x2^2", variables: d2))
    }

    func testOtherSyntaxErrors() {
        let cases: [(String, Int, String)] = [
            ("(x1 + 2", 8, "expected ')' to close the '(' at column 1"),
            ("x1 + 2)", 7, "unmatched ')'"),
            ("2 x1", 3, "expected an operator or the end of the formula after '2'"),
            ("x1 $ 2", 4, "unexpected character '$'"),
            ("", 1, "the formula is empty"),
            ("x1 +", 5, "expected a number, a name or '(' after '+', found the end of the formula"),
            ("x1 ** 2", 5, "'**' is not an operator; use ^ for powers"),
            ("exp(x1", 7, "expected ',' or ')' to close the arguments of 'exp' opened at column 4"),
            ("min(x1 x2)", 8, "expected ',' or ')' after argument 1 of 'min'"),
            ("()", 2, "empty parentheses: expected a number, a name or '('"),
            ("x1^", 4, "expected a number, a name or '(' after '^', found the end of the formula"),
        ]
        for (src, col, msg) in cases {
            guard let e = compileError(src, d2) else { continue }
            XCTAssertEqual(e.kind, .syntax, src)
            XCTAssertEqual(e.column, col, "\(src): \(e)")
            XCTAssertEqual(e.message, msg, src)
        }
    }

    func testUnknownNameListsKnownNames() {
        guard let e = compileError("x1 + z", d2, ["s": 1]) else { return }
        XCTAssertEqual(e.kind, .unknownName)
        XCTAssertEqual(e.column, 6)
        XCTAssertTrue(e.message.hasPrefix("unknown name 'z' (known: x, x1, x2, pi, e, s, exp, log, sqrt"), e.message)
        XCTAssertTrue(e.message.contains("norm2"), e.message)
        XCTAssertFalse(e.message.contains("did you mean"), e.message)
        // Near misses get a suggestion.
        XCTAssertTrue(compileError("expp(x1)", d2)?.message.contains("did you mean 'exp'?") ?? false)
        XCTAssertTrue(compileError("sigma*x1", d2, ["sigma2": 1])?.message.contains("did you mean 'sigma2'?") ?? false)
        XCTAssertTrue(compileError("ln(x1)", d2)?.message.contains("did you mean 'log'?") ?? false)
        // Large dimensions are summarised.
        XCTAssertTrue(compileError("q", .position(dimension: 7))?.message.contains("known: x, x1..x7, pi") ?? false)
    }

    func testComponentOutOfRange() {
        guard let e = compileError("x1 + x3", d2) else { return }
        XCTAssertEqual(e.kind, .unavailableVariable)
        XCTAssertEqual(e.column, 6)
        XCTAssertEqual(e.message, "'x3' is out of range: x has dimension 2, so its components are x1..x2")
        XCTAssertEqual(compileError("x0", d2)?.message, "'x0': components are numbered from 1 (x1..x2)")
        XCTAssertEqual(compileError("y3", .payoff(dimension: 2, secondDimension: 2))?.kind, .unavailableVariable)
    }

    func testSecondPlayerOnlyInPayoffs() {
        guard let e = compileError("norm(x - y)", d2) else { return }
        XCTAssertEqual(e.kind, .unavailableVariable)
        XCTAssertEqual(e.column, 10)
        XCTAssertTrue(e.message.contains("second player's position, only available in payoff formulas"), e.message)
        XCTAssertEqual(compileError("x1*y1", d2)?.column, 4)
    }

    func testRadialKernelHasOnlyR() {
        guard let e = compileError("exp(-norm2(x))", .radius) else { return }
        XCTAssertEqual(e.kind, .unavailableVariable)
        XCTAssertEqual(e.column, 12)
        XCTAssertTrue(e.message.contains("not available in a radial kernel formula: its only variable is r"), e.message)
        XCTAssertEqual(compileError("x1", .radius)?.kind, .unavailableVariable)
        // ... and r is only a radial kernel variable.
        let r = compileError("r^2", d2)
        XCTAssertEqual(r?.kind, .unavailableVariable)
        XCTAssertTrue(r?.message.contains("only available in radial kernel formulas") ?? false)
    }

    func testVectorResultIsAnError() {
        guard let e = compileError("x - 2*x", d2) else { return }
        XCTAssertEqual(e.kind, .type)
        XCTAssertEqual(e.column, 1)
        XCTAssertTrue(
            e.message.hasPrefix("the result must be a scalar, but 'x - 2*x' is a vector of dimension 2"), e.message)
        // Vectors where scalars are expected.
        let ex = compileError("1 + exp(x)", d2)
        XCTAssertEqual(ex?.kind, .type)
        XCTAssertEqual(ex?.column, 9)
        XCTAssertTrue(ex?.message.hasPrefix("exp expects a scalar, but 'x' is a vector of dimension 2") ?? false)
        XCTAssertEqual(compileError("x + 1", d2)?.column, 3)
        XCTAssertEqual(compileError("x^2", d2)?.kind, .type)
        XCTAssertEqual(
            compileError("x*x", d2)?.message, "cannot multiply two vectors; use dot(u, v) for the scalar product")
        XCTAssertEqual(compileError("1/x", d2)?.kind, .type)
        XCTAssertEqual(compileError("x", .position(dimension: 1))?.kind, .type)
        // Scalars where vectors are expected.
        let n = compileError("norm(x1)", d2)
        XCTAssertEqual(n?.kind, .type)
        XCTAssertEqual(n?.column, 6)
        XCTAssertTrue(n?.message.hasPrefix("norm expects a vector argument") ?? false)
    }

    func testDimensionMismatch() {
        let vars = FormulaVariables.payoff(dimension: 2, secondDimension: 3)
        guard let e = compileError("norm(x - y)", vars) else { return }
        XCTAssertEqual(e.kind, .type)
        XCTAssertEqual(e.column, 8)
        XCTAssertEqual(e.message, "dimension mismatch: 'x' has dimension 2 but 'y' has dimension 3")
        let dot = compileError("dot(x, y)", vars)
        XCTAssertEqual(dot?.kind, .type)
        XCTAssertEqual(dot?.column, 1)
        XCTAssertTrue(dot?.message.contains("dimension mismatch") ?? false)
        // Same dimensions: fine.
        XCTAssertNoThrow(try Formula("norm(x - y)", variables: .payoff(dimension: 3, secondDimension: 3)))
    }

    func testWrongArity() {
        let cases: [(String, Int, String)] = [
            ("exp(x1, x2)", 1, "exp takes 1 argument, but 2 were given"),
            ("1 + dot(x)", 5, "dot takes 2 arguments, but 1 was given"),
            ("min(x1)", 1, "min takes at least 2 arguments, but 1 was given"),
            ("sin()", 1, "sin takes 1 argument, but 0 were given"),
            ("2*exp", 3, "'exp' is a function; call it as exp(...)"),
            ("x1(2)", 1, "'x1' is not a function; write x1 * (...) to multiply"),
        ]
        for (src, col, msg) in cases {
            guard let e = compileError(src, d2) else { continue }
            XCTAssertEqual(e.kind, .arity, src)
            XCTAssertEqual(e.column, col, "\(src): \(e)")
            XCTAssertEqual(e.message, msg, src)
        }
    }

    func testBadParameters() {
        XCTAssertEqual(compileError("x1", d2, ["exp": 1])?.kind, .parameter)
        XCTAssertEqual(compileError("x1", d2, ["pi": 3])?.kind, .parameter)
        XCTAssertEqual(compileError("x1", d2, ["x2": 3])?.kind, .parameter)
        XCTAssertEqual(compileError("x1", d2, ["2a": 3])?.kind, .parameter)
        XCTAssertEqual(compileError("x1", d2, ["a": .nan])?.kind, .parameter)
        XCTAssertEqual(compileError("x1", .position(dimension: 0))?.kind, .parameter)
        // A parameter error has no column and renders without a caret.
        let e = compileError("x1", d2, ["a": .infinity])
        XCTAssertEqual(e?.column, 0)
        XCTAssertEqual(e?.description, "error in formula: parameter 'a' is not finite (inf)\nx1")
        // Names of variables of other kinds are fine as parameters.
        XCTAssertNoThrow(try Formula("r*x1", variables: d2, parameters: ["r": 2]))
    }
}
