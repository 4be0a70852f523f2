import Foundation
import KernelSum
import XCTest

/// The Laplace kernel e^{−α|x|} through the sliced engine: its profile has a kink at 0, split
/// off as c e^{−a|t|} (SliceCusp) and summed by sorting, the smooth rest by the cosine series.
extension SlicedProfileTests {
    /// In d = 3 the profile is (r F(r))′ for F(r) = e^{−αr}: f(t) = (1 − α|t|)e^{−α|t|}, with
    /// f′(t) = −α sign(t)(2 − α|t|)e^{−α|t|} (0 at t = 0).
    static func laplaceProfileIn3D(_ alpha: Double, _ t: Double) -> (value: Double, derivative: Double) {
        let e = exp(-alpha * abs(t))
        let slope = -alpha * (2 - alpha * abs(t)) * e
        return ((1 - alpha * abs(t)) * e, t > 0 ? slope : t < 0 ? -slope : 0)
    }

    /// In 1-D the profile is the kernel: e^{−α|t|}, derivative 0 at t = 0.
    static func laplaceProfileIn1D(_ alpha: Double, _ t: Double) -> (value: Double, derivative: Double) {
        let e = exp(-alpha * abs(t))
        return (e, t > 0 ? -alpha * e : t < 0 ? alpha * e : 0)
    }

    /// Laplace's spectral density is the Fourier transform of e^{−α|x|}: 2α/(α² + ρ²) in 1-D
    /// and 8πα/(α² + ρ²)² in 3-D. In d = 2, 10, 50 the cusp's spectrum 2ca/(a² + ρ²) plus the
    /// remainder's ĝ is the profile's f̂ = |S^{d−1}|/(2(2π)^{d−1}) ρ^{d−1} Ψ̂(ρ) to 1e-13 of the
    /// larger of the two (at small ρ, f̂ ~ ρ^{d−1} is their difference), and at ρ = 1000α,
    /// where ĝ is 10⁻⁶–10⁻¹¹ of f̂, ĝ is its asymptote −A h(h−1)α⁴/(2ρ⁶), A = 2α c_d, to 1e-4
    /// relative: free of cancellation.
    func testLaplaceSpectrumAndItsCuspSplit() throws {
        let alpha = 1.7
        let kernel = LaplaceKernel(alpha: alpha)
        for rho in [0.0, 0.3, 2.0, 40.0] {
            let one = try XCTUnwrap(kernel.logSpectralDensity(radius: rho, dimension: 1))
            XCTAssertEqual(one, log(2 * alpha / (alpha * alpha + rho * rho)), accuracy: 1e-13, "1-D ρ=\(rho)")
            let three = try XCTUnwrap(kernel.logSpectralDensity(radius: rho, dimension: 3))
            let exact = log(8 * Double.pi * alpha / pow(alpha * alpha + rho * rho, 2))
            XCTAssertEqual(three, exact, accuracy: 1e-13, "3-D ρ=\(rho)")
        }
        XCTAssertNil(try XCTUnwrap(kernel.slicingCusp(dimension: 1)).remainderSpectrum)
        for d in [2, 10, 50] {
            let dd = Double(d)
            let cusp = try XCTUnwrap(kernel.slicingCusp(dimension: d))
            let remainder = try XCTUnwrap(cusp.remainderSpectrum)
            let logConstant = (dd / 2) * log(Double.pi) - lgamma(dd / 2) - (dd - 1) * log(2 * Double.pi)
            for rho in [1e-3, 0.1, 1, 3, 10, 100].map({ $0 * alpha }) {
                let density = try XCTUnwrap(kernel.logSpectralDensity(radius: rho, dimension: d))
                let profile = exp(logConstant + (dd - 1) * log(rho) + density)
                let exponential = 2 * cusp.weight * cusp.rate / (cusp.rate * cusp.rate + rho * rho)
                XCTAssertEqual(
                    remainder(rho) + exponential, profile, accuracy: 1e-13 * max(profile, exponential),
                    "d=\(d) ρ=\(rho)")
            }
            let (h, rho) = ((dd + 1) / 2, 1000 * alpha)
            let a = 2 * alpha * exp(0.5 * log(Double.pi) + lgamma(h) - lgamma(dd / 2))
            let asymptote = -a * h * (h - 1) * pow(alpha, 4) / (2 * pow(rho, 6))
            XCTAssertEqual(remainder(rho), asymptote, accuracy: 1e-4 * abs(asymptote), "d=\(d) at 1000α")
            // ĝ(0) = f̂(0) − 2c/a, f̂(0) = 0 in d > 1.
            XCTAssertEqual(remainder(0), -2 * cusp.weight / cusp.rate, accuracy: 1e-15 * cusp.weight / cusp.rate)
        }
    }

