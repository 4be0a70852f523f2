import Formula
import Foundation
import TestSupport
import XCTest

final class GradientTests: XCTestCase {
    func testEveryFunctionAgainstFiniteDifferences() throws {
        // (formula, domain of x1) — the argument is kept away from singular points.
        let cases: [(String, ClosedRange<Double>)] = [
            ("exp(x1)", -3...3), ("log(x1)", 0.1...5), ("sqrt(x1)", 0.1...5), ("abs(x1)", -3...(-0.1)),
            ("abs(x1)", 0.1...3), ("sin(x1)", -4...4), ("cos(x1)", -4...4), ("tan(x1)", -1.3...1.3),
            ("tanh(x1)", -3...3), ("atan(x1)", -5...5), ("sinh(x1)", -3...3), ("cosh(x1)", -3...3),
            ("sigmoid(x1)", -8...8), ("softplus(x1)", -8...8), ("x1^2", -3...3), ("x1^3", -3...3),
            ("x1^7", -2...2), ("x1^-3", 0.5...3), ("x1^1.7", 0.2...3), ("2^x1", -3...3), ("e^x1", -2...2),
            ("x1^70", 0.9...1.05), ("1/x1", 0.3...3), ("3/(x1 + 5)", -2...2), ("(x1 - 1)/(x1 + 2)", 0...3),
        ]
        var rng = TestRNG(1)
        for (src, domain) in cases {
            let f = try Formula(src, variables: .position(dimension: 1))
            for _ in 0..<20 {
                assertGradientMatchesFiniteDifferences(f, at: [Double.random(in: domain, using: &rng)])
            }
            // The same function composed with an affine map of two variables (chain rule).
            let inner = src.replacingOccurrences(of: "x1", with: "(0.6*x1 - 0.3*x2 + 0.2)")
            let g = try Formula(inner, variables: .position(dimension: 2))
            for _ in 0..<20 {
                // Choose t = 0.6 x1 - 0.3 x2 + 0.2 in the domain.
                let t = Double.random(in: domain, using: &rng)
                let x2 = Double.random(in: -1...1, using: &rng)
                assertGradientMatchesFiniteDifferences(g, at: [(t - 0.2 + 0.3 * x2) / 0.6, x2])
            }
        }
    }

    func testBinaryFunctionsAgainstFiniteDifferences() throws {
        var rng = TestRNG(2)
        let cases = [
            "x1^x2", "min(x1, x2)", "max(x1, x2)", "min(x1, x2, x3)", "max(x3, x1, x2)",
            "x1*x2*x3", "x1/x2 - x3", "atan(x1*x2)/(1 + x3^2)", "exp(x1*x2 - x3)",
        ]
        for src in cases {
            let f = try Formula(src, variables: .position(dimension: 3))
            for _ in 0..<30 {
                let x = (0..<3).map { _ in Double.random(in: 0.2...2.5, using: &rng) }
                assertGradientMatchesFiniteDifferences(f, at: x)
            }
        }
        // min/max select the right argument.
        let m = try Formula("min(x1, x2) + 10*max(x1, x2)", variables: .position(dimension: 2))
        XCTAssertEqual(m.gradient(at: [1, 2]), [1, 10])
        XCTAssertEqual(m.gradient(at: [3, 2]), [10, 1])
        // Ties: the first argument receives the whole derivative.
        XCTAssertEqual(m.gradient(at: [2, 2]), [11, 0])
    }

    func testExampleFormulasAgainstFiniteDifferences() throws {
        var rng = TestRNG(3)
        let examples: [(String, FormulaVariables, [String: Double])] = [
            ("(x1^2 - 1)^2 + 0.5*x2^2", .position(dimension: 2), [:]),
            ("-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)", .position(dimension: 2), [:]),
            ("0.5*norm2(x) - log(norm(x))", .position(dimension: 3), [:]),
            ("exp(-r^2/(2*s^2))", .radius, ["s": 0.8]),
            ("cos(x1 - y1)", .payoff(dimension: 1, secondDimension: 1), [:]),
        ]
        for (src, vars, params) in examples {
            let f = try Formula(src, variables: vars, parameters: params)
            for _ in 0..<50 {
                let x = (0..<f.inputCount).map { _ in Double.random(in: -2...2, using: &rng) }
                assertGradientMatchesFiniteDifferences(f, at: x)
            }
        }
    }

