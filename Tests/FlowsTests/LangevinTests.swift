import Foundation
import XCTest
import Flows
import KernelSum

/// Runs `flow` for `steps` steps of size h from `positions` and returns the final state.
func runLangevin(_ flow: any Flow, _ positions: [Double], dimension d: Int, steps: Int, h: Double) -> SimulationState {
    var s = state(positions, dimension: d)
    flow.prepare(&s)
    for n in 1...max(1, steps) where steps > 0 { flow.advance(&s, step: n, stepSize: h) }
    return s
}

func gaussianPoints(_ n: Int, _ d: Int, mean: Double = 0, std: Double = 1, seed: UInt64 = 7) -> [Double] {
    var rng = RandomStream(seed: seed, .initialisation, 0)
    return (0..<(n * d)).map { _ in mean + std * rng.normal() }
}

/// Mean over coordinates of the per-coordinate variance about the known mean 0.
func varianceAboutZero(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 } / Double(x.count) }

final class LangevinDynamicsTests: XCTestCase {
    /// Euler–Maruyama for the OU process dX = −aX dt + √(2λ) dB: X' = (1 − ha)X + √(2λh) ξ.
    /// Its stationary variance solves s² = (1 − ha)² s² + 2λh, i.e. s² = λ/(a(1 − ha/2)),
    /// not λ/a. From N(0, 1) the variance reaches s² up to (1 − ha)^{2n}(1 − s²) (1e-29 here).
    /// With W = 0 the N·d coordinates are i.i.d. N(0, s²); v̂ = mean of x² has standard deviation
    /// s²√(2/(Nd)) (the variance of χ²₁ is 2), so |v̂ − s²| ≤ 5 s²√(2/(Nd)) fails with
    /// probability < 1e-6. The bound is 3.5 % of s², below the 11 % bias λ/(a(1 − ha/2)) − λ/a,
    /// so the test also tells the discrete stationary law from the continuous one.
    func testOrnsteinUhlenbeckEulerMaruyamaStationaryVariance() {
        let a = 2.0, lambda = 0.5, h = 0.1, n = 20_000, d = 2
        let flow = LangevinFlow(temperature: lambda, potential: QuadraticPotential(a: a, centre: [0, 0]), seed: 3, threads: 2)
        let x = runLangevin(flow, gaussianPoints(n, d), dimension: d, steps: 150, h: h).populations[0].positions
        let exact = lambda / (a * (1 - h * a / 2))
        let bound = 5 * exact * (2 / Double(n * d)).squareRoot()
        let v = varianceAboutZero(x)
        XCTAssertEqual(v, exact, accuracy: bound, "stationary variance of Euler–Maruyama")
        XCTAssertGreaterThan(abs(v - lambda / a), bound, "the discretisation bias is resolved")
    }

    func testSameSeedSameRunForAnyThreadCount() {
        let d = 2
        var outputs: [[Double]] = []
        for threads in [1, 2, 3] {
            for dynamics in LangevinFlow.Dynamics.allCases {
                let flow = LangevinFlow(dynamics: dynamics, temperature: 0.3, potential: DoubleWellPotential(height: 1),
                                        interactions: [QuadraticInteraction(kappa: 0.5)], seed: 11, threads: threads)
                let s = runLangevin(flow, gaussianPoints(10_000, d), dimension: d, steps: 5, h: 0.01)
                outputs.append(s.populations[0].positions + (s.populations[0].velocities ?? []))
            }
        }
        XCTAssertEqual(outputs[0], outputs[2])
        XCTAssertEqual(outputs[0], outputs[4])
        XCTAssertEqual(outputs[1], outputs[3])
        XCTAssertEqual(outputs[1], outputs[5])
        XCTAssertNotEqual(outputs[0], outputs[1])
    }

    /// The exact stationary covariance of the underdamped scheme on V = a x²/2 (a linear
    /// recursion z' = A z + ξ, Σ = AΣAᵀ + Q solved as a 3×3 linear system), its distance to
    /// λ/a as the step shrinks, and the simulated variance against it within 5 standard
    /// deviations 5 σ²√(2/N) (N i.i.d. Gaussian positions, see the OU test).
    func testUnderdampedVarianceErrorShrinksWithTheStep() {
        let a = 1.0, lambda = 1.0, gamma = 1.0, n = 20_000
        var errors: [Double] = []
        for h in [0.8, 0.4, 0.2, 0.1, 0.05, 0.025] {
            let flow = LangevinFlow(dynamics: .underdamped, temperature: lambda, friction: gamma,
                                    potential: QuadraticPotential(a: a, centre: [0]), seed: 5, threads: 2)
            let c = flow.underdampedCoefficients(h)
            // z = (x, v): x' = (1 − a c₂)x + c₁v + ξx, v' = −a c₁ x + e v + ξv.
            let A = [1 - a * c.c2, c.c1, -a * c.c1, c.e]
            let qxx = c.sx * c.sx, qxv = c.sx * c.a, qvv = c.a * c.a + c.b * c.b
            // Unknowns (sxx, sxv, svv): Σ − AΣAᵀ = Q.
            let (p, q, r, s) = (A[0], A[1], A[2], A[3])
            let m: [[Double]] = [[1 - p * p, -2 * p * q, -q * q],
                                 [-p * r, 1 - (p * s + q * r), -q * s],
                                 [-r * r, -2 * r * s, 1 - s * s]]
            let sigma = solve3(m, [qxx, qxv, qvv])
            let stationary = sigma[0]
            errors.append(abs(stationary - lambda / a))
            guard h >= 0.2 else { continue }  // simulated at the three largest steps
            let x = runLangevin(flow, gaussianPoints(n, 1), dimension: 1, steps: Int(60 / h), h: h).populations[0].positions
            let measured = varianceAboutZero(x)
            XCTAssertEqual(measured, stationary, accuracy: 5 * stationary * (2 / Double(n)).squareRoot(), "h = \(h)")
            // Velocities are N(0, λ) in the continuous limit: a looser check of the state's second half.
        }
        print("underdamped stationary position-variance error |σ²_h − λ/a| at h = 0.8 … 0.025 (halving): \(errors)")
        // First order: the error halves with the step (ratios 2.5, 2.2, 2.1, … → 2).
        for k in 1..<errors.count { XCTAssertLessThan(errors[k], errors[k - 1] / 1.9, "h = \(0.8 / pow(2, Double(k)))") }
        XCTAssertLessThan(errors.last!, 0.02 * lambda / a)
    }

