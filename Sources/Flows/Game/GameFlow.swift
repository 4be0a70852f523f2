import Foundation
import KernelSum

/// One player of a game: how its particles and weights move.
public struct GamePlayer: Sendable {
    /// Timescale η: the player's step is η·h (the ratio of the players' η is the timescale ratio).
    public var stepScale: Double
    /// Rate β of the Wasserstein (position) part; 0 freezes the positions (pure Fisher–Rao).
    public var transport: Double
    /// τ ≥ 0: entropic regularisation through Langevin noise √(2τβηh)·ξ on the positions.
    public var temperature: Double
    /// α ≥ 0: rate of the Fisher–Rao weight update (0: positions only, weights stay uniform).
    public var fisherRao: Double
    /// c ≥ 0: the payoff gets +(c/2)|θ|² (min player) or −(c/2)|φ|² (max player).
    public var confinement: Double
    /// R^e or the periodic box the player's particles are wrapped into.
    public var domain: Domain

    /// A player; see the properties (the defaults: plain gradient play in R^d).
    public init(
        stepScale: Double = 1, transport: Double = 1, temperature: Double = 0, fisherRao: Double = 0,
        confinement: Double = 0, domain: Domain = .free
    ) {
        self.stepScale = stepScale
        self.transport = transport
        self.temperature = temperature
        self.fisherRao = fisherRao
        self.confinement = confinement
        self.domain = domain
    }
}

/// Mixed Nash equilibria of a two-player zero-sum game on measures by particle dynamics
/// (Domingo-Enrich, Jelassi, Mensch, Rotskoff & Bruna 2020). The min player holds particles
/// θ_i with weights a_i (population 0), the max player φ_j with weights b_j (population 1),
/// L(μ, ν) = Σ_ij a_i b_j ℓ(θ_i, φ_j). With V_i = Σ_j b_j ℓ(θ_i, φ_j), U_j = Σ_i a_i ℓ(θ_i, φ_j),
/// one step of size h (player step η h):
///
///     θ_i ← θ_i − βηh ∇V(θ_i) + √(2τβηh) ξ_i,   a_i ← a_i exp(−αηh (V_i − Σ_k a_k V_k)) / Z
///     φ_j ← φ_j + βηh ∇U(φ_j) + √(2τβηh) ξ_j,   b_j ← b_j exp(+αηh (U_j − Σ_k b_k U_k)) / Z'
///
/// `simultaneous`: both from the fields at the current state; `alternating`: the min player
/// first, then the max player against the updated min player; `extragradient` (mirror-prox):
/// an extrapolation step without noise from the current fields, then the step from the current
/// state with the fields of the extrapolated state evaluated at the extrapolated particles
/// (positions and weights alike), noise added there.
/// Noise of particle i (min) at step n: RandomStream(seed, .noise, n, i); of particle j (max):
/// RandomStream(seed, .noise, n, −1 − j): any thread count gives the same run.
public final class GameFlow: Flow {
    /// How the two players' steps are ordered (see above).
    public enum Dynamics: String, CaseIterable, Sendable { case simultaneous, alternating, extragradient }

    /// ℓ(θ, φ).
    public let payoff: any GamePayoff
    /// The min player's rules (population 0).
    public let minPlayer: GamePlayer
    /// The max player's rules (population 1).
    public let maxPlayer: GamePlayer
    /// Simultaneous, alternating or extragradient steps.
    public let dynamics: Dynamics
    /// The max player's initial population, appended to the state by `prepare` (drawn then).
    public var maxPopulation: Population { initialMax.value }
    let initialMax: Deferred<Population>
    /// M, the max player's particles (known before they are drawn).
    public let maxCount: Int
    let seed: UInt64
    let threads: Int

    /// A game; `maxPopulation` (of the payoff's dimension e) is the max player's initial state.
    public convenience init(
        payoff: any GamePayoff, min: GamePlayer, max: GamePlayer, dynamics: Dynamics,
        maxPopulation: Population, seed: UInt64, threads: Int
    ) {
        guard maxPopulation.dimension == payoff.maxDimension else {
            fatalError(
                "GameFlow: the max population has dimension \(maxPopulation.dimension), the payoff's max player \(payoff.maxDimension)"
            )
        }
        self.init(
            payoff: payoff, min: min, max: max, dynamics: dynamics, initialMax: Deferred(maxPopulation),
            maxCount: maxPopulation.count, seed: seed, threads: threads)
    }

