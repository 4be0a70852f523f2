import Communication
import KernelSum

/// A flow whose loss metrics (`train-loss`, `test-loss`) read its network's predictions.
protocol NetworkPredictions: AnyObject {
    /// ½ mean (f(z) − y)² on the training set, or on the test set when `test`.
    func loss(_ p: Population, test: Bool) -> Double
}

/// Entropic fictitious play (Chen, Ren & Wang 2022, arXiv:2202.05841; in the finite-sum form of
/// Nitanda, Oko, Wu, Takenouchi & Suzuki, ICML 2023) for the two-layer network of
/// ``TwoLayerNetworkFlow``, beside its mean-field Langevin dynamics, for the same objective
///
///     F(μ) = R(μ) + (α/2) ∫|θ|² dμ + τ ∫ μ log μ,   R(μ) = ½ E_n[(f_μ(z) − y)²],
///     f_μ(z) = ∫ h(θ, z) dμ(θ),   h(θ, z) = a σ(b·z + c).
///
/// Outer iteration k: the proximal Gibbs measure of μ_k,
///
///     p̂_k(θ) ∝ exp(−(1/τ)[Ψ_k(θ) + (α/2)|θ|²]),   Ψ_k(θ) = δR/δμ(μ_k)(θ) = E_n[(f_{μ_k}(z) − y) h(θ, z)],
///
/// and μ_{k+1} = (1 − η) μ_k + η p̂_k (`mixing` η ∈ (0, 1], constant: the paper's explicit
/// Euler step of dμ/dt = p̂ − μ). R depends on μ only through the n training predictions, so
/// the outer state is the prediction vector F_k = f_{μ_k}(z_j) (the finite-sum paper's dual
/// view), updated F_{k+1} = (1 − η) F_k + η f_{p̂_k}, and so are the test predictions and the
/// second moment m_k = ∫|θ|² dμ_k: the mixture is never held as particles. f_{p̂_k} and
/// ∫|θ|² dp̂_k are the averages over the N particles after an inner loop of `inner-steps` K
/// steps of independent (non-interacting) unadjusted Langevin on p̂_k,
/// θ ← θ − h[∇Ψ_k(θ) + αθ] + √(2τh) ξ, with Ψ_k frozen at F_k, warm-started from the previous
/// inner loop's particles (the scenario's `step-size` h; p̂_k needs τ > 0).
///
/// A simulation step is one inner step, so `steps` counts gradient evaluations of the N
/// particles (as for ``TwoLayerNetworkFlow``, one per step) and h·steps is Langevin time: a
/// comparison with mean-field Langevin at the same `step-size` is per gradient evaluation.
/// Outer iteration k ends at step kK (one extra forward pass over the training and test sets
/// for the estimates); record every K steps for one record per outer iteration. The metrics
/// (`train-loss`, `test-loss`, `energy`) are of the mixture μ_k of the last completed outer
/// iteration, μ_0 being the initial particles. `energy` is R(μ_k) + (α/2) m_k, the objective
/// without its entropy term, as ``TwoLayerNetworkFlow``'s: the mixture's entropy is not
/// estimable from particles of the last p̂ alone.
///
/// The predictions and the iteration are checkpointed (`flow` of checkpoint.wgf); the noise
/// is keyed by (seed, step, neuron), so a resumed run is the uninterrupted one bit for bit. On
/// K ranks the network's neurons are shared by blocks exactly as ``TwoLayerNetworkFlow``'s, and
/// the second moment is summed by the same blocks: one process's values bit for bit.
public final class EntropicFictitiousPlay: Flow, NetworkPredictions, StatefulPart {
    /// The network, its data, σ, α and τ (its `velocityField` and step with frozen residuals).
    public let network: TwoLayerNetworkFlow
    /// K, Langevin steps per outer iteration.
    public let innerSteps: Int
    /// η, the weight of p̂_k in μ_{k+1}.
    public let mixing: Double

