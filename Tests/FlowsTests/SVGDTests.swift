import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

final class SVGDTests: XCTestCase {
    func makeSVGD(
        _ density: any Density, kernel: any RadialKernel, bandwidth: SteinVariationalGradientDescent.Bandwidth = .fixed,
        threads: Int = 1
    ) -> SteinVariationalGradientDescent {
        SteinVariationalGradientDescent(
            density: density, kernel: kernel, bandwidth: bandwidth,
            optimizer: Optimizer(rule: .sgd), engine: DirectSum(threads: threads), threads: threads)
    }

    /// One particle, fixed Gaussian kernel, sgd: k(x, x) = 1 and no self-repulsion, so one
    /// step is gradient ascent on log π: x₁ = x₀ + h·∇log π(x₀). Tolerance 1e-14 absolute.
    func testOneParticleIsGradientAscent() {
        for (target, x0) in [(Fixtures.gaussian3 as any Density, [0.7, -1.3, 2.0]), (Fixtures.banana2, [1.5, -0.4])] {
            let flow = makeSVGD(target, kernel: GaussianKernel(sigma: 1))
            var s = state(x0, dimension: x0.count)
            let h = 0.1
            flow.advance(&s, step: 1, stepSize: h)
            let g = target.score(x0)
            let expected = (0..<x0.count).map { x0[$0] + h * g[$0] }
            for a in 0..<x0.count { XCTAssertEqual(s.populations[0].positions[a], expected[a], accuracy: 1e-14) }
        }
    }

    /// numpy's rule, naively: all N² squared distances (zero diagonal included), sorted,
    /// median (mean of the two middle ones for an even count), h = √(½ med / log(N + 1)).
    func naiveMedianBandwidth(_ x: [Double], _ d: Int) -> Double {
        let n = x.count / d
        var all: [Double] = []
        for i in 0..<n { for j in 0..<n { all.append(squaredDistance(x, i, x, j, d)) } }
        all.sort()
        let med = all.count % 2 == 1 ? all[all.count / 2] : (all[all.count / 2 - 1] + all[all.count / 2]) / 2
        return med > 0 ? (0.5 * med / log(Double(n) + 1)).squareRoot() : 1
    }

    /// The ranks of a job share the pairs (each a block of rows): every rank's σ is one
    /// process's bit for bit, for N = 2 … 200 (the small and the large histogram), a subsample,
    /// and duplicated points; the ranks exchange (a rank that summed every pair itself would
    /// count them K times and select the wrong value).
    func testMedianBandwidthSharedByRanksIsOneProcesses() {
        var rng = RandomStream(seed: 9, .flow)
        var cases: [([Double], Int, Int)] = []
        for n in [2, 3, 7, 40, 200] { cases.append(((0..<(2 * n)).map { _ in rng.normal() }, 2, 5000)) }
        cases.append(((0..<(3 * 900)).map { _ in rng.normal() }, 3, 250))
        // 319600 pairs: the bracketed one-pass path, its counts summed and candidates gathered.
        cases.append(((0..<(2 * 800)).map { _ in rng.normal() }, 2, 5000))
        cases.append(((0..<60).map { Double($0 % 5) * 0.5 }, 1, 5000))
        for (x, d, sample) in cases {
            let want = MedianBandwidth(sampleSize: sample)(x, dimension: d, threads: 1)
            for k in [2, 3] {
                let results = ThreadJob(size: k).run { communicator in
                    let median = MedianBandwidth(sampleSize: sample, communicator: communicator)
                    let first = median(x, dimension: d, threads: 2)
                    return (
                        first, median(x, dimension: d, threads: 1), communicator.bytesSent, median.bracketMisses
                    )
                }
                for (rank, (a, b, sent, misses)) in results.enumerated() {
                    let label = "N=\(x.count / d) d=\(d) S=\(sample), rank \(rank) of \(k)"
                    XCTAssertEqual(a, want, label)
                    XCTAssertEqual(b, want, label)
                    XCTAssertGreaterThan(sent, 0, label)
                    // Counts summed over the ranks: the bracket holds, no two-pass fallback.
                    XCTAssertEqual(misses, 0, label)
                }
            }
        }
    }

