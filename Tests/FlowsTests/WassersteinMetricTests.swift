import Communication
import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

/// The Wasserstein and divergence metrics against closed forms and brute force computed here:
/// the exact solver against every permutation, against 1-D W₂ by sorting, against translations;
/// sliced W₂ in 1-D; the Bures–Wasserstein formula for commuting and non-commuting covariances;
/// the energy distance against its double sum. (POT on the same points:
/// scripts/compare-metrics-peer.py.)
final class WassersteinMetricTests: XCTestCase {
    func points(_ count: Int, _ d: Int, _ rng: inout TestRNG, scale: Double = 1) -> [Double] {
        // Box–Muller: Gaussian coordinates.
        (0..<(count * d)).map { _ in
            scale * (-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * Double.pi * rng.uniform())
        }
    }

    /// Uniform weights and n = m: the optimal coupling is a permutation (Birkhoff), so W₂² is
    /// the smallest mean squared distance over all 7! matchings.
    func testExactW2IsTheBestOfEveryPermutation() {
        var rng = TestRNG(11)
        let n = 7
        let d = 2
        for trial in 0..<5 {
            let x = points(n, d, &rng)
            let y = points(n, d, &rng, scale: 1.5)
            var best = Double.infinity
            var perm = Array(0..<n)
            func visit(_ k: Int) {
                if k == n {
                    best = min(best, (0..<n).reduce(0) { $0 + squaredDistance(x, $1, y, perm[$1], d) } / Double(n))
                    return
                }
                for t in k..<n {
                    perm.swapAt(k, t)
                    visit(k + 1)
                    perm.swapAt(k, t)
                }
            }
            visit(0)
            let uniform = [Double](repeating: 1, count: n)
            let w2 = ExactTransport.squaredW2(x: x, a: uniform, y: y, b: uniform, dimension: d)
            XCTAssertEqual(w2, best, accuracy: 1e-13 * best, "trial \(trial)")
        }
    }

    /// In 1-D the monotone coupling is optimal, for any weights: the network simplex equals the
    /// integral of the quantile functions' squared gap (computed apart, by sorting).
    func testExactW2In1DIsTheQuantileFormula() {
        var rng = TestRNG(12)
        for (n, m) in [(40, 25), (100, 100), (7, 300)] {
            let u = points(n, 1, &rng)
            let v = points(m, 1, &rng, scale: 2).map { $0 + 0.5 }
            let a = (0..<n).map { _ in rng.uniform(0.1, 1) }
            let b = (0..<m).map { _ in rng.uniform(0.1, 1) }
            let exact = ExactTransport.squaredW2(x: u, a: a, y: v, b: b, dimension: 1)
            let quantiles = SlicedW2Metric.squaredW2(u, a, v, b)
            XCTAssertEqual(exact, quantiles, accuracy: 1e-12 * quantiles, "\(n) × \(m)")
            // Sliced W₂ in 1-D (directions ±1) is W₂ itself.
            let sliced = SlicedW2Metric.sliced(x: u, a: a, y: v, b: b, directions: [1, -1], dimension: 1)
            XCTAssertEqual(sliced * sliced, exact, accuracy: 1e-12 * exact)
        }
        // By hand: δ₀ against ½δ₁ + ½δ₃ is ½·1 + ½·9 = 5.
        XCTAssertEqual(SlicedW2Metric.squaredW2([0], [1], [3, 1], [1, 1]), 5)
        XCTAssertEqual(ExactTransport.squaredW2(x: [0], a: [2], y: [3, 1], b: [1, 1], dimension: 1), 5)
    }