    /// The mixture's predictions on the training and test sets and its second moment ∫|θ|² dμ.
    public struct Predictions: Equatable, Sendable {
        /// f_μ(z_j) on the training inputs.
        public var train: [Double]
        /// f_μ(z) on the test inputs.
        public var test: [Double]
        /// ∫|θ|² dμ.
        public var secondMoment: Double
    }
    /// μ_k's predictions (nil before the first step: μ_0 is then the particles themselves).
    public private(set) var mixture: Predictions?
    /// The last inner loop's estimates of f_{p̂_k} and ∫|θ|² dp̂_k (nil before the first outer
    /// iteration ends; not checkpointed: only the mixture carries on).
    public private(set) var lastEstimate: Predictions?
    /// k, the outer iterations completed.
    public private(set) var outerIterations = 0

    /// A flow over `network` (whose temperature must be > 0).
    public init(network: TwoLayerNetworkFlow, innerSteps: Int, mixing: Double) {
        precondition(network.temperature > 0 && innerSteps >= 1 && mixing > 0 && mixing <= 1)
        self.network = network
        self.innerSteps = innerSteps
        self.mixing = mixing
    }

    /// The particles' own predictions and second moment (N neurons, weights w_i), summed by the
    /// network's blocks of neurons on any number of ranks.
    func predictions(of p: Population) -> Predictions {
        let train = network.forward(p, network.trainInputs, keep: false)
        let test = network.forward(p, network.testInputs, keep: false)
        let (n, _, firstRow) = network.layout(of: p)
        let blocks = network.shares(n).blocks
        let mine = blocks[network.communicator.rank]
        let size = TwoLayerNetworkFlow.neuronBlock
        var partial = [Double](repeating: 0, count: mine.count)
        for (local, block) in mine.enumerated() {
            for i in (block * size)..<min(n, (block + 1) * size) {
                var r2 = 0.0
                for k in 0..<p.dimension {
                    r2 += p.positions[(i - firstRow) * p.dimension + k] * p.positions[(i - firstRow) * p.dimension + k]
                }
                partial[local] += p.weights[i - firstRow] * r2
            }
        }
        if network.communicator.size > 1 {
            partial = network.communicator.allGather(partial, counts: blocks.map(\.count))
        }
        return Predictions(train: train, test: test, secondMoment: partial.reduce(0, +))
    }

    /// ∇Ψ_k(θ_i) + α θ_i for every neuron of `p`: the drift of the inner Langevin loop, whose
    /// stationary law is p̂_k ∝ exp(−(Ψ_k + α|θ|²/2)/τ). Ψ_k uses μ_k's predictions, not the
    /// particles' (before the first step μ_0's, i.e. the particles').
    public func proximalGibbsDrift(_ p: Population) -> [Double] {
        let labels = network.trainLabels
        let frozen = mixture?.train
        return network.velocityField(p) { f in
            let F = frozen ?? f
            return (0..<labels.count).map { F[$0] - labels[$0] }
        }
    }