    func testVectorFunctionsInSeveralDimensions() throws {
        var rng = TestRNG(4)
        for d in [1, 3, 7] {
            let fs = [
                try Formula("norm(x)", variables: .position(dimension: d)),
                try Formula("norm2(x)", variables: .position(dimension: d)),
                try Formula("dot(x, x)^2 + log(norm(2*x - x/3))", variables: .position(dimension: d)),
                try Formula(
                    "norm(x - y) + dot(x, y) - norm2(-y)/2",
                    variables: .payoff(dimension: d, secondDimension: d)),
                try Formula("dot(x + y, x - y)*norm(y)", variables: .payoff(dimension: d, secondDimension: d)),
            ]
            for f in fs {
                for _ in 0..<20 {
                    let x = (0..<f.inputCount).map { _ in Double.random(in: -2...2, using: &rng) }
                    assertGradientMatchesFiniteDifferences(f, at: x)
                }
            }
            // Exact values: norm2 gradient is 2x, norm gradient is x/|x|.
            let x = (0..<d).map { _ in Double.random(in: -2...2, using: &rng) }
            let n = Foundation.sqrt(x.reduce(0) { $0 + $1 * $1 })
            XCTAssertEqual(fs[1].gradient(at: x), x.map { 2 * $0 })
            for (g, xi) in zip(fs[0].gradient(at: x), x) { XCTAssertEqual(g, xi / n, accuracy: 1e-15) }
        }
        // Payoff with different dimensions: gradient layout is x then y.
        let f = try Formula("dot(x, x) * y2 + y1", variables: .payoff(dimension: 3, secondDimension: 2))
        XCTAssertEqual(f.gradient(at: [1, 2, 3, 5, 7]), [14, 28, 42, 1, 14])
    }

    /// The banana log-density gradient equals the hand-written one to 1e-14 relative.
    func testBananaGradientIsExact() throws {
        let f = try Formula("-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)", variables: .position(dimension: 2))
        var rng = TestRNG(5)
        for _ in 0..<1000 {
            let x1 = Double.random(in: -6...6, using: &rng)
            let x2 = Double.random(in: -6...6, using: &rng)
            let s = x1 * x1
            let t = x2 + 0.1 * s - 1
            let value = -0.5 * (s / 4 + t * t)
            let g1 = -x1 * (0.25 + 0.2 * t)  // d/dx1 of -0.5*(x1^2/4 + t^2), t' = 0.2 x1
            let g2 = -t
            let (v, g) = f.valueAndGradient(at: [x1, x2])
            XCTAssertLessThanOrEqual(symmetricRelativeError(v, value), 1e-14, "value at \([x1, x2])")
            XCTAssertLessThanOrEqual(symmetricRelativeError(g[0], g1), 1e-14, "d/dx1 at \([x1, x2]): \(g[0]) vs \(g1)")
            XCTAssertLessThanOrEqual(symmetricRelativeError(g[1], g2), 1e-14, "d/dx2 at \([x1, x2]): \(g[1]) vs \(g2)")
        }
    }

    func testSingularPointsGiveInfOrNaNWithoutCrashing() throws {
        let log0 = try Formula("log(x1)", variables: .position(dimension: 1))
        XCTAssertEqual(log0.value(at: [0]), -.infinity)
        XCTAssertEqual(log0.gradient(at: [0]), [.infinity])
        let sq = try Formula("sqrt(x1)", variables: .position(dimension: 1))
        XCTAssertEqual(sq.value(at: [0]), 0)
        XCTAssertFalse(sq.gradient(at: [0])[0].isFinite)
        let inv = try Formula("1/x1", variables: .position(dimension: 1))
        XCTAssertFalse(inv.value(at: [0]).isFinite)
        XCTAssertFalse(inv.gradient(at: [0])[0].isFinite)
        let lnorm = try Formula("0.5*norm2(x) - log(norm(x))", variables: .position(dimension: 2))
        XCTAssertEqual(lnorm.value(at: [0, 0]), .infinity)
        XCTAssertFalse(lnorm.gradient(at: [0, 0]).allSatisfy(\.isFinite))
        // Documented subgradient conventions: abs'(0) = 0, norm'(0) = 0.
        XCTAssertEqual(try Formula("abs(x1)", variables: .position(dimension: 1)).gradient(at: [0]), [0])
        XCTAssertEqual(try Formula("norm(x)", variables: .position(dimension: 3)).gradient(at: [0, 0, 0]), [0, 0, 0])
        // NaN inputs propagate.
        XCTAssertTrue(try Formula("min(x1, 2) + x1^2", variables: .position(dimension: 1)).value(at: [.nan]).isNaN)
        XCTAssertTrue(try Formula("max(1, x1)", variables: .position(dimension: 1)).value(at: [.nan]).isNaN)
    }

    func testUnusedInputsHaveZeroGradient() throws {
        let f = try Formula("x2^2", variables: .position(dimension: 3))
        XCTAssertEqual(f.gradient(at: [5, 3, 7]), [0, 6, 0])
        let id = try Formula("y1", variables: .payoff(dimension: 1, secondDimension: 2))
        XCTAssertEqual(id.valueAndGradient(at: [4, 5, 6]).gradient, [0, 1, 0])
        XCTAssertEqual(id.value(at: [4, 5, 6]), 5)
    }

    func testCommonSubexpressionsAreShared() throws {
        let f = try Formula("x1^2 + sin(x1^2) + x1^2*x2", variables: .position(dimension: 2))
        let squares = f.tapeListing.split(separator: "\n").filter { $0.contains("square") }
        XCTAssertEqual(squares.count, 1, f.tapeListing)
        assertGradientMatchesFiniteDifferences(f, at: [0.7, -1.3])
    }
}