    /// The solver does not depend on the points' scale: W₂² of the same sets scaled by s = 5·10¹⁵²
    /// is s² times theirs (its costs are normalised: with raw costs near 10³⁰⁷ the artificial
    /// arcs' cost, the largest times n + m + 1, would overflow), and beyond a double's range it
    /// is +∞.
    func testScaleInvariance() {
        var rng = TestRNG(16)
        let x = points(40, 2, &rng)
        let y = points(30, 2, &rng, scale: 2)
        let a = (0..<40).map { _ in rng.uniform(0.1, 1) }
        let b = [Double](repeating: 1, count: 30)
        let unit = ExactTransport.squaredW2(x: x, a: a, y: y, b: b, dimension: 2)
        let s = 5e152
        let huge = ExactTransport.squaredW2(x: x.map { $0 * s }, a: a, y: y.map { $0 * s }, b: b, dimension: 2)
        XCTAssertEqual(huge / s / s, unit, accuracy: 1e-12 * unit)
        XCTAssertEqual(
            ExactTransport.squaredW2(x: x.map { $0 * 1e160 }, a: a, y: y.map { $0 * 1e160 }, b: b, dimension: 2),
            .infinity)
    }

    /// A translation by c moves every point by c: W₂² = |c|² exactly; identical sets are at 0.
    func testTranslationsAndIdenticalSets() {
        var rng = TestRNG(13)
        let n = 60
        let d = 3
        let x = points(n, d, &rng)
        let a = (0..<n).map { _ in rng.uniform(0.1, 1) }
        let c = [0.3, -1.2, 2.0]
        let y = (0..<(n * d)).map { x[$0] + c[$0 % d] }
        let w2 = ExactTransport.squaredW2(x: x, a: a, y: y, b: a, dimension: d)
        XCTAssertEqual(w2, c.reduce(0) { $0 + $1 * $1 }, accuracy: 1e-12)
        XCTAssertEqual(ExactTransport.squaredW2(x: x, a: a, y: x, b: a, dimension: d), 0)
        // With duplicated points and uneven weights the coupling is degenerate: still 0.
        let dup = x + x
        XCTAssertEqual(
            ExactTransport.squaredW2(x: dup, a: a + a, y: x, b: a, dimension: d), 0, accuracy: 1e-15)
        let directions = SlicedW2Metric.directions(count: 50, dimension: d, seed: 4)
        XCTAssertEqual(SlicedW2Metric.sliced(x: x, a: a, y: x, b: a, directions: directions, dimension: d), 0)
        // The directions are unit vectors.
        for p in 0..<50 {
            XCTAssertEqual(
                (0..<d).reduce(0) { $0 + directions[p * d + $1] * directions[p * d + $1] }, 1, accuracy: 1e-15)
        }
    }

    /// Bures–Wasserstein: commuting covariances give |m₁ − m₂|² + Σ(√λ₁ − √λ₂)²; a 2 × 2
    /// non-commuting pair against the formula with the 2 × 2 square root written out
    /// (√A = (A + √det A·I)/√(tr A + 2√det A)).
    func testBuresWassersteinClosedForms() {
        let m1 = [1.0, -2.0]
        let m2 = [0.5, 0.0]
        let diagonal = BuresW2Metric(mean: m2, covariance: [4, 0, 0, 9])
        let s1 = [1.0, 0, 0, 2.25]
        // |m₁ − m₂|² = 0.25 + 4; √λ: (1, 1.5) against (2, 3).
        let expected: Double = (0.25 + 4) + 1 + 2.25
        XCTAssertEqual(
            BuresW2Metric.distance(
                mean: m1, covariance: s1, toMean: m2, covariance: [4, 0, 0, 9], root: diagonal.rootCovariance),
            expected.squareRoot(), accuracy: 1e-14)

        func sqrt2x2(_ a: [Double]) -> [Double] {
            let s = (a[0] * a[3] - a[1] * a[2]).squareRoot()
            let t = (a[0] + a[3] + 2 * s).squareRoot()
            return [(a[0] + s) / t, a[1] / t, a[2] / t, (a[3] + s) / t]
        }
        let a = [2.0, 0.7, 0.7, 1.0]
        let b = [1.0, -0.4, -0.4, 3.0]
        let rb = sqrt2x2(b)
        let inner = matmul(rb, matmul(a, rb, 2), 2)
        let rootInner = sqrt2x2(inner)
        let byHand = (a[0] + a[3] + b[0] + b[3] - 2 * (rootInner[0] + rootInner[3])).squareRoot()
        XCTAssertEqual(
            BuresW2Metric.distance(
                mean: [0, 0], covariance: a, toMean: [0, 0], covariance: b, root: symmetricSquareRoot(b, size: 2)),
            byHand, accuracy: 1e-14)
        XCTAssertEqual(maxAbsDifference(symmetricSquareRoot(b, size: 2), rb), 0, accuracy: 1e-15)

        // The metric on particles: their weighted moments (not the n − 1 covariance).
        let x = [0.0, 0, 2, 0, 0, 4]
        var p = Population(name: "p", dimension: 2, positions: x)
        p.weights = [0.5, 0.25, 0.25]
        let (mean, covariance) = BuresW2Metric.weightedMoments(p.positions, p.weights, dimension: 2)
        XCTAssertEqual(mean, [0.5, 1])
        XCTAssertEqual(covariance, [0.75, -0.5, -0.5, 3])
        let metric = BuresW2Metric(mean: mean, covariance: covariance)
        XCTAssertEqual(metric.evaluate(SimulationState(populations: [p])), 0, accuracy: 1e-7)
    }

