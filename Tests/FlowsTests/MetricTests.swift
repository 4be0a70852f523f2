import Communication
import Flows  // the metrics' inits are internal
import Foundation
import KernelSum
import TestSupport
import XCTest

final class MetricTests: XCTestCase {
    /// Naive KSD² for k = (c² + |x − y|²)^β, derived by hand with r = x − y, q = c² + |r|²:
    ///   ∇_x k = 2β q^(β−1) r,  ∇_y k = −2β q^(β−1) r,
    ///   tr ∇_x∇_y k = Σ_a ∂_{y_a}[2β q^(β−1) r_a] = −4β(β−1) q^(β−2) |r|² − 2βd q^(β−1),
    ///   u = (s_x·s_y) k + s_x·∇_y k + s_y·∇_x k + tr ∇_x∇_y k,  KSD² = Σ_ij w_i w_j u(x_i, x_j).
    func naiveKSD2(_ x: [Double], weights w: [Double], d: Int, density: any Density, c: Double, beta: Double) -> Double
    {
        let n = x.count / d
        let s = (0..<n).map { density.score(row(x, $0, d)) }
        var total = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let r = (0..<d).map { x[i * d + $0] - x[j * d + $0] }
                let r2 = r.reduce(0) { $0 + $1 * $1 }
                let q = c * c + r2
                let k = pow(q, beta)
                let gx = r.map { 2 * beta * pow(q, beta - 1) * $0 }
                let gy = gx.map { -$0 }
                let trace = -4 * beta * (beta - 1) * pow(q, beta - 2) * r2 - 2 * beta * Double(d) * pow(q, beta - 1)
                var u = trace
                for a in 0..<d { u += s[i][a] * s[j][a] * k + s[i][a] * gy[a] + s[j][a] * gx[a] }
                total += w[i] * w[j] * u
            }
        }
        return total
    }

    /// The default IMQ (c = 1, β = −½) in the form the brief gives, written out separately:
    /// k = q^(−½), q = 1 + |r|²: u = (s_x·s_y) q^(−½) + q^(−3/2) (s_x − s_y)·r + d q^(−3/2) − 3 q^(−5/2)|r|².
    func naiveKSD2Default(_ x: [Double], d: Int, density: any Density) -> Double {
        let n = x.count / d
        var total = 0.0
        for i in 0..<n {
            let si = density.score(row(x, i, d))
            for j in 0..<n {
                let sj = density.score(row(x, j, d))
                var r2 = 0.0
                var ss = 0.0
                var sr = 0.0
                for a in 0..<d {
                    let r = x[i * d + a] - x[j * d + a]
                    r2 += r * r
                    ss += si[a] * sj[a]
                    sr += (si[a] - sj[a]) * r
                }
                let q = 1 + r2
                total += ss / q.squareRoot() + sr / pow(q, 1.5) + Double(d) / pow(q, 1.5) - 3 * r2 / pow(q, 2.5)
            }
        }
        return total / Double(n * n)
    }

    /// KSD vs naive O(N²) (KSD² relative 1e-12 to Σ|terms|-free scale: compared as KSD², rel 1e-10
    /// to allow for the cancellation in the sum of u). Exact samples score lower than shifted ones.
    func testKSDMatchesNaiveAndSeparates() {
        let target = Fixtures.gaussian2
        let d = 2
        let n = 60
        var rng = RandomStream(seed: 21, .targetSample)
        let exact = target.sample(count: n, using: &rng)
        let shifted = exact.enumerated().map { $0.offset % d == 0 ? $0.element + 1.5 : $0.element }
        for threads in [1, 2] {
            let ksd = KSDMetric(density: target, c: 1, beta: -0.5, threads: threads)
            for x in [exact, shifted] {
                let got = ksd.evaluate(state(x, dimension: d))
                let want = naiveKSD2Default(x, d: d, density: target)
                let want2 = naiveKSD2(
                    x, weights: [Double](repeating: 1 / Double(n), count: n), d: d, density: target, c: 1, beta: -0.5)
                XCTAssertEqual(want, want2, accuracy: 1e-12 * abs(want), "the two hand derivations disagree")
                XCTAssertEqual(got * got, want, accuracy: 1e-10 * abs(want), "threads=\(threads)")
            }
        }
        let ksd = KSDMetric(density: target, c: 1, beta: -0.5, threads: 1)
        let kExact = ksd.evaluate(state(exact, dimension: d))
        let kShift = ksd.evaluate(state(shifted, dimension: d))
        XCTAssertLessThan(kExact * 3, kShift, "KSD exact \(kExact) vs shifted \(kShift)")
        // Non-default c, β and non-uniform weights, on the banana.
        let banana = Fixtures.banana2
        var p = population(Array(shifted.prefix(20 * d)), dimension: d)
        p.weights = (0..<20).map { Double($0 + 1) / 210 }
        let got = KSDMetric(density: banana, c: 1.5, beta: -0.7, threads: 2).evaluate(SimulationState(populations: [p]))
        let want = naiveKSD2(p.positions, weights: p.weights, d: d, density: banana, c: 1.5, beta: -0.7)
        XCTAssertEqual(got * got, want, accuracy: 1e-10 * abs(want))
    }

    /// MMD metric vs a naive V-statistic (MMD² compared, tolerance 1e-12 × Σ|terms|); the MMD
    /// of the metric's own sample is ≈ 0 (MMD² ≤ 1e-12 × scale, so MMD ≤ ~1e-6).
    func testMMDMetric() {
        let d = 2
        let m = 50
        let n = 30
        var rng = RandomStream(seed: 4, .metricSample)
        let y = Fixtures.gaussian2.sample(count: m, using: &rng)
        let x = (0..<(n * d)).map { _ in rng.normal() }
        for (kernel, ref) in [
            (GaussianKernel(sigma: 1) as any RadialKernel, RefKernel.gaussian(sigma: 1)),
            (RieszKernel(r: 1), RefKernel.riesz(r: 1)),
        ] {
            let metric = MMDMetric(kernel: kernel, samples: y, dimension: d, threads: 2)
            let (want, scale) = naiveMMD2(x, y, dimension: d, ref)
            let got = metric.evaluate(state(x, dimension: d))
            XCTAssertEqual(got * got, want, accuracy: 1e-12 * scale, kernel.spec)
            let own = metric.evaluate(state(y, dimension: d))
            XCTAssertLessThanOrEqual(own * own, 1e-12 * scale, kernel.spec)
            XCTAssertLessThan(own, 1e-5)
        }
    }

    /// The O(N²) metrics on the ranks of a job (threads of this process, really exchanging):
    /// every rank's value is one process's bit for bit, and the ranks did exchange.
    func testKSDAndMMDSharedByRanksAreOneProcesses() {
        let d = 2
        var rng = RandomStream(seed: 8, .metricSample)
        let y = Fixtures.gaussian2.sample(count: 40, using: &rng)
        var p = population((0..<(2 * 37 * d)).map { _ in rng.normal() }, dimension: d)
        p.weights = (0..<p.count).map { Double($0 % 5 + 1) }
        let s = SimulationState(populations: [p])
        let wantKSD = KSDMetric(density: Fixtures.banana2, c: 1.5, beta: -0.7, threads: 1).evaluate(s)
        let wantMMD = MMDMetric(kernel: GaussianKernel(sigma: 0.8), samples: y, dimension: d, threads: 1).evaluate(s)
        for k in [2, 3] {
            let make: [(String, @Sendable (any Communicator) -> any Metric, Double)] = [
                (
                    "ksd", { KSDMetric(density: Fixtures.banana2, c: 1.5, beta: -0.7, threads: 2, communicator: $0) },
                    wantKSD
                ),
                (
                    "mmd",
                    {
                        MMDMetric(
                            kernel: GaussianKernel(sigma: 0.8), samples: y, dimension: d, threads: 2, communicator: $0)
                    },
                    wantMMD
                ),
            ]
            for (name, metric, want) in make {
                let results = ThreadJob(size: k).run { communicator in
                    let m = metric(communicator)
                    return ([m.evaluate(s), m.evaluate(s)], communicator.bytesSent)
                }
                for (rank, (values, sent)) in results.enumerated() {
                    XCTAssertEqual(values, [want, want], "\(name), rank \(rank) of \(k)")
                    XCTAssertGreaterThan(sent, 0, "\(name), rank \(rank) of \(k): no exchange")
                }
            }
        }
    }

    /// The kNN entropy on K ranks (each queries its block of points) is one process's value bit
    /// for bit, in R^d and the periodic box; a rank whose peers' blocks are a fill value gets
    /// another value (it took them from the exchange).
    func testKNNEntropySharedByRanksIsOneProcesss() {
        var rng = RandomStream(seed: 9, .metricSample)
        let x = (0..<(3 * 501)).map { _ in 2 + rng.normal() }
        for domain in [Domain.free, .periodic(length: 4)] {
            let want = knnEntropy(x, dimension: 3, neighbours: 4, domain: domain, threads: 2)
            XCTAssertTrue(want.isFinite)
            for k in [2, 3] {
                let results = ThreadJob(size: k).run { communicator in
                    (
                        knnEntropy(
                            x, dimension: 3, neighbours: 4, domain: domain, threads: 1, communicator: communicator),
                        communicator.bytesSent
                    )
                }
                for (rank, (value, sent)) in results.enumerated() {
                    XCTAssertEqual(value, want, "\(domain), rank \(rank) of \(k)")
                    XCTAssertGreaterThan(sent, 0, "\(domain), rank \(rank) of \(k): no exchange")
                }
            }
            let alone = knnEntropy(
                x, dimension: 3, neighbours: 4, domain: domain, threads: 1,
                communicator: PeerCommunicator(rank: 1, of: 2))
            XCTAssertNotEqual(alone, want)
        }
    }

    /// Moment metrics against sampleMoments-free hand computations (1e-14).
    func testMomentMetrics() {
        let x: [Double] = [1, 2, 3, 5, -1, 0, 4, 4]  // mean (7/4, 11/4)
        let s = state(x, dimension: 2)
        let me = MeanErrorMetric(mean: [1, 3]).evaluate(s)
        XCTAssertEqual(me, (0.75 * 0.75 + 0.25 * 0.25).squareRoot(), accuracy: 1e-15)
        // Unbiased covariance by hand.
        let m = [1.75, 2.75]
        var c = [0.0, 0.0, 0.0, 0.0]
        for i in 0..<4 {
            for a in 0..<2 { for b in 0..<2 { c[a * 2 + b] += (x[2 * i + a] - m[a]) * (x[2 * i + b] - m[b]) / 3 } }
        }
        let sigma: [Double] = [2, 0.5, 0.5, 3]
        let diff = zip(c, sigma).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let norm = sigma.reduce(0) { $0 + $1 * $1 }
        XCTAssertEqual(
            CovarianceErrorMetric(covariance: sigma).evaluate(s), (diff / norm).squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(CovarianceErrorMetric(covariance: c).evaluate(s), 0, accuracy: 1e-15)
    }

    /// The energy metric of the MMD flow is ½ MMD² with the flow's kernel, here written out
    /// for two particles and three samples with σ = 1.3 (squared distances by hand):
    /// xx = (2 + 2e^{−q(2.5)})/4, xy = Σ e^{−q(r²)}/6 over the six pairs, yy = (3 + 2Σ_pairs e^{−q})/9,
    /// q(r²) = r²/(2σ²). Tolerance 1e-15.
    func testEnergyMetricIsHalfMMD2() {
        let y: [Double] = [0, 0, 1, 1, -1, 0.5]
        let sigma = 1.3
        let flow = MMDFlow(
            kernel: GaussianKernel(sigma: sigma), targetSamples: y, dimension: 2, noise: 0, halvingEvery: 0,
            optimizer: Optimizer(rule: .sgd), engine: DirectSum(threads: 1), seed: 0)
        let s = state([0.5, 0.5, 2, 0], dimension: 2)
        let k = { (r2: Double) in exp(-r2 / (2 * sigma * sigma)) }
        let xx = (2 + 2 * k(2.25 + 0.25)) / 4
        // x₁ = (0.5, 0.5), x₂ = (2, 0) against y = (0, 0), (1, 1), (−1, 0.5).
        let xy = (k(0.5) + k(0.5) + k(2.25) + k(4) + k(2) + k(9.25)) / 6
        let yy = (3 + 2 * (k(2) + k(1.25) + k(4.25))) / 9
        XCTAssertEqual(EnergyMetric(flow: flow).evaluate(s), 0.5 * (xx - 2 * xy + yy), accuracy: 1e-15)
        XCTAssertEqual(
            MetricRegistry.names,
            [
                "mmd", "ksd", "mean-error", "cov-error", "energy", "w2", "sliced-w2", "bures-w2", "energy-distance",
                "kl-knn", "sinkhorn", "two-sample", "effective-sample-size", "free-energy", "potential-energy",
                "interaction-energy", "entropy",
                "kl",
                "mean", "variance", "train-loss", "test-loss",
                "nash-gap", "value", "min-weight-entropy", "min-effective-count",
                "max-weight-entropy", "max-effective-count", "equilibrium-distance",
                "min-equilibrium-distance", "max-equilibrium-distance", "test-accuracy", "test-log-likelihood",
                "spike-position-error", "spike-mass-error",
            ])
    }
}
