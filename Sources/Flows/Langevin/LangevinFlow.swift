import Communication
import Foundation
import KernelSum

/// Mean-field Langevin dynamics (McKean–Vlasov particles) for the free energy
///
///     F(μ) = ∫V dμ + ½∬W(x − y) dμ(x)dμ(y) + λ∫μ log μ,
///
/// with drift b(X_i) = −[∇V(X_i) + Σ_j w_j ∇W(X_i − X_j)].
///
/// - overdamped: Euler–Maruyama, X ← X + h·b(X) + √(2λh)·ξ.
/// - underdamped (Fu & Wilson): dX = V dt, dV = −γV dt + b(X) dt + √(2γλ) dB, with b frozen
///   over the step and the Ornstein–Uhlenbeck part integrated exactly. With e = e^{−γh},
///   c₁ = (1 − e)/γ, c₂ = (h − c₁)/γ:
///       X' = X + c₁V + c₂b + ξ_x,     V' = eV + c₁b + ξ_v,
///   (ξ_x, ξ_v) Gaussian per coordinate with Var ξ_v = λ(1 − e²),
///   Var ξ_x = (2λ/γ)[h − 2(1 − e)/γ + (1 − e²)/(2γ)], Cov = (λ/γ)(1 − e)²
///   (the Itô isometry applied to ξ_v = σ∫e^{−γ(h−s)}dB_s, ξ_x = σ∫(1 − e^{−γ(h−s)})/γ dB_s, σ² = 2γλ).
///
/// The noise of particle i at step n comes from `RandomStream(seed, .noise, n, i)`: runs are
/// identical for any thread count. Initial velocities (underdamped) are N(0, λI) ("thermal",
/// from `RandomStream(seed, .noise, 0, i)`) or 0.
///
/// Wasserstein–Fisher–Rao (overdamped, `fisher-rao = α > 0`, `transport = β`): the particles
/// carry weights w_i, μ = Σ_i w_i δ_{x_i}, updated by `FisherRaoWeights`
/// (w_i ← w_i exp(−αh(v_i − Σ_k w_k v_k))/Z) from the state before the step with the first variation
///
///     v_i = δF/δμ(x_i) = V(x_i) + Σ_{j≠i} w_j W(x_i − x_j) + λ log ρ̂(x_i),
///
/// while the positions move with step βh: X ← X + βh·b(X) + √(2λβh)·ξ. β = 1, α = 0 is the plain
/// flow. The interaction's part is the derivative ∂/∂w_i of ½Σ_{i≠j} w_i w_j W(x_i − x_j), the
/// energy the flow reports (``Interaction/addValues(_:weights:dimension:into:)``). The entropy's
/// part takes for ρ the weighted Gaussian kernel density estimate
///
///     ρ̂(x) = Σ_j w_j K_σ(x − x_j),   K_σ(z) = (2πσ²)^{−d/2} exp(−|z|²/(2σ²)),
///
/// σ by Silverman's rule (below) with the weighted variance. log ρ̂ is a biased estimate of log ρ
/// (smoothing bias O(σ²) and Jensen's log E ≥ E log), and it leaves out the term λ∫K_σ(y − x)
/// dμ(y)/ρ̂(y) of the first variation of λ∫log ρ̂ dμ: the kernelised entropy of Lu, Lu & Nolen
/// (2019) and Rotskoff, Jelassi, Bruna & Vanden-Eijnden (2019), whose errors vanish as σ → 0,
/// N → ∞. With the positions fixed (β = 0) the weights stop where v_i is the same at every
/// particle of positive weight; for σ small against the gaps ρ̂(x_i) ≈ w_i K_σ(0), so
/// λ log w_i + V(x_i) ≈ const: w_i ∝ exp(−V(x_i)/λ), the Gibbs measure's weights on the particles
/// (self-normalised importance weights), approached at rate αλ (ẇ_i/w_i ≈ −αλ log(w_i/w_i*)).
///
/// Birth–death (overdamped, λ > 0; Lu, Lu & Nolen 2019, Algorithm 1): after the Langevin step,
/// with the same first variation v_i and
///
///     Λ_i = (v_i − (1/N) Σ_j v_j)/λ = log ρ̂(x_i) + V(x_i)/λ + … − (their mean),
///
/// (the first variation of KL(μ‖e^{−V/λ}/Z) at the particles, centred: Σ_i Λ_i = 0) each
/// particle i in index order, with probability 1 − exp(−|Λ_i|h), is killed and replaced by a
/// copy of a uniformly chosen other particle (Λ_i > 0: too much mass there) or duplicated onto
/// a uniformly chosen other (Λ_i < 0); N stays. σ is Silverman's rule
/// σ = s̄ (4/((d + 2)N))^{1/(d+4)}, s̄² the particles' weighted variance
/// Σ_i w_i |x_i − m|²/(d Σ_i w_i), m = Σ_i w_i x_i/Σ_i w_i (1 if they coincide; uniform weights:
/// the plain variance). ρ̂ is one direct kernel sum of the particles onto themselves (in the box
/// by minimum images), each rank holding the whole state. The jumps of particle i at step n draw from
/// `RandomStream(seed, .flow, n, i)`, the rates are computed once per step: any thread count
/// gives the same run.
public final class LangevinFlow: Flow {
    /// `dynamics`: positions only (Euler–Maruyama), or positions and velocities (Fu & Wilson).
    public enum Dynamics: String, CaseIterable, Sendable { case overdamped, underdamped }
    /// `initial-velocity` (underdamped): N(0, λI) or 0.
    public enum InitialVelocity: String, CaseIterable, Sendable { case thermal, zero }