    /// The energy distance against its double sum, with weights.
    func testEnergyDistanceIsItsDoubleSum() throws {
        var rng = TestRNG(14)
        let (n, m, d) = (30, 40, 2)
        let x = points(n, d, &rng)
        let y = points(m, d, &rng, scale: 1.3)
        var p = Population(name: "p", dimension: d, positions: x)
        p.weights = (0..<n).map { _ in rng.uniform(0.1, 1) }
        let total = p.weights.reduce(0, +)
        p.weights = p.weights.map { $0 / total }
        let metric = MMDMetric(kernel: RieszKernel(r: 1), samples: y, dimension: d, threads: 2, squared: true)
        func mean(_ u: [Double], _ wu: [Double], _ v: [Double], _ wv: [Double]) -> Double {
            var s = 0.0
            for i in 0..<wu.count {
                for j in 0..<wv.count { s += wu[i] * wv[j] * squaredDistance(u, i, v, j, d).squareRoot() }
            }
            return s
        }
        let b = [Double](repeating: 1 / Double(m), count: m)
        let expected = 2 * mean(x, p.weights, y, b) - mean(x, p.weights, x, p.weights) - mean(y, b, y, b)
        XCTAssertEqual(metric.evaluate(SimulationState(populations: [p])), expected, accuracy: 1e-13 * expected)
    }
}

/// `ksd` for Langevin runs: the Gibbs measure exp(−V/λ) as the target, score −∇V/λ.
final class GibbsDensityTests: XCTestCase {
    func testTheGibbsScoreIsMinusTheForceOverTheTemperature() throws {
        // V = (a/2)|x − c|², λ = 0.5: score −(a/λ)(x − c).
        let flow = LangevinFlow(
            temperature: 0.5, potential: QuadraticPotential(a: 2, centre: [1, -1]), seed: 1, threads: 1)
        let density = try XCTUnwrap(GibbsDensity(flow: flow, dimension: 2))
        let x = [0.5, 2.0, -3.0, 0.25]
        var g = [Double](repeating: 0, count: 4)
        x.withUnsafeBufferPointer { xp in
            g.withUnsafeMutableBufferPointer {
                density.scores(xp.baseAddress!, count: 2, into: $0.baseAddress!, threads: 2)
            }
        }
        // −4·(0.5 − 1), −4·(2 + 1), −4·(−3 − 1), −4·(0.25 + 1).
        let expected: [Double] = [2, -12, 16, -5]
        XCTAssertEqual(g, expected)
        // V(0.5, 2) = (0.25 + 9), over λ = 0.5.
        XCTAssertEqual(x.withUnsafeBufferPointer { density.logDensity($0.baseAddress!) }, -18.5)
        // No Gibbs measure: no potential, an interaction, no noise.
        XCTAssertNil(
            GibbsDensity(flow: LangevinFlow(temperature: 0.5, potential: nil, seed: 1, threads: 1), dimension: 2))
        XCTAssertNil(
            GibbsDensity(
                flow: LangevinFlow(
                    temperature: 0, potential: QuadraticPotential(a: 2, centre: [0, 0]), seed: 1, threads: 1),
                dimension: 2))
    }
}

