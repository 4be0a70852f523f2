import Flows
import Foundation
import KernelSum
import XCTest

/// The kernel two-sample test of the `two-sample` metric: its statistic against a naive double
/// sum, its level over 200 seeds of exact samples, its power on a clear shift, its determinism.
final class TwoSampleTests: XCTestCase {
    /// `n` points of N(shift·e₁, I) in R^d from `RandomStream(seed, .flow, key)`.
    static func gaussian(_ n: Int, d: Int, shift: Double = 0, seed: UInt64, key: Int) -> [Double] {
        var rng = RandomStream(seed: seed, .flow, key)
        return (0..<(n * d)).map { rng.normal() + ($0 % d == 0 ? shift : 0) }
    }

    /// MMD²_V = (1/N²) Σ k(x, x′) + (1/M²) Σ k(y, y′) − (2/NM) Σ k(x, y), written from the definition.
    static func naiveMMD2(_ x: [Double], _ y: [Double], d: Int, sigma: Double) -> Double {
        let k = RefKernel.gaussian(sigma: sigma)
        func mean(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in 0..<(a.count / d) {
                for j in 0..<(b.count / d) { s += k.value((0..<d).map { a[i * d + $0] - b[j * d + $0] }) }
            }
            return s / Double(a.count / d * (b.count / d))
        }
        return mean(x, x) + mean(y, y) - 2 * mean(x, y)
    }

    func testStatisticIsTheMMDVStatistic() {
        let d = 3
        let x = Self.gaussian(37, d: d, seed: 1, key: 0)
        let y = Self.gaussian(29, d: d, shift: 0.4, seed: 1, key: 1)
        let want = Self.naiveMMD2(x, y, d: d, sigma: 1.3)
        for threads in [1, 3] {
            let test = TwoSampleTest(
                method: .permutation, kernel: .fixed(GaussianKernel(sigma: 1.3)), permutations: 50, dimension: d,
                threads: threads)
            let r = test.run(x, y, seed: 4, step: 7)
            XCTAssertEqual(r.statistic, want, accuracy: 1e-13 * want)
        }
        // CTT without compression (bins of b ≤ 4^g points): the same V-statistic on the binned points.
        let xb = Self.gaussian(64, d: d, seed: 2, key: 0)
        let yb = Self.gaussian(64, d: d, shift: 0.4, seed: 2, key: 1)
        let ctt = TwoSampleTest(
            method: .ctt, kernel: .fixed(GaussianKernel(sigma: 1.3)), permutations: 50, bins: 16, oversampling: 2,
            dimension: d)
        let wantBinned = Self.naiveMMD2(xb, yb, d: d, sigma: 1.3)
        XCTAssertEqual(ctt.run(xb, yb, seed: 4, step: 7).statistic, wantBinned, accuracy: 1e-13 * wantBinned)
    }

    func testMedianBandwidthIsPooledAndLabelSymmetric() {
        let d = 2
        let x = Self.gaussian(30, d: d, seed: 3, key: 0)
        let y = Self.gaussian(31, d: d, shift: 1, seed: 3, key: 1)
        let z = x + y
        let n = z.count / d
        var all: [Double] = []
        for i in 0..<n { for j in 0..<n { all.append(squaredDistance(z, i, z, j, d)) } }
        all.sort()
        let median = (all[all.count / 2 - 1] + all[all.count / 2]) / 2
        let test = TwoSampleTest(method: .permutation, permutations: 19, dimension: d)
        let got = test.run(x, y, seed: 1, step: 0)
        XCTAssertEqual((got.kernel as? GaussianKernel)?.sigma ?? 0, median.squareRoot(), accuracy: 1e-14)
        // The labels swapped: the same kernel.
        let swapped = test.run(y, x, seed: 1, step: 0)
        XCTAssertEqual((swapped.kernel as? GaussianKernel)?.sigma, (got.kernel as? GaussianKernel)?.sigma)
    }

