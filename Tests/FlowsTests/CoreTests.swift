import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

final class RandomStreamTests: XCTestCase {
    func draws(_ s: RandomStream, _ n: Int = 64) -> [UInt64] {
        var s = s
        return (0..<n).map { _ in s.next() }
    }

    func testSameKeySameSequenceDifferentKeysDiffer() {
        let base = draws(RandomStream(seed: 42, .noise, 3, 5))
        XCTAssertEqual(base, draws(RandomStream(seed: 42, .noise, 3, 5)))
        let others = [
            RandomStream(seed: 43, .noise, 3, 5), RandomStream(seed: 42, .flow, 3, 5),
            RandomStream(seed: 42, .noise, 4, 5), RandomStream(seed: 42, .noise, 3, 6),
            RandomStream(seed: 42, .noise, 5, 3), RandomStream(seed: 42, .noise, -3, 5),
        ]
        var all = Set(base)
        for o in others {
            let s = draws(o)
            XCTAssertNotEqual(s, base)
            XCTAssertTrue(Set(s).isDisjoint(with: base), "streams overlap")
            all.formUnion(s)
        }
        XCTAssertEqual(all.count, 64 * 7, "repeated 64-bit outputs across streams")
    }

    /// 40 000 draws: |mean| ≤ 5/√n, |var − 1| ≤ 5·√(2/n), |E x⁴ − 3| ≤ 0.15 (5 standard
    /// errors of the 4th moment, √(96/n)); uniforms in [0, 1) and (0, 1) with mean ½ ± 5/√(12n).
    func testDistributions() {
        let n = 40_000
        var s = RandomStream(seed: 1, .initialisation)
        let z = (0..<n).map { _ in s.normal() }
        let m = z.reduce(0, +) / Double(n)
        let v = z.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        let k4 = z.reduce(0) { $0 + $1 * $1 * $1 * $1 } / Double(n)
        XCTAssertEqual(m, 0, accuracy: 5 / Double(n).squareRoot())
        XCTAssertEqual(v, 1, accuracy: 5 * (2 / Double(n)).squareRoot())
        XCTAssertEqual(k4, 3, accuracy: 5 * (96 / Double(n)).squareRoot())
        XCTAssertEqual(Set(z).count, n, "normal pairs repeat")
        var u = RandomStream(seed: 2, .initialisation)
        let us = (0..<n).map { _ in u.uniform() }
        let os = (0..<n).map { _ in u.openUniform() }
        XCTAssertTrue(us.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertTrue(os.allSatisfy { $0 > 0 && $0 < 1 })
        XCTAssertEqual(us.reduce(0, +) / Double(n), 0.5, accuracy: 5 / (12 * Double(n)).squareRoot())
        XCTAssertEqual(os.reduce(0, +) / Double(n), 0.5, accuracy: 5 / (12 * Double(n)).squareRoot())
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { counts[u.index(below: 7)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 1000) < 5 * 30 }, "\(counts)")  // sd ≈ √(1000·6/7) ≈ 29
    }
}

final class SPDMatrixTests: XCTestCase {
    let a: [Double] = [
        4, 2, 0.6,
        2, 3, -0.4,
        0.6, -0.4, 2,
    ]

