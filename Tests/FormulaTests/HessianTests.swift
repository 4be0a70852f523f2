import Formula
import Foundation
import TestSupport
import XCTest

/// The tape's Hessian-vector products against second derivatives derived by hand (every op
/// family), against central differences of the tape's gradient, and in batches.
final class HessianTests: XCTestCase {
    /// One variable: (formula, f''(x), domain). Each row exercises one op family of the tape
    /// (the compiled op is named); products are f''(x)·v for v = −0.7.
    static let secondDerivatives: [(String, @Sendable (Double) -> Double, ClosedRange<Double>)] = [
        ("exp(x1)", { exp($0) }, -3...3),
        ("log(x1)", { -1 / ($0 * $0) }, 0.1...5),
        ("sqrt(x1)", { -0.25 * pow($0, -1.5) }, 0.1...5),
        ("x1*abs(x1)", { $0 > 0 ? 2 : -2 }, 0.1...3),  // abs, mul: f = x|x|
        ("x1*abs(x1)", { $0 > 0 ? 2 : -2 }, -3...(-0.1)),
        ("sin(x1)", { -sin($0) }, -4...4),
        ("cos(x1)", { -cos($0) }, -4...4),
        ("tan(x1)", { 2 * tan($0) / pow(cos($0), 2) }, -1.3...1.3),
        ("tanh(x1)", { -2 * tanh($0) * (1 - tanh($0) * tanh($0)) }, -3...3),
        ("atan(x1)", { -2 * $0 / pow(1 + $0 * $0, 2) }, -5...5),
        ("sinh(x1)", { sinh($0) }, -3...3),
        ("cosh(x1)", { cosh($0) }, -3...3),
        (
            "sigmoid(x1)",
            {
                let s = 1 / (1 + exp(-$0))
                return s * (1 - s) * (1 - 2 * s)
            }, -8...8
        ),
        (
            "softplus(x1)",
            {
                let s = 1 / (1 + exp(-$0))
                return s * (1 - s)
            }, -8...8
        ),
        ("x1^2", { _ in 2 }, -3...3),  // square
        ("x1^3", { 6 * $0 }, -3...3),  // square, mul
        ("x1^70", { 70 * 69 * pow($0, 68) }, 0.9...1.05),
        ("x1^-3", { 12 * pow($0, -5) }, 0.5...3),  // divCR
        ("x1^1.7", { 1.7 * 0.7 * pow($0, -0.3) }, 0.2...3),  // powC
        ("2^x1", { log(2) * log(2) * pow(2, $0) }, -3...3),  // powCR
        ("1/x1", { 2 / pow($0, 3) }, 0.3...3),  // divCR
        ("3/(x1 + 5)", { 6 / pow($0 + 5, 3) }, -2...2),  // addC, divCR
        ("(x1 - 1)/(x1 + 2)", { -6 / pow($0 + 2, 3) }, 0...3),  // div: 1 − 3/(x + 2)
        ("x1*(2 - x1)", { _ in -2 }, -3...3),  // subCR
        ("-(x1^3)/3", { -2 * $0 }, -3...3),  // neg, divC
        ("3*x1^2 + x1^3", { 6 + 6 * $0 }, -3...3),  // fmaC
        ("(x1 - 0.5)^2 - x1^3", { 2 - 6 * $0 }, -3...3),  // sub
        ("min(x1^2, 4) + max(x1^3, 8)", { abs($0) < 2 ? 2 : 6 * $0 }, 0.1...3.5),
        ("min(x1^2, 4) + max(x1^3, 8)", { abs($0) < 2 ? 2 : 0 }, -3.5...(-0.1)),
        // min/max's tangent reaches x1 through the product.
        ("x1*min(x1, 1) + x1*max(x1, -1)", { ($0 < 1 ? 2 : 0) + ($0 > -1 ? 2 : 0) }, -3...3),
        ("x1^x1", { pow($0, $0) * (pow(1 + log($0), 2) + 1 / $0) }, 0.2...2.5),  // pow
        ("norm(x)^3", { 6 * abs($0) }, -3...3),  // normSqrt, mul
    ]