    /// Rejections (p < α) over `seeds` pairs of samples of sizes n, m (`shift` of y's mean).
    static func rejectionRate(
        _ test: TwoSampleTest, n: Int, m: Int, shift: Double, seeds: Int, alpha: Double = 0.05
    ) -> Double {
        var rejected = 0
        for seed in 0..<seeds {
            let x = Self.gaussian(n, d: test.dimension, seed: UInt64(seed), key: 10)
            let y = Self.gaussian(m, d: test.dimension, shift: shift, seed: UInt64(seed), key: 11)
            if test.run(x, y, seed: UInt64(seed), step: 3).pValue < alpha { rejected += 1 }
        }
        return Double(rejected) / Double(seeds)
    }

    /// The false rejection rate at α = 0.05 over 200 seeds of exact samples: in [0.02, 0.08]
    /// (the test's exact level is P(p ≤ 9/200) = 0.045 with B = 199).
    func testPermutationTestIsCalibrated() {
        let test = TwoSampleTest(method: .permutation, permutations: 199, dimension: 2, threads: 2)
        let rate = Self.rejectionRate(test, n: 200, m: 150, shift: 0, seeds: 200)
        XCTAssert((0.02...0.08).contains(rate), "false rejection rate \(rate)")
    }

    func testCompressThenTestIsCalibrated() {
        let test = TwoSampleTest(method: .ctt, permutations: 199, bins: 32, oversampling: 1, dimension: 2, threads: 2)
        let rate = Self.rejectionRate(test, n: 1024, m: 1024, shift: 0, seeds: 200)
        XCTAssert((0.02...0.08).contains(rate), "false rejection rate \(rate)")
    }

    /// A mean shift of 0.5 is plain at these sizes: p ≤ 0.01 for both methods, on every seed tried.
    func testAClearShiftIsRejected() {
        let permutation = TwoSampleTest(method: .permutation, permutations: 199, dimension: 2, threads: 2)
        let ctt = TwoSampleTest(method: .ctt, permutations: 199, bins: 32, oversampling: 2, dimension: 2, threads: 2)
        for seed in 0..<3 {
            XCTAssertEqual(Self.rejectionRate(permutation, n: 400, m: 400, shift: 0.5, seeds: 1, alpha: 0.0100001), 1)
            let x = Self.gaussian(2048, d: 2, seed: UInt64(seed), key: 20)
            let y = Self.gaussian(2048, d: 2, shift: 0.5, seed: UInt64(seed), key: 21)
            XCTAssertLessThanOrEqual(ctt.run(x, y, seed: UInt64(seed), step: 1).pValue, 0.01)
        }
        // Far apart, no relabelling comes near: p = 1/(B + 1) exactly, the smallest there is.
        let x = Self.gaussian(100, d: 2, seed: 7, key: 0)
        let y = Self.gaussian(100, d: 2, shift: 5, seed: 7, key: 1)
        XCTAssertEqual(permutation.run(x, y, seed: 1, step: 0).pValue, 1.0 / 200)
        XCTAssertEqual(permutation.run(x, x, seed: 1, step: 0).pValue, 1, "T = 0 and every T_b ≥ 0")
    }

    /// The same data, seed and step: the same p-value bit for bit for any thread count; another
    /// step draws other permutations.
    func testDeterministicPerStep() {
        let x = Self.gaussian(300, d: 2, seed: 5, key: 0)
        let y = Self.gaussian(300, d: 2, shift: 0.1, seed: 5, key: 1)
        for method in [TwoSampleTest.Method.permutation, .ctt] {
            func p(_ threads: Int, step: Int) -> Double {
                TwoSampleTest(
                    method: method, permutations: 199, bins: 16, oversampling: 1, dimension: 2, threads: threads
                )
                .run(x, y, seed: 9, step: step).pValue
            }
            let one = p(1, step: 10)
            XCTAssertEqual(one.bitPattern, p(2, step: 10).bitPattern)
            XCTAssertEqual(one.bitPattern, p(5, step: 10).bitPattern)
            XCTAssert((11..<16).contains { p(2, step: $0) != one }, "\(method): the step changes nothing")
        }
    }

