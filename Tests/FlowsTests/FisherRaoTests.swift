import Flows
import Foundation
import KernelSum
import XCTest

/// V(x) = (x₁² − 1)² + c·x₁ in d = 1: a double well tilted by c, its deep well near x = −1
/// (V ≈ −c), its shallow one near x = +1 (V ≈ +c), the barrier near x = c/4.
struct TiltedDoubleWell: Potential {
    let tilt: Double
    var spec: String { "tilted-double-well" }
    func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?
    ) {
        for i in 0..<count {
            let t = x[i]
            values?[i] = Self.value(t, tilt)
            gradients?[i] = 4 * t * (t * t - 1) + tilt
        }
    }
    func logPartition(temperature lambda: Double, dimension: Int) -> Double? { nil }
    static func value(_ t: Double, _ c: Double) -> Double { (t * t - 1) * (t * t - 1) + c * t }
}

/// The Wasserstein–Fisher–Rao Langevin flow (`fisher-rao`, `transport`) against what the test
/// computes itself: the weights' closed form with frozen positions, one step's positions by the
/// plain Euler step, and the global minimum of a tilted double well.
final class FisherRaoTests: XCTestCase {
    /// With transport 0 the positions never move, V(x_i) is fixed, and the mean Σ_k w_k V_k
    /// of each step cancels in the normalisation: n multiplicative steps of size h give
    /// w_i(nh) = w_i(0) exp(−α nh V(x_i)) / Σ_k w_k(0) exp(−α nh V(x_k)) exactly. V here is the
    /// test's own formula; 40 steps, non-uniform initial weights, agreement to 1e-12 relative.
    func testFrozenPositionsWeightsFollowTheClosedForm() {
        let x = [-1.7, -1.0, -0.3, 0.0, 0.4, 0.9, 1.3, 2.1]
        let c = 0.5
        let flow = LangevinFlow(
            temperature: 0, potential: TiltedDoubleWell(tilt: c), fisherRao: 0.7, transport: 0, seed: 3, threads: 1)
        var s = state(x, dimension: 1)
        let w0 = (0..<x.count).map { Double($0 + 1) }
        let total = w0.reduce(0, +)
        s.populations[0].weights = w0.map { $0 / total }
        let (steps, h) = (40, 0.05)
        for n in 1...steps { flow.advance(&s, step: n, stepSize: h) }
        XCTAssertEqual(s.populations[0].positions, x, "transport 0 freezes the positions")
        let t = Double(steps) * h
        let raw = (0..<x.count).map { w0[$0] * exp(-0.7 * t * TiltedDoubleWell.value(x[$0], c)) }
        let z = raw.reduce(0, +)
        for i in 0..<x.count {
            let want = raw[i] / z
            XCTAssertEqual(s.populations[0].weights[i], want, accuracy: 1e-12 * want, "particle \(i)")
        }
        XCTAssertEqual(s.populations[0].weights.reduce(0, +), 1, accuracy: 1e-14)
    }

    /// One step with transport β = 0.4 moves x_i by −βh∇V(x_i) (the test's own gradient), and the
    /// weights by the update from the positions before the step: w_i ∝ w_i exp(−αhV(x_i)).
    func testOneStepMovesByBetaHAndUpdatesFromTheOldPositions() {
        let x = [-1.2, 0.3, 0.8, 1.6]
        let (alpha, beta, h, c) = (1.3, 0.4, 0.1, 0.5)
        let flow = LangevinFlow(
            temperature: 0, potential: TiltedDoubleWell(tilt: c), fisherRao: alpha, transport: beta, seed: 3,
            threads: 1)
        var s = state(x, dimension: 1)
        flow.advance(&s, step: 1, stepSize: h)
        for i in 0..<x.count {
            let t = x[i]
            let want = t - beta * h * (4 * t * (t * t - 1) + c)
            XCTAssertEqual(s.populations[0].positions[i], want, accuracy: 1e-15)
        }
        let raw = x.map { exp(-alpha * h * TiltedDoubleWell.value($0, c)) }
        let z = raw.reduce(0, +)
        for i in 0..<x.count { XCTAssertEqual(s.populations[0].weights[i], raw[i] / z, accuracy: 1e-15) }
    }

    /// A known answer that transport alone misses: F(μ) = ∫V dμ with the tilted double well
    /// (c = 0.5) has its minimum V* (found here by bisection on V′) at the deep well x* ≈ −1.06.
    /// 18 of 20 particles start in the shallow well's basin (x > c/4), 2 in the deep one. Plain
    /// gradient flow (fisher-rao 0) keeps 90 % of the mass in the shallow well: its energy stays
    /// near 0.9·V(shallow) + 0.1·V*. With fisher-rao = 4 the weights move the mass to the deep
    /// well: after 400 steps of 0.01 its mass exceeds 0.999 and the energy is within 1e-3 of V*.
    func testFisherRaoMovesTheMassIntoTheDeepWell() {
        let c = 0.5
        // V′(t) = 4t³ − 4t + c on [−2, −0.6]: negative at −2, positive at −0.6.
        var (lo, hi) = (-2.0, -0.6)
        for _ in 0..<200 {
            let m = 0.5 * (lo + hi)
            if 4 * m * m * m - 4 * m + c < 0 { lo = m } else { hi = m }
        }
        let vStar = TiltedDoubleWell.value(0.5 * (lo + hi), c)
        let x = (0..<18).map { 0.3 + 0.1 * Double($0) } + [-0.5, -1.5]
        func run(_ alpha: Double) -> (deepMass: Double, energy: Double) {
            let flow = LangevinFlow(
                temperature: 0, potential: TiltedDoubleWell(tilt: c), fisherRao: alpha, seed: 3, threads: 1)
            let s = runLangevin(flow, x, dimension: 1, steps: 400, h: 0.01)
            let p = s.populations[0]
            var deep = 0.0
            var energy = 0.0
            for i in 0..<p.count {
                if p.positions[i] < c / 4 { deep += p.weights[i] }
                energy += p.weights[i] * TiltedDoubleWell.value(p.positions[i], c)
            }
            return (deep, energy)
        }
        let plain = run(0)
        let wfr = run(4)
        XCTAssertEqual(plain.deepMass, 0.1, accuracy: 1e-12, "transport alone cannot cross the barrier")
        XCTAssertGreaterThan(plain.energy - vStar, 0.5)
        XCTAssertGreaterThan(wfr.deepMass, 0.999)
        XCTAssertEqual(wfr.energy, vStar, accuracy: 1e-3)
    }

