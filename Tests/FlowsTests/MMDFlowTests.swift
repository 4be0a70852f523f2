import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

final class MMDFlowTests: XCTestCase {
    let d = 2, n = 30, m = 40
    lazy var particles: [Double] = {
        var r = RandomStream(seed: 3, .initialisation)
        return (0..<(n * d)).map { _ in r.normal() + 0.7 }
    }()
    lazy var samples: [Double] = {
        var r = RandomStream(seed: 3, .targetSample)
        return Fixtures.gaussian2.sample(count: m, using: &r)
    }()

    func makeFlow(
        _ kernel: any RadialKernel, noise: Double = 0, halvingEvery: Int = 0, seed: UInt64 = 1,
        rule: Optimizer.Rule = .sgd
    ) -> MMDFlow {
        MMDFlow(
            kernel: kernel, targetSamples: samples, dimension: d, noise: noise, halvingEvery: halvingEvery,
            optimizer: Optimizer(rule: rule), engine: DirectSum(threads: 2), seed: seed)
    }

    /// ∇f at z, f(z) = (1/N) Σ_i k(z − x_i) − (1/M) Σ_m k(z − y_m), naively.
    func naiveWitnessGradient(_ z: [Double], _ x: [Double], _ ref: RefKernel) -> [Double] {
        var g = [Double](repeating: 0, count: d)
        for i in 0..<n {
            let gi = ref.gradient((0..<d).map { z[$0] - x[i * d + $0] })
            for a in 0..<d { g[a] += gi[a] / Double(n) }
        }
        for k in 0..<m {
            let gk = ref.gradient((0..<d).map { z[$0] - samples[k * d + $0] })
            for a in 0..<d { g[a] -= gk[a] / Double(m) }
        }
        return g
    }

    let kernels: [(any RadialKernel, RefKernel)] = [
        (GaussianKernel(sigma: 1), .gaussian(sigma: 1)),
        (GaussianKernel(sigma: 0.5), .gaussian(sigma: 0.5)),
        (RieszKernel(r: 1), .riesz(r: 1)),
        (RieszKernel(r: 0.5), .riesz(r: 0.5)),
    ]

    /// With `fresh-directions` the sliced witness gradient (P = 2 directions, one block in
    /// d = 2) is an unbiased estimate of the exact one (the naive double sum): held still, the
    /// particles' directions averaged over 400 steps err under a quarter of one step's error
    /// (1/20 expected); with one fixed set of directions every step is the same, biased.
    func testFreshDirectionsAverageToTheExactGradient() {
        let exact = (0..<n).flatMap { i in
            naiveWitnessGradient(Array(particles[(i * d)..<(i * d + d)]), particles, .riesz(r: 1)).map { -$0 }
        }
        let p = state(particles, dimension: d).populations[0]
        for fresh in [true, false] {
            let flow = MMDFlow(
                kernel: RieszKernel(r: 1), targetSamples: samples, dimension: d, noise: 0, halvingEvery: 0,
                optimizer: Optimizer(rule: .sgd), engine: SlicedSum(directions: 2, seed: 5, threads: 1), seed: 1,
                freshDirections: fresh)
            var mean = [Double](repeating: 0, count: n * d)
            var single = 0.0
            let steps = 400
            for step in 1...steps {
                let v = flow.direction(p, step: step)
                if step == 1 { single = relativeError(v, exact) }
                for k in 0..<(n * d) { mean[k] += v[k] / Double(steps) }
            }
            XCTAssertGreaterThan(single, 0.05, "one step's sliced gradient is not exact")
            if fresh {
                XCTAssertLessThan(relativeError(mean, exact), 0.25 * single)
            } else {
                XCTAssertEqual(relativeError(mean, exact), single, accuracy: 1e-12 * single)
            }
        }
    }

    /// energy() = ½ MMD²; tolerance 1e-12 × (sum of the three terms' magnitudes), since the
    /// terms cancel. Also positive for these distinct sets, and called twice gives the same.
    func testEnergyIsHalfMMD2() {
        for (k, ref) in kernels {
            let flow = makeFlow(k)
            let (mmd2, scale2) = naiveMMD2(particles, samples, dimension: d, ref)
            let (want, scale) = (0.5 * mmd2, 0.5 * scale2)
            let got = flow.energy(state(particles, dimension: d))
            XCTAssertEqual(got, want, accuracy: 1e-12 * scale, k.spec)
            XCTAssertGreaterThan(got, 0, k.spec)
            XCTAssertEqual(flow.energy(state(particles, dimension: d)), got, k.spec)
            XCTAssertNotNil(flow.energyDescription)
        }
    }

