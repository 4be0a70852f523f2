import Formula
import Foundation
import TestSupport
import XCTest

final class ParserTests: XCTestCase {
    private func constant(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let f = pos(source, 1, file: file, line: line) else { return .nan }
        return f.value(at: [0.123])
    }

    /// Asserts that each row's source evaluates to its value; a failure names the source.
    private func assertConstants(
        _ rows: [(source: String, value: Double)], file: StaticString = #filePath, line: UInt = #line
    ) {
        for row in rows {
            XCTAssertEqual(constant(row.source, file: file, line: line), row.value, row.source, file: file, line: line)
        }
    }

    func testPrecedence() {
        assertConstants([
            ("1+2*3", 7), ("(1+2)*3", 9), ("2^3^2", 512), ("(2^3)^2", 64), ("-2^2", -4), ("(-2)^2", 4),
            ("2*-3", -6), ("2^-1", 0.5),
            ("2^-1^2", 0.5),  // 2^(-(1^2))
            ("8/4/2", 1),  // left-associative
            ("8-4-2", 2), ("1 - -1", 2), ("--3", 3), ("+3 - 1", 2), ("-3*2 + 10/4", -3.5), ("2*3^2", 18),
            ("-(2+1)^2", -9),
        ])
    }

    func testNumbersAndConstants() {
        assertConstants([
            ("2", 2), ("2.5", 2.5), ("1e-3", 1e-3), ("1E3", 1000), ("2.5e+2", 250), (".5", 0.5), ("3.", 3),
            ("pi", Double.pi), ("e", M_E), ("2*pi", 2 * Double.pi), ("e^2", Foundation.exp(2)),
        ])
        // "2e" is 2 followed by the name e: an error, not an exponent.
        XCTAssertEqual(compileError("2e", .position(dimension: 1))?.column, 2)
    }

    func testParametersAreFolded() throws {
        let f = try Formula("a*x1 + b^2", variables: .position(dimension: 1), parameters: ["a": 3, "b": 0.5])
        XCTAssertEqual(f.value(at: [2]), 6.25)
        XCTAssertEqual(f.gradient(at: [2]), [3])
        XCTAssertEqual(f.instructionCount, 2, f.tapeListing)  // 3*x1, + 0.25: parameters folded
        let k = try Formula("exp(-r^2/(2*s^2))", variables: .radius, parameters: ["s": 0.7])
        XCTAssertEqual(k.inputCount, 1)
        XCTAssertEqual(k.value(at: [0.3]), Foundation.exp(-0.09 / (2 * 0.49)), accuracy: 1e-16)
        let c = try Formula("2*pi", variables: .position(dimension: 3))
        XCTAssertTrue(c.isConstant)
        XCTAssertEqual(c.gradient(at: [1, 2, 3]), [0, 0, 0])
    }

