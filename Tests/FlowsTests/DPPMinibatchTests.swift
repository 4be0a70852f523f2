import Flows
import Foundation
import KernelSum
import XCTest

final class DPPMinibatchTests: XCTestCase {
    /// An R × B basis with orthonormal columns whose span holds the constant vector: Gram–Schmidt
    /// on [1, B − 1 random columns] (twice, for orthogonality to rounding).
    func randomBasis(rows r: Int, size b: Int, seed: UInt64) -> [Double] {
        var rng = RandomStream(seed: seed, .flow)
        var columns: [[Double]] = [[Double](repeating: 1, count: r)]
        for _ in 1..<b { columns.append((0..<r).map { _ in rng.normal() }) }
        for k in 0..<b {
            for _ in 0..<2 {
                for l in 0..<k {
                    let dot = zip(columns[k], columns[l]).reduce(0) { $0 + $1.0 * $1.1 }
                    columns[k] = zip(columns[k], columns[l]).map { $0 - dot * $1 }
                }
            }
            let norm = columns[k].reduce(0) { $0 + $1 * $1 }.squareRoot()
            columns[k] = columns[k].map { $0 / norm }
        }
        return (0..<(r * b)).map { columns[$0 % b][$0 / b] }
    }

    /// det K_S, K = U Uᵀ, by cofactor expansion (|S| ≤ 3 here).
    func determinant(_ basis: [Double], size b: Int, _ s: [Int]) -> Double {
        func k(_ i: Int, _ j: Int) -> Double { (0..<b).reduce(0) { $0 + basis[i * b + $1] * basis[j * b + $1] } }
        func det(_ m: [[Double]]) -> Double {
            if m.count == 1 { return m[0][0] }
            return (0..<m.count).reduce(0.0) { sum, c in
                let minor = m.dropFirst().map { row in row.enumerated().filter { $0.offset != c }.map(\.element) }
                return sum + (c % 2 == 0 ? 1 : -1) * m[0][c] * det(minor)
            }
        }
        return det(s.map { i in s.map { j in k(i, j) } })
    }

    /// Σ_k weights[k] f(rows[k]).
    func weightedSum(_ rows: [Int], _ weights: [Double], _ f: (Int) -> Double) -> Double {
        var sum = 0.0
        for (r, w) in zip(rows, weights) { sum += w * f(r) }
        return sum
    }

    /// The rows of a data file: q − 1 features (the intercept's 1 left out) and the label.
    func dataRows(_ features: [Double], _ labels: [Double], q: Int) -> [Double] {
        var rows: [Double] = []
        for r in 0..<labels.count { rows += Array(features[(r * q)..<(r * q + q - 1)]) + [labels[r]] }
        return rows
    }

    /// Every subset of `size` of 0..<r.
    func subsets(of r: Int, size b: Int) -> [[Int]] {
        guard b > 0 else { return [[]] }
        guard r >= b else { return [] }
        return subsets(of: r - 1, size: b) + subsets(of: r - 1, size: b - 1).map { $0 + [r - 1] }
    }

