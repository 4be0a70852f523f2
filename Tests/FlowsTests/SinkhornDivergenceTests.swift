import Flows
import Foundation
import TestSupport
import XCTest

/// The debiased Sinkhorn divergence against values it did not compute: a plain log-domain
/// Sinkhorn written here (alternating updates, no ε-scaling, iterated to a fixed point), the
/// two-point closed form, and its limits W₂² (ε → 0) and |Δmean|² (ε → ∞). (POT on the same
/// points: scripts/compare-metrics-peer.py.)
final class SinkhornDivergenceTests: XCTestCase {
    func points(_ count: Int, _ d: Int, _ rng: inout TestRNG, scale: Double = 1, shift: Double = 0) -> [Double] {
        (0..<(count * d)).map { _ in
            shift + scale * (-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * Double.pi * rng.uniform())
        }
    }

    /// OT_ε(α, β) by the textbook iteration: f_i = −ε LSE_j(log b_j + (g_j − C_ij)/ε), then g
    /// from f, until neither moves (or 10⁵ sweeps); ⟨a, f⟩ + ⟨b, g⟩. For α = β, the averaged
    /// symmetric update f ← ½(f + T(f)) instead (the plain one oscillates: its linearisation has
    /// an eigenvalue near −1 there).
    func naiveOT(_ x: [Double], _ a: [Double], _ y: [Double], _ b: [Double], _ d: Int, _ eps: Double) -> Double {
        let (n, m) = (a.count, b.count)
        let (ta, tb) = (a.reduce(0, +), b.reduce(0, +))
        let la = a.map { log($0 / ta) }
        let lb = b.map { log($0 / tb) }
        var f = [Double](repeating: 0, count: n)
        var g = [Double](repeating: 0, count: m)
        func lse(_ t: [Double]) -> Double {
            let top = t.max()!
            return top + log(t.reduce(0) { $0 + exp($1 - top) })
        }
        let symmetric = x == y && a == b
        for _ in 0..<100_000 {
            if symmetric {
                let t = (0..<n).map { i in
                    -eps * lse((0..<n).map { la[$0] + (f[$0] - squaredDistance(x, i, x, $0, d)) / eps })
                }
                let f2 = zip(f, t).map { 0.5 * ($0 + $1) }
                let change = zip(f, f2).map { abs($0 - $1) }.max()!
                (f, g) = (f2, f2)
                if change < 1e-15 { break }
                continue
            }
            let f2 = (0..<n).map { i in
                -eps * lse((0..<m).map { lb[$0] + (g[$0] - squaredDistance(x, i, y, $0, d)) / eps })
            }
            let g2 = (0..<m).map { j in
                -eps * lse((0..<n).map { la[$0] + (f2[$0] - squaredDistance(x, $0, y, j, d)) / eps })
            }
            let change = max(zip(f, f2).map { abs($0 - $1) }.max()!, zip(g, g2).map { abs($0 - $1) }.max()!)
            (f, g) = (f2, g2)
            if change < 1e-15 { break }
        }
        return zip(a, f).reduce(0) { $0 + $1.0 / ta * $1.1 } + zip(b, g).reduce(0) { $0 + $1.0 / tb * $1.1 }
    }

    func testAgainstThePlainIteration() {
        var rng = TestRNG(31)
        for (n, m, d, eps) in [(30, 20, 2, 0.5), (25, 25, 1, 0.05), (20, 30, 3, 2.0)] {
            let x = points(n, d, &rng)
            let y = points(m, d, &rng, scale: 1.4, shift: 0.3)
            let a = (0..<n).map { _ in rng.uniform(0.2, 1) }
            let b = (0..<m).map { _ in rng.uniform(0.2, 1) }
            let expected =
                naiveOT(x, a, y, b, d, eps) - 0.5 * naiveOT(x, a, x, a, d, eps) - 0.5 * naiveOT(y, b, y, b, d, eps)
            for threads in [1, 2] {
                let s = SinkhornDivergence.divergence(
                    x: x, a: a, y: y, b: b, dimension: d, epsilon: eps, threads: threads)
                XCTAssertEqual(s, expected, accuracy: 1e-10 * expected, "n \(n) m \(m) d \(d) ε \(eps)")
            }
        }
    }

    /// At ε small against the spread Sinkhorn's rate nears 1: here plain updates need more than
    /// ``SinkhornDivergence/maximumIterations`` (Newton's method would take over), over-relaxed
    /// ones converge within them, to the value of the plain iteration run to its fixed point.
    func testOverRelaxationReachesWherePlainSinkhornDoesNot() {
        var rng = TestRNG(5)
        let n = 40
        let x = (0..<n).map { _ in rng.uniform(-1, 1) }
        let y = (0..<n).map { _ in 0.3 + 1.4 * rng.uniform(-1, 1) }
        let a = (0..<n).map { _ in rng.uniform(0.2, 1) }
        let b = (0..<n).map { _ in rng.uniform(0.2, 1) }
        let eps = 3e-3
        let expected =
            naiveOT(x, a, y, b, 1, eps) - 0.5 * naiveOT(x, a, x, a, 1, eps) - 0.5 * naiveOT(y, b, y, b, 1, eps)
        var work = SinkhornDivergence.Work()
        let s = SinkhornDivergence.divergence(
            x: x, a: a, y: y, b: b, dimension: 1, epsilon: eps, threads: 1, work: &work)
        XCTAssertEqual(s, expected, accuracy: 1e-10 * expected)
        XCTAssertEqual(work.newtonSteps, 0, "over-relaxed Sinkhorn did not converge: \(work)")
    }