    /// Kernel halving's half is far closer to the input in MMD than an arbitrary half (the
    /// first point of each pair, itself a random half of iid points): MMD² 0.14–0.25 times the
    /// arbitrary half's at n = 512 (an anti-balancing walk would make it larger).
    func testKernelHalvingBalances() {
        let d = 2
        let sigma = 1.0
        var ratios: [Double] = []
        for seed in 0..<5 {
            let x = Self.gaussian(512, d: d, seed: UInt64(seed), key: 30)
            var rng = RandomStream(seed: UInt64(seed), .flow, 1)
            let half = KernelCompression.halve(
                Array(0..<512), of: x, dimension: d, kernel: GaussianKernel(sigma: sigma), rng: &rng)
            func rows(_ r: [Int]) -> [Double] { r.flatMap { x[($0 * d)..<($0 * d + d)] } }
            let balanced = Self.naiveMMD2(rows(half), x, d: d, sigma: sigma)
            let arbitrary = Self.naiveMMD2(rows(Array(stride(from: 0, to: 512, by: 2))), x, d: d, sigma: sigma)
            ratios.append(balanced / arbitrary)
        }
        XCTAssertLessThan(ratios.max()!, 0.35, "\(ratios)")
    }

    /// Kernel halving keeps one point of each pair; Compress keeps about 2^g·√n.
    func testCompressionSizes() {
        let d = 2
        let x = Self.gaussian(256, d: d, seed: 6, key: 0)
        var rng = RandomStream(seed: 1, .flow)
        let rows = Array(0..<256)
        let half = KernelCompression.halve(rows, of: x, dimension: d, kernel: GaussianKernel(sigma: 1), rng: &rng)
        XCTAssertEqual(half.count, 128)
        for (p, r) in half.enumerated() { XCTAssert(r == 2 * p || r == 2 * p + 1) }
        for g in 0...3 {
            let kept = KernelCompression.compress(
                x, dimension: d, kernel: GaussianKernel(sigma: 1), oversampling: g, rng: &rng)
            XCTAssertEqual(kept.count, min(256, (1 << g) * 16))
            XCTAssertEqual(Set(kept).count, kept.count)
        }
    }
}

/// The measurement of scripts/two-sample-calibration.sh (skipped unless
/// WGF_TWO_SAMPLE_CALIBRATION is set): false rejection rates over seeds of exact samples and
/// the power on 0.2 and 0.1 mean shifts at n = 4096 per side in d = 2, with the time per test.
/// WGF_TWO_SAMPLE_SEEDS (200) seeds for the cheap cases, WGF_TWO_SAMPLE_SLOW_SEEDS (40) for
/// the permutation test at n = 4096 (about 2 s each on 2 cores).
final class TwoSampleCalibration: XCTestCase {
    func testReport() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["WGF_TWO_SAMPLE_CALIBRATION"] != nil else { throw XCTSkip("set WGF_TWO_SAMPLE_CALIBRATION=1") }
        let seeds = Int(env["WGF_TWO_SAMPLE_SEEDS"] ?? "") ?? 200
        let slow = Int(env["WGF_TWO_SAMPLE_SLOW_SEEDS"] ?? "") ?? 40
        let threads = Int(env["WGF_TWO_SAMPLE_THREADS"] ?? "") ?? 2
        let permutation = TwoSampleTest(method: .permutation, dimension: 2, threads: threads)
        var cases: [(String, TwoSampleTest, n: Int, shift: Double, seeds: Int)] = [
            ("permutation", permutation, 200, 0, seeds), ("permutation", permutation, 4096, 0, slow),
            ("permutation", permutation, 4096, 0.2, slow / 2), ("permutation", permutation, 4096, 0.1, slow / 2),
        ]
        for g in 0...3 {
            let ctt = TwoSampleTest(method: .ctt, oversampling: g, dimension: 2, threads: threads)
            for (n, shift) in [(1024, 0.0), (4096, 0.0), (4096, 0.2), (4096, 0.1)] {
                cases.append(("ctt s=32 g=\(g)", ctt, n, shift, seeds))
            }
        }
        let clock = ContinuousClock()
        for (name, test, n, shift, count) in cases {
            let start = clock.now
            let rate = TwoSampleTests.rejectionRate(test, n: n, m: n, shift: shift, seeds: count)
            let seconds = start.duration(to: clock.now) / .seconds(1) / Double(count)
            print(
                String(
                    format: "%@ n = %d per side, shift %.1f: rejection rate %.3f over %d seeds (%.3f s per test)",
                    name.padding(toLength: 14, withPad: " ", startingAt: 0), n, shift, rate, count, seconds))
        }
    }
}