    func testEveryFunctionValueMatchesFoundation() throws {
        let cases: [(String, (Double) -> Double)] = [
            ("exp", { Foundation.exp($0) }), ("log", { Foundation.log($0) }), ("sqrt", { Foundation.sqrt($0) }),
            ("abs", { Swift.abs($0) }), ("sin", { Foundation.sin($0) }), ("cos", { Foundation.cos($0) }),
            ("tan", { Foundation.tan($0) }), ("tanh", { Foundation.tanh($0) }), ("atan", { Foundation.atan($0) }),
            ("sinh", { Foundation.sinh($0) }), ("cosh", { Foundation.cosh($0) }),
        ]
        for (name, ref) in cases {
            let f = try Formula("\(name)(x1)", variables: .position(dimension: 1))
            for x in [0.3, 1.7, 0.01] {
                XCTAssertEqual(f.value(at: [x]), ref(x), "\(name)(\(x))")
                if name == "log" || name == "sqrt" {
                    XCTAssertTrue(f.value(at: [-x]).isNaN, "\(name)(\(-x))")
                } else {
                    XCTAssertEqual(f.value(at: [-x]), ref(-x), "\(name)(\(-x))")
                }
            }
        }
        let lg = try Formula("log(x1)", variables: .position(dimension: 1))
        XCTAssertTrue(lg.value(at: [-1]).isNaN)
        let sig = try Formula("sigmoid(x1)", variables: .position(dimension: 1))
        let sp = try Formula("softplus(x1)", variables: .position(dimension: 1))
        for x in [-30.0, -2.5, -0.1, 0, 0.4, 3, 40] {
            XCTAssertEqual(
                sig.value(at: [x]), 1 / (1 + Foundation.exp(-x)), accuracy: 1e-15 * max(1, sig.value(at: [x])))
            XCTAssertLessThan(
                symmetricRelativeError(sp.value(at: [x]), Foundation.log1p(Foundation.exp(x))), 1e-14, "softplus(\(x))")
        }
        XCTAssertEqual(sp.value(at: [800]), 800)  // no overflow
        XCTAssertEqual(sig.value(at: [-800]), 0)
        let mn = try Formula("min(x1, x2)", variables: .position(dimension: 2))
        let mx = try Formula("max(x1, x2, x3)", variables: .position(dimension: 3))
        XCTAssertEqual(mn.value(at: [1, -2]), -2)
        XCTAssertEqual(mn.value(at: [-1, 2]), -1)
        XCTAssertEqual(mx.value(at: [1, 5, 3]), 5)
        XCTAssertEqual(mx.value(at: [7, 5, 3]), 7)
        XCTAssertEqual(mx.value(at: [1, 5, 9]), 9)
    }

    func testVectorFunctionsValues() throws {
        let f = try Formula("norm(x)", variables: .position(dimension: 3))
        XCTAssertEqual(f.value(at: [3, 4, 12]), 13)
        let g = try Formula("norm2(x - y)", variables: .payoff(dimension: 2, secondDimension: 2))
        XCTAssertEqual(g.inputCount, 4)
        XCTAssertEqual(g.value(at: [1, 2, 4, 6]), 25)
        let h = try Formula("dot(2*x, y/2) + norm2(-x)", variables: .payoff(dimension: 2, secondDimension: 2))
        XCTAssertEqual(h.value(at: [1, 2, 3, 4]), 11 + 5)
        let p = try Formula("cos(x1 - y1)", variables: .payoff(dimension: 1, secondDimension: 1))
        XCTAssertEqual(p.value(at: [0.5, 0.2]), Foundation.cos(0.3), accuracy: 1e-16)
        XCTAssertEqual(p.gradient(at: [0.5, 0.2])[1], Foundation.sin(0.5 - 0.2), accuracy: 1e-16)
    }

    func testPowers() throws {
        let f = try Formula("x1^2", variables: .position(dimension: 1))
        XCTAssertEqual(f.value(at: [-3]), 9)
        XCTAssertEqual(f.gradient(at: [-3]), [-6])
        let cube = try Formula("x1^3", variables: .position(dimension: 1))
        XCTAssertEqual(cube.value(at: [-2]), -8)
        XCTAssertEqual(cube.gradient(at: [-2]), [12])
        let inv = try Formula("x1^-2", variables: .position(dimension: 1))
        XCTAssertEqual(inv.value(at: [-2]), 0.25)
        XCTAssertEqual(inv.gradient(at: [-2]), [0.25])  // -2 x^-3 at -2
        let big = try Formula("x1^70", variables: .position(dimension: 1))  // beyond expansion: pow
        XCTAssertEqual(big.value(at: [-1.1]), Foundation.pow(-1.1, 70))
        XCTAssertLessThan(symmetricRelativeError(big.gradient(at: [-1.1])[0], 70 * Foundation.pow(-1.1, 69)), 1e-15)
        let half = try Formula("x1^0.5 + x1^2.5", variables: .position(dimension: 1))
        XCTAssertEqual(half.value(at: [4]), 2 + 32)
        XCTAssertTrue(try Formula("x1^2.5", variables: .position(dimension: 1)).value(at: [-1]).isNaN)
        let zero = try Formula("x1^0", variables: .position(dimension: 1))
        XCTAssertEqual(zero.value(at: [0]), 1)
    }
}