    /// The shared update: the game's `fisherRaoUpdate` is `FisherRaoWeights.update`, and a
    /// huge rate underflows the losers to 0 instead of overflowing.
    func testSharedUpdateIsTheGamesAndIsStable() {
        let w = [0.1, 0.2, 0.3, 0.4]
        let v = [3.0, -1.0, 0.5, 2.0]
        XCTAssertEqual(
            GameFlow.fisherRaoUpdate(weights: w, values: v, rate: -0.3),
            FisherRaoWeights.update(weights: w, values: v, rate: -0.3))
        let big = FisherRaoWeights.update(weights: w, values: v, rate: -1e6)
        XCTAssertEqual(big, [0, 1, 0, 0])
    }

    // MARK: Birth–death

    /// Λ_i against the test's own: Silverman's σ = s (4/(3N))^{1/5} in d = 1 (s the particles'
    /// standard deviation), ρ̂_i = (1/N) Σ_j exp(−(x_i − x_j)²/(2σ²)), Λ_i = log ρ̂_i + V(x_i)/λ
    /// minus their mean, with the tilted double well and λ = 0.5 (to 1e-12); Σ_i Λ_i = 0, so the
    /// expected number of births equals that of deaths.
    func testBirthDeathRatesAreTheNaiveOnesAndCentred() {
        let x = [-1.4, -0.9, -0.2, 0.0, 0.35, 0.8, 1.1, 2.3]
        let (lambda, c) = (0.5, 0.5)
        let flow = LangevinFlow(
            temperature: lambda, potential: TiltedDoubleWell(tilt: c), birthDeath: true, seed: 3, threads: 1)
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let sd = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        let sigma = sd * pow(4 / (3 * n), 0.2)
        XCTAssertEqual(LangevinFlow.densityBandwidth(population(x, dimension: 1)), sigma, accuracy: 1e-15)
        let raw = x.map { xi in
            log(x.reduce(0) { $0 + exp(-(xi - $1) * (xi - $1) / (2 * sigma * sigma)) } / n)
                + TiltedDoubleWell.value(xi, c) / lambda
        }
        let centre = raw.reduce(0, +) / n
        let rates = flow.birthDeathRates(population(x, dimension: 1))
        for i in 0..<x.count { XCTAssertEqual(rates[i], raw[i] - centre, accuracy: 1e-12, "particle \(i)") }
        XCTAssertEqual(rates.reduce(0, +), 0, accuracy: 1e-12)
    }

    /// V = x²/2, λ = 1 (target N(0, 1)), 400 particles started in the tail, N(3, 0.5²), 100 steps
    /// of 0.01 (t = 1): plain Langevin's mean is near 3e^{−1} = 1.10 (measured 1.01–1.12 over the
    /// seeds); birth–death, which kills the particles where log ρ̂ + V/λ is above its mean and
    /// duplicates those below, roughly halves the mean error (0.47–0.60): below 0.6 times plain
    /// Langevin's for each of 4 seeds (the runs of a seed share the Langevin noise). The variance
    /// is not claimed: the duplicates thin the spread (its error is larger on 3 of the 4 seeds).
    /// 1 and 2 threads give the same run, and the count stays N.
    func testBirthDeathApproachesTheTargetFaster() {
        let potential = QuadraticPotential(a: 1, centre: [0])
        for seed: UInt64 in 1...4 {
            let start = gaussianPoints(400, 1, mean: 3, std: 0.5, seed: seed)
            func run(_ birthDeath: Bool, threads: Int = 1) -> [Double] {
                let flow = LangevinFlow(
                    temperature: 1, potential: potential, birthDeath: birthDeath, seed: seed, threads: threads)
                return runLangevin(flow, start, dimension: 1, steps: 100, h: 0.01).populations[0].positions
            }
            func meanError(_ x: [Double]) -> Double { abs(x.reduce(0, +) / Double(x.count)) }
            let plain = meanError(run(false))
            let jumps = run(true)
            XCTAssertEqual(jumps.count, 400)
            XCTAssertEqual(run(true, threads: 2), jumps, "seed \(seed): 2 threads")
            let bd = meanError(jumps)
            XCTAssertLessThan(bd, 0.6 * plain, "seed \(seed): mean error \(bd) vs \(plain)")
        }
    }
}