    func testEveryOpAgainstItsSecondDerivative() throws {
        var rng = TestRNG(11)
        let v = -0.7
        for (source, second, domain) in Self.secondDerivatives {
            let f = try Formula(source, variables: .position(dimension: 1))
            for _ in 0..<20 {
                let x = Double.random(in: domain, using: &rng)
                let product = f.hessianVectorProduct(at: [x], direction: [v])[0]
                let expected = second(x) * v
                XCTAssertEqual(product, expected, accuracy: 1e-13 * max(1, abs(expected)), "'\(source)' at \(x)")
            }
        }
    }

    /// Several variables: (formula, dimension, the Hessian written out, domain of each x).
    static let hessians: [(String, Int, @Sendable ([Double]) -> [[Double]], ClosedRange<Double>)] = [
        ("x1*x2", 2, { _ in [[0, 1], [1, 0]] }, -2...2),
        (
            "exp(x1*x2)", 2,
            { x in
                let e = exp(x[0] * x[1])
                return [[e * x[1] * x[1], e * (1 + x[0] * x[1])], [e * (1 + x[0] * x[1]), e * x[0] * x[0]]]
            }, -1.5...1.5
        ),
        (
            "log(1 + x1^2 + x2^2)", 2,
            { x in
                let q = 1 + x[0] * x[0] + x[1] * x[1]
                return [
                    [2 / q - 4 * x[0] * x[0] / (q * q), -4 * x[0] * x[1] / (q * q)],
                    [-4 * x[0] * x[1] / (q * q), 2 / q - 4 * x[1] * x[1] / (q * q)],
                ]
            }, -2...2
        ),
        (
            "sigmoid(x1 - 2*x2)", 2,
            { x in
                let s = 1 / (1 + exp(-(x[0] - 2 * x[1])))
                let c = s * (1 - s) * (1 - 2 * s)
                return [[c, -2 * c], [-2 * c, 4 * c]]
            }, -2...2
        ),
        (
            "softplus(0.5*x1 - x2 + x3)", 3,
            { x in
                let s = 1 / (1 + exp(-(0.5 * x[0] - x[1] + x[2])))
                let a = [0.5, -1, 1]
                return a.map { ai in a.map { s * (1 - s) * ai * $0 } }
            }, -2...2
        ),
        (
            "x1^x2", 2,
            { x in
                let (a, b) = (x[0], x[1])
                let cross = pow(a, b - 1) * (1 + b * log(a))
                return [[b * (b - 1) * pow(a, b - 2), cross], [cross, pow(a, b) * log(a) * log(a)]]
            }, 0.3...2.5
        ),
        (
            "x1/x2 + x2/x3", 3,
            { x in
                let (a, b, c) = (x[0], x[1], x[2])
                return [
                    [0, -1 / (b * b), 0],
                    [-1 / (b * b), 2 * a / (b * b * b), -1 / (c * c)],
                    [0, -1 / (c * c), 2 * b / (c * c * c)],
                ]
            }, 0.5...2
        ),
        (
            "norm(x)", 3,
            { x in
                let r = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).squareRoot()
                return (0..<3).map { i in (0..<3).map { j in ((i == j ? 1 : 0) - x[i] * x[j] / (r * r)) / r } }
            }, -2...2
        ),
        (
            "norm2(x) + dot(x, x)^2 / 4", 2,
            { x in
                let q = x[0] * x[0] + x[1] * x[1]
                return (0..<2).map { i in (0..<2).map { j in (i == j ? 2 + q : 0) + 2 * x[i] * x[j] } }
            }, -2...2
        ),
    ]

    func testMultivariateFormulasAgainstTheirHessians() throws {
        var rng = TestRNG(12)
        for (source, d, hessian, domain) in Self.hessians {
            let f = try Formula(source, variables: .position(dimension: d))
            for _ in 0..<20 {
                let x = (0..<d).map { _ in Double.random(in: domain, using: &rng) }
                let v = (0..<d).map { _ in Double.random(in: -1...1, using: &rng) }
                let h = hessian(x)
                let expected = h.map { row in zip(row, v).map { $0 * $1 }.reduce(0, +) }
                let scale = h.flatMap { $0 }.map(abs).max()! * v.map(abs).max()!
                let product = f.hessianVectorProduct(at: x, direction: v)
                for a in 0..<d {
                    XCTAssertEqual(
                        product[a], expected[a], accuracy: 1e-13 * max(1, scale), "'\(source)' at \(x), component \(a)")
                }
            }
        }
    }

    /// Central differences of the tape's own gradient along v, (∇f(x + hv) − ∇f(x − hv))/2h, on
    /// formulas mixing the ops (the third check, after the closed forms).
    func testAgainstDifferencesOfTheGradient() throws {
        var rng = TestRNG(13)
        let sources = [
            "(x1^2 - 1)^2 + 0.5*x2^2 + sin(x1*x3)", "-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2) + x3^2.5",
            "0.5*norm2(x) - log(norm(x))", "atan(x1*x2)/(1 + x3^2) + tanh(x2 - x3)*cosh(x1/3)",
            "exp(x1*x2 - x3) + 2^(x1 - x2) + sqrt(1 + x3^2)", "softplus(x1 + x2)*sigmoid(x3) - sinh(x1)/(3 + x2^2)",
            "x1^x2*x3 + 1/(2 + cos(x3)) + tan(x1/4)", "min(x1*x2, x3^2) + max(x1, x2, x3)^3",
        ]
        for source in sources {
            let f = try Formula(source, variables: .position(dimension: 3))
            for _ in 0..<30 {
                let x = (0..<3).map { _ in Double.random(in: 0.3...2, using: &rng) }
                let v = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
                let h = 1e-5
                let up = f.gradient(at: zip(x, v).map { $0 + h * $1 })
                let down = f.gradient(at: zip(x, v).map { $0 - h * $1 })
                let differences = zip(up, down).map { ($0 - $1) / (2 * h) }
                let product = f.hessianVectorProduct(at: x, direction: v)
                let scale = max(1, differences.map(abs).max()!)
                for a in 0..<3 {
                    XCTAssertEqual(product[a], differences[a], accuracy: 1e-6 * scale, "'\(source)' at \(x)")
                }
            }
        }
    }

    /// Where a derivative is not defined the products follow the gradient's conventions, and stay
    /// finite: abs'' = 0 at 0, norm's derivatives 0 at 0, min/max ties take the first argument,
    /// a^b's derivatives in b are 0 where a^b = 0 (and a^1 has no curvature in a).
    func testConventionsWhereDerivativesAreNotDefined() throws {
        let cases: [(String, Int, [Double], [Double], [Double])] = [
            ("abs(x1)", 1, [0], [1], [0]),
            ("x1*abs(x1)", 1, [0], [1], [0]),
            ("norm(x)", 2, [0, 0], [1, -2], [0, 0]),
            ("norm(x)^3", 2, [0, 0], [1, -2], [0, 0]),
            ("min(x1^2, x2) + max(x2, 2*x1)", 2, [2, 4], [1, 1], [2, 0]),  // ties: x1^2, then x2
            ("x1^x2", 2, [0, 2.5], [1, 1], [0, 0]),
            ("x1^x2", 2, [0, 1], [1, 0], [0, 0]),
            ("x1^x2", 2, [0, 2], [1, 0], [2, 0]),
        ]
        for (source, d, x, v, expected) in cases {
            let f = try Formula(source, variables: .position(dimension: d))
            XCTAssertEqual(f.hessianVectorProduct(at: x, direction: v), expected, "'\(source)' at \(x)")
        }
    }

    /// A payoff's second variable is held (a data row): the product is in x only, and a singular
    /// point of y (sqrt(y1) at 0, log of a negative base in x^y) does not leak 0·∞ into it.
    func testHeldInputsContributeNothing() throws {
        let vars = FormulaVariables.payoff(dimension: 2, secondDimension: 2)
        let f = try Formula("x1^2*sqrt(y1) + exp(x1^y2) + x2*y1*x1 + exp(y1*x2^2)", variables: vars)
        // f = x1²√y1 + e^P + x1x2y1 + e^Q, P = x1^y2, Q = y1x2²: H = [[2√y1 + e^P(P'' + P'²), y1],
        // [y1, e^Q(2y1 + 4y1²x2²)]] (in y1*x2^2 the held y1 is the product's first operand; P and
        // Q pass through exp, so their tangents count).
        for (x, y) in [([-1.5, 0.4], [0.0, 2.0]), ([1.2, -0.3], [2.0, 3.0]), ([-0.8, 0.5], [0.25, 4.0])] {
            let v = [0.6, -1.3]
            let (p1, p2) = (y[1] * pow(x[0], y[1] - 1), y[1] * (y[1] - 1) * pow(x[0], y[1] - 2))
            let haa = 2 * y[0].squareRoot() + exp(pow(x[0], y[1])) * (p2 + p1 * p1)
            let q = y[0] * x[1] * x[1]
            let hbb = exp(q) * (2 * y[0] + 4 * y[0] * y[0] * x[1] * x[1])
            let expected = [haa * v[0] + y[0] * v[1], y[0] * v[0] + hbb * v[1]]
            let product = f.hessianVectorProduct(at: x + y, direction: v)
            for a in 0..<2 { XCTAssertEqual(product[a], expected[a], accuracy: 1e-13 * max(1, abs(expected[a]))) }
        }
        // A formula of y alone (or a constant) has no Hessian in x.
        XCTAssertEqual(
            try Formula("log(y1) + 3", variables: vars).hessianVectorProduct(at: [1, 2, 0, 1], direction: [1, 1]),
            [0, 0])
    }

    /// 150 points (three blocks of 64, the last partial) in one call equal the points one at a
    /// time, and the values and gradients it returns are `evaluate`'s; the workspace serves
    /// `evaluate` before and after.
    func testBatchEqualsSinglePoints() throws {
        var rng = TestRNG(14)
        let f = try Formula(
            "x1^2*y1 - log(1 + exp(x1*y2 + x2)) + sin(x2)*y1", variables: .payoff(dimension: 2, secondDimension: 2))
        let n = 150
        let inputs = (0..<(4 * n)).map { _ in Double.random(in: -2...2, using: &rng) }
        let directions = (0..<(2 * n)).map { _ in Double.random(in: -1...1, using: &rng) }
        var products = [Double](repeating: .nan, count: 2 * n)
        var values = [Double](repeating: .nan, count: n)
        var gradients = [Double](repeating: .nan, count: 4 * n)
        var (plainValues, plainGradients) = ([Double](repeating: 0, count: n), [Double](repeating: 0, count: 4 * n))
        var workspace = FormulaWorkspace(for: f)
        f.evaluate(inputs: inputs, count: n, values: &plainValues, gradients: &plainGradients, workspace: &workspace)
        f.hessianVectorProducts(
            inputs: inputs, directions: directions, count: n, varying: 2, products: &products, values: &values,
            gradients: &gradients, workspace: &workspace)
        XCTAssertEqual(values, plainValues)
        XCTAssertEqual(gradients, plainGradients)
        for p in 0..<n {
            let single = f.hessianVectorProduct(
                at: Array(inputs[(4 * p)..<(4 * p + 4)]), direction: Array(directions[(2 * p)..<(2 * p + 2)]))
            XCTAssertEqual(Array(products[(2 * p)..<(2 * p + 2)]), single, "point \(p)")
        }
        var again = [Double](repeating: 0, count: n)
        f.evaluate(inputs: inputs, count: n, values: &again, gradients: nil, workspace: &workspace)
        XCTAssertEqual(again, plainValues)
    }

    /// vᵀ(Hw) = wᵀ(Hv): the products are of a symmetric matrix (not a property the sweeps
    /// enforce: the two partials of each mixed derivative are computed by different writes).
    func testProductsAreSymmetric() throws {
        var rng = TestRNG(15)
        let f = try Formula(
            "x1^x2*x3 + exp(x1*x2 - x3)/(1 + x3^2) + atan(x1 - x3)*norm(x)", variables: .position(dimension: 3))
        for _ in 0..<30 {
            let x = (0..<3).map { _ in Double.random(in: 0.3...2, using: &rng) }
            let v = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let w = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let vHw = zip(v, f.hessianVectorProduct(at: x, direction: w)).map { $0 * $1 }.reduce(0, +)
            let wHv = zip(w, f.hessianVectorProduct(at: x, direction: v)).map { $0 * $1 }.reduce(0, +)
            XCTAssertEqual(vHw, wHv, accuracy: 1e-12 * max(1, abs(vHw)), "at \(x)")
        }
    }
}
