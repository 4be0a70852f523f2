import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

/// The game flow (two populations, descent-ascent, Wasserstein–Fisher–Rao) against closed forms.
final class GameTests: XCTestCase {
    let twoPi = 2 * Double.pi

    func population(
        _ name: String, _ d: Int, _ n: Int, seed: UInt64, scale: Double, offset: Double = 0,
        randomWeights: Bool = false
    ) -> Population {
        var rng = RandomStream(seed: seed, .flow, 0)
        var p = Population(
            name: name, dimension: d, positions: (0..<(n * d)).map { _ in offset + scale * rng.uniform() })
        if randomWeights {
            let w = (0..<n).map { _ in 0.1 + rng.uniform() }
            let s = w.reduce(0, +)
            p.weights = w.map { $0 / s }
        }
        return p
    }

    func circleFlow(
        _ dynamics: GameFlow.Dynamics = .simultaneous, min: GamePlayer? = nil, max: GamePlayer? = nil,
        maxPopulation: Population, threads: Int = 2
    ) throws -> GameFlow {
        let payoff = try FormulaPayoff(compiling: "cos(x1 - y1)", minDimension: 1, maxDimension: 1, threads: threads)
        return GameFlow(
            payoff: payoff, min: min ?? GamePlayer(domain: .periodic(length: twoPi)),
            max: max ?? GamePlayer(domain: .periodic(length: twoPi)), dynamics: dynamics,
            maxPopulation: maxPopulation, seed: 7, threads: threads)
    }

    /// Σ_i w_i θ_i, by hand (not the metrics' moments).
    static func weightedMean(_ p: Population) -> [Double] {
        (0..<p.dimension).map { a in
            (0..<p.count).reduce(0.0) { $0 + p.weights[$1] * p.positions[$1 * p.dimension + a] }
        }
    }

    static func resultant(_ p: Population) -> Double {
        var c = 0.0
        var s = 0.0
        for i in 0..<p.count {
            c += p.weights[i] * cos(p.positions[i])
            s += p.weights[i] * sin(p.positions[i])
        }
        return (c * c + s * s).squareRoot()
    }

    /// ℓ = cos(θ − φ): max_φ ∫ℓ dμ = |E_μ e^{iθ}|, min_θ ∫ℓ dν = −|E_ν e^{iφ}|, so the gap is
    /// |E_μ e^{iθ}| + |E_ν e^{iφ}|; the grid search (512 points) plus ascent finds it to round-off.
    func testCircleGapMatchesTheClosedForm() throws {
        for (k, (scaleMin, scaleMax)) in [(1.0, 2.0), (6.0, 6.283), (0.3, 5.0)].enumerated() {
            let theta = population("min", 1, 37, seed: UInt64(10 + k), scale: scaleMin, randomWeights: true)
            let phi = population("max", 1, 23, seed: UInt64(20 + k), scale: scaleMax, offset: 1, randomWeights: true)
            let flow = try circleFlow(maxPopulation: phi)
            var state = SimulationState(populations: [theta])
            flow.prepare(&state)
            XCTAssertEqual(state.populations.count, 2)
            let metric = NashGapMetric(flow: flow, search: BestResponseSearch())
            let b = metric.bestResponses(state)
            let rMu = Self.resultant(state.populations[0])
            let rNu = Self.resultant(state.populations[1])
            XCTAssertEqual(b.maxValue, rMu, accuracy: 1e-10)
            XCTAssertEqual(b.minValue, -rNu, accuracy: 1e-10)
            XCTAssertEqual(metric.evaluate(state), rMu + rNu, accuracy: 2e-10)
            // value L(μ, ν) = Σ a_i b_j cos(θ_i − φ_j)
            var v = 0.0
            for i in 0..<theta.count {
                for j in 0..<phi.count {
                    v +=
                        state.populations[0].weights[i] * state.populations[1].weights[j]
                        * cos(state.populations[0].positions[i] - state.populations[1].positions[j])
                }
            }
            XCTAssertEqual(GameValueMetric(flow: flow).evaluate(state), v, accuracy: 1e-12)
        }
    }