    /// A·A⁻¹ = I and L·Lᵀ = A to 1e-13; log det against the 3×3 cofactor expansion (1e-13).
    func testInverseCholeskyDeterminant() throws {
        let m = try XCTUnwrap(SPDMatrix(size: 3, entries: a))
        let id = matmul(m.inverse, a, 3)
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(id[i * 3 + j], i == j ? 1 : 0, accuracy: 1e-13) } }
        let id2 = matmul(a, m.inverse, 3)
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(id2[i * 3 + j], i == j ? 1 : 0, accuracy: 1e-13) } }
        let l = m.cholesky
        var lt = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { lt[i * 3 + j] = l[j * 3 + i] } }
        XCTAssertLessThanOrEqual(relativeError(matmul(l, lt, 3), a), 1e-14)
        XCTAssertEqual(l[1], 0)
        XCTAssertEqual(l[2], 0)
        XCTAssertEqual(l[5], 0)  // lower triangular
        let det =
            a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6])
        XCTAssertEqual(m.logDeterminant, log(det), accuracy: 1e-13)
        XCTAssertEqual(m.applyCholesky([1, 0, 0]), [l[0], l[3], l[6]])
        let d = try XCTUnwrap(SPDMatrix.diagonal([2, 3, 0.5]))
        XCTAssertEqual(d.logDeterminant, log(3.0), accuracy: 1e-15)
        XCTAssertEqual(d.inverse[4], 1.0 / 3, accuracy: 1e-16)
        XCTAssertEqual(SPDMatrix(size: 1, entries: [9])?.cholesky, [3])
    }

    func testRejectsNonSPD() {
        XCTAssertNil(SPDMatrix(size: 2, entries: [1, 2, 2, 1]), "indefinite")
        XCTAssertNil(SPDMatrix(size: 2, entries: [1, 1, 1, 1]), "singular")
        XCTAssertNil(SPDMatrix(size: 2, entries: [1, 0.5, 0.4, 1]), "not symmetric")
        XCTAssertNil(SPDMatrix(size: 2, entries: [-1, 0, 0, 1]), "negative")
        XCTAssertNil(SPDMatrix(size: 3, entries: [1, 0, 0, 0, 0, 0, 0, 0, 1]), "zero diagonal")
        XCTAssertNil(SPDMatrix(size: 2, entries: [.nan, 0, 0, 1]), "NaN")
        XCTAssertNil(SPDMatrix.diagonal([1, -1]))
        XCTAssertNil(SPDMatrix.diagonal([1, 0]))
    }

    /// sampleMoments against a two-pass computation here (1e-14).
    func testSampleMoments() {
        let x: [Double] = [1, 2, 3, 5, -1, 0, 4, 4]
        let (m, c) = x.withUnsafeBufferPointer { sampleMoments($0, dimension: 2) }
        XCTAssertEqual(m, [7.0 / 4, 11.0 / 4])
        var cr = [0.0, 0.0, 0.0, 0.0]
        let mean = [1.75, 2.75]  // by hand, not the code's m
        for i in 0..<4 {
            for a in 0..<2 {
                for b in 0..<2 { cr[a * 2 + b] += (x[2 * i + a] - mean[a]) * (x[2 * i + b] - mean[b]) / 3 }
            }
        }
        XCTAssertLessThanOrEqual(relativeError(c, cr), 1e-14)
    }
}

final class SymmetricEigenTests: XCTestCase {
    /// The second-difference matrix tridiag(−1, 2, −1) of size n has the eigenvalues
    /// 2 − 2cos(kπ/(n + 1)) with eigenvectors sin(jkπ/(n + 1)) (k, j = 1 … n): at n = 7 and 40
    /// each computed pair matches one of these to 1e-13 (the vector up to sign).
    func testSecondDifferenceMatrixSpectrum() {
        for n in [7, 40] {
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                a[i * n + i] = 2
                if i > 0 { a[i * n + i - 1] = -1 }
                if i + 1 < n { a[i * n + i + 1] = -1 }
            }
            let (values, vectors) = symmetricEigen(a, size: n)
            var exact = (1...n).map { 2 - 2 * cos(Double($0) * .pi / Double(n + 1)) }
            exact.sort()
            XCTAssertLessThan(maxAbsDifference(values.sorted(), exact), 1e-13, "n = \(n)")
            for c in 0..<n {
                let k = (1...n).min {
                    abs(2 - 2 * cos(Double($0) * .pi / Double(n + 1)) - values[c])
                        < abs(2 - 2 * cos(Double($1) * .pi / Double(n + 1)) - values[c])
                }!
                let norm = (2 / Double(n + 1)).squareRoot()
                let v = (1...n).map { norm * sin(Double($0 * k) * .pi / Double(n + 1)) }
                let sign = v[0] * vectors[c] >= 0 ? 1.0 : -1.0
                for j in 0..<n {
                    XCTAssertEqual(vectors[j * n + c], sign * v[j], accuracy: 1e-13, "n = \(n), k = \(k)")
                }
            }
        }
    }

    /// a·I + b·11ᵀ (a repeated eigenvalue): a + nb once, a n − 1 times; and a random symmetric
    /// 50 × 50 matrix: V orthogonal and V diag(λ) Vᵀ = A, to 1e-13 of its largest entry.
    func testRepeatedEigenvalueAndReconstruction() {
        let n = 9
        let (values, _) = symmetricEigen((0..<(n * n)).map { ($0 / n == $0 % n ? 3 : 0) + 0.5 }, size: n)
        XCTAssertLessThan(maxAbsDifference(values.sorted(), [Double](repeating: 3, count: n - 1) + [7.5]), 1e-13)
        var rng = RandomStream(seed: 11, .flow)
        let m = 50
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in 0...i {
                a[i * m + j] = rng.normal()
                a[j * m + i] = a[i * m + j]
            }
        }
        let (lambda, v) = symmetricEigen(a, size: m)
        let scale = a.map(abs).max()!
        var worstOrthogonality = 0.0
        var worstReconstruction = 0.0
        for i in 0..<m {
            for j in 0..<m {
                var dot = 0.0
                var entry = 0.0
                for k in 0..<m {
                    dot += v[k * m + i] * v[k * m + j]
                    entry += v[i * m + k] * lambda[k] * v[j * m + k]
                }
                worstOrthogonality = max(worstOrthogonality, abs(dot - (i == j ? 1 : 0)))
                worstReconstruction = max(worstReconstruction, abs(entry - a[i * m + j]))
            }
        }
        XCTAssertLessThan(worstOrthogonality, 1e-13)
        XCTAssertLessThan(worstReconstruction, 1e-13 * scale)
    }
}