    /// Noise 0, sgd: x₁ = x₀ − h ∇f(x₀) with ∇f computed naively. Tolerance: |x₁ − x₁_ref| ≤
    /// 1e-12 · max|h∇f| + 1e-15 · max|x₀|. A second step uses the moved particles.
    func testPlainStepIsWitnessGradientDescent() {
        let h = 0.5
        for (k, ref) in kernels {
            let flow = makeFlow(k)
            var s = state(particles, dimension: d)
            var x = particles
            for step in 1...2 {
                flow.advance(&s, step: step, stepSize: h)
                var next = x
                var maxMove = 0.0
                for i in 0..<n {
                    let g = naiveWitnessGradient(row(x, i, d), x, ref)
                    for a in 0..<d {
                        next[i * d + a] = x[i * d + a] - h * g[a]
                        maxMove = max(maxMove, abs(h * g[a]))
                    }
                }
                let tol = 1e-12 * maxMove + 1e-15 * 4
                for k2 in 0..<(n * d) {
                    XCTAssertEqual(s.populations[0].positions[k2], next[k2], accuracy: tol, "\(k.spec) step \(step)")
                }
                x = next
            }
        }
    }

    /// With noise β, the gradient is taken at x_i + β u_i, u_i from RandomStream(seed, .noise,
    /// step, i), and the particle moves from x_i (not from the perturbed point). Same tolerance.
    func testNoisyStepEvaluatesAtPerturbedPoints() {
        let beta = 0.3
        let h = 0.5
        let seed: UInt64 = 77
        let (k, ref) = kernels[0]
        let flow = makeFlow(k, noise: beta, halvingEvery: 10, seed: seed)
        var s = state(particles, dimension: d)
        flow.advance(&s, step: 1, stepSize: h)
        var maxMove = 0.0
        var want = particles
        for i in 0..<n {
            var rng = RandomStream(seed: seed, .noise, 1, i)
            let z = (0..<d).map { particles[i * d + $0] + beta * rng.normal() }
            let g = naiveWitnessGradient(z, particles, ref)
            for a in 0..<d {
                want[i * d + a] -= h * g[a]
                maxMove = max(maxMove, abs(h * g[a]))
            }
        }
        XCTAssertLessThanOrEqual(maxAbsDifference(s.populations[0].positions, want), 1e-12 * maxMove + 1e-15 * 4)
        // Same seed: same result; another seed: different.
        var s2 = state(particles, dimension: d)
        var s3 = state(particles, dimension: d)
        makeFlow(k, noise: beta, halvingEvery: 10, seed: seed).advance(&s2, step: 1, stepSize: h)
        makeFlow(k, noise: beta, halvingEvery: 10, seed: seed + 1).advance(&s3, step: 1, stepSize: h)
        XCTAssertEqual(s2.populations[0].positions, s.populations[0].positions)
        XCTAssertNotEqual(s3.populations[0].positions, s.populations[0].positions)
    }

    /// β_n = β₀ · 2^(−⌊(n−1)/K⌋): β₀ at steps 1 and K, β₀/2 at K+1, β₀/4 at 2K+1 (exact).
    func testNoiseLevelHalvesEveryK() {
        let k = 5
        let b0 = 0.8
        let flow = makeFlow(GaussianKernel(sigma: 1), noise: b0, halvingEvery: k)
        XCTAssertEqual(flow.noiseLevel(step: 1), b0)
        XCTAssertEqual(flow.noiseLevel(step: k), b0)
        XCTAssertEqual(flow.noiseLevel(step: k + 1), b0 / 2)
        XCTAssertEqual(flow.noiseLevel(step: 2 * k), b0 / 2)
        XCTAssertEqual(flow.noiseLevel(step: 2 * k + 1), b0 / 4)
        XCTAssertEqual(flow.noiseLevel(step: 10 * k + 1), b0 / 1024)
        XCTAssertEqual(makeFlow(GaussianKernel(sigma: 1), noise: b0, halvingEvery: 0).noiseLevel(step: 1000), b0)
        XCTAssertEqual(makeFlow(GaussianKernel(sigma: 1), noise: 0, halvingEvery: 3).noiseLevel(step: 1), 0)
    }

    /// A few flow steps decrease the energy (MMD flow is a gradient flow of ½ MMD²).
    func testEnergyDecreases() {
        let flow = makeFlow(GaussianKernel(sigma: 1))
        var s = state(particles, dimension: d)
        let e0 = flow.energy(s)
        for step in 1...5 { flow.advance(&s, step: step, stepSize: 1) }
        XCTAssertLessThan(flow.energy(s), e0)
        XCTAssertEqual(flow.report["kernel"], "gaussian:sigma=1")
        XCTAssertEqual(flow.report["target-samples"], String(m))
    }
}