    /// Where Sinkhorn's rate nears 1 (ε small against the cost differences, 2-D), Newton's
    /// method takes over after ``SinkhornDivergence/maximumIterations`` and lands on the plain
    /// iteration's fixed point (reached here within its 10⁵ sweeps).
    func testNewtonWherePlainSinkhornCrawls() {
        var rng = TestRNG(5)
        for (n, eps) in [(40, 0.003), (40, 0.001)] {
            let x = (0..<(n * 2)).map { _ in rng.uniform(-1, 1) }
            let y = (0..<(n * 2)).map { _ in 0.3 + 1.4 * rng.uniform(-1, 1) }
            let a = (0..<n).map { _ in rng.uniform(0.2, 1) }
            let b = (0..<n).map { _ in rng.uniform(0.2, 1) }
            let expected =
                naiveOT(x, a, y, b, 2, eps) - 0.5 * naiveOT(x, a, x, a, 2, eps) - 0.5 * naiveOT(y, b, y, b, 2, eps)
            for threads in [1, 2] {
                var work = SinkhornDivergence.Work()
                let s = SinkhornDivergence.divergence(
                    x: x, a: a, y: y, b: b, dimension: 2, epsilon: eps, threads: threads, work: &work)
                XCTAssertEqual(s, expected, accuracy: 1e-12 * expected, "ε \(eps)")
                XCTAssertGreaterThan(work.newtonSteps, 0, "ε \(eps): Newton's method was not needed")
            }
        }
    }

    /// δ₀ against ½δ₁ + ½δ₃ in 1-D: the only coupling with δ₀ is the product (OT_ε = E c = 5),
    /// OT_ε(δ₀, δ₀) = 0, and ½δ₁ + ½δ₃ with itself couples by π = [[p, ½ − p], [½ − p, p]],
    /// p = ½ σ(4/ε) (the stationary point of 8(½ − p) + ε KL(π ‖ ¼)), so
    /// S_ε = 5 − ½ [8(½ − p) + ε KL].
    func testTheTwoPointClosedForm() {
        for eps in [0.5, 1.0, 4.0] {
            let p = 0.5 / (1 + exp(-4 / eps))
            let q = 0.5 - p
            let kl = 2 * p * log(4 * p) + 2 * q * log(4 * q)
            let expected = 5 - 0.5 * (8 * q + eps * kl)
            let s = SinkhornDivergence.divergence(
                x: [0], a: [1], y: [3, 1], b: [1, 1], dimension: 1, epsilon: eps, threads: 1)
            XCTAssertEqual(s, expected, accuracy: 1e-12, "ε \(eps)")
        }
    }

    /// Identical sets: exactly 0; a permuted copy with its weights: 0 to rounding; zero weights
    /// drop their points.
    func testIdenticalSetsAreAtZero() {
        var rng = TestRNG(32)
        let (n, d) = (40, 2)
        let x = points(n, d, &rng)
        let a = (0..<n).map { _ in rng.uniform(0.2, 1) }
        XCTAssertEqual(SinkhornDivergence.divergence(x: x, a: a, y: x, b: a, dimension: d, epsilon: 0.1, threads: 2), 0)
        let order = (0..<n).reversed().map { $0 }
        let y = order.flatMap { x[($0 * d)..<($0 * d + d)] }
        let b = order.map { a[$0] }
        XCTAssertEqual(
            SinkhornDivergence.divergence(x: x, a: a, y: y, b: b, dimension: d, epsilon: 0.1, threads: 2), 0,
            accuracy: 1e-12)
        let far = [Double](repeating: 1e6, count: d)
        XCTAssertEqual(
            SinkhornDivergence.divergence(x: x + far, a: a + [0], y: x, b: a, dimension: d, epsilon: 0.1, threads: 2),
            0)
    }

    /// S_ε → W₂² as ε → 0 (discrete sets: the entropic terms cancel in the debiasing, what is
    /// left decays with ε) against the 1-D quantile formula; S_ε → |mean(α) − mean(β)|² as
    /// ε → ∞ (half the MMD² of the kernel −|x − y|²), with a correction O(1/ε).
    func testTheLimits() {
        var rng = TestRNG(33)
        let u = points(40, 1, &rng)
        let v = points(30, 1, &rng, scale: 2, shift: 1)
        let a = (0..<40).map { _ in rng.uniform(0.2, 1) }
        let b = (0..<30).map { _ in rng.uniform(0.2, 1) }
        let w2 = SlicedW2Metric.squaredW2(u, a, v, b)
        let small = SinkhornDivergence.divergence(x: u, a: a, y: v, b: b, dimension: 1, epsilon: 1e-3, threads: 2)
        XCTAssertEqual(small, w2, accuracy: 2e-3 * w2)
        let mean = { (p: [Double], w: [Double]) in zip(p, w).reduce(0) { $0 + $1.0 * $1.1 } / w.reduce(0, +) }
        let gap = (mean(u, a) - mean(v, b)) * (mean(u, a) - mean(v, b))
        let large = SinkhornDivergence.divergence(x: u, a: a, y: v, b: b, dimension: 1, epsilon: 1e5, threads: 2)
        XCTAssertEqual(large, gap, accuracy: 1e-3 * gap)
        XCTAssertNotEqual(large, gap, accuracy: 1e-9 * gap)
    }
}