    /// Overdamped or underdamped.
    public let dynamics: Dynamics
    /// λ ≥ 0, the weight of the entropy (0: no noise).
    public let temperature: Double
    /// γ > 0 (underdamped only).
    public let friction: Double
    /// V; nil for V = 0.
    public let potential: (any Potential)?
    /// The terms of W, summed; empty for W = 0.
    public let interactions: [any Interaction]
    /// R^d, or the periodic box the particles are wrapped into.
    public let domain: Domain
    /// How velocities start (underdamped).
    public let initialVelocity: InitialVelocity
    /// α ≥ 0, the rate of the Fisher–Rao weight update (0: the weights stay as they are).
    public let fisherRao: Double
    /// β ≥ 0, the rate of the positions' (Wasserstein) motion: their step is βh (overdamped).
    public let transport: Double
    /// Whether the particles also jump by birth–death (overdamped, λ > 0).
    public let birthDeath: Bool
    let seed: UInt64
    let threads: Int
    /// The ranks that share the potential's evaluations (by blocks of particles).
    let communicator: any Communicator
    // Work buffers, reused every step.
    var force: [Double] = [], potentialValues: [Double] = []

    /// A flow; see the properties. `seed` keys the noise, `threads` the workers.
    public init(
        dynamics: Dynamics = .overdamped, temperature: Double, friction: Double = 1,
        potential: (any Potential)?, interactions: [any Interaction] = [], domain: Domain = .free,
        initialVelocity: InitialVelocity = .thermal, fisherRao: Double = 0, transport: Double = 1,
        birthDeath: Bool = false, seed: UInt64, threads: Int, communicator: any Communicator = SerialCommunicator()
    ) {
        self.birthDeath = birthDeath
        self.communicator = communicator
        self.fisherRao = fisherRao
        self.transport = transport
        self.dynamics = dynamics
        self.temperature = temperature
        self.friction = friction
        self.potential = potential
        self.interactions = interactions
        self.domain = domain
        self.initialVelocity = initialVelocity
        self.seed = seed
        self.threads = max(1, threads)
    }

    /// The drift b(x_i) = −[∇V(x_i) + Σ_j w_j ∇W(x_i − x_j)] of every particle of `p`
    /// (row-major), or of this rank's share of them (the sums over every rank's). At a `step`
    /// (from 1), a minibatched ``TargetPotential`` takes ∇V from that step's minibatch (SGLD).
    public func drift(_ p: Population, step: Int = 0) -> [Double] {
        let d = p.dimension
        let n = p.count
        if force.count != n * d { force = [Double](repeating: 0, count: n * d) }
        if step > 0, let target = potential as? TargetPotential, target.isMinibatched {
            target.minibatchGradients(
                p.positions, into: &force, threads: threads,
                communicator: p.share == nil ? communicator : SerialCommunicator(), step: step, seed: seed)
        } else if let potential {
            // V is evaluated per particle: a rank holding its share evaluates it alone.
            potential.evaluate(
                p.positions, dimension: d, values: &potentialValues, gradients: &force, threads: threads,
                communicator: p.share == nil ? communicator : SerialCommunicator())
        } else {
            for k in 0..<force.count { force[k] = 0 }
        }
        for w in interactions { w.addGradients(atShare: p, communicator: communicator, into: &force) }
        for k in 0..<force.count { force[k] = -force[k] }
        return force
    }