/// `kl-knn` on Gaussians, whose KL is known: KL(N(0, I) ‖ N(m, s²I)) = ½[d/s² + |m|²/s² − d + 2d log s].
final class KNNDivergenceTests: XCTestCase {
    func gaussian(_ count: Int, _ d: Int, mean: [Double], sd: Double, _ rng: inout TestRNG) -> [Double] {
        (0..<(count * d)).map { k in
            mean[k % d] + sd * (-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * Double.pi * rng.uniform())
        }
    }

    func testTheEstimateMeetsGaussianClosedForms() {
        var rng = TestRNG(15)
        let d = 2
        let n = 20_000
        // The estimator's bias at N = M = 2·10⁴, k = 5 (measured apart with scipy's cKDTree over
        // ten fresh samples: +0.001 ± 0.009, +0.001 ± 0.007, −0.047 ± 0.010): a target narrower
        // than the particles is underestimated, as the kNN ratio under-resolves its tails.
        let cases: [(mean: [Double], sd: Double, bias: Double)] = [
            ([1, 0], 1.5, 0), ([0, 0], 1, 0), ([0.5, -0.5], 0.8, -0.047),
        ]
        for c in cases {
            let x = gaussian(n, d, mean: [0, 0], sd: 1, &rng)
            let y = gaussian(n, d, mean: c.mean, sd: c.sd, &rng)
            let m2 = c.mean.reduce(0) { $0 + $1 * $1 }
            let s2 = c.sd * c.sd
            let exact = 0.5 * (Double(d) / s2 + m2 / s2 - Double(d) + 2 * Double(d) * log(c.sd))
            let estimate = KNNDivergenceMetric.divergence(x, y, dimension: d, neighbours: 5, threads: 2)
            XCTAssertEqual(estimate, exact + c.bias, accuracy: 0.03, "KL(N(0, I) ‖ N(\(c.mean), \(s2)I)) = \(exact)")
        }
        // k must leave other particles and fit in the sample.
        XCTAssertTrue(
            KNNDivergenceMetric.divergence([0, 0, 1, 1], [0, 0], dimension: 2, neighbours: 1, threads: 1).isFinite)
        XCTAssertTrue(
            KNNDivergenceMetric.divergence([0, 0, 1, 1], [0, 0], dimension: 2, neighbours: 2, threads: 1).isNaN)
    }

    /// The one-sample estimate −Ĥ(x) − (1/N) Σ log π(x_i) against a Gaussian density: within
    /// the Kozachenko–Leonenko entropy's bias (a few 10⁻² at N = 2·10⁴, d = 2) of the closed form
    /// KL(N(0, I) ‖ N(m, s²I)) = ½ (d/s² + |m|²/s² − d + 2d log s).
    func testTheOneSampleEstimateAgainstADensity() throws {
        var rng = TestRNG(17)
        let d = 2
        let n = 20_000
        for (mean, sd) in [([1.0, 0.0], 1.5), ([0.0, 0.0], 1.0), ([0.5, -0.5], 0.8)] {
            let x = gaussian(n, d, mean: [0, 0], sd: 1, &rng)
            let target = GaussianTarget(mean: mean, covariance: try XCTUnwrap(SPDMatrix.diagonal([sd * sd, sd * sd])))
            let m2 = mean.reduce(0) { $0 + $1 * $1 }
            let s2 = sd * sd
            let exact = 0.5 * (Double(d) / s2 + m2 / s2 - Double(d) + 2 * Double(d) * log(sd))
            let estimate = KNNDivergenceMetric.divergence(x, density: target, neighbours: 5, threads: 2)
            XCTAssertEqual(estimate, exact, accuracy: 0.03, "KL(N(0, I) ‖ N(\(mean), \(s2)I)) = \(exact)")
        }
    }
}
