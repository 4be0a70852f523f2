import Foundation
import KernelSum
import XCTest

/// Riesz kernels −|x|^r with r ≠ 1 through the sliced engine: |x|^r = E_ξ|⟨ξ, x⟩|^r / m_r with
/// m_r = E|ξ₁|^r, each direction's 1-D sum of |t − s|^r by the 1-D mesh engine; r in (1/2, 2).
extension SlicedProfileTests {
    /// With a tolerance τ = 0.05 (1200 sources onto 150 targets, data seeds 1 and 2), r = 0.75
    /// and 1.5 beside r = 1 in d = 5 and 10: the estimate says τ is met, the errors against
    /// direct (values and gradients) are within 1.5 times it, and it is within 4 times them.
    /// For these cusped kernels the estimate is about the error, not above it as for smooth
    /// ones: over 432 runs (normal and uniform data, r = 0.6–1.9, r = 1 included) the error
    /// measured 0.6–1.45 times the estimate, r = 1 as much as any. A wrong m_r (Γ(9/8) for
    /// Γ(7/8) alone is 16%), a wrong 1-D sum or a wrong rescaling of a direction misses it.
    func testRieszToleranceIsMetAndTheErrorIsAboutTheEstimate() {
        for d in [5, 10] {
            for r in [0.75, 1, 1.5] {
                for seed in [1, 2] as [UInt64] {
                    let kernel = RieszKernel(r: r)
                    let (rv, rg) = sums(DirectSum(threads: 2), kernel, d, n: 1200, m: 150, seed: seed)
                    let engine = SlicedSum(directions: 1, seed: seed + 20, threads: 2, tolerance: 0.05)
                    let (v, g) = sums(engine, kernel, d, n: 1200, m: 150, seed: seed)
                    let error = max(relativeError(v, rv), relativeError(g, rg))
                    let estimate = engine.lastEstimate!
                    let label = "r=\(r) d=\(d) seed \(seed): error \(error) estimate \(estimate.error)"
                    XCTAssertEqual(estimate.met, true, label)
                    XCTAssertLessThanOrEqual(error, 1.5 * estimate.error, "optimistic: " + label)
                    XCTAssertLessThanOrEqual(estimate.error, 4 * error, "too cautious: " + label)
                }
            }
        }
    }

    /// m_r itself, independently of the engine's formula: in d = 3, ξ₁ is uniform on [−1, 1]
    /// (Archimedes), so m_r = 1/(r + 1) and E_ξ|⟨ξ, x⟩|^r = |x|^r/(r + 1). One source of weight 1
    /// at 0 and targets at distances 0.5–3: with P = 3000 fixed directions the sliced value is
    /// −|y|^r to 4% (the spread of |ξ₁|^r over 3000 directions is under 1.5% of its mean), and
    /// with m_r replaced by the d = 2 moment or by 1 it would be off by 20% or more.
    func testRieszMomentInThreeDimensions() throws {
        let targets: [[Double]] = [[0.5, 0, 0], [0, -1.2, 0.4], [1, 1, 1], [-3, 0, 0]]
        for r in [0.75, 1.5] {
            let engine = SlicedSum(directions: 3000, seed: 9, threads: 2)
            var (v, g): ([Double], [Double]) = ([], [])
            engine.sum(
                RieszKernel(r: r), dimension: 3, sources: [0, 0, 0], weights: [1], channels: 1,
                targets: targets.flatMap { $0 }, gradientChannels: [], values: &v, gradients: &g)
            for (j, y) in targets.enumerated() {
                let norm = y.reduce(0) { $0 + $1 * $1 }.squareRoot()
                XCTAssertEqual(v[j], -pow(norm, r), accuracy: 0.04 * pow(norm, r), "r=\(r) target \(j)")
            }
        }
    }

    /// In 1-D the one direction would be the mesh itself, whose gradients err up to ~200× its
    /// tolerance where they cancel: r = 0.75 and 1.5 are summed directly, bit for bit, no direction drawn.
    func testRieszInOneDimensionIsDirect() {
        for r in [0.75, 1.5] {
            let engine = SlicedSum(directions: 1, seed: 0, threads: 2, tolerance: 1e-3)
            let (v, g) = sums(engine, RieszKernel(r: r), 1, n: 300, m: 40, seed: 3)
            let (rv, rg) = sums(DirectSum(threads: 2), RieszKernel(r: r), 1, n: 300, m: 40, seed: 3)
            XCTAssertTrue(
                v == rv && g == rg, "r=\(r): values \(relativeError(v, rv)), gradients \(relativeError(g, rg))")
            XCTAssertEqual(engine.lastEstimate?.directions, 0)
            XCTAssertEqual(engine.lastEstimate?.error, 0)
        }
    }

    /// One and two threads give the same numbers (r = 0.75, d = 6, a tolerance), also where
    /// the directions' 1-D problems differ in shape: with 4 of the 400 sources 40 away along
    /// the first axis, a direction near that axis squeezes the rest into a corner of [0, 1],
    /// so the mesh's near radius (chosen from the sources' density) differs from direction to
    /// direction, and a mesh that remembered its last direction's grid (hysteresis) would make
    /// each worker's sums depend on which directions it summed before.
    func testRieszOutputsDoNotDependOnTheThreads() {
        let (d, n, m) = (6, 400, 500)
        var rng = TestRNG(2)
        func normal() -> Double { (-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * .pi * rng.uniform()) }
        var x = (0..<(n * d)).map { _ in normal() }
        for i in 0..<4 { x[i * d] += 40 }
        let w = (0..<n).map { _ in rng.uniform(-0.2, 1) }
        let y = (0..<(m * d)).map { _ in normal() }
        func run(threads: Int) -> ([Double], [Double]) {
            var (v, g): ([Double], [Double]) = ([], [])
            SlicedSum(directions: 1, seed: 4, threads: threads, tolerance: 0.05).sum(
                RieszKernel(r: 0.75), dimension: d, sources: x, weights: w, channels: 1, targets: y,
                gradientChannels: [0], values: &v, gradients: &g)
            return (v, g)
        }
        let (one, two) = (run(threads: 1), run(threads: 2))
        XCTAssertTrue(one.0 == two.0, "values differ by \(relativeError(one.0, two.0))")
        XCTAssertTrue(one.1 == two.1, "gradients differ by \(relativeError(one.1, two.1))")
    }

    /// r ≤ 1/2 is refused: a direction's slope r|⟨ξ, x⟩|^(r−1) has infinite variance there.
    func testRieszAtOrBelowOneHalfIsRefused() {
        for r in [0.25, 0.5] {
            XCTAssertThrowsError(
                try KernelSumEngines.make(.sliced, kernel: RieszKernel(r: r), dimension: 5, tolerance: 1e-2, threads: 1)
            ) {
                XCTAssertTrue("\($0)".contains("have infinite variance (r ≤ 1/2)"), "\($0)")
            }
        }
    }
}