    /// The first variation δF/δμ at every particle of `p` that the weights follow (see the type):
    /// V(x_i) (the full V of a minibatched target) + Σ_{j≠i} w_j W(x_i − x_j) + λ log ρ̂(x_i), each
    /// term present when the flow has it. `potentialValues`: V at the particles when the caller has
    /// them already.
    public func firstVariation(_ p: Population, potentialValues known: [Double]? = nil) -> [Double] {
        var values = [Double](repeating: 0, count: p.count)
        if let known {
            values = known
        } else if let potential {
            var gradients: [Double] = []
            potential.evaluate(
                p.positions, dimension: p.dimension, values: &values, gradients: &gradients, threads: threads,
                communicator: communicator)
        }
        for w in interactions { w.addValues(p.positions, weights: p.weights, dimension: p.dimension, into: &values) }
        if temperature > 0 && p.count > 0 {
            let logRho = logDensityEstimate(p)
            for i in 0..<p.count { values[i] += temperature * logRho[i] }
        }
        return values
    }

    /// Silverman's bandwidth σ = s̄ (4/((d + 2)N))^{1/(d+4)} of the density estimate ρ̂, s̄² the
    /// particles' weighted variance averaged over the coordinates, Σ_i w_i |x_i − m|²/(d Σ_i w_i)
    /// with m = Σ_i w_i x_i/Σ_i w_i (1 if it is 0).
    public static func densityBandwidth(_ p: Population) -> Double {
        let (n, d) = (p.count, p.dimension)
        let total = p.weights.reduce(0, +)
        var variance = 0.0
        for a in 0..<d {
            var mean = 0.0
            for i in 0..<n { mean += p.weights[i] * p.positions[i * d + a] }
            mean /= total
            for i in 0..<n {
                let t = p.positions[i * d + a] - mean
                variance += p.weights[i] * t * t
            }
        }
        variance /= total * Double(d)
        let spread = variance > 0 ? variance.squareRoot() : 1
        return spread * pow(4 / (Double(d + 2) * Double(n)), 1 / Double(d + 4))
    }

    /// log ρ̂(x_i) at every particle, ρ̂(x) = Σ_j w_j K_σ(x − x_j) the weighted Gaussian kernel
    /// density estimate with its constant (2πσ²)^{−d/2} and σ = ``densityBandwidth(_:)``: one
    /// direct sum of the particles onto themselves (minimum images in the box), ρ̂ floored at the
    /// least normal double.
    public func logDensityEstimate(_ p: Population) -> [Double] {
        let sigma = Self.densityBandwidth(p)
        var density: [Double] = []
        var unused: [Double] = []
        DirectSum(threads: threads, domain: domain).sum(
            GaussianKernel(sigma: sigma), dimension: p.dimension, sources: p.positions, weights: p.weights,
            channels: 1, targets: p.positions, gradientChannels: [], values: &density, gradients: &unused)
        let logNormaliser = -0.5 * Double(p.dimension) * log(2 * Double.pi * sigma * sigma)
        // A particle of zero weight far from every other has ρ̂ = 0 in doubles: its log is
        // floored (≈ −708) so the weights' update stays finite (−∞ there would make it NaN).
        return density.map { log(max($0, .leastNormalMagnitude)) + logNormaliser }
    }

    /// The birth–death rates Λ_i = (v_i − (1/N) Σ_j v_j)/λ of every particle, v the first
    /// variation (``firstVariation(_:potentialValues:)``, with λ log ρ̂).
    public func birthDeathRates(_ p: Population) -> [Double] {
        let n = p.count
        var rates = firstVariation(p).map { $0 / temperature }
        let mean = rates.reduce(0, +) / Double(n)
        for i in 0..<n { rates[i] -= mean }
        return rates
    }

