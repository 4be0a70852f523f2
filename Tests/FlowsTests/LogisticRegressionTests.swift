import Flows
import Foundation
import KernelSum
import XCTest

final class LogisticRegressionTests: XCTestCase {
    /// 40 rows of 3 features (and the intercept's 1), labels from a noisy linear rule.
    func data(rows: Int = 40) -> (features: [Double], labels: [Double]) {
        var rng = RandomStream(seed: 5, .flow)
        var features: [Double] = []
        var labels: [Double] = []
        for _ in 0..<rows {
            let x = (0..<3).map { _ in rng.normal() }
            features += x + [1]
            labels.append(x[0] - 0.5 * x[1] + 0.3 * rng.normal() > 0 ? 1 : 0)
        }
        return (features, labels)
    }

    func target(
        _ prior: LogisticRegressionTarget.Prior, batchSize: Int = 0, batches: MinibatchSchedule.Batches = .iid
    )
        -> LogisticRegressionTarget
    {
        let (x, t) = data()
        return LogisticRegressionTarget(
            features: x, labels: t, weightCount: 4, prior: prior, batchSize: batchSize, batches: batches)
    }

    /// The full score against an independent double loop over the rows of
    /// log π = log p(w) + Σ t z − log(1 + e^z), and against central differences of log π, for both
    /// priors (the hierarchical one's last coordinate is log α).
    func testScoreIsTheLogDensitysGradient() {
        let (x, t) = data()
        for prior in [LogisticRegressionTarget.Prior.gaussian(std: 2), .hierarchical(shape: 1, rate: 0.01)] {
            let target = target(prior)
            let w: [Double] = target.dimension == 4 ? [0.3, -0.2, 0.1, 0.05] : [0.3, -0.2, 0.1, 0.05, 0.7]
            let g = target.score(w)
            // Independent: the likelihood's gradient row by row, the prior's by hand.
            var expected = [Double](repeating: 0, count: target.dimension)
            for r in 0..<40 {
                let z = (0..<4).reduce(0.0) { $0 + x[r * 4 + $1] * w[$1] }
                for a in 0..<4 { expected[a] += (t[r] - 1 / (1 + exp(-z))) * x[r * 4 + a] }
            }
            let norm = (0..<4).reduce(0.0) { $0 + w[$1] * w[$1] }
            if target.dimension == 4 {
                for a in 0..<4 { expected[a] -= w[a] / 4 }
            } else {
                for a in 0..<4 { expected[a] -= exp(w[4]) * w[a] }
                expected[4] = 2 + 1 - exp(w[4]) * (norm / 2 + 0.01)
            }
            for a in 0..<target.dimension {
                XCTAssertEqual(g[a], expected[a], accuracy: 1e-12 * max(1, abs(expected[a])), "\(prior) \(a)")
                var up = w
                var down = w
                up[a] += 1e-6
                down[a] -= 1e-6
                let fd = (target.logDensity(up) - target.logDensity(down)) / 2e-6
                XCTAssertEqual(g[a], fd, accuracy: 1e-6 * max(1, abs(g[a])), "\(prior) \(a): finite differences")
            }
        }
    }

    /// `epoch` batches: one epoch's batches partition the rows, and with B dividing R their
    /// estimates (R/B × the batch's sum, plus the prior) average to the full score; the next
    /// epoch is another permutation.
    func testEpochBatchesAverageToTheFullScore() {
        let target = target(.hierarchical(shape: 1, rate: 0.01), batchSize: 8, batches: .epoch)
        let w = [0.3, -0.2, 0.1, 0.05, 0.7]
        var seen: [Int] = []
        var mean = [Double](repeating: 0, count: 5)
        var estimate = [Double](repeating: 0, count: 5)
        for step in 1...5 {
            seen += target.batch(step: step, seed: 11)
            w.withUnsafeBufferPointer { p in
                estimate.withUnsafeMutableBufferPointer { o in
                    target.minibatchScores(
                        p.baseAddress!, count: 1, into: o.baseAddress!, threads: 1, step: step, seed: 11)
                }
            }
            for a in 0..<5 { mean[a] += estimate[a] / 5 }
        }
        XCTAssertEqual(seen.sorted(), Array(0..<40), "an epoch's batches partition the rows")
        XCTAssertNotEqual(target.batch(step: 6, seed: 11), target.batch(step: 1, seed: 11), "a new permutation")
        let full = target.score(w)
        for a in 0..<5 { XCTAssertEqual(mean[a], full[a], accuracy: 1e-12 * max(1, abs(full[a]))) }
    }