    /// One inner Langevin step on p̂_k; at the end of an inner loop (step a multiple of K),
    /// the outer update of the predictions.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        if mixture == nil { mixture = predictions(of: state.populations[0]) }
        network.langevinStep(&state, velocity: proximalGibbsDrift(state.populations[0]), step: step, stepSize: h)
        guard step % innerSteps == 0, var mixed = mixture else { return }
        let estimate = predictions(of: state.populations[0])
        let eta = mixing
        for j in 0..<mixed.train.count { mixed.train[j] = (1 - eta) * mixed.train[j] + eta * estimate.train[j] }
        for j in 0..<mixed.test.count { mixed.test[j] = (1 - eta) * mixed.test[j] + eta * estimate.test[j] }
        mixed.secondMoment = (1 - eta) * mixed.secondMoment + eta * estimate.secondMoment
        mixture = mixed
        lastEstimate = estimate
        outerIterations = step / innerSteps
    }

    /// ½ mean (f − y)².
    static func halfMeanSquare(_ f: [Double], _ y: [Double]) -> Double {
        var s = 0.0
        for k in 0..<y.count { s += (f[k] - y[k]) * (f[k] - y[k]) }
        return 0.5 * s / Double(max(1, y.count))
    }

    /// ½ mean (f_{μ_k}(z) − y)² on a data set (μ_0: the particles).
    public func loss(_ p: Population, test: Bool) -> Double {
        guard let mixed = mixture else { return network.loss(p, test: test) }
        return Self.halfMeanSquare(test ? mixed.test : mixed.train, test ? network.testLabels : network.trainLabels)
    }

    /// The mixture's training risk with weight decay (no entropy).
    public var energyDescription: String? {
        "½ E_train[(f_μ(z) − y)²] + (α/2) ∫|θ|² dμ of the mixture μ_k (training risk with weight decay, no entropy)"
    }
    /// R(μ_k) + (α/2) ∫|θ|² dμ_k.
    public func energy(_ state: SimulationState) -> Double {
        guard let mixed = mixture else { return network.energy(state) }
        return Self.halfMeanSquare(mixed.train, network.trainLabels) + 0.5 * network.weightDecay * mixed.secondMoment
    }

    /// The network's report, K and η.
    public var report: [String: String] {
        network.report.merging(["inner-steps": String(innerSteps), "mixing": String(mixing)]) { a, _ in a }
    }

    /// The network's neurons, in its blocks.
    public var distributesParticles: Bool { network.distributesParticles }
    /// The network's fixed blocks of neurons.
    public var particleLayout: ParticleDecomposition.Layout { network.particleLayout }

    /// The mixture's predictions and second moment, and k (empty before the first step).
    public func saveState() -> PartState {
        guard let mixed = mixture else { return PartState() }
        return PartState(
            reals: ["train": mixed.train, "test": mixed.test, "second-moment": [mixed.secondMoment]],
            integers: ["outer-iterations": [outerIterations]])
    }

    /// Puts back a state from ``saveState()``; an empty one starts from the particles.
    public func restoreState(_ state: PartState) throws {
        guard !state.isEmpty else {
            mixture = nil
            outerIterations = 0
            return
        }
        let part = "entropic-fictitious-play"
        mixture = Predictions(
            train: try state.reals("train", count: network.sampleCounts.train, part: part),
            test: try state.reals("test", count: network.sampleCounts.test, part: part),
            secondMoment: try state.reals("second-moment", count: 1, part: part)[0])
        outerIterations = try state.integers("outer-iterations", count: 1, part: part)[0]
        lastEstimate = nil
    }

    static let entry = FlowEntry(
        name: "entropic-fictitious-play",
        summary:
            "entropic fictitious play for the two-layer network: Langevin inner loops on the proximal Gibbs measure, mixed predictions (Chen et al. 2022)",
        make: { s, ctx in
            // The network's Wasserstein–Fisher–Rao keys have no meaning here: the inner loop
            // samples p̂_k with uniform weights and its own step.
            for key in ["fisher-rao", "transport"] where s.contains(key) {
                throw s.fail(key, "is a key of two-layer-network, not of entropic-fictitious-play (uniform weights)")
            }
            guard let network = try TwoLayerNetworkFlow.entry.make(s, ctx) as? TwoLayerNetworkFlow else {
                preconditionFailure("two-layer-network makes a TwoLayerNetworkFlow")
            }
            guard network.temperature > 0 else {
                throw s.fail(
                    "temperature",
                    "must be > 0 for entropic-fictitious-play: the proximal Gibbs measure exp(−(δR/δμ + α|θ|²/2)/τ) needs τ > 0"
                )
            }
            let flow = EntropicFictitiousPlay(
                network: network,
                innerSteps: try s.integer("inner-steps", default: 10, .positiveInteger),
                mixing: try s.real(
                    "mixing", default: 0.1, Allowed("a number in (0, 1]") { $0 > 0 && $0 <= 1 }))
            s.register(flow, as: "mixing")
            return flow
        }, needsTarget: false, particleDimension: TwoLayerNetworkFlow.entry.particleDimension)
}