    /// `initialMax`: the max player's population (of the payoff's dimension e), drawn when the
    /// run starts.
    init(
        payoff: any GamePayoff, min: GamePlayer, max: GamePlayer, dynamics: Dynamics,
        initialMax: Deferred<Population>, maxCount: Int, seed: UInt64, threads: Int
    ) {
        self.maxCount = maxCount
        self.payoff = payoff
        self.minPlayer = min
        self.maxPlayer = max
        self.dynamics = dynamics
        self.initialMax = initialMax
        self.seed = seed
        self.threads = Swift.max(1, threads)
    }

    /// Appends the max player's population (when the state has only the min player's) and wraps
    /// both players into their boxes.
    public func prepare(_ state: inout SimulationState) {
        if state.populations.count < 2 { state.populations.append(maxPopulation) }
        minPlayer.domain.wrap(&state.populations[0].positions)
        maxPlayer.domain.wrap(&state.populations[1].positions)
    }

    // MARK: Fields (payoff plus confinement)

    /// V(θ_k) = Σ_j b_j ℓ(θ_k, φ_j) (confinement included) and its gradient at the rows of `at`.
    public func minField(at: [Double], phi: Population) -> (values: [Double], gradients: [Double]) {
        var v: [Double] = []
        var g: [Double] = []
        payoff.minField(at: at, phi: phi.positions, phiWeights: phi.weights, values: &v, gradients: &g)
        let d = payoff.minDimension
        if minPlayer.confinement != 0 {
            let c = minPlayer.confinement
            for k in 0..<v.count {
                var r2 = 0.0
                for a in 0..<d {
                    let t = at[k * d + a]
                    r2 += t * t
                    g[k * d + a] += c * t
                }
                v[k] += 0.5 * c * r2
            }
        }
        if maxPlayer.confinement != 0 {
            let s = 0.5 * maxPlayer.confinement * Self.secondMoment(phi)
            for k in 0..<v.count { v[k] -= s }
        }
        return (v, g)
    }

    /// U(φ_k) = Σ_i a_i ℓ(θ_i, φ_k) (confinement included) and its gradient at the rows of `at`.
    public func maxField(at: [Double], theta: Population) -> (values: [Double], gradients: [Double]) {
        var v: [Double] = []
        var g: [Double] = []
        payoff.maxField(at: at, theta: theta.positions, thetaWeights: theta.weights, values: &v, gradients: &g)
        let e = payoff.maxDimension
        if maxPlayer.confinement != 0 {
            let c = maxPlayer.confinement
            for k in 0..<v.count {
                var r2 = 0.0
                for a in 0..<e {
                    let t = at[k * e + a]
                    r2 += t * t
                    g[k * e + a] -= c * t
                }
                v[k] -= 0.5 * c * r2
            }
        }
        if minPlayer.confinement != 0 {
            let s = 0.5 * minPlayer.confinement * Self.secondMoment(theta)
            for k in 0..<v.count { v[k] += s }
        }
        return (v, g)
    }

    static func secondMoment(_ p: Population) -> Double {
        var s = 0.0
        for i in 0..<p.count {
            var r2 = 0.0
            for a in 0..<p.dimension {
                let t = p.positions[i * p.dimension + a]
                r2 += t * t
            }
            s += p.weights[i] * r2
        }
        return s
    }

    /// L(μ, ν) = Σ_i a_i V_i.
    public func value(_ state: SimulationState) -> Double {
        let theta = state.populations[0]
        let v = minField(at: theta.positions, phi: state.populations[1]).values
        var s = 0.0
        for i in 0..<theta.count { s += theta.weights[i] * v[i] }
        return s
    }

    // MARK: Steps

    /// The Fisher–Rao update w_i ← w_i exp(sign·αηh(V_i − Σ_k w_k V_k)) / Z (sign −1: min player):
    /// ``FisherRaoWeights/update(weights:values:rate:)``.
    public static func fisherRaoUpdate(weights w: [Double], values v: [Double], rate: Double) -> [Double] {
        FisherRaoWeights.update(weights: w, values: v, rate: rate)
    }