    /// `iid` batches are unbiased: over 20000 steps the estimates' mean is within 4 standard
    /// errors of the full score in every coordinate; they are keyed by (seed, step).
    func testIIDBatchesAreUnbiased() {
        let target = target(.gaussian(std: 1), batchSize: 5, batches: .iid)
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
        let full = target.score(w)
        for a in 0..<4 {
            let mean = sum[a] / Double(steps)
            let sd = (squares[a] / Double(steps) - mean * mean).squareRoot()
            XCTAssertEqual(mean, full[a], accuracy: 4 * sd / Double(steps).squareRoot(), "coordinate \(a)")
        }
        XCTAssertEqual(target.batch(step: 7, seed: 3), target.batch(step: 7, seed: 3))
        XCTAssertNotEqual(target.batch(step: 7, seed: 3), target.batch(step: 7, seed: 4))
    }

    /// The predictive metrics on a hand-checked case: two particles, three held-out rows.
    func testPredictiveAccuracyAndLogLikelihood() throws {
        let (x, t) = data()
        // Rows (features + intercept) and labels; particles w₁ = (1, 0, 0, 0), w₂ = (3, 0, 0, 0).
        let test = (features: [1.0, 0, 0, 1, -2, 0, 0, 1, 0.5, 0, 0, 1], labels: [1.0, 1, 0])
        let target = LogisticRegressionTarget(
            features: x, labels: t, weightCount: 4, prior: .gaussian(std: 1), test: test)
        let p = try XCTUnwrap(target.predictive([1, 0, 0, 0, 3, 0, 0, 0]))
        func s(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
        let probabilities = [(s(1) + s(3)) / 2, (s(-2) + s(-6)) / 2, (s(0.5) + s(1.5)) / 2]
        // Row 1 right (p > ½, t = 1), row 2 wrong (p < ½, t = 1), row 3 wrong (p > ½, t = 0).
        XCTAssertEqual(p.accuracy, 1.0 / 3)
        let expected = (log(probabilities[0]) + log(probabilities[1]) + log(1 - probabilities[2])) / 3
        XCTAssertEqual(p.logLikelihood, expected, accuracy: 1e-14)
    }

    /// SVGD at step k scores from the minibatch of step k (its seed the scenario's): its
    /// direction equals Σ_j w_j [k(x_j, x_i) ŝ_j + ∇_{x_j} k(x_j, x_i)] with ŝ the minibatch scores,
    /// written out here; at step 0 (no step) the full scores.
    func testSVGDTakesTheStepsMinibatch() {
        let target = target(.gaussian(std: 1), batchSize: 6, batches: .iid)
        let x = [0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.0, 0.3, 0.1, 0.1, -0.1, -0.2]
        let n = 3
        let d = 4
        let sigma = 0.7
        let flow = SteinVariationalGradientDescent(
            density: target, kernel: GaussianKernel(sigma: sigma), bandwidth: .fixed, optimizer: Optimizer(rule: .sgd),
            engine: DirectSum(threads: 1), threads: 1, seed: 9)
        func expected(_ scores: [Double]) -> [Double] {
            var phi = [Double](repeating: 0, count: n * d)
            for i in 0..<n {
                for j in 0..<n {
                    var r2 = 0.0
                    for a in 0..<d { r2 += pow(x[j * d + a] - x[i * d + a], 2) }
                    let k = exp(-r2 / (2 * sigma * sigma))
                    for a in 0..<d {
                        phi[i * d + a] +=
                            (k * scores[j * d + a] - k * (x[j * d + a] - x[i * d + a]) / (sigma * sigma)) / 3
                    }
                }
            }
            return phi
        }
        var minibatch = [Double](repeating: 0, count: n * d)
        x.withUnsafeBufferPointer { p in
            minibatch.withUnsafeMutableBufferPointer { o in
                target.minibatchScores(p.baseAddress!, count: n, into: o.baseAddress!, threads: 1, step: 5, seed: 9)
            }
        }
        var full = [Double](repeating: 0, count: n * d)
        target.scores(x, into: &full, threads: 1)
        XCTAssertGreaterThan(maxAbsDifference(minibatch, full), 1e-3, "the batch differs from the data")
        let population = Population(name: "p", dimension: d, positions: x)
        XCTAssertLessThan(maxAbsDifference(flow.direction(population, step: 5), expected(minibatch)), 1e-12)
        XCTAssertLessThan(maxAbsDifference(flow.direction(population), expected(full)), 1e-12)
    }

    /// The Hessian–vector product against central differences of the exact score, both priors.
    func testHessianVectorProductIsTheScoresDerivative() {
        for prior in [LogisticRegressionTarget.Prior.gaussian(std: 2), .hierarchical(shape: 1, rate: 0.01)] {
            let target = target(prior)
            let w: [Double] = target.dimension == 4 ? [0.3, -0.2, 0.1, 0.05] : [0.3, -0.2, 0.1, 0.05, 0.7]
            let v: [Double] = target.dimension == 4 ? [1, -0.5, 0.25, 2] : [1, -0.5, 0.25, 2, -1.5]
            let hv = target.hessianVectorProduct(w, v)
            let up = target.score(zip(w, v).map { $0 + 1e-6 * $1 })
            let down = target.score(zip(w, v).map { $0 - 1e-6 * $1 })
            for a in 0..<target.dimension {
                let fd = (up[a] - down[a]) / 2e-6
                XCTAssertEqual(hv[a], fd, accuracy: 1e-6 * max(1, abs(fd)), "\(prior) \(a)")
            }
        }
    }

    /// A `data` target whose row formula is logistic regression's, with the Gaussian prior as a
    /// formula, is the built-in `logistic-regression` target: the same log-density, score and
    /// minibatch scores (same schedule and seed) to rounding.
    /// The built-in target's model as a `data` target: a formula per row (features y1 … y3, label
    /// y4) and the prior as a formula (N(0, 4I), or the hierarchical prior with u = x5).
    func formulaTarget(
        _ prior: LogisticRegressionTarget.Prior, batchSize: Int = 0, batches: MinibatchSchedule.Batches = .iid
    ) throws -> DataTarget {
        let (x, t) = data()
        var rows: [Double] = []
        for r in 0..<40 { rows += Array(x[(r * 4)..<(r * 4 + 3)]) + [t[r]] }
        let z = "x1*y1 + x2*y2 + x3*y3 + x4"
        let (d, logPrior): (Int, String)
        switch prior {
        case .gaussian(let std): (d, logPrior) = (4, "-0.5*(x1^2 + x2^2 + x3^2 + x4^2)/\(std * std)")
        case .hierarchical(let shape, let rate):
            (d, logPrior) = (5, "\(2 + shape)*x5 - exp(x5)*(0.5*(x1^2 + x2^2 + x3^2 + x4^2) + \(rate))")
        }
        return DataTarget(
            dimension: d,
            rowLogLikelihood: try ScenarioFormula(
                compiling: "y4*(\(z)) - softplus(\(z))", variables: .payoff(dimension: d, secondDimension: 4)),
            logPrior: try ScenarioFormula(compiling: logPrior, variables: .position(dimension: d)),
            rows: rows, columns: 4, schedule: MinibatchSchedule(rowCount: 40, batchSize: batchSize, batches: batches))
    }

    func testFormulaPerRowIsTheBuiltInLogisticRegression() throws {
        let formulaTarget = try formulaTarget(.gaussian(std: 2), batchSize: 6, batches: .epoch)
        let builtIn = target(.gaussian(std: 2), batchSize: 6, batches: .epoch)
        let w = [0.3, -0.2, 0.1, 0.05]
        XCTAssertEqual(formulaTarget.logDensity(w), builtIn.logDensity(w), accuracy: 1e-12 * abs(builtIn.logDensity(w)))
        let (a, b) = (formulaTarget.score(w), builtIn.score(w))
        for k in 0..<4 { XCTAssertEqual(a[k], b[k], accuracy: 1e-12 * max(1, abs(b[k]))) }
        var (ma, mb) = ([Double](repeating: 0, count: 4), [Double](repeating: 0, count: 4))
        for step in [1, 7, 8] {
            w.withUnsafeBufferPointer { p in
                ma.withUnsafeMutableBufferPointer {
                    formulaTarget.minibatchScores(
                        p.baseAddress!, count: 1, into: $0.baseAddress!, threads: 1, step: step, seed: 2)
                }
                mb.withUnsafeMutableBufferPointer {
                    builtIn.minibatchScores(
                        p.baseAddress!, count: 1, into: $0.baseAddress!, threads: 1, step: step, seed: 2)
                }
            }
            for k in 0..<4 { XCTAssertEqual(ma[k], mb[k], accuracy: 1e-12 * max(1, abs(mb[k])), "step \(step)") }
        }
    }

    /// ∇²log π(w) v of `target` at `w`, estimated from the minibatch of `step` (seed 2).
    func minibatchHessian(_ target: any MinibatchHessianDensity, _ w: [Double], _ v: [Double], step: Int) -> [Double] {
        target.minibatch(step: step, seed: 2).hessianVectorProduct(w, v)
    }

    /// The data target's Hessian-vector products (the formulas' tapes, forward over reverse) are
    /// the built-in target's closed form, for both priors (the hierarchical one through exp(x5)),
    /// on the full data and on the minibatches of steps 1, 7 and 8 (epochs of 6 rows of 40), to
    /// 10⁻¹² relative to the largest component; the minibatches' differ from the full data's.
    func testFormulaPerRowHessianIsTheBuiltIns() throws {
        for prior in [LogisticRegressionTarget.Prior.gaussian(std: 2), .hierarchical(shape: 1, rate: 0.01)] {
            let formula = try formulaTarget(prior, batchSize: 6, batches: .epoch)
            let builtIn = target(prior, batchSize: 6, batches: .epoch)
            let d = builtIn.dimension
            XCTAssertEqual(formula.dimension, d)
            let w = Array([0.3, -0.2, 0.1, 0.05, 0.4][..<d])
            let v = Array([0.7, 1.1, -0.4, 0.9, -0.6][..<d])
            let full = builtIn.hessianVectorProduct(w, v)
            let scale = full.map(abs).max()!
            XCTAssertLessThanOrEqual(
                maxAbsDifference(formula.hessianVectorProduct(w, v), full), 1e-12 * scale, "\(prior)")
            for step in [1, 7, 8] {
                let expected = minibatchHessian(builtIn, w, v, step: step)
                XCTAssertGreaterThan(maxAbsDifference(expected, full), 1e-3 * scale, "\(prior), step \(step)")
                XCTAssertLessThanOrEqual(
                    maxAbsDifference(minibatchHessian(formula, w, v, step: step), expected), 1e-12 * scale,
                    "\(prior), step \(step)")
            }
        }
    }

    /// Over an epoch (5 batches of 8 of the 40 rows) the minibatch Hessian-vector products
    /// average to the full data's, for the built-in and the data target, both priors; a step's
    /// minibatch density scores as ``MinibatchDensity/minibatchScores`` does (the same rows).
    func testEpochBatchHessiansAverageToTheFullHessian() throws {
        for prior in [LogisticRegressionTarget.Prior.gaussian(std: 1), .hierarchical(shape: 1, rate: 0.01)] {
            let targets: [any MinibatchHessianDensity] = [
                target(prior, batchSize: 8, batches: .epoch), try formulaTarget(prior, batchSize: 8, batches: .epoch),
            ]
            for target in targets {
                let d = target.dimension
                let w = Array([0.3, -0.2, 0.1, 0.05, 0.7][..<d])
                let v = Array([0.7, 1.1, -0.4, 0.9, -0.6][..<d])
                var mean = [Double](repeating: 0, count: d)
                for step in 1...5 {
                    let estimate = minibatchHessian(target, w, v, step: step)
                    for a in 0..<d { mean[a] += estimate[a] / 5 }
                    var scores = [Double](repeating: 0, count: d)
                    w.withUnsafeBufferPointer { p in
                        scores.withUnsafeMutableBufferPointer {
                            target.minibatchScores(
                                p.baseAddress!, count: 1, into: $0.baseAddress!, threads: 1, step: step, seed: 2)
                        }
                    }
                    XCTAssertEqual(target.minibatch(step: step, seed: 2).score(w), scores, "\(prior), step \(step)")
                }
                let full = target.hessianVectorProduct(w, v)
                XCTAssertLessThanOrEqual(maxAbsDifference(mean, full), 1e-12 * full.map(abs).max()!, "\(prior)")
            }
        }
    }

    /// KSD descent on a minibatched target takes each step's minibatch for the score and the
    /// Hessian alike: its gradient and its step at step s are those of the full-data flow on the
    /// target whose rows are the batch's, each repeated R/|batch| = 5 times (epochs of 8 of 40
    /// rows), to 10⁻¹² relative; they differ from the full data's; the energy is the full data's.
    func testKSDDescentTakesTheStepsMinibatch() {
        let (x, t) = data()
        let minibatched = target(.gaussian(std: 1), batchSize: 8, batches: .epoch)
        let fullData = target(.gaussian(std: 1))
        var rng = RandomStream(seed: 31, .initialisation)
        let start = (0..<(6 * 4)).map { _ in 0.5 * rng.normal() }
        let flow = KSDDescent(
            density: minibatched, kernel: .gaussian(sigma: 1), optimizer: Optimizer(rule: .sgd), threads: 1, seed: 9)
        let fullFlow = KSDDescent(
            density: fullData, kernel: .gaussian(sigma: 1), optimizer: Optimizer(rule: .sgd), threads: 1)
        for step in [1, 4, 6] {
            var features: [Double] = []
            var labels: [Double] = []
            for r in minibatched.batch(step: step, seed: 9) {
                for _ in 0..<5 {
                    features += x[(r * 4)..<(r * 4 + 4)]
                    labels.append(t[r])
                }
            }
            let replicated = LogisticRegressionTarget(
                features: features, labels: labels, weightCount: 4, prior: .gaussian(std: 1))
            let reference = KSDDescent(
                density: replicated, kernel: .gaussian(sigma: 1), optimizer: Optimizer(rule: .sgd), threads: 1)
            let p = population(start, dimension: 4)
            let (ksd, gradient) = flow.ksdAndGradient(p, step: step)
            let (expectedKSD, expected) = reference.ksdAndGradient(p)
            let scale = expected.map(abs).max()!
            XCTAssertEqual(ksd, expectedKSD, accuracy: 1e-12 * expectedKSD, "step \(step)")
            XCTAssertLessThanOrEqual(maxAbsDifference(gradient, expected), 1e-12 * scale, "step \(step)")
            XCTAssertGreaterThan(maxAbsDifference(gradient, fullFlow.ksdAndGradient(p).gradient), 1e-3 * scale)
            var (s, r) = (state(start, dimension: 4), state(start, dimension: 4))
            flow.advance(&s, step: step, stepSize: 0.01)
            reference.advance(&r, step: step, stepSize: 0.01)
            XCTAssertLessThanOrEqual(
                maxAbsDifference(s.populations[0].positions, r.populations[0].positions), 1e-14, "step \(step)")
            XCTAssertEqual(flow.energy(s), fullFlow.energy(s), "the energy is the full data's")
        }
    }
}
