import Foundation
import KernelSum
import XCTest

/// The sliced engine's quartic control variate (SliceQuarticControl): in high dimension the
/// profile is nearly a quartic over the range ⟨ξ, y − x⟩ takes, and fitting each output's block
/// sums to the control, whose mean is known in closed form, removes most of the error. (Tests of
/// `SlicedProfileTests`, whose `sums` they share.)
extension SlicedProfileTests {
    /// Gaussian sums, σ = √(2d) (the median rule for N(0, I)), d = 20 and 50, P = 5d…20d fixed
    /// directions, three direction seeds: against direct, in units of √(d/P), values within 0.01
    /// and gradients within 0.1 (measured with the control 0.0015–0.005 and 0.035–0.063; without
    /// it 0.016–0.058 and 0.24–0.38), and the estimate is not optimistic (at least 0.8× the
    /// gradients' error; measured 2–5×). With every point shifted by 10⁵ the same bounds hold
    /// (the control's quartic moments are taken about the sources' centre).
    func testControlRemovesMostOfTheErrorInHighDimension() {
        for (d, shift) in [(20, 0.0), (50, 0.0), (20, 1e5)] {
            let kernel = GaussianKernel(sigma: (2 * Double(d)).squareRoot())
            let (rv, rg) = sums(DirectSum(threads: 2), kernel, d, n: 1500, m: 100, seed: 1, shift: shift)
            for p in [5 * d, 20 * d] {
                for seed in [3, 4, 5] as [UInt64] {
                    let engine = SlicedSum(directions: p, seed: seed, threads: 2)
                    let (v, g) = sums(engine, kernel, d, n: 1500, m: 100, seed: 1, shift: shift)
                    let unit = (Double(d) / Double(p)).squareRoot()
                    let (ev, eg) = (relativeError(v, rv), relativeError(g, rg))
                    let label = "d=\(d) shift \(shift) P=\(p) seed \(seed): values \(ev / unit) gradients \(eg / unit)"
                    XCTAssertLessThanOrEqual(ev, 0.01 * unit, label)
                    XCTAssertLessThanOrEqual(eg, 0.1 * unit, label)
                    XCTAssertGreaterThanOrEqual(engine.lastEstimate!.error, 0.8 * eg, label)
                }
            }
        }
    }

    /// The case scaled down (d = 50, σ = √(2d), weights 1/N): asked for τ = 10⁻³ the
    /// values are within it and the estimate says so, within 100 blocks of d directions
    /// (measured 48; without the control, whose values err about 0.03 √(d/P), some 10⁵
    /// directions would be needed).
    func testToleranceInFiftyDimensions() {
        let d = 50
        let kernel = GaussianKernel(sigma: (2 * Double(d)).squareRoot())
        var rng = TestRNG(7)
        func normal() -> Double { (-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * .pi * rng.uniform()) }
        let n = 2000
        let x = (0..<(n * d)).map { _ in normal() }
        let w = [Double](repeating: 1 / Double(n), count: n)
        let y = (0..<(200 * d)).map { _ in normal() }
        var rv: [Double] = []
        var v: [Double] = []
        var unused: [Double] = []
        DirectSum(threads: 2).sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: y, gradientChannels: [], values: &rv,
            gradients: &unused)
        let engine = SlicedSum(directions: 1, seed: 11, threads: 2, tolerance: 1e-3)
        engine.sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: y, gradientChannels: [], values: &v,
            gradients: &unused)
        let estimate = engine.lastEstimate!
        XCTAssertLessThanOrEqual(relativeError(v, rv), 1e-3, "\(estimate)")
        XCTAssertEqual(estimate.met, true)
        XCTAssertLessThanOrEqual(estimate.directions, 100 * d, "\(estimate)")
    }
}
