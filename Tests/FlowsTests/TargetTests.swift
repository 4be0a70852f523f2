import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

final class TargetTests: XCTestCase {
    let targets: [(String, any Target & Density)] = [
        ("gaussian (full covariance, d=3)", Fixtures.gaussian3),
        ("gaussian-mixture (3 components)", Fixtures.mixture),
        ("banana (d=3, b=0.1, v=4)", Fixtures.banana3),
        ("banana (d=2, b=0.03, v=4)", Fixtures.banana2),
    ]

    /// score = central differences of logDensity, step 1e-5.
    /// Tolerance: |score − fd| ≤ 1e-6 · max(1, |score|) per coordinate.
    func testScoreIsGradientOfLogDensity() {
        var rng = RandomStream(seed: 7, .flow)
        for (name, t) in targets {
            let d = t.dimension
            var points = (0..<6).map { _ in (0..<d).map { _ in 2 * rng.normal() } }
            points.append([Double](repeating: 0, count: d))
            for x in points {
                let g = t.score(x)
                for a in 0..<d {
                    let h = 1e-5
                    var xp = x
                    var xm = x
                    xp[a] += h
                    xm[a] -= h
                    let fd = (t.logDensity(xp) - t.logDensity(xm)) / (2 * h)
                    XCTAssertEqual(g[a], fd, accuracy: 1e-6 * max(1, abs(g[a])), "\(name) ∂\(a) at \(x)")
                }
            }
        }
    }