    /// Lu, Lu & Nolen's jumps at step `step` (see the type): particle i, in index order, with
    /// probability 1 − exp(−|Λ_i|h), takes a uniformly chosen other's position (Λ_i > 0) or
    /// gives it its own (Λ_i < 0).
    func birthDeathJumps(_ p: inout Population, step: Int, stepSize h: Double) {
        let (n, d) = (p.count, p.dimension)
        guard n > 1 else { return }
        let rates = birthDeathRates(p)
        for i in 0..<n where rates[i] != 0 {
            var rng = RandomStream(seed: seed, .flow, step, i)
            guard rng.uniform() < -expm1(-abs(rates[i]) * h) else { continue }
            var j = rng.index(below: n - 1)
            if j >= i { j += 1 }
            let (from, to) = rates[i] > 0 ? (j, i) : (i, j)
            for a in 0..<d { p.positions[to * d + a] = p.positions[from * d + a] }
        }
    }

    /// Wraps the positions into the box and, underdamped, draws the initial velocities (unless the
    /// state has them).
    public func prepare(_ state: inout SimulationState) {
        domain.wrap(&state.populations[0].positions)
        guard dynamics == .underdamped, state.populations[0].velocities == nil else { return }
        let p = state.populations[0]
        let d = p.dimension
        var v = [Double](repeating: 0, count: p.positions.count)
        if initialVelocity == .thermal && temperature > 0 {
            let s = temperature.squareRoot()
            for i in 0..<p.count {
                var rng = RandomStream(seed: seed, .noise, 0, i)
                for a in 0..<d { v[i * d + a] = s * rng.normal() }
            }
        }
        state.populations[0].velocities = v
    }

    /// The coefficients of the underdamped step: (e, c₁, c₂, sd ξ_x, ξ_v = a·z₁ + b·z₂ with (a, b)).
    public func underdampedCoefficients(
        _ h: Double
    ) -> (e: Double, c1: Double, c2: Double, sx: Double, a: Double, b: Double) {
        let g = friction
        let lambda = temperature
        let u = g * h
        let e = exp(-u)
        let e1 = -expm1(-u)
        let e2 = -expm1(-2 * u)
        let c1 = e1 / g
        // c₂ = (h − c₁)/γ = (u − (1 − e^{−u}))/γ², by its series for small u.
        let c2 = u < 1e-3 ? h * h * (0.5 - u / 6 + u * u / 24) : (h - c1) / g
        // γ·[h − 2(1 − e)/γ + (1 − e²)/(2γ)] = u − 2(1 − e^{−u}) + (1 − e^{−2u})/2 = u³/3 − u⁴/4 + 7u⁵/60 − u⁶/24 + …
        let q = u < 1e-3 ? u * u * u * (1.0 / 3 - u / 4 + 7 * u * u / 60 - u * u * u / 24) : u - 2 * e1 + 0.5 * e2
        let varX = 2 * lambda / (g * g) * q
        let varV = lambda * e2
        let cov = lambda / g * e1 * e1
        let sx = varX > 0 ? varX.squareRoot() : 0
        let a = sx > 0 ? cov / sx : 0
        let b = max(0, varV - a * a).squareRoot()
        return (e, c1, c2, sx, a, b)
    }

