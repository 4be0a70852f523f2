import Formula
import TestSupport
import XCTest

final class BatchTests: XCTestCase {
    private func checkBatch(
        _ f: Formula, counts: [Int], batch: Int, seed: UInt64,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var rng = TestRNG(seed)
        let n = f.inputCount
        var ws = FormulaWorkspace(for: f, batch: batch)
        for count in counts {
            let inputs = (0..<(count * n)).map { _ in Double.random(in: 0.1...2, using: &rng) }
            var values = [Double](repeating: .nan, count: count)
            var grads = [Double](repeating: .nan, count: count * n)
            var valuesOnly = [Double](repeating: .nan, count: count)
            inputs.withUnsafeBufferPointer { ip in
                values.withUnsafeMutableBufferPointer { vp in
                    grads.withUnsafeMutableBufferPointer { gp in
                        f.evaluate(
                            inputs: ip.baseAddress!, count: count, values: vp.baseAddress!,
                            gradients: gp.baseAddress!, workspace: &ws)
                    }
                }
                valuesOnly.withUnsafeMutableBufferPointer { vp in
                    f.evaluate(
                        inputs: ip.baseAddress!, count: count, values: vp.baseAddress!,
                        gradients: nil, workspace: &ws)
                }
            }
            for k in 0..<count {
                let point = Array(inputs[(k * n)..<((k + 1) * n)])
                let (v, g) = f.valueAndGradient(at: point)
                XCTAssertEqual(values[k], v, "'\(f.source)' count \(count) point \(k)", file: file, line: line)
                XCTAssertEqual(
                    valuesOnly[k], v, "'\(f.source)' value-only, count \(count) point \(k)",
                    file: file, line: line)
                XCTAssertEqual(
                    Array(grads[(k * n)..<((k + 1) * n)]), g,
                    "'\(f.source)' gradient, count \(count) point \(k)", file: file, line: line)
            }
        }
    }

    func testBatchEqualsSinglePoint() throws {
        let counts = [1, 63, 64, 65, 1000]
        checkBatch(
            try Formula("-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)", variables: .position(dimension: 2)),
            counts: counts, batch: 64, seed: 10)
        checkBatch(
            try Formula("0.5*norm2(x) - log(norm(x)) + max(x1, x2, 1)", variables: .position(dimension: 3)),
            counts: counts, batch: 64, seed: 11)
        checkBatch(
            try Formula("cos(x1 - y1) * norm(x - y) + y2^1.5", variables: .payoff(dimension: 2, secondDimension: 2)),
            counts: counts, batch: 64, seed: 12)
        checkBatch(
            try Formula("exp(-r^2/(2*s^2))", variables: .radius, parameters: ["s": 0.3]),
            counts: counts, batch: 64, seed: 13)
        checkBatch(
            try Formula("softplus(x1) + sigmoid(x2) + 2", variables: .position(dimension: 2)),
            counts: [1, 7, 8, 9, 100], batch: 8, seed: 14)
    }

    func testConstantFormulaBatch() throws {
        checkBatch(try Formula("2*pi", variables: .position(dimension: 2)), counts: [1, 65], batch: 64, seed: 15)
        checkBatch(try Formula("x2", variables: .position(dimension: 2)), counts: [1, 65], batch: 64, seed: 16)
    }

    func testWorkspaceForAnotherFormulaIsEnlarged() throws {
        let small = try Formula("x1", variables: .position(dimension: 1))
        let big = try Formula("sin(x1)*cos(x2) + exp(x1*x2) + (x1 - x2)^4", variables: .position(dimension: 2))
        var ws = FormulaWorkspace(for: small, batch: 16)
        let inputs = [0.3, 0.7, 1.1, -0.4]
        var v = [0.0, 0.0]
        var g = [0.0, 0.0, 0.0, 0.0]
        big.evaluate(inputs: inputs, count: 2, values: &v, gradients: &g, workspace: &ws)
        XCTAssertEqual(v[1], big.value(at: [1.1, -0.4]))
        XCTAssertEqual(Array(g[2...]), big.gradient(at: [1.1, -0.4]))
        XCTAssertEqual(ws.batch, 16)
    }
}