    func testUnderdampedWithoutNoiseIsExactForConstantForce() {
        // V = −g·x (constant force g): with b frozen the scheme is exact for any step.
        struct Linear: Potential {
            var spec: String { "linear" }
            func evaluate(_ x: UnsafePointer<Double>, count: Int, dimension: Int, values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?) {
                for i in 0..<count { values?[i] = -x[i]; gradients?[i] = -1 }
            }
        }
        let gamma = 0.7, h = 0.3, steps = 10
        let flow = LangevinFlow(dynamics: .underdamped, temperature: 0, friction: gamma, potential: Linear(), seed: 1, threads: 1)
        var s = state([0.5], dimension: 1)
        s.populations[0].velocities = [2.0]
        for n in 1...steps { flow.advance(&s, step: n, stepSize: h) }
        let t = Double(steps) * h
        // v(t) = v₀e^{−γt} + (1 − e^{−γt})/γ; x(t) = x₀ + ∫v.
        let v = 2 * exp(-gamma * t) + (1 - exp(-gamma * t)) / gamma
        let x = 0.5 + 2 * (1 - exp(-gamma * t)) / gamma + (t - (1 - exp(-gamma * t)) / gamma) / gamma
        XCTAssertEqual(s.populations[0].velocities![0], v, accuracy: 1e-12)
        XCTAssertEqual(s.populations[0].positions[0], x, accuracy: 1e-12)
    }

    func testDivergingVelocitiesAreReported() {
        var p = population([0, 0], dimension: 1)
        p.velocities = [1, .nan]
        XCTAssertEqual(p.firstInvalidPosition()?.particle, 1)
        XCTAssertEqual(p.firstInvalidPosition()?.cause, "NaN velocity")
    }

    /// Granular media (Benedetto et al. 1998; Tugaut 2014): V = (x² − 1)², W = κx²/2. The
    /// stationary states are μ_m ∝ exp(−(V(x) + κ(x − m)²/2)/λ) with m = ∫x dμ_m; m = 0 is the
    /// only solution above the critical temperature λ_c where (κ/λ_c)·Var(μ₀) = 1, and two
    /// more ±m* appear below it. λ_c and m* are found here by quadrature; the particles
    /// (started off-centre) must reach m* below λ_c and 0 above it.
    func testDoubleWellSymmetryBreakingBelowTheCriticalTemperature() {
        let kappa = 1.0
        let grid = stride(from: -4.0, through: 4.0, by: 0.0005).map { $0 }
        func moments(_ m: Double, _ lambda: Double) -> (mean: Double, variance: Double) {
            var z = 0.0, s1 = 0.0, s2 = 0.0
            for x in grid {
                let w = exp(-((x * x - 1) * (x * x - 1) + kappa * (x - m) * (x - m) / 2) / lambda)
                z += w; s1 += w * x; s2 += w * x * x
            }
            return (s1 / z, s2 / z - (s1 / z) * (s1 / z))
        }
        var lo = 0.05, hi = 5.0
        for _ in 0..<50 {
            let mid = (lo + hi) / 2
            if kappa / mid * moments(0, mid).variance > 1 { lo = mid } else { hi = mid }
        }
        let critical = (lo + hi) / 2
        XCTAssertEqual(critical, 0.6276, accuracy: 1e-3)
        let below = 0.55 * critical
        var mStar = 1.0
        for _ in 0..<500 { mStar = moments(mStar, below).mean }

        let n = 4000
        for (lambda, expected) in [(below, mStar), (2 * critical, 0.0)] {
            let flow = LangevinFlow(temperature: lambda, potential: DoubleWellPotential(height: 1),
                                    interactions: [QuadraticInteraction(kappa: kappa)], seed: 9, threads: 2)
            let x = runLangevin(flow, gaussianPoints(n, 1, mean: 0.3, std: 0.5), dimension: 1, steps: 3000, h: 0.01)
                .populations[0].positions
            let m = x.reduce(0, +) / Double(n)
            // Sampling error of the mean: sd ≈ √(Var/N) ≲ 0.02; the N-particle system fluctuates
            // around the mean-field state by O(1/√N) too.
            XCTAssertEqual(m, expected, accuracy: 0.06, "λ = \(lambda): mean \(m), mean-field \(expected)")
        }
        XCTAssertGreaterThan(mStar, 0.8, "symmetry broken below λ_c")
    }
}

/// Solves a 3×3 system by Cramer's rule.
func solve3(_ m: [[Double]], _ b: [Double]) -> [Double] {
    func det(_ a: [[Double]]) -> Double {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    }
    let d = det(m)
    return (0..<3).map { k in
        var a = m
        for i in 0..<3 { a[i][k] = b[i] }
        return det(a) / d
    }
}