    /// Noisy descent-ascent drives the circle game to the uniform equilibrium: the gap falls from
    /// ≈ 1.9 to its sampling floor, and it equals the closed form all along.
    func testCircleGameConverges() throws {
        let tau = 0.2
        let player = GamePlayer(temperature: tau, domain: .periodic(length: twoPi))
        let flow = try circleFlow(
            min: player, max: player,
            maxPopulation: population("max", 1, 200, seed: 2, scale: 1, offset: 2))
        var state = SimulationState(populations: [population("min", 1, 200, seed: 1, scale: 1)])
        flow.prepare(&state)
        let metric = NashGapMetric(flow: flow, search: BestResponseSearch())
        let g0 = metric.evaluate(state)
        XCTAssertGreaterThan(g0, 1.5)
        for step in 1...300 { flow.advance(&state, step: step, stepSize: 0.1) }
        let g = metric.evaluate(state)
        XCTAssertEqual(g, Self.resultant(state.populations[0]) + Self.resultant(state.populations[1]), accuracy: 1e-9)
        XCTAssertLessThan(g, 0.3)
    }

    /// a_i ← a_i exp(−αηh(V_i − Σ a_k V_k)) / Z: total mass 1, and the ratios follow the formula.
    func testFisherRaoUpdatePreservesMassAndMatchesTheFormula() {
        let w = [0.1, 0.2, 0.3, 0.4]
        let v = [1.0, -2.0, 0.5, 3.0]
        let rate = -0.7
        let u = GameFlow.fisherRaoUpdate(weights: w, values: v, rate: rate)
        XCTAssertEqual(u.reduce(0, +), 1, accuracy: 1e-15)
        let raw = (0..<4).map { w[$0] * exp(rate * v[$0]) }
        let z = raw.reduce(0, +)
        for k in 0..<4 { XCTAssertEqual(u[k], raw[k] / z, accuracy: 1e-15) }
        // Large exponents stay finite (log-sum-exp).
        let big = GameFlow.fisherRaoUpdate(weights: w, values: v.map { $0 * 1e4 }, rate: 1)
        XCTAssertEqual(big.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(big[3], 1, accuracy: 1e-12)
        // Through a step: positions frozen, weights follow the update with the field at the state.
        let phi = population("max", 1, 9, seed: 4, scale: 6)
        let frozen = GamePlayer(stepScale: 0.5, transport: 0, fisherRao: 2, domain: .periodic(length: twoPi))
        let flow = try! circleFlow(min: frozen, max: frozen, maxPopulation: phi)
        var state = SimulationState(populations: [population("min", 1, 7, seed: 3, scale: 6, randomWeights: true)])
        flow.prepare(&state)
        let before = state
        flow.advance(&state, step: 1, stepSize: 0.3)
        let fv = flow.minField(at: before.populations[0].positions, phi: before.populations[1])
        let fu = flow.maxField(at: before.populations[1].positions, theta: before.populations[0])
        let a = GameFlow.fisherRaoUpdate(
            weights: before.populations[0].weights, values: fv.values, rate: -2 * 0.5 * 0.3)
        let b = GameFlow.fisherRaoUpdate(weights: before.populations[1].weights, values: fu.values, rate: 2 * 0.5 * 0.3)
        XCTAssertEqual(state.populations[0].positions, before.populations[0].positions)
        for k in 0..<a.count { XCTAssertEqual(state.populations[0].weights[k], a[k], accuracy: 1e-15) }
        for k in 0..<b.count { XCTAssertEqual(state.populations[1].weights[k], b[k], accuracy: 1e-15) }
        XCTAssertEqual(state.populations[1].weights.reduce(0, +), 1, accuracy: 1e-14)
    }

    /// ℓ = cθφ + (a/2)θ² − (a/2)φ² at temperature τ, simultaneous Euler–Maruyama: the means spiral in
    /// and each particle's deviation from its population mean follows x ← (1 − ha)x + √(2τh)ξ, so
    /// the stationary variance is τ/(a(1 − ha/2)) (here 0.5556, 11 % above τ/a = 0.5). The time
    /// average over 100 snapshots of 4000 particles has a relative standard error ≈ 0.3 %.
    func testBilinearQuadraticGameReachesTheEulerMaruyamaVariance() {
        let a = 1.0
        let c = 1.0
        let tau = 0.5
        let h = 0.2
        let player = GamePlayer(temperature: tau, confinement: a)
        var rng = RandomStream(seed: 5, .flow, 1)
        let phi = Population(name: "max", dimension: 1, positions: (0..<4000).map { _ in -1.5 + 0.3 * rng.normal() })
        let flow = GameFlow(
            payoff: BilinearPayoff(coupling: c, dimension: 1), min: player, max: player,
            dynamics: .simultaneous, maxPopulation: phi, seed: 3, threads: 2)
        var state = SimulationState(populations: [
            Population(
                name: "min", dimension: 1,
                positions: (0..<4000).map { _ in 2 + 0.3 * rng.normal() })
        ])
        flow.prepare(&state)
        var sums = [0.0, 0.0]
        var snapshots = 0
        for step in 1...1200 {
            flow.advance(&state, step: step, stepSize: h)
            if step > 200 && step % 10 == 0 {
                for k in 0..<2 {
                    let x = state.populations[k].positions
                    let m = x.reduce(0, +) / Double(x.count)
                    sums[k] += x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
                }
                snapshots += 1
            }
        }
        let expected = tau / (a * (1 - h * a / 2))
        for k in 0..<2 {
            XCTAssertEqual(sums[k] / Double(snapshots), expected, accuracy: 0.015 * expected, "player \(k)")
        }
        // The means have spiralled in (modulus √((1 − ha)² + h²c²) = 0.82 per step; the noise of the
        // means is ≈ √(τ/(aN)) ≈ 0.01).
        for k in 0..<2 {
            let x = state.populations[k].positions
            XCTAssertLessThan(abs(x.reduce(0, +) / Double(x.count)), 0.06)
        }
    }

    /// The pure bilinear game ℓ = θφ without noise: the means evolve linearly. Simultaneous steps
    /// multiply |(θ̄, φ̄)| by √(1 + h²) (spiral out), extragradient by √(1 − h² + h⁴) (contract),
    /// alternating steps preserve θ̄² + φ̄² − hθ̄φ̄ (a bounded cycle).
    func testExtragradientContractsWhereSimultaneousSpiralsOut() {
        let h = 0.1
        let steps = 60
        func run(_ dynamics: GameFlow.Dynamics) -> (start: (Double, Double), end: (Double, Double)) {
            let phi = population("max", 2, 11, seed: 8, scale: 1, offset: -1)
            let flow = GameFlow(
                payoff: BilinearPayoff(coupling: 1, dimension: 2), min: GamePlayer(), max: GamePlayer(),
                dynamics: dynamics, maxPopulation: phi, seed: 1, threads: 1)
            var state = SimulationState(populations: [population("min", 2, 13, seed: 9, scale: 2)])
            flow.prepare(&state)
            func means() -> (Double, Double) {
                (Self.weightedMean(state.populations[0])[0], Self.weightedMean(state.populations[1])[0])
            }
            let start = means()
            for step in 1...steps { flow.advance(&state, step: step, stepSize: h) }
            return (start, means())
        }
        func norm(_ p: (Double, Double)) -> Double { (p.0 * p.0 + p.1 * p.1).squareRoot() }
        let sim = run(.simultaneous)
        let eg = run(.extragradient)
        let alt = run(.alternating)
        XCTAssertEqual(norm(sim.end) / norm(sim.start), pow(1 + h * h, Double(steps) / 2), accuracy: 1e-10)
        XCTAssertEqual(
            norm(eg.end) / norm(eg.start), pow(1 - h * h + h * h * h * h, Double(steps) / 2), accuracy: 1e-10)
        XCTAssertGreaterThan(norm(sim.end), norm(sim.start))
        XCTAssertLessThan(norm(eg.end), 0.8 * norm(eg.start))
        func invariant(_ p: (Double, Double)) -> Double { p.0 * p.0 + p.1 * p.1 - h * p.0 * p.1 }
        XCTAssertEqual(invariant(alt.end), invariant(alt.start), accuracy: 1e-12)
    }

    /// One step of each dynamics with Wasserstein–Fisher–Rao players, written out here: the
    /// payoff ℓ(θ, φ) = θφ + ½θ²φ − 0.3φ² (1-D, a formula) with confinements, unequal step
    /// scales η, transport rates β and Fisher–Rao rates α, no noise, 2 min and 3 max particles
    /// with unequal weights. With V(θ; φ, b) = Σ_j b_j ℓ(θ, φ_j) + c_min θ²/2 and
    /// U(φ; θ, a) = Σ_i a_i ℓ(θ_i, φ) − c_max φ²/2 (the confinements' constant terms drop out
    /// of both updates), a player step from (θ, a) with the field evaluated at points θ̃ is
    ///     θ_i' = θ_i − βηh ∂V(θ̃_i),   a_i' = a_i e^{−αηh V(θ̃_i)} / Σ_k a_k e^{−αηh V(θ̃_k)}
    /// (signs flipped for the max player). Simultaneous: both fields at the current state;
    /// alternating: the max player's against the moved min player; extragradient: a look-ahead
    /// step (θ̃, ã), (φ̃, b̃) from the current fields, then the step from (θ, a), (φ, b) with the
    /// look-ahead fields evaluated at the look-ahead particles. Tolerance 1e-13 absolute.
    func testOneWassersteinFisherRaoStepOfEachDynamicsByHand() throws {
        let h = 0.2
        let cMin = 0.4
        let cMax = 0.7
        let minP = GamePlayer(stepScale: 0.5, transport: 1.2, fisherRao: 2, confinement: cMin)
        let maxP = GamePlayer(stepScale: 1.5, transport: 0.8, fisherRao: 1.3, confinement: cMax)
        let theta0 = [0.3, -0.9]
        let a0 = [0.35, 0.65]
        let phi0 = [0.8, -0.2, 1.4]
        let b0 = [0.5, 0.2, 0.3]
        func l(_ t: Double, _ p: Double) -> Double { t * p + 0.5 * t * t * p - 0.3 * p * p }
        func V(_ t: Double, _ phi: [Double], _ b: [Double]) -> (value: Double, slope: Double) {
            var v = 0.5 * cMin * t * t
            var g = cMin * t
            for j in 0..<phi.count {
                v += b[j] * l(t, phi[j])
                g += b[j] * (phi[j] + t * phi[j])
            }
            return (v, g)
        }
        func U(_ p: Double, _ theta: [Double], _ a: [Double]) -> (value: Double, slope: Double) {
            var v = -0.5 * cMax * p * p
            var g = -cMax * p
            for i in 0..<theta.count {
                v += a[i] * l(theta[i], p)
                g += a[i] * (theta[i] + 0.5 * theta[i] * theta[i] - 0.6 * p)
            }
            return (v, g)
        }
        /// One player step: sign −1 descends (min), +1 ascends (max); `fields` at the points.
        func step(
            _ x: [Double], _ w: [Double], _ player: GamePlayer, sign: Double,
            _ fields: [(value: Double, slope: Double)]
        ) -> ([Double], [Double]) {
            let r = player.stepScale * h
            let moved = (0..<x.count).map { x[$0] + sign * player.transport * r * fields[$0].slope }
            let raw = (0..<w.count).map { w[$0] * exp(sign * player.fisherRao * r * fields[$0].value) }
            let z = raw.reduce(0, +)
            return (moved, raw.map { $0 / z })
        }
        let vNow = theta0.map { V($0, phi0, b0) }
        let uNow = phi0.map { U($0, theta0, a0) }
        let (theta1, a1) = step(theta0, a0, minP, sign: -1, vNow)
        var expected: [GameFlow.Dynamics: (theta: [Double], a: [Double], phi: [Double], b: [Double])] = [:]
        let (phiS, bS) = step(phi0, b0, maxP, sign: 1, uNow)
        expected[.simultaneous] = (theta1, a1, phiS, bS)
        let (phiA, bA) = step(phi0, b0, maxP, sign: 1, phi0.map { U($0, theta1, a1) })
        expected[.alternating] = (theta1, a1, phiA, bA)
        let (thetaE, aE) = step(theta0, a0, minP, sign: -1, theta1.map { V($0, phiS, bS) })
        let (phiE, bE) = step(phi0, b0, maxP, sign: 1, phiS.map { U($0, theta1, a1) })
        expected[.extragradient] = (thetaE, aE, phiE, bE)

        let payoff = try FormulaPayoff(
            compiling: "x1*y1 + 0.5*x1^2*y1 - 0.3*y1^2", minDimension: 1, maxDimension: 1, threads: 1)
        for dynamics in GameFlow.Dynamics.allCases {
            var phi = Population(name: "max", dimension: 1, positions: phi0)
            phi.weights = b0
            let flow = GameFlow(
                payoff: payoff, min: minP, max: maxP, dynamics: dynamics, maxPopulation: phi, seed: 1, threads: 1)
            var theta = Population(name: "min", dimension: 1, positions: theta0)
            theta.weights = a0
            var state = SimulationState(populations: [theta])
            flow.prepare(&state)
            flow.advance(&state, step: 1, stepSize: h)
            let want = expected[dynamics]!
            for (got, ref, what) in [
                (state.populations[0].positions, want.theta, "θ"), (state.populations[0].weights, want.a, "a"),
                (state.populations[1].positions, want.phi, "φ"), (state.populations[1].weights, want.b, "b"),
            ] {
                XCTAssertLessThanOrEqual(maxAbsDifference(got, ref), 1e-13, "\(dynamics) \(what): \(got) vs \(ref)")
            }
        }
        // The three differ here, so each comparison tells them apart.
        XCTAssertGreaterThan(maxAbsDifference(phiS, phiA), 1e-3)
        XCTAssertGreaterThan(maxAbsDifference(a1, aE), 1e-3)
        XCTAssertGreaterThan(maxAbsDifference(bS, bE), 1e-3)
    }

    /// One noisy simultaneous step of ℓ = cθφ from one point per player (20 000 particles
    /// each, 1-D), with step scales, transport rates and temperatures other than 1: the min
    /// player's particles are N(θ₀ − βηh c φ₀, 2τβηh), the max player's N(φ₀ + β'η'h c θ₀,
    /// 2τ'β'η'h); means and variances within 5 standard errors.
    func testOneNoisyStepMoments() {
        let c = 1.2
        let h = 0.1
        let theta0 = 0.5
        let phi0 = -0.3
        let n = 20_000
        let minP = GamePlayer(stepScale: 0.5, transport: 1.5, temperature: 0.3)
        let maxP = GamePlayer(stepScale: 2, transport: 0.7, temperature: 0.8)
        let flow = GameFlow(
            payoff: BilinearPayoff(coupling: c, dimension: 1), min: minP, max: maxP, dynamics: .simultaneous,
            maxPopulation: Population(name: "max", dimension: 1, positions: [Double](repeating: phi0, count: n)),
            seed: 6, threads: 2)
        var state = SimulationState(populations: [
            Population(name: "min", dimension: 1, positions: [Double](repeating: theta0, count: n))
        ])
        flow.prepare(&state)
        flow.advance(&state, step: 1, stepSize: h)
        let r = 0.5 * 1.5 * h
        let r2 = 2 * 0.7 * h
        for (x, mean, variance, who) in [
            (state.populations[0].positions, theta0 - r * c * phi0, 2 * 0.3 * r, "min"),
            (state.populations[1].positions, phi0 + r2 * c * theta0, 2 * 0.8 * r2, "max"),
        ] {
            let k = Double(x.count)
            XCTAssertEqual(x.reduce(0, +) / k, mean, accuracy: 5 * (variance / k).squareRoot(), "\(who) mean")
            XCTAssertEqual(
                x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / k, variance,
                accuracy: 5 * variance * (2 / k).squareRoot(), "\(who) variance")
        }
    }

    /// The kernel payoff (engine) and the same payoff written as a formula (direct) give the same
    /// fields; the GAN data term adds c(φ) = (1/M) Σ k(y_m − φ).
    func testKernelAndFormulaPayoffsAgree() throws {
        let theta = population("min", 2, 40, seed: 1, scale: 3, randomWeights: true)
        let phi = population("max", 2, 30, seed: 2, scale: 3, offset: 0.5, randomWeights: true)
        let data = population("data", 2, 25, seed: 3, scale: 3).positions
        let kernel = try KernelRegistry.make("gaussian:sigma=0.8")
        let engine = DirectSum(threads: 2)
        let g = "exp(-((x1 - y1)^2 + (x2 - y2)^2) / (2*0.8^2))"
        var dataTerm = "0"
        for m in 0..<25 {
            dataTerm += " + exp(-((\(data[2 * m]) - y1)^2 + (\(data[2 * m + 1]) - y2)^2) / (2*0.8^2)) / 25"
        }
        for (kp, text) in [
            (KernelPayoff(kernel: kernel, weight: 2, dimension: 2, engine: engine), "2*\(g)"),
            (KernelPayoff(kernel: kernel, weight: -1, dimension: 2, engine: engine, data: data), "-\(g) + \(dataTerm)"),
        ] {
            let fp = try FormulaPayoff(compiling: text, minDimension: 2, maxDimension: 2, threads: 2)
            var v1: [Double] = []
            var g1: [Double] = []
            var v2: [Double] = []
            var g2: [Double] = []
            kp.minField(at: theta.positions, phi: phi.positions, phiWeights: phi.weights, values: &v1, gradients: &g1)
            fp.minField(at: theta.positions, phi: phi.positions, phiWeights: phi.weights, values: &v2, gradients: &g2)
            XCTAssertLessThan(relativeError(v1, v2), 1e-12)
            XCTAssertLessThan(relativeError(g1, g2), 1e-12)
            kp.maxField(
                at: phi.positions, theta: theta.positions, thetaWeights: theta.weights, values: &v1, gradients: &g1)
            fp.maxField(
                at: phi.positions, theta: theta.positions, thetaWeights: theta.weights, values: &v2, gradients: &g2)
            XCTAssertLessThan(relativeError(v1, v2), 1e-12)
            XCTAssertLessThan(relativeError(g1, g2), 1e-12)
        }
    }

    /// Best responses in 2-D (grid) and 3-D (multi-start ascent) for the bilinear-quadratic game,
    /// where they are explicit: max_φ [c θ̄·φ − (a/2)|φ|²] + (a/2)E|θ|² = c²|θ̄|²/(2a) + (a/2)E|θ|².
    func testBestResponsesOfTheQuadraticGame() {
        for d in [2, 3] {
            let a = 1.5
            let c = 0.8
            let player = GamePlayer(confinement: a)
            let phi = population("max", d, 20, seed: 12, scale: 2, offset: -1, randomWeights: true)
            let flow = GameFlow(
                payoff: BilinearPayoff(coupling: c, dimension: d), min: player, max: player,
                dynamics: .simultaneous, maxPopulation: phi, seed: 1, threads: 1)
            var state = SimulationState(populations: [
                population("min", d, 15, seed: 11, scale: 2, offset: -0.5, randomWeights: true)
            ])
            flow.prepare(&state)
            /// |θ̄|² and E|θ|² under the particle weights, by hand.
            func stats(_ p: Population) -> (m2: Double, second: Double) {
                let m2 = Self.weightedMean(p).reduce(0) { $0 + $1 * $1 }
                var second = 0.0
                for i in 0..<p.count {
                    for a in 0..<p.dimension { second += p.weights[i] * pow(p.positions[i * p.dimension + a], 2) }
                }
                return (m2, second)
            }
            let s0 = stats(state.populations[0])
            let s1 = stats(state.populations[1])
            let b = NashGapMetric(flow: flow, search: BestResponseSearch(iterations: 60)).bestResponses(state)
            XCTAssertEqual(b.maxValue, c * c * s0.m2 / (2 * a) + a / 2 * s0.second, accuracy: 1e-8, "d = \(d)")
            XCTAssertEqual(b.minValue, -c * c * s1.m2 / (2 * a) - a / 2 * s1.second, accuracy: 1e-8, "d = \(d)")
        }
    }

    /// Per-player distances: |m̂ − m|² + Σ(ŝ − s)² each, and the total is their root sum of squares.
    func testEquilibriumDistances() {
        var theta = Population(name: "min", dimension: 1, positions: [1, 3])
        theta.weights = [0.25, 0.75]  // mean 2.5, variance 0.75
        let phi = Population(name: "max", dimension: 2, positions: [0, 0, 2, 4])  // mean (1, 2), variances (1, 4)
        let state = SimulationState(populations: [theta, phi])
        let rMin = EquilibriumDistanceMetric.Reference(mean: [2], variance: [0.25])
        let rMax = EquilibriumDistanceMetric.Reference(mean: [1, 0], variance: nil)
        let dMin = EquilibriumDistanceMetric(player: 0, reference: rMin).evaluate(state)
        let dMax = EquilibriumDistanceMetric(player: 1, reference: rMax).evaluate(state)
        XCTAssertEqual(dMin, (0.25 + pow(0.75.squareRoot() - 0.5, 2)).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(dMax, 2, accuracy: 1e-15)
        XCTAssertEqual(
            EquilibriumDistanceMetric(min: rMin, max: rMax).evaluate(state), (dMin * dMin + dMax * dMax).squareRoot(),
            accuracy: 1e-15)
        XCTAssertEqual(
            WeightStatisticMetric(population: 0, statistic: .effectiveCount).evaluate(state), 1 / (0.0625 + 0.5625),
            accuracy: 1e-14)
        XCTAssertEqual(
            WeightStatisticMetric(population: 1, statistic: .entropy).evaluate(state), log(2), accuracy: 1e-15)
    }

    /// Noise streams are keyed by particle and step: any thread count gives the same run.
    func testRunsAreIdenticalForAnyThreadCount() throws {
        var finals: [SimulationState] = []
        for threads in [1, 2] {
            let player = GamePlayer(temperature: 0.3, fisherRao: 1, domain: .periodic(length: twoPi))
            let flow = try circleFlow(
                .extragradient, min: player, max: player,
                maxPopulation: population("max", 1, 1600, seed: 2, scale: 6), threads: threads)
            var state = SimulationState(populations: [population("min", 1, 1500, seed: 1, scale: 6)])
            flow.prepare(&state)
            for step in 1...3 { flow.advance(&state, step: step, stepSize: 0.1) }
            finals.append(state)
        }
        for k in 0..<2 {
            XCTAssertEqual(finals[0].populations[k].positions, finals[1].populations[k].positions)
            XCTAssertEqual(finals[0].populations[k].weights, finals[1].populations[k].weights)
        }
    }
}