final class OptimizerTests: XCTestCase {
    func testSGD() {
        let o = Optimizer(rule: .sgd)
        var x = [1.0, -2.0]
        o.apply([0.5, 4], to: &x, stepSize: 0.1)
        XCTAssertEqual(x, [1.0 + 0.1 * 0.5, -2.0 + 0.1 * 4])
        XCTAssertEqual(o.report, ["optimizer": "sgd"])
    }

    /// Two AdaGrad steps by hand: H₁ = g₁², H₂ = αH₁ + (1 − α)g₂², x += h g/(fudge + √H), at the
    /// reference code's α = 0.9, fudge = 1e-6 and at α = 0.6, fudge = 0.3 (where the fudge and the
    /// decay change the step by tens of per cent). Tolerance 1e-15 absolute (a handful of
    /// roundings on O(1) numbers).
    func testAdagradTwoSteps() {
        for (alpha, fudge) in [(0.9, 1e-6), (0.6, 0.3)] {
            let h = 0.05
            let o = Optimizer(rule: .adagrad(alpha: alpha, fudge: fudge))
            let x0 = [1.0, 2.0, 3.0]
            let g1 = [0.5, -2.0, 0.0]
            let g2 = [1.0, 1.0, 0.3]
            var x = x0
            o.apply(g1, to: &x, stepSize: h)
            let h1 = g1.map { $0 * $0 }
            let x1 = (0..<3).map { x0[$0] + h * g1[$0] / (fudge + h1[$0].squareRoot()) }
            for k in 0..<3 { XCTAssertEqual(x[k], x1[k], accuracy: 1e-15, "α = \(alpha)") }
            XCTAssertEqual(x[2], 3, "zero gradient, zero history: no move (fudge avoids 0/0)")
            XCTAssertEqual(x[0], 1 + h * 0.5 / (fudge + 0.5), accuracy: 1e-15)
            o.apply(g2, to: &x, stepSize: h)
            let h2 = (0..<3).map { alpha * h1[$0] + (1 - alpha) * g2[$0] * g2[$0] }
            let x2 = (0..<3).map { x1[$0] + h * g2[$0] / (fudge + h2[$0].squareRoot()) }
            for k in 0..<3 { XCTAssertEqual(x[k], x2[k], accuracy: 1e-15, "α = \(alpha)") }
            XCTAssertEqual(o.report["optimizer"], "adagrad")
            XCTAssertNotNil(o.report["adagrad-alpha"])
        }
    }