    /// α = 0.8, profiles to ε = 1e-8: f(0) = 1, and the profile averaged over the sphere is
    /// e^{−αr} to 1e-7 at r = 0.3/α, 1/α, 4/α for d = 2, 3, 10, 50; in d = 3 it is
    /// (1 − α|t|)e^{−α|t|} to 1e-7. (ε = 1e-12 takes minutes: the remainder's spectrum falls
    /// like ρ^{−6}, so the quadrature of f runs to ρ_max ∝ ε^{−1/4}.)
    func testLaplaceProfileAveragesToTheKernel() throws {
        let alpha = 0.8
        let kernel = LaplaceKernel(alpha: alpha)
        for d in [2, 3, 10, 50] {
            let profile = try XCTUnwrap(SliceProfile(kernel, dimension: d, accuracy: 1e-8))
            XCTAssertNotNil(profile.cusp, "d=\(d)")
            XCTAssertEqual(profile.value(0).value, 1, accuracy: 1e-7, "d=\(d)")
            for r in [0.3, 1, 4].map({ $0 / alpha }) {
                // An even panel count puts a panel edge at θ = π/2, where f has its kink.
                let average = sphereAverage(profile, radius: r, panels: 32)
                XCTAssertEqual(average, exp(-alpha * r), accuracy: 1e-7, "d=\(d) r=\(r)")
            }
            guard d == 3 else { continue }
            for t in [-3.1, -0.7, 0.05, 0.4, 1.25, 2.5, 6] {
                let exact = Self.laplaceProfileIn3D(alpha, t)
                XCTAssertEqual(profile.value(t).value, exact.value, accuracy: 1e-7, "t=\(t)")
                XCTAssertEqual(profile.value(t).derivative, exact.derivative, accuracy: 1e-7, "t=\(t)")
            }
        }
    }

    /// The 1-D sums (series plus cusp) in d = 3 against Σ_i w_i f(t_j − s_i) with the closed
    /// form above, over 500 signed sources and 120 targets in [−5, 5], a third of the targets
    /// on sources and some sources repeated (ties: the slope there is 0): within 3ε Σ|w| for
    /// values and slopes (α = 1.3, ε = 1e-8). In 1-D f is the exponential alone: to 1e-13.
    func testLaplaceSumsMatchTheClosedFormWithTies() throws {
        let alpha = 1.3
        let kernel = LaplaceKernel(alpha: alpha)
        var rng = TestRNG(5)
        var s = (0..<500).map { _ in rng.uniform(-5, 5) }
        for k in 0..<20 { s[400 + k] = s[k] }
        let w = (0..<500).map { _ in rng.uniform(-1, 1) }
        let t = (0..<120).map { j in j % 3 == 0 ? s[j * 4] : rng.uniform(-5, 5) }
        let weight = w.reduce(0) { $0 + abs($1) }
        for (d, eps) in [(3, 1e-8), (1, 1e-13)] {
            let profile = try XCTUnwrap(SliceProfile(kernel, dimension: d, accuracy: eps))
            let (v, slopes) = profile.sum(sources: s, weights: w, targets: t)
            for (j, tj) in t.enumerated() {
                var (rv, rs) = (0.0, 0.0)
                for (si, wi) in zip(s, w) {
                    let f = d == 3 ? Self.laplaceProfileIn3D(alpha, tj - si) : Self.laplaceProfileIn1D(alpha, tj - si)
                    rv += wi * f.value
                    rs += wi * f.derivative
                }
                XCTAssertEqual(v[j], rv, accuracy: 3 * eps * weight, "d=\(d) target \(j)")
                XCTAssertEqual(slopes[j], rs, accuracy: 3 * eps * weight * alpha, "d=\(d) target \(j) slope")
            }
        }
    }

    /// With a tolerance, Laplace (α = 1/√(2d), the median rule for N(0, I)) in d = 10 and 30:
    /// the errors against direct (values and gradients) are within τ = 0.05, and the estimate
    /// within 0.8–4 times the measured error; one and two threads give the same numbers.
    func testLaplaceToleranceIsMetAndTheEstimateBoundsTheError() {
        for d in [10, 30] {
            let kernel = LaplaceKernel(alpha: 1 / (2 * Double(d)).squareRoot())
            checkToleranceIsMetAndTheEstimateBoundsTheError(kernel, dimension: d)
            let engine = { (threads: Int) in SlicedSum(directions: 1, seed: 21, threads: threads, tolerance: 0.05) }
            let one = sums(engine(1), kernel, d, n: 1200, m: 150, seed: 1)
            let two = sums(engine(2), kernel, d, n: 1200, m: 150, seed: 1)
            XCTAssertEqual(one.0, two.0, "threads: d=\(d)")
            XCTAssertEqual(one.1, two.1, "threads: d=\(d)")
        }
    }
}