    /// One Euler–Maruyama or Fu–Wilson step of the first population, then the wrap into the box.
    /// The noise of each particle is keyed by its global index. A rank holding its share of the
    /// particles (``distributesParticles``) moves those; with the whole state, the ranks of
    /// `communicator` each move a block of particles and the blocks' positions (and velocities)
    /// are gathered.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let b = drift(state.populations[0], step: step)
        // The weights' update from the state before the step (positions and weights). The drift
        // has just evaluated V at these positions (but for a minibatched target's gradients).
        if fisherRao > 0 {
            let p = state.populations[0]
            let minibatched = (potential as? TargetPotential)?.isMinibatched ?? false
            let v = firstVariation(p, potentialValues: potential != nil && !minibatched ? potentialValues : nil)
            state.populations[0].weights = FisherRaoWeights.update(weights: p.weights, values: v, rate: -fisherRao * h)
        }
        let d = state.populations[0].dimension
        let n = state.populations[0].count
        let seed = self.seed
        let lambda = temperature
        let share = state.populations[0].share
        let held = share != nil
        // The noise of a particle is keyed by its global index.
        let noiseKeys = share?.ids
        let blocks = BlockPartition(count: n, parts: held ? 1 : communicator.size)
        let mine = blocks.range(of: held ? 0 : communicator.rank)
        switch dynamics {
        case .overdamped:
            // The positions' step βh (β = 1: h itself).
            let h = transport * h
            let s = (2 * lambda * h).squareRoot()
            state.populations[0].positions.withUnsafeMutableBufferPointer { xp in
                b.withUnsafeBufferPointer { bp in
                    let X = SharedMutablePointer(xp.baseAddress!)
                    let B = SharedPointer(bp.baseAddress!)
                    Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 4096) { range in
                        for i in range {
                            var rng = RandomStream(seed: seed, .noise, step, noiseKeys?[i] ?? i)
                            for a in 0..<d {
                                let k = i * d + a
                                X.base[k] += h * B.base[k] + (lambda > 0 ? s * rng.normal() : 0)
                            }
                        }
                    }
                }
            }
        case .underdamped:
            let c = underdampedCoefficients(h)
            var velocities = state.populations[0].velocities ?? [Double](repeating: 0, count: n * d)
            state.populations[0].positions.withUnsafeMutableBufferPointer { xp in
                velocities.withUnsafeMutableBufferPointer { vp in
                    b.withUnsafeBufferPointer { bp in
                        let X = SharedMutablePointer(xp.baseAddress!)
                        let V = SharedMutablePointer(vp.baseAddress!)
                        let B = SharedPointer(bp.baseAddress!)
                        Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 4096) { range in
                            for i in range {
                                var rng = RandomStream(seed: seed, .noise, step, noiseKeys?[i] ?? i)
                                for a in 0..<d {
                                    let k = i * d + a
                                    let v0 = V.base[k]
                                    let f = B.base[k]
                                    var x1 = X.base[k] + c.c1 * v0 + c.c2 * f
                                    var v1 = c.e * v0 + c.c1 * f
                                    if lambda > 0 {
                                        let z1 = rng.normal()
                                        let z2 = rng.normal()
                                        x1 += c.sx * z1
                                        v1 += c.a * z1 + c.b * z2
                                    }
                                    X.base[k] = x1
                                    V.base[k] = v1
                                }
                            }
                        }
                    }
                }
            }
            if !held { communicator.gatherBlocks(of: &velocities, width: d, blocks: blocks) }
            state.populations[0].velocities = velocities
        }
        if !held { communicator.gatherBlocks(of: &state.populations[0].positions, width: d, blocks: blocks) }
        domain.wrap(&state.populations[0].positions)
        if birthDeath { birthDeathJumps(&state.populations[0], step: step, stepSize: h) }
    }

    // MARK: Energies

    /// ∫V dμ = Σ_i w_i V(x_i) (0 without a potential).
    public func potentialEnergy(_ p: Population) -> Double {
        guard let potential else { return 0 }
        var g: [Double] = []
        potential.evaluate(
            p.positions, dimension: p.dimension, values: &potentialValues, gradients: &g, threads: threads,
            communicator: communicator)
        var e = 0.0
        for i in 0..<p.count { e += p.weights[i] * potentialValues[i] }
        return e
    }

    /// ½ Σ_{i≠j} w_i w_j W(x_i − x_j).
    public func interactionEnergy(_ p: Population) -> Double {
        interactions.reduce(0) { $0 + $1.energy(p.positions, weights: p.weights, dimension: p.dimension) }
    }

    /// ∫V dμ + ½∬W dμdμ: the free energy without its entropy term.
    public var energyDescription: String? {
        "∫V dμ + ½∬W dμdμ (the free energy without its entropy term; see free-energy)"
    }
    /// ∫V dμ + ½ Σ_{i≠j} w_i w_j W(x_i − x_j) of the first population.
    public func energy(_ state: SimulationState) -> Double {
        potentialEnergy(state.populations[0]) + interactionEnergy(state.populations[0])
    }

    /// The flow's domain.
    public func domain(ofPopulation index: Int) -> Domain { domain }

    /// True: V acts on each particle alone, the noise is keyed by global index, and each
    /// interaction term sums over the ranks' particles (``Interaction/addGradients(atShare:communicator:into:)``).
    /// With `fisher-rao` (birth–death), the weights' normalisation (the density estimate and the
    /// jumps) sum over every particle: each rank then
    /// holds the whole state (the potential's evaluations still shared by blocks).
    public var distributesParticles: Bool { fisherRao == 0 && !birthDeath }

    /// Dynamics, temperature, domain, potential and interaction specs, and the engines.
    public var report: [String: String] {
        var r: [String: String] = [
            "dynamics": dynamics.rawValue, "temperature": formatNumber(temperature),
            "domain": domain.description, "potential": potential?.spec ?? "none",
            "interaction": interactions.isEmpty ? "none" : interactions.map(\.spec).joined(separator: " + "),
        ]
        if dynamics == .underdamped { r["friction"] = formatNumber(friction) }
        if fisherRao > 0 || transport != 1 {
            r["fisher-rao"] = formatNumber(fisherRao)
            r["transport"] = formatNumber(transport)
        }
        if birthDeath { r["birth-death"] = "true" }
        for (k, w) in interactions.enumerated() {
            for (key, v) in w.report {
                r[interactions.count == 1 ? "interaction-\(key)" : "interaction\(k + 1)-\(key)"] = v
            }
        }
        return r
    }

    static let entry = FlowEntry(
        name: "langevin", summary: "mean-field Langevin dynamics, overdamped or underdamped (McKean–Vlasov)",
        make: { s, ctx in
            let dynamics = Dynamics(
                rawValue: try s.string("dynamics", default: "overdamped", oneOf: Dynamics.allCases.map(\.rawValue)))!
            let temperature = try s.real("temperature", default: 1, .nonNegative)
            let friction = dynamics == .underdamped ? try s.real("friction", default: 1, .positive) : 1
            let initialVelocity =
                dynamics == .underdamped
                ? InitialVelocity(
                    rawValue: try s.string(
                        "initial-velocity", default: "thermal", oneOf: InitialVelocity.allCases.map(\.rawValue)))!
                : .thermal
            let domain: Domain = try s.optionalReal("period", .period).map { .periodic(length: $0) } ?? .free
            let potential = try PotentialRegistry.read(
                s, "potential",
                context: PotentialContext(dimension: ctx.dimension, threads: ctx.threads, target: ctx.target))
            let interactions = try InteractionRegistry.read(s, "interaction", flow: ctx, domain: domain)
            // fisher-rao, transport and birth-death are read only when given, so other scenarios
            // resolve unchanged.
            let fisherRao = s.contains("fisher-rao") ? try s.real("fisher-rao", default: 0, .nonNegative) : 0
            let transport = s.contains("transport") ? try s.real("transport", default: 1, .nonNegative) : 1
            let birthDeath = s.contains("birth-death") ? try s.bool("birth-death", default: false) : false
            let (n, d) = (Double(ctx.particleCount), Double(ctx.dimension))
            try checkWeightedKeys(
                s, fisherRao: fisherRao, transport: transport, birthDeath: birthDeath, dynamics: dynamics,
                temperature: temperature)
            // Memory: per particle the force and the potential's value (and the velocities; with
            // birth–death or an entropic fisher-rao the density estimate's sum and its values).
            let estimatesDensity = birthDeath || (fisherRao > 0 && temperature > 0)
            s.memory.addWork(population: 0, doubles: n * (d + 1) + (estimatesDensity ? 2 * n : 0))
            if dynamics == .underdamped {
                s.memory.addWork(population: 0, doubles: n * d, "velocities", columns: ctx.dimension)
            }
            return LangevinFlow(
                dynamics: dynamics, temperature: temperature, friction: friction, potential: potential,
                interactions: interactions, domain: domain, initialVelocity: initialVelocity,
                fisherRao: fisherRao, transport: transport, birthDeath: birthDeath, seed: ctx.seed,
                threads: ctx.threads,
                communicator: ctx.communicator)
        }, needsTarget: false)

    /// Refuses, located at the key, what the weighted and birth–death steps do not implement.
    static func checkWeightedKeys(
        _ s: Settings, fisherRao: Double, transport: Double, birthDeath: Bool, dynamics: Dynamics,
        temperature: Double
    ) throws {
        if birthDeath && fisherRao > 0 {
            throw s.fail("birth-death", "is not combined with fisher-rao (the jumps keep the weights uniform)")
        }
        for (key, given) in [("fisher-rao", fisherRao > 0), ("transport", transport != 1), ("birth-death", birthDeath)]
        where given && dynamics == .underdamped {
            throw s.fail(key, "needs dynamics = \"overdamped\" (not implemented for the underdamped step)")
        }
        if birthDeath && temperature == 0 {
            throw s.fail("birth-death", "needs temperature > 0 (the rates divide V by λ)")
        }
    }
}