    /// Two heavy-ball steps by hand (Hertrich et al.'s momentum MMD flow): u₁ = v₁, x₁ = x₀ + h u₁;
    /// u₂ = v₂ + m u₁, x₂ = x₁ + h u₂, at m = 0.9 and m = 0.35, numbers written out. Then the
    /// state round-trips through a checkpoint: a copy restored from it takes the same third step.
    func testMomentumTwoSteps() throws {
        let h = 0.5
        for m in [0.9, 0.35] {
            let o = Optimizer(rule: .momentum(m))
            var x = [1.0, 2.0, -3.0]
            o.apply([0.5, -2.0, 0.0], to: &x, stepSize: h)
            XCTAssertEqual(x, [1.25, 1.0, -3.0], "first step: plain Euler")
            o.apply([1.0, 1.0, 0.25], to: &x, stepSize: h)
            // u₂ = (1 + 0.5m, 1 − 2m, 0.25)
            let want = [1.25 + h * (1 + 0.5 * m), 1.0 + h * (1 - 2 * m), -3.0 + h * 0.25]
            for k in 0..<3 { XCTAssertEqual(x[k], want[k], accuracy: 1e-15, "m = \(m), coordinate \(k)") }
            XCTAssertEqual(o.report, ["optimizer": "momentum", "momentum": m == 0.9 ? "0.9" : "0.35"])
            let copy = Optimizer(rule: .momentum(m))
            try copy.restoreState(o.saveState())
            var y = x
            o.apply([0.0, 0.0, 0.0], to: &x, stepSize: h)
            copy.apply([0.0, 0.0, 0.0], to: &y, stepSize: h)
            XCTAssertEqual(x, y, "restored momentum = kept momentum")
            XCTAssertNotEqual(x, want, "a zero force still moves by the momentum")
        }
    }
}

final class ExpectationTests: XCTestCase {
    let series: [(step: Int, value: Double)] = [(0, 5), (10, 2), (20, 0.5)]

    func testBoundsAndByStep() {
        let e = Expectation(metric: "mmd", bound: .atMost(1), byStep: 20)
        XCTAssertTrue(e.judge(series).passed)
        XCTAssertTrue(e.judge(series).detail.contains("at step 20"), e.judge(series).detail)
        // by step 15: judged on the record at step 10 (value 2), not the later 0.5.
        let e15 = Expectation(metric: "mmd", bound: .atMost(1), byStep: 15)
        let v = e15.judge(series)
        XCTAssertFalse(v.passed)
        XCTAssertTrue(v.detail.contains("at step 10"), v.detail)
        XCTAssertTrue(Expectation(metric: "mmd", bound: .atLeast(1), byStep: 15).judge(series).passed)
        XCTAssertFalse(Expectation(metric: "mmd", bound: .atLeast(1), byStep: 20).judge(series).passed)
        XCTAssertTrue(Expectation(metric: "mmd", bound: .atMost(5), byStep: 0).judge(series).passed)
        XCTAssertFalse(Expectation(metric: "mmd", bound: .atMost(4.9), byStep: 0).judge(series).passed)
        // Bounds are inclusive.
        XCTAssertTrue(Expectation(metric: "m", bound: .atMost(2), byStep: 10).judge(series).passed)
        XCTAssertTrue(Expectation(metric: "m", bound: .atLeast(2), byStep: 10).judge(series).passed)
        XCTAssertFalse(Expectation(metric: "m", bound: .atMost(1), byStep: 0).holds(.nan))
        XCTAssertFalse(Expectation(metric: "m", bound: .atLeast(1), byStep: 0).holds(.nan))
    }

    func testRunEndedEarlyFails() {
        let short: [(step: Int, value: Double)] = [(0, 5), (10, 0.1)]
        let v = Expectation(metric: "mmd", bound: .atMost(1), byStep: 20).judge(short)
        XCTAssertFalse(v.passed, "0.1 ≤ 1 at step 10, but the run never reached step 20")
        XCTAssertTrue(v.detail.contains("ended at step 10"), v.detail)
        let none = Expectation(metric: "mmd", bound: .atMost(1), byStep: 20).judge([])
        XCTAssertFalse(none.passed)
        XCTAssertTrue(none.detail.contains("no record"), none.detail)
        // The first record is after byStep: no record at or before it.
        XCTAssertFalse(Expectation(metric: "mmd", bound: .atMost(100), byStep: 5).judge([(10, 0)]).passed)
    }

    func testDescription() {
        XCTAssertEqual(
            Expectation(metric: "ksd", bound: .atMost(0.5), byStep: 100).description, "ksd ≤ 0.5 by step 100")
        XCTAssertTrue(Expectation(metric: "ksd", bound: .atLeast(2), byStep: 7).description.hasPrefix("ksd ≥ 2"))
    }
}