    /// The sampler draws the DPP's law on 6 rows: over 40000 draws each subset's frequency is within
    /// 5 binomial standard errors of det K_S (the determinants, computed here, sum to 1), and each
    /// row's inclusion frequency within 5 of K_ii; batches hold B distinct rows in increasing order.
    func testSamplerDrawsTheDPPsLaw() throws {
        for (b, seed) in [(2, UInt64(3)), (3, 4)] {
            let basis = randomBasis(rows: 6, size: b, seed: seed)
            let dpp = try XCTUnwrap(DPPMinibatch(basis: basis, rowCount: 6, size: b))
            let all = subsets(of: 6, size: b)
            let probabilities = all.map { determinant(basis, size: b, $0) }
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-12)
            let draws = 40_000
            var counts = [[Int]: Int]()
            var inclusions = [Int](repeating: 0, count: 6)
            var rng = RandomStream(seed: seed, .minibatch)
            for _ in 0..<draws {
                let s = dpp.sample(using: &rng)
                XCTAssertEqual(s.count, b)
                XCTAssertEqual(s, Array(Set(s)).sorted())
                counts[s, default: 0] += 1
                for i in s { inclusions[i] += 1 }
            }
            for (s, p) in zip(all, probabilities) {
                let frequency = Double(counts[s, default: 0]) / Double(draws)
                XCTAssertEqual(frequency, p, accuracy: 5 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-12, "\(s)")
            }
            for i in 0..<6 {
                let kii = (0..<b).reduce(0) { $0 + basis[i * b + $1] * basis[i * b + $1] }
                XCTAssertEqual(
                    Double(inclusions[i]) / Double(draws), kii,
                    accuracy: 5 * (kii * (1 - kii) / Double(draws)).squareRoot(), "row \(i)")
            }
        }
    }

    /// 10 rows of 2 features (and the intercept's 1), labels from a noisy rule, and each row's
    /// logistic-regression gradient (t − σ(x·w)) x at w, written out here.
    func smallData(rows r: Int = 10) -> (features: [Double], labels: [Double]) {
        var rng = RandomStream(seed: 8, .flow)
        var features: [Double] = []
        var labels: [Double] = []
        for _ in 0..<r {
            let x = [rng.normal(), rng.normal()]
            features += x + [1]
            labels.append(x[0] + 0.7 * rng.normal() > 0 ? 1 : 0)
        }
        return (features, labels)
    }

    func rowGradients(_ features: [Double], _ labels: [Double], q: Int, at w: [Double]) -> [[Double]] {
        (0..<labels.count).map { r in
            let x = Array(features[(r * q)..<((r + 1) * q)])
            let z = zip(x, w).reduce(0) { $0 + $1.0 * $1.1 }
            return x.map { (labels[r] - 1 / (1 + exp(-z))) * $0 }
        }
    }

    /// The weighted batch sum is unbiased: its exact expectation Σ_S det K_S Σ_{i∈S} w_i(S) g_i,
    /// over every subset with the determinants computed here, is the full sum Σ_i g_i to 1e-12, for
    /// a random kernel (B = 3 of 10 rows) and for the cell kernel of the data (B = 3); on the span of
    /// the kernel (g = U c) every batch is exact.
    func testWeightedSumIsUnbiasedByEnumeration() throws {
        let (x, t) = smallData()
        let rows = dataRows(x, t, q: 3)
        let strata = DPPMinibatch.strata(rows: rows, columns: 3, rowCount: 10, size: 3)
        let random = try XCTUnwrap(DPPMinibatch(basis: randomBasis(rows: 10, size: 3, seed: 6), rowCount: 10, size: 3))
        let g = rowGradients(x, t, q: 3, at: [0.8, -0.4, 0.3])
        let full = (0..<3).map { a in g.reduce(0) { $0 + $1[a] } }
        for (name, dpp) in [("random", random), ("cells", strata)] {
            var mean = [Double](repeating: 0, count: 3)
            var total = 0.0
            for s in subsets(of: 10, size: 3) {
                let p = determinant(dpp.basis, size: 3, s)
                total += p
                guard p > 1e-15 else { continue }
                let w = dpp.weights(rows: s)
                for a in 0..<3 { mean[a] += p * weightedSum(s, w) { g[$0][a] } }
                // Exact on the span: f = U (1, −2, 0.5).
                let u = dpp.basis
                let f: [Double] = (0..<10).map { i in
                    let (u0, u1, u2) = (u[i * 3], u[i * 3 + 1], u[i * 3 + 2])
                    return u0 - 2 * u1 + 0.5 * u2
                }
                // Rounding: the solve's error grows with the weights (an ill-conditioned U_S).
                let size = max(1, w.reduce(0) { $0 + abs($1) })
                XCTAssertEqual(weightedSum(s, w) { f[$0] }, f.reduce(0, +), accuracy: 1e-12 * size, "\(name) \(s)")
            }
            XCTAssertEqual(total, 1, accuracy: 1e-12, name)
            for a in 0..<3 { XCTAssertEqual(mean[a], full[a], accuracy: 1e-12 * max(1, abs(full[a])), "\(name) \(a)") }
        }
    }

    /// Through the real target: `logistic-regression` with `batches = .dpp` (B = 5 of 40 rows), the
    /// minibatch scores' mean over 20000 steps is within 5 standard errors of the full score in
    /// every coordinate; the `data` target with logistic regression's row formula (same rows, so
    /// the same cells) gives the same minibatch scores.
    func testTargetsMinibatchScoresAreUnbiased() throws {
        var rng = RandomStream(seed: 5, .flow)
        var x: [Double] = []
        var t: [Double] = []
        for _ in 0..<40 {
            let f = (0..<3).map { _ in rng.normal() }
            x += f + [1]
            t.append(f[0] - 0.5 * f[1] + 0.3 * rng.normal() > 0 ? 1 : 0)
        }
        let target = LogisticRegressionTarget(
            features: x, labels: t, weightCount: 4, prior: .gaussian(std: 1), batchSize: 5, batches: .dpp)
        XCTAssertNotNil(target.schedule.dpp)
        let w = [0.3, -0.2, 0.1, 0.05]
        let steps = 20_000
        var sum = [Double](repeating: 0, count: 4)
        var squares = [Double](repeating: 0, count: 4)
        var estimate = [Double](repeating: 0, count: 4)
        for step in 1...steps {
            w.withUnsafeBufferPointer { p in
                estimate.withUnsafeMutableBufferPointer { o in
                    target.minibatchScores(
                        p.baseAddress!, count: 1, into: o.baseAddress!, threads: 1, step: step, seed: 3)
                }
            }
            for a in 0..<4 {
                sum[a] += estimate[a]
                squares[a] += estimate[a] * estimate[a]
            }
        }
        // One step by hand: the prior's score −w plus Σ_k c_k (t_r − σ(x_r·w)) x_r over the batch.
        let (batch, weights) = target.schedule.batch(step: 9, seed: 3)
        let g = rowGradients(x, t, q: 4, at: w)
        w.withUnsafeBufferPointer { p in
            estimate.withUnsafeMutableBufferPointer { o in
                target.minibatchScores(p.baseAddress!, count: 1, into: o.baseAddress!, threads: 1, step: 9, seed: 3)
            }
        }
        for a in 0..<4 {
            XCTAssertEqual(estimate[a], -w[a] + weightedSum(batch, weights) { g[$0][a] }, accuracy: 1e-12, "step 9")
        }
        let full = target.score(w)
        for a in 0..<4 {
            let mean = sum[a] / Double(steps)
            let sd = (squares[a] / Double(steps) - mean * mean).squareRoot()
            XCTAssertEqual(mean, full[a], accuracy: 5 * sd / Double(steps).squareRoot(), "coordinate \(a)")
        }
        var rows: [Double] = []
        for r in 0..<40 { rows += Array(x[(r * 4)..<(r * 4 + 3)]) + [t[r]] }
        let z = "x1*y1 + x2*y2 + x3*y3 + x4"
        let formulaTarget = DataTarget(
            dimension: 4,
            rowLogLikelihood: try ScenarioFormula(
                compiling: "y4*(\(z)) - softplus(\(z))", variables: .payoff(dimension: 4, secondDimension: 4)),
            logPrior: try ScenarioFormula(
                compiling: "-0.5*(x1^2 + x2^2 + x3^2 + x4^2)", variables: .position(dimension: 4)),
            rows: rows, columns: 4,
            schedule: MinibatchSchedule(rowCount: 40, batchSize: 5, batches: .dpp, data: rows, columns: 4))
        var (ma, mb) = ([Double](repeating: 0, count: 4), [Double](repeating: 0, count: 4))
        for step in [1, 7, 8] {
            w.withUnsafeBufferPointer { p in
                ma.withUnsafeMutableBufferPointer {
                    formulaTarget.minibatchScores(
                        p.baseAddress!, count: 1, into: $0.baseAddress!, threads: 1, step: step, seed: 2)
                }
                mb.withUnsafeMutableBufferPointer {
                    target.minibatchScores(
                        p.baseAddress!, count: 1, into: $0.baseAddress!, threads: 1, step: step, seed: 2)
                }
            }
            for k in 0..<4 { XCTAssertEqual(ma[k], mb[k], accuracy: 1e-12 * max(1, abs(mb[k])), "step \(step)") }
        }
    }

    /// The same (seed, step) draws the same rows and weights; another step or seed other rows; a
    /// cell-kernel batch takes one row of each cell, weighted by the cell's size.
    func testBatchesAreKeyedBySeedAndStep() {
        let (x, t) = smallData(rows: 30)
        let rows = dataRows(x, t, q: 3)
        let schedule = MinibatchSchedule(rowCount: 30, batchSize: 4, batches: .dpp, data: rows, columns: 3)
        let a = schedule.batch(step: 7, seed: 3)
        let b = schedule.batch(step: 7, seed: 3)
        XCTAssertEqual(a.rows, b.rows)
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertNotEqual(schedule.batch(step: 8, seed: 3).rows, a.rows)
        XCTAssertNotEqual(schedule.batch(step: 7, seed: 4).rows, a.rows)
        let cells = DPPMinibatch.cells(rows: rows, columns: 3, rowCount: 30, count: 4)
        XCTAssertEqual(cells.flatMap { $0 }.sorted(), Array(0..<30), "the cells partition the rows")
        XCTAssertEqual(Set(cells.map { $0.count }), Set([7, 8]), "sizes within one of R/B")
        for step in 1...50 {
            let batch = schedule.batch(step: step, seed: 1)
            let cellOf = batch.rows.map { r in cells.firstIndex { $0.contains(r) }! }
            XCTAssertEqual(cellOf.sorted(), [0, 1, 2, 3], "one row per cell")
            for (r, w) in zip(batch.rows, batch.weights) {
                XCTAssertEqual(w, Double(cells.first { $0.contains(r) }!.count), accuracy: 1e-12)
            }
        }
    }

    /// The breast-cancer training rows (scenarios/data) as features with the intercept's 1, labels.
    func breastCancer() throws -> (features: [Double], labels: [Double]) {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/data/breast-cancer-train.csv")
        var features: [Double] = []
        var labels: [Double] = []
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst() {
            let v = line.split(separator: ",").map { Double($0)! }
            features += v.dropLast() + [1]
            labels.append(v.last!)
        }
        return (features, labels)
    }

    /// The DPP's gradient variance is below i.i.d.'s at equal batch size on the breast-cancer data
    /// (R = 455, 31 weights), B = 10, 20, 50, at the posterior mode (Gaussian prior, s = 1; Newton),
    /// a prior draw and a point near the SVGD scenario's initialisation. Closed forms: i.i.d.
    /// (R/B) Σ_r |g_r − ḡ|², the cell kernel Σ_k |C_k| Σ_{r∈C_k} |g_r − ḡ_k|² (one row per cell).
    /// Over 4000 steps the target's minibatch scores' mean squared error (the trace of the
    /// estimate's covariance) is within 5 standard errors of each closed form, and away from the
    /// mode the DPP's is below i.i.d.'s by more than 5 standard errors of the measured ratio; the
    /// closed-form ratio is below 1 everywhere (at the mode, 0.89–0.99). Prints the ratios.
    func testDPPVarianceIsBelowIIDsOnBreastCancerData() throws {
        let (x, t) = try breastCancer()
        let (r, q) = (t.count, 31)
        let base = LogisticRegressionTarget(features: x, labels: t, weightCount: q, prior: .gaussian(std: 1))
        var mode = [Double](repeating: 0, count: q)
        for _ in 0..<30 {
            let g = base.score(mode)
            var h = [Double](repeating: 0, count: q * q)
            for a in 0..<q {
                var e = [Double](repeating: 0, count: q)
                e[a] = 1
                let column = base.hessianVectorProduct(mode, e)
                for b in 0..<q { h[b * q + a] = -column[b] }
            }
            let inverse = try XCTUnwrap(SPDMatrix(size: q, entries: h)).inverse
            for a in 0..<q { mode[a] += (0..<q).reduce(0) { $0 + inverse[a * q + $1] * g[$1] } }
        }
        XCTAssertLessThan(base.score(mode).reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-8, "the mode")
        var rng = RandomStream(seed: 12, .flow)
        let prior = (0..<q).map { _ in rng.normal() }
        let initial = (0..<q).map { _ in 0.1 * rng.normal() }
        let points = [("mode", mode), ("prior draw", prior), ("near init", initial)]
        let steps = 4000
        var report: [String] = []
        for b in [10, 20, 50] {
            let dpp = LogisticRegressionTarget(
                features: x, labels: t, weightCount: q, prior: .gaussian(std: 1), batchSize: b, batches: .dpp)
            let iid = LogisticRegressionTarget(
                features: x, labels: t, weightCount: q, prior: .gaussian(std: 1), batchSize: b, batches: .iid)
            let cells = DPPMinibatch.cells(
                rows: (0..<r).flatMap { Array(x[($0 * q)..<($0 * q + q)]) + [t[$0]] }, columns: q + 1, rowCount: r,
                count: b)
            let all = points.flatMap(\.1)
            var squaredErrors: [[[Double]]] = [[], []]  // [dpp, iid][point][step]
            for (k, target) in [dpp, iid].enumerated() {
                squaredErrors[k] = [[Double]](repeating: [], count: points.count)
                var out = [Double](repeating: 0, count: all.count)
                let full = points.map { target.score($0.1) }
                for step in 1...steps {
                    all.withUnsafeBufferPointer { p in
                        out.withUnsafeMutableBufferPointer { o in
                            target.minibatchScores(
                                p.baseAddress!, count: points.count, into: o.baseAddress!, threads: 1, step: step,
                                seed: 21)
                        }
                    }
                    for i in 0..<points.count {
                        squaredErrors[k][i].append((0..<q).reduce(0) { $0 + pow(out[i * q + $1] - full[i][$1], 2) })
                    }
                }
            }
            for (i, point) in points.enumerated() {
                let g = rowGradients(x, t, q: q, at: point.1)
                func spread(_ rows: [Int]) -> Double {
                    let mean = (0..<q).map { a in rows.reduce(0) { $0 + g[$1][a] } / Double(rows.count) }
                    return rows.reduce(0) { s, row in s + (0..<q).reduce(0) { $0 + pow(g[row][$1] - mean[$1], 2) } }
                }
                let exactIID = Double(r) / Double(b) * spread(Array(0..<r))
                let exactDPP = cells.reduce(0) { $0 + Double($1.count) * spread($1) }
                var measured: [(mean: Double, se: Double)] = []
                for k in 0..<2 {
                    let e = squaredErrors[k][i]
                    let mean = e.reduce(0, +) / Double(steps)
                    let sd = (e.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(steps - 1)).squareRoot()
                    measured.append((mean, sd / Double(steps).squareRoot()))
                }
                let name = "B = \(b), \(point.0)"
                XCTAssertEqual(measured[0].mean, exactDPP, accuracy: 5 * measured[0].se, "\(name): DPP")
                XCTAssertEqual(measured[1].mean, exactIID, accuracy: 5 * measured[1].se, "\(name): iid")
                XCTAssertLessThan(exactDPP, exactIID, name)
                let ratio = measured[0].mean / measured[1].mean
                let ratioSE =
                    ratio
                    * (pow(measured[0].se / measured[0].mean, 2) + pow(measured[1].se / measured[1].mean, 2))
                    .squareRoot()
                // Away from the mode the gain is large enough to measure: 5 standard errors below 1.
                if point.0 != "mode" { XCTAssertLessThan(ratio + 5 * ratioSE, 1, name) }
                report.append(
                    "\(name): DPP/iid measured \(String(format: "%.3f ± %.3f", ratio, ratioSE)), exact \(String(format: "%.3f", exactDPP / exactIID))"
                )
            }
        }
        print(report.joined(separator: "\n"))
    }
}
