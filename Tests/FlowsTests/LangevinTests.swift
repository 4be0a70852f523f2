import Flows
import Foundation
import KernelSum
import XCTest

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
        let a = 2.0
        let lambda = 0.5
        let h = 0.1
        let n = 20_000
        let d = 2
        let flow = LangevinFlow(
            temperature: lambda, potential: QuadraticPotential(a: a, centre: [0, 0]), seed: 3, threads: 2)
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
                let flow = LangevinFlow(
                    dynamics: dynamics, temperature: 0.3, potential: DoubleWellPotential(height: 1),
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
    /// recursion z' = A z + ξ, Σ = AΣAᵀ + Q solved as a 3×3 linear system, A and Q from
    /// ``UnderdampedReference``, derived here independently of the flow), its distance to
    /// λ/a as the step shrinks, and the simulated variances of positions and velocities against
    /// it within 5 standard deviations 5 σ²√(2/N) (N i.i.d. Gaussian coordinates, see the OU test).
    func testUnderdampedVarianceErrorShrinksWithTheStep() {
        let a = 1.0
        let lambda = 1.0
        let gamma = 1.0
        let n = 20_000
        var errors: [Double] = []
        for h in [0.8, 0.4, 0.2, 0.1, 0.05, 0.025] {
            let stationary = UnderdampedReference(friction: gamma, temperature: lambda, h: h).stationary(a: a)
            errors.append(abs(stationary.xx - lambda / a))
            guard h >= 0.2 else { continue }  // simulated at the three largest steps
            let flow = LangevinFlow(
                dynamics: .underdamped, temperature: lambda, friction: gamma,
                potential: QuadraticPotential(a: a, centre: [0]), seed: 5, threads: 2)
            let s = runLangevin(flow, gaussianPoints(n, 1), dimension: 1, steps: Int(60 / h), h: h).populations[0]
            let sd = (2 / Double(n)).squareRoot()
            XCTAssertEqual(
                varianceAboutZero(s.positions), stationary.xx, accuracy: 5 * stationary.xx * sd, "h = \(h) positions")
            XCTAssertEqual(
                varianceAboutZero(s.velocities!), stationary.vv, accuracy: 5 * stationary.vv * sd, "h = \(h) velocities"
            )
        }
        print("underdamped stationary position-variance error |σ²_h − λ/a| at h = 0.8 … 0.025 (halving): \(errors)")
        // First order: the error halves with the step (ratios 2.5, 2.2, 2.1, … → 2).
        for k in 1..<errors.count {
            XCTAssertLessThan(errors[k], errors[k - 1] / 1.9, "h = \(0.8 / pow(2, Double(k)))")
        }
        XCTAssertLessThan(errors.last!, 0.02 * lambda / a)
    }

    /// One underdamped step at friction γ = 0.25 and temperature λ = 0.6 (neither 1, so a
    /// misplaced γ or λ shows) from one fixed state (x₀, v₀) in every coordinate of 40 000
    /// independent particles in d = 5 (V = a|x − c|²/2, no interaction): the 200 000 samples of
    /// (x₁, v₁) have the mean and covariance of ``UnderdampedReference``, within 5 standard
    /// errors: √(Σ_xx/K) for a mean, Σ_xx√(2/K) for a variance, √((Σ_xxΣ_vv + Σ_xv²)/K) for the
    /// covariance (Gaussian samples, K = 200 000). The thermal initial velocities are N(0, λ).
    func testUnderdampedOneStepMomentsAtLowFriction() {
        let gamma = 0.25
        let lambda = 0.6
        let a = 1.5
        let h = 0.5
        let n = 40_000
        let d = 5
        let x0 = 0.4
        let v0 = -0.8
        let centre = -0.3
        let flow = LangevinFlow(
            dynamics: .underdamped, temperature: lambda, friction: gamma,
            potential: QuadraticPotential(a: a, centre: [Double](repeating: centre, count: d)), seed: 17, threads: 2)
        var s = state([Double](repeating: x0, count: n * d), dimension: d)
        flow.prepare(&s)
        let thermal = s.populations[0].velocities!
        let k = Double(n * d)
        XCTAssertEqual(thermal.reduce(0, +) / k, 0, accuracy: 5 * (lambda / k).squareRoot(), "thermal velocity mean")
        XCTAssertEqual(
            varianceAboutZero(thermal), lambda, accuracy: 5 * lambda * (2 / k).squareRoot(), "thermal velocity variance"
        )
        s.populations[0].velocities = [Double](repeating: v0, count: n * d)
        flow.advance(&s, step: 1, stepSize: h)
        let ref = UnderdampedReference(friction: gamma, temperature: lambda, h: h)
        let b = -a * (x0 - centre)
        let mx = x0 + ref.c1 * v0 + ref.c2 * b
        let mv = ref.e * v0 + ref.c1 * b
        let x = s.populations[0].positions
        let v = s.populations[0].velocities!
        let sx = x.reduce(0, +) / k
        let sv = v.reduce(0, +) / k
        var cxx = 0.0
        var cvv = 0.0
        var cxv = 0.0
        for i in 0..<(n * d) {
            cxx += (x[i] - mx) * (x[i] - mx)
            cvv += (v[i] - mv) * (v[i] - mv)
            cxv += (x[i] - mx) * (v[i] - mv)
        }
        cxx /= k
        cvv /= k
        cxv /= k
        XCTAssertEqual(sx, mx, accuracy: 5 * (ref.xx / k).squareRoot(), "mean of x₁")
        XCTAssertEqual(sv, mv, accuracy: 5 * (ref.vv / k).squareRoot(), "mean of v₁")
        XCTAssertEqual(cxx, ref.xx, accuracy: 5 * ref.xx * (2 / k).squareRoot(), "Var x₁")
        XCTAssertEqual(cvv, ref.vv, accuracy: 5 * ref.vv * (2 / k).squareRoot(), "Var v₁")
        XCTAssertEqual(cxv, ref.xv, accuracy: 5 * ((ref.xx * ref.vv + ref.xv * ref.xv) / k).squareRoot(), "Cov(x₁, v₁)")
    }

    /// The stationary law of the underdamped scheme at friction γ = 0.25 (V = x²/2, λ = 1,
    /// h = 0.05): Σ_xx = 1.111, Σ_vv from ``UnderdampedReference`` (the continuous law has 1:
    /// the frozen-force scheme is first order, and weakly damped at low friction: its transition
    /// matrix has spectral radius 0.9944). 20 000 particles from N(0, 1) positions and thermal
    /// velocities, 1000 steps (0.9944²⁰⁰⁰ ≈ 1e-5 of the initial offset left), variances within
    /// 5 standard deviations. The position noise is O(h³) here, so this checks the scheme as a
    /// whole; ``testUnderdampedOneStepMomentsAtLowFriction`` checks each noise term.
    func testUnderdampedStationaryVarianceAtLowFriction() {
        let gamma = 0.25
        let lambda = 1.0
        let a = 1.0
        let h = 0.05
        let n = 20_000
        let stationary = UnderdampedReference(friction: gamma, temperature: lambda, h: h).stationary(a: a)
        XCTAssertEqual(stationary.xx, 1.111, accuracy: 1e-3)
        let flow = LangevinFlow(
            dynamics: .underdamped, temperature: lambda, friction: gamma,
            potential: QuadraticPotential(a: a, centre: [0]), seed: 23, threads: 2)
        let s = runLangevin(flow, gaussianPoints(n, 1, seed: 8), dimension: 1, steps: 1000, h: h).populations[0]
        let sd = (2 / Double(n)).squareRoot()
        XCTAssertEqual(varianceAboutZero(s.positions), stationary.xx, accuracy: 5 * stationary.xx * sd, "positions")
        XCTAssertEqual(varianceAboutZero(s.velocities!), stationary.vv, accuracy: 5 * stationary.vv * sd, "velocities")
    }

    /// One overdamped step from a fixed point x₀ for 100 000 independent coordinates
    /// (V = a|x − c|²/2, λ = 0.35): x₁ ~ N(x₀ − h a (x₀ − c), 2λh), mean and variance within 5
    /// standard errors.
    func testOverdampedOneStepMoments() {
        let a = 2.5
        let lambda = 0.35
        let h = 0.2
        let n = 50_000
        let d = 2
        let x0 = 1.2
        let centre = 0.5
        let flow = LangevinFlow(
            temperature: lambda, potential: QuadraticPotential(a: a, centre: [centre, centre]), seed: 4, threads: 2)
        let x = runLangevin(flow, [Double](repeating: x0, count: n * d), dimension: d, steps: 1, h: h).populations[0]
            .positions
        let k = Double(n * d)
        let mean = x0 - h * a * (x0 - centre)
        let variance = 2 * lambda * h
        let m = x.reduce(0, +) / k
        XCTAssertEqual(m, mean, accuracy: 5 * (variance / k).squareRoot())
        XCTAssertEqual(
            x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / k, variance, accuracy: 5 * variance * (2 / k).squareRoot())
    }

    /// Without noise one overdamped step is x₁ = x₀ + h b(x₀), b = −[∇V + Σ_j w_j ∇W(x_i − x_j)],
    /// written out here for the double well V = η(x₁² − 1)² + ½x₂², the quadratic interaction
    /// W = κ|z|²/2 and a Gaussian kernel interaction W = c·exp(−|z|²/(2σ²)), unequal weights.
    /// Tolerance 1e-13 absolute (O(1) numbers).
    func testOverdampedDeterministicStepIsTheHandDrift() {
        let eta = 0.7
        let kappa = 0.8
        let c = -1.3
        let sigma = 0.9
        let h = 0.15
        let d = 2
        let x: [Double] = [0.3, -0.5, 1.4, 0.2, -0.9, 1.1, 0.05, -1.6]
        let w = [0.1, 0.4, 0.2, 0.3]
        let n = w.count
        var drift = [Double](repeating: 0, count: n * d)
        for i in 0..<n {
            let x1 = x[i * d]
            let x2 = x[i * d + 1]
            drift[i * d] = -4 * eta * (x1 * x1 - 1) * x1
            drift[i * d + 1] = -x2
            for j in 0..<n where j != i {
                let z = [x1 - x[j * d], x2 - x[j * d + 1]]
                let g = exp(-(z[0] * z[0] + z[1] * z[1]) / (2 * sigma * sigma))
                for q in 0..<d { drift[i * d + q] -= w[j] * (kappa * z[q] - c * z[q] / (sigma * sigma) * g) }
            }
        }
        let kernel = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: c, engine: DirectSum(threads: 1),
            domain: .free, threads: 1)
        let flow = LangevinFlow(
            temperature: 0, potential: DoubleWellPotential(height: eta),
            interactions: [QuadraticInteraction(kappa: kappa), kernel], seed: 1, threads: 1)
        var s = state(x, dimension: d)
        s.populations[0].weights = w
        flow.prepare(&s)
        flow.advance(&s, step: 1, stepSize: h)
        XCTAssertLessThanOrEqual(
            maxAbsDifference(s.populations[0].positions, (0..<(n * d)).map { x[$0] + h * drift[$0] }), 1e-13)
        // The energy ∫V dμ + ½ Σ_{i≠j} w_i w_j W(x_i − x_j), by hand.
        var energy = 0.0
        for i in 0..<n {
            let x1 = x[i * d]
            let x2 = x[i * d + 1]
            energy += w[i] * (eta * (x1 * x1 - 1) * (x1 * x1 - 1) + 0.5 * x2 * x2)
            for j in 0..<n where j != i {
                let r2 = squaredDistance(x, i, x, j, d)
                energy += 0.5 * w[i] * w[j] * (kappa * r2 / 2 + c * exp(-r2 / (2 * sigma * sigma)))
            }
        }
        var unmoved = state(x, dimension: d)
        unmoved.populations[0].weights = w
        XCTAssertEqual(flow.energy(unmoved), energy, accuracy: 1e-13)
    }

    func testUnderdampedWithoutNoiseIsExactForConstantForce() {
        // V = −g·x (constant force g): with b frozen the scheme is exact for any step.
        struct Linear: Potential {
            var spec: String { "linear" }
            func evaluate(
                _ x: UnsafePointer<Double>, count: Int, dimension: Int, values: UnsafeMutablePointer<Double>?,
                gradients: UnsafeMutablePointer<Double>?
            ) {
                for i in 0..<count {
                    values?[i] = -x[i]
                    gradients?[i] = -1
                }
            }
        }
        let gamma = 0.7
        let h = 0.3
        let steps = 10
        let flow = LangevinFlow(
            dynamics: .underdamped, temperature: 0, friction: gamma, potential: Linear(), seed: 1, threads: 1)
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
            var z = 0.0
            var s1 = 0.0
            var s2 = 0.0
            for x in grid {
                let w = exp(-((x * x - 1) * (x * x - 1) + kappa * (x - m) * (x - m) / 2) / lambda)
                z += w
                s1 += w * x
                s2 += w * x * x
            }
            return (s1 / z, s2 / z - (s1 / z) * (s1 / z))
        }
        var lo = 0.05
        var hi = 5.0
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
            let flow = LangevinFlow(
                temperature: lambda, potential: DoubleWellPotential(height: 1),
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

/// The underdamped step written out from the SDE, independently of ``LangevinFlow``: with b
/// frozen over the step, dV = (−γV + b)dt + σ dB (σ² = 2γλ), dX = V dt, so after a step h
///
///     v₁ = e v₀ + c₁ b + σ∫₀ʰ e^{−γr} dB,    x₁ = x₀ + c₁ v₀ + c₂ b + σ∫₀ʰ (1 − e^{−γr})/γ dB
///
/// (r = h − s) with e = e^{−γh}, c₁ = ∫₀ʰ e^{−γr} dr, c₂ = ∫₀ʰ (1 − e^{−γr})/γ dr, and by the
/// Itô isometry Var = σ²∫ f², Cov = σ²∫ f g of the two integrands. Every integral is taken
/// here by composite Simpson quadrature (4000 intervals: error ~1e-15 relative), not by the
/// closed forms the flow uses.
struct UnderdampedReference {
    let e: Double, c1: Double, c2: Double
    /// The noise covariance (ξ_x, ξ_v) per coordinate.
    let xx: Double, xv: Double, vv: Double

    init(friction g: Double, temperature lambda: Double, h: Double) {
        func simpson(_ f: (Double) -> Double) -> Double {
            let m = 4000
            let dr = h / Double(m)
            var s = f(0) + f(h)
            for k in 1..<m { s += (k % 2 == 1 ? 4 : 2) * f(Double(k) * dr) }
            return s * dr / 3
        }
        let sigma2 = 2 * g * lambda
        let fv = { (r: Double) in exp(-g * r) }
        let fx = { (r: Double) in (1 - exp(-g * r)) / g }
        e = exp(-g * h)
        c1 = simpson(fv)
        c2 = simpson(fx)
        vv = sigma2 * simpson { fv($0) * fv($0) }
        xx = sigma2 * simpson { fx($0) * fx($0) }
        xv = sigma2 * simpson { fx($0) * fv($0) }
    }

    /// The stationary covariance of the scheme on V = a x²/2 (b = −a x): z' = A z + ξ with
    /// A = [[1 − a c₂, c₁], [−a c₁, e]], Σ = AΣAᵀ + Q solved for (Σ_xx, Σ_xv, Σ_vv).
    func stationary(a: Double) -> (xx: Double, xv: Double, vv: Double) {
        let (p, q, r, s) = (1 - a * c2, c1, -a * c1, e)
        let m: [[Double]] = [
            [1 - p * p, -2 * p * q, -q * q],
            [-p * r, 1 - (p * s + q * r), -q * s],
            [-r * r, -2 * r * s, 1 - s * s],
        ]
        let sigma = solve3(m, [xx, xv, vv])
        return (sigma[0], sigma[1], sigma[2])
    }
}