    /// N = 1…7 and 50, d = 1 and 2, threads 1 and 2, with duplicated points and an all-equal
    /// population (median 0 → 1). Tolerance 1e-14 relative (same arithmetic, only the
    /// selection differs).
    func testMedianBandwidthMatchesNumpyRule() {
        var rng = RandomStream(seed: 5, .flow)
        var cases: [([Double], Int)] = []
        for d in [1, 2] {
            for n in [1, 2, 3, 4, 5, 6, 7, 50] { cases.append(((0..<(n * d)).map { _ in rng.normal() }, d)) }
        }
        // Duplicates: 6 points of which 4 coincide; 7 points in 3 groups; 50 points on 5 sites.
        cases.append(([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 2, -1], 2))
        cases.append(([1, 1, 1, 3, 3, 5, 5], 1))
        cases.append(((0..<50).map { Double($0 % 5) * 0.5 }, 1))
        cases.append(([2, 2, 2, 2, 2, 2, 2, 2], 2))  // all equal: median 0 → 1
        cases.append(([0, 0, 0, 0, 1, 1], 2))  // N = 3, median is a zero pair
        // N = 200 in 2-D: 19900 pairs, past the small-N histogram (16384 pairs).
        var state: UInt64 = 3
        cases.append(
            (
                (0..<400).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Double(state >> 11) * 0x1p-53 * 6 - 3
                }, 2
            ))
        // One workspace for every case: buffers left by a previous N or thread count must not matter.
        let median = MedianBandwidth()
        for (x, d) in cases {
            let want = naiveMedianBandwidth(x, d)
            for threads in [1, 2] {
                let got = median(x, dimension: d, threads: threads)
                XCTAssertEqual(
                    got, want, accuracy: 1e-14 * want, "N=\(x.count / d) d=\(d) threads=\(threads) x=\(x.prefix(8))")
                XCTAssertEqual(median(x, dimension: d, threads: threads), got)
            }
        }
        XCTAssertEqual(MedianBandwidth()([3.5, -1], dimension: 2, threads: 1), 1)
        // N = 2 by hand: squared distance s, values {0, 0, s, s}, median s/2, h = √(s/4 / log 3).
        XCTAssertEqual(
            MedianBandwidth()([0, 0, 3, 4], dimension: 2, threads: 1),
            (25.0 / 4 / log(3.0)).squareRoot(), accuracy: 1e-15)
    }

    /// From 2¹⁸ pairs the median is bracketed from a sample of pairs and found in one pass:
    /// still exactly numpy's (the k-th distances themselves), for d = 1, 2, 3 (the specialised
    /// loops) and 5, threads 1 and 2, with ties (points on a lattice, many equal distances at
    /// the bracket's ends); the bracket never misses here. A two-pair sample's bracket misses
    /// the median about every other time, above or below it, and the two-pass method then gives
    /// the same value.
    func testBracketedMedianIsExactAndItsMissFallsBack() {
        var rng = RandomStream(seed: 11, .flow)
        var cases: [([Double], Int)] = []
        for d in [1, 2, 3, 5] { cases.append(((0..<(d * 760)).map { _ in rng.normal() }, d)) }
        cases.append(((0..<(2 * 1100)).map { _ in Double(rng.index(below: 12)) }, 2))
        for (x, d) in cases {
            let want = naiveMedianBandwidth(x, d)
            let label = "N=\(x.count / d) d=\(d)"
            let median = MedianBandwidth()
            for threads in [1, 2] { XCTAssertEqual(median(x, dimension: d, threads: threads), want, label) }
            XCTAssertEqual(median.bracketMisses, 0, label)
        }
        // Two-pair brackets (each N draws its own), missing on either side of the median.
        var misses = 0
        for n in 730..<746 {
            let x = (0..<(2 * n)).map { _ in rng.normal() }
            let coarse = MedianBandwidth(bracketSampleSize: 2)
            XCTAssertEqual(coarse(x, dimension: 2, threads: 2), naiveMedianBandwidth(x, 2), "N=\(n)")
            misses += coarse.bracketMisses
        }
        XCTAssertGreaterThan(misses, 3, "the fallback ran")
    }

    /// Above the sample size the median comes from an evenly strided subsample (exactly: the
    /// subsample's median with the full N's log(N + 1)) and lies within 3 % of the exact one.
    func testSubsampledMedianBandwidth() {
        var state: UInt64 = 7
        let n = 3000
        let d = 2
        let x = (0..<(n * d)).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) * 0x1p-53 * 4 - 2
        }
        let exact = MedianBandwidth(sampleSize: n)(x, dimension: d, threads: 2)
        XCTAssertEqual(exact, naiveMedianBandwidth(x, d), accuracy: 1e-14 * exact)
        let sampled = MedianBandwidth(sampleSize: 300)(x, dimension: d, threads: 2)
        var strided: [Double] = []
        for k in 0..<300 {
            let i = k * n / 300
            strided += x[(i * d)..<(i * d + d)]
        }
        let subsampleMedian = naiveMedianBandwidth(strided, d) * (log(301.0) / log(Double(n) + 1)).squareRoot()
        XCTAssertEqual(sampled, subsampleMedian, accuracy: 1e-14 * sampled)
        XCTAssertEqual(sampled, exact, accuracy: 0.03 * exact)
        XCTAssertNotEqual(sampled, exact)
    }

    /// φ(x_i) = (1/N) Σ_j [k(x_j, x_i) s(x_j) + ∇_{x_j} k(x_j, x_i)] computed naively, for a
    /// fixed Gaussian, a fixed IMQ and the median-bandwidth Gaussian, threads 1 and 2, on a
    /// banana and a mixture. Tolerance max|φ − φ_ref| / max|φ_ref| ≤ 1e-12.
    func testDirectionMatchesNaiveSVGD() {
        let n = 40
        let d = 2
        var rng = RandomStream(seed: 9, .initialisation)
        let x = (0..<(n * d)).map { _ in 1.5 * rng.normal() }
        let targets: [(String, any Density)] = [("banana", Fixtures.banana2), ("mixture", Fixtures.mixture)]
        for (tname, target) in targets {
            let kernels: [(String, any RadialKernel, RefKernel?, SteinVariationalGradientDescent.Bandwidth)] = [
                ("gaussian 0.8", GaussianKernel(sigma: 0.8), .gaussian(sigma: 0.8), .fixed),
                ("imq c=1.5", InverseMultiquadricKernel(c: 1.5), .imq(c: 1.5, beta: -0.5), .fixed),
                ("median", GaussianKernel(sigma: 1), nil, .median),
            ]
            for (kname, kernel, ref0, bw) in kernels {
                let ref = ref0 ?? .gaussian(sigma: naiveMedianBandwidth(x, d))
                var phi = [Double](repeating: 0, count: n * d)
                for i in 0..<n {
                    for j in 0..<n {
                        let z = (0..<d).map { x[j * d + $0] - x[i * d + $0] }  // x_j − x_i
                        let k = ref.value(z)
                        let gk = ref.gradient(z)  // ∇_{x_j} k(x_j − x_i)
                        let s = target.score(row(x, j, d))
                        for a in 0..<d { phi[i * d + a] += (k * s[a] + gk[a]) / Double(n) }
                    }
                }
                for threads in [1, 2] {
                    let flow = makeSVGD(target, kernel: kernel, bandwidth: bw, threads: threads)
                    let got = flow.direction(population(x, dimension: d))
                    XCTAssertLessThanOrEqual(relativeError(got, phi), 1e-12, "\(tname) \(kname) threads=\(threads)")
                    if bw == .median {
                        XCTAssertEqual(
                            (flow.kernel as? GaussianKernel)?.sigma ?? .nan, naiveMedianBandwidth(x, d),
                            accuracy: 1e-14)
                        XCTAssertEqual(flow.report["kernel"], "gaussian:sigma=median")
                        XCTAssertNotNil(flow.report["last-sigma"])
                    }
                }
            }
        }
    }

    /// Weighted particles: φ(x_i) = Σ_j w_j [...] with the population's weights (1e-12).
    func testDirectionUsesPopulationWeights() {
        let d = 1
        let x = [-1.0, 0.2, 1.5]
        var p = population(x, dimension: d)
        p.weights = [0.5, 0.3, 0.2]
        let target = GaussianTarget(mean: [0], covariance: SPDMatrix.diagonal([2])!)
        let ref = RefKernel.gaussian(sigma: 0.9)
        var phi = [0.0, 0.0, 0.0]
        for i in 0..<3 {
            for j in 0..<3 {
                let z = [x[j] - x[i]]
                phi[i] += p.weights[j] * (ref.value(z) * target.score([x[j]])[0] + ref.gradient(z)[0])
            }
        }
        let got = makeSVGD(target, kernel: GaussianKernel(sigma: 0.9)).direction(p)
        XCTAssertLessThanOrEqual(relativeError(got, phi), 1e-12)
    }
}