    /// Far from every component the mixture's score must not underflow to NaN: there it is the
    /// score of the dominant component (largest log w_k + log N_k(x), here ahead of the others
    /// by hundreds of nats, so the others' share is below e^-100). Tolerance 1e-9 relative.
    func testMixtureScoreFarAway() {
        let t = Fixtures.mixture
        let x = [60.0, 1.0]
        let g = t.score(x)
        XCTAssertTrue(g.allSatisfy(\.isFinite), "\(g)")
        XCTAssertTrue(t.logDensity(x).isFinite)
        let terms = (0..<3).map { log(t.weights[$0]) + t.components[$0].logDensity(x) }
        let best = terms.indices.max { terms[$0] < terms[$1] }!
        XCTAssertGreaterThan(
            terms.enumerated().filter { $0.offset != best }.map { terms[best] - $0.element }.min()!, 100)
        XCTAssertEqual(t.logDensity(x), terms[best], accuracy: 1e-9 * abs(terms[best]))
        XCTAssertLessThanOrEqual(relativeError(g, t.components[best].score(x)), 1e-9)
        XCTAssertEqual(t.weights.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(t.weights[1], 0.5, accuracy: 1e-15)
    }

    /// ∫ exp(logDensity) = 1 by a midpoint rule on a 2-D grid covering ±8 standard deviations
    /// (spacing 0.1; the rule is spectrally accurate for these smooth, fast-decaying
    /// densities). Tolerance |integral − 1| ≤ 1e-3.
    func testLogDensityIsNormalised() {
        let cases: [(String, any Density, ClosedRange<Double>, ClosedRange<Double>)] = [
            ("gaussian", Fixtures.gaussian2, -8...8.6, -11.5...11.2),
            ("mixture", Fixtures.mixture, -10...10, -10...10),
            ("banana b=0.03 v=4", Fixtures.banana2, -16...16, -17...9),
        ]
        for (name, t, xr, yr) in cases {
            let h = 0.1
            var total = 0.0
            var x = xr.lowerBound + h / 2
            while x < xr.upperBound {
                var y = yr.lowerBound + h / 2
                while y < yr.upperBound {
                    total += exp(t.logDensity([x, y]))
                    y += h
                }
                x += h
            }
            XCTAssertEqual(total * h * h, 1, accuracy: 1e-3, name)
        }
    }

    /// Gaussian log-density at the mean: −½ log det(2πΣ), with det Σ computed by hand.
    func testGaussianLogDensityAtMean() {
        let t = Fixtures.gaussian2
        XCTAssertEqual(t.logDensity(t.mean), -0.5 * log(4 * Double.pi * Double.pi * (2 - 0.25)), accuracy: 1e-14)
        XCTAssertEqual(t.score(t.mean), [0, 0])
    }

    /// The fixtures' means and covariances written out from their parameters, not from the
    /// targets' `moments`: the Gaussian's own; the mixture's by the law of total variance
    /// (weights 1 : 2.5 : 1.5 = 0.2, 0.5, 0.3); the banana's 0 and diag(v, 1 + 2b²v², 1, …)
    /// (x₂ = z₂ − b z₁² + v b with z₁ ~ N(0, v): E z₁⁴ = 3v², so Var(z₁²) = 2v²; E z₁³ = 0).
    static let handMoments: [String: (mean: [Double], covariance: [Double])] = {
        let w = [0.2, 0.5, 0.3]
        let mx = w[0] * -2 + w[1] * 2 + w[2] * 0
        let my = w[0] * 0 + w[1] * 1 + w[2] * -2.5
        let ex2 = w[0] * (1 + 4) + w[1] * (0.5 + 4) + w[2] * (0.7 + 0)
        let ey2 = w[0] * (0.5 + 0) + w[1] * (1.5 + 1) + w[2] * (0.4 + 6.25)
        let exy = w[0] * (0.3 + 0) + w[1] * (0 + 2) + w[2] * (-0.2 + 0)
        return [
            "gaussian (full covariance, d=3)": ([1, -2, 0.5], [2.0, 0.6, 0.3, 0.6, 1.0, -0.2, 0.3, -0.2, 0.5]),
            "gaussian-mixture (3 components)": (
                [mx, my], [ex2 - mx * mx, exy - mx * my, exy - mx * my, ey2 - my * my]
            ),
            "banana (d=3, b=0.1, v=4)": ([0, 0, 0], [4, 0, 0, 0, 1 + 2 * 0.01 * 16, 0, 0, 0, 1]),
            "banana (d=2, b=0.03, v=4)": ([0, 0], [4, 0, 0, 1 + 2 * 0.0009 * 16]),
        ]
    }()

    /// 20 000 samples against ``handMoments``: each mean coordinate within 5 standard errors
    /// (√(Σ_aa/n)); each covariance entry within 5 standard errors, the standard error estimated
    /// from the sample itself as std((x_a − μ_a)(x_b − μ_b))/√n. Fixed seed, so deterministic.
    func testSamplerMatchesMoments() {
        let n = 20_000
        for (name, t) in targets {
            let d = t.dimension
            guard let (mean, cov) = Self.handMoments[name] else {
                XCTFail("no hand moments for \(name)")
                continue
            }
            var rng = RandomStream(seed: 11, .targetSample)
            let x = t.sample(count: n, using: &rng)
            XCTAssertEqual(x.count, n * d, name)
            for a in 0..<d {
                let m = (0..<n).reduce(0.0) { $0 + x[$1 * d + a] } / Double(n)
                let se = (cov[a * d + a] / Double(n)).squareRoot()
                XCTAssertEqual(m, mean[a], accuracy: 5 * se, "\(name) mean[\(a)]")
            }
            for a in 0..<d {
                for b in 0...a {
                    let z = (0..<n).map { (x[$0 * d + a] - mean[a]) * (x[$0 * d + b] - mean[b]) }
                    let zm = z.reduce(0, +) / Double(n)
                    let zv = z.reduce(0) { $0 + ($1 - zm) * ($1 - zm) } / Double(n - 1)
                    XCTAssertEqual(
                        zm, cov[a * d + b], accuracy: 5 * (zv / Double(n)).squareRoot(), "\(name) cov[\(a),\(b)]")
                }
            }
        }
    }

    /// The targets' `moments` equal the hand ones (1e-14).
    func testMomentsByHand() {
        for (name, t) in targets {
            guard let (mean, cov) = t.moments, let want = Self.handMoments[name] else {
                XCTFail(name)
                continue
            }
            XCTAssertLessThanOrEqual(maxAbsDifference(mean, want.mean), 1e-14, name)
            XCTAssertLessThanOrEqual(maxAbsDifference(cov, want.covariance), 1e-14, name)
        }
    }

    func testDensityAccessors() {
        XCTAssertNotNil(Fixtures.banana2.density)
        XCTAssertNil(SampleTarget(dimension: 1, points: [1, 2, 3]).density)
        XCTAssertNil(Fixtures.gaussian3.naturalSampleCount)
        // scores(...) with threads equals score(...) per point.
        let pts = (0..<600).map { Double($0 % 17) * 0.1 - 0.8 }
        var out: [Double] = []
        Fixtures.mixture.scores(pts, into: &out, threads: 2)
        for i in 0..<300 { XCTAssertEqual(Array(out[(2 * i)..<(2 * i + 2)]), Fixtures.mixture.score(row(pts, i, 2))) }
    }
}