    /// Moves `p` (a copy of `base`) by one player step with the given field: sign −1 descends
    /// (min player), +1 ascends. `noiseStep` nil: no noise (the extrapolation step).
    func move(
        _ base: Population, player: GamePlayer, sign: Double, values: [Double], gradients: [Double],
        h: Double, noiseStep: Int?, maxPlayer isMax: Bool
    ) -> Population {
        var p = base
        let d = p.dimension
        let n = p.count
        let hp = player.stepScale * h
        if player.fisherRao > 0 {
            p.weights = FisherRaoWeights.update(
                weights: base.weights, values: values, rate: sign * player.fisherRao * hp)
        }
        if player.transport > 0 {
            let step = player.transport * hp
            let tau = player.temperature
            let s = (2 * tau * step).squareRoot()
            let seed = self.seed
            let noisy = noiseStep != nil && tau > 0
            let noiseN = noiseStep ?? 0
            p.positions.withUnsafeMutableBufferPointer { xp in
                gradients.withUnsafeBufferPointer { gp in
                    let X = SharedMutablePointer(xp.baseAddress!)
                    let G = SharedPointer(gp.baseAddress!)
                    Parallel.forEachChunk(n, threads: threads, minimumChunk: 4096) { range in
                        for i in range {
                            var rng = RandomStream(seed: seed, .noise, noiseN, isMax ? -1 - i : i)
                            for a in 0..<d {
                                let k = i * d + a
                                X.base[k] += sign * step * G.base[k] + (noisy ? s * rng.normal() : 0)
                            }
                        }
                    }
                }
            }
            player.domain.wrap(&p.positions)
        }
        return p
    }

    /// One step of both players (positions and weights) by ``dynamics``.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let theta = state.populations[0]
        let phi = state.populations[1]
        switch dynamics {
        case .simultaneous:
            let fv = minField(at: theta.positions, phi: phi)
            let fu = maxField(at: phi.positions, theta: theta)
            state.populations[0] = move(
                theta, player: minPlayer, sign: -1, values: fv.values, gradients: fv.gradients,
                h: h, noiseStep: step, maxPlayer: false)
            state.populations[1] = move(
                phi, player: maxPlayer, sign: 1, values: fu.values, gradients: fu.gradients,
                h: h, noiseStep: step, maxPlayer: true)
        case .alternating:
            let fv = minField(at: theta.positions, phi: phi)
            let theta1 = move(
                theta, player: minPlayer, sign: -1, values: fv.values, gradients: fv.gradients,
                h: h, noiseStep: step, maxPlayer: false)
            let fu = maxField(at: phi.positions, theta: theta1)
            state.populations[0] = theta1
            state.populations[1] = move(
                phi, player: maxPlayer, sign: 1, values: fu.values, gradients: fu.gradients,
                h: h, noiseStep: step, maxPlayer: true)
        case .extragradient:
            let fv = minField(at: theta.positions, phi: phi)
            let fu = maxField(at: phi.positions, theta: theta)
            let thetaHalf = move(
                theta, player: minPlayer, sign: -1, values: fv.values, gradients: fv.gradients,
                h: h, noiseStep: nil, maxPlayer: false)
            let phiHalf = move(
                phi, player: maxPlayer, sign: 1, values: fu.values, gradients: fu.gradients,
                h: h, noiseStep: nil, maxPlayer: true)
            let gv = minField(at: thetaHalf.positions, phi: phiHalf)
            let gu = maxField(at: phiHalf.positions, theta: thetaHalf)
            state.populations[0] = move(
                theta, player: minPlayer, sign: -1, values: gv.values, gradients: gv.gradients,
                h: h, noiseStep: step, maxPlayer: false)
            state.populations[1] = move(
                phi, player: maxPlayer, sign: 1, values: gu.values, gradients: gu.gradients,
                h: h, noiseStep: step, maxPlayer: true)
        }
    }

    /// The game's value L(μ, ν).
    public var energyDescription: String? {
        "L(μ, ν) = ∬ℓ dμ dν, the game's value at the current state (same as value)"
    }
    /// L(μ, ν) = Σ_ij a_i b_j ℓ(θ_i, φ_j).
    public func energy(_ state: SimulationState) -> Double { value(state) }

    /// Population 0 is the min player, 1 the max player.
    public func domain(ofPopulation index: Int) -> Domain { index == 0 ? minPlayer.domain : maxPlayer.domain }

    /// Dynamics, payoff (with its engine) and each player's rules.
    public var report: [String: String] {
        var r: [String: String] = ["dynamics": dynamics.rawValue, "payoff": payoff.spec]
        for (k, v) in payoff.report { r[k] = v }
        for (tag, p) in [("min", minPlayer), ("max", maxPlayer)] {
            r["\(tag)-step-scale"] = formatNumber(p.stepScale)
            r["\(tag)-transport"] = formatNumber(p.transport)
            r["\(tag)-temperature"] = formatNumber(p.temperature)
            r["\(tag)-fisher-rao"] = formatNumber(p.fisherRao)
            r["\(tag)-confinement"] = formatNumber(p.confinement)
            r["\(tag)-domain"] = p.domain.description
        }
        return r
    }
}
