import Communication
import Foundation
import KernelSum

/// Mean-field training of a two-layer network (Mei, Montanari & Nguyen 2018; Chizat & Bach
/// 2018): each particle is a neuron θ_i = (a_i, b_i, c_i) ∈ R^{1+d+1} (coordinates x1 = a,
/// x2..x(d+1) = b, x(d+2) = c) of
///
///     f(z) = Σ_i w_i a_i σ(b_i·z + c_i)      (w_i = 1/N unless `fisher-rao` moves them),
///
/// trained on the squared loss R = ½ E_n[(f(z) − y)²] by the mean-field Langevin dynamics
/// dθ_i = −[∇Ψ(θ_i) + α θ_i] dt + √(2τ) dB_i with Ψ(θ) = E_n[(f(z) − y) a σ(b·z + c)] (the
/// first variation of R; the particle gradient of R is w_i ∇Ψ(θ_i), so time is the
/// mean-field time), α the weight decay and τ the temperature; Euler–Maruyama, full batch.
/// Noise from `RandomStream(seed, .noise, step, i)`.
///
/// Wasserstein–Fisher–Rao (`fisher-rao = α_FR > 0`, `transport = β`): the neurons' weights
/// follow the first variation of the risk with weight decay, V(θ_i) = Ψ(θ_i) + (α/2)|θ_i|², by
/// `FisherRaoWeights` (w_i ← w_i exp(−α_FR h(V(θ_i) − Σ_k w_k V(θ_k)))/Z, from the state before
/// the step), and the neurons move with step βh. The entropy's first variation is not
/// implemented: `fisher-rao` needs temperature 0.
///
/// The output is summed by blocks of `neuronBlock` neurons, f(z) = Σ_blocks (Σ_{i ∈ block}
/// w_i a_i σ(b_i·z + c_i)), the blocks' partial sums added in block order: on K ranks each
/// holds and steps its whole blocks of neurons (``particleLayout``) and computes their
/// activations, partial sums and gradients; only the partial sums (n per block) are gathered,
/// and every rank's output is one process's bit for bit (O(N·n·d) per step shared: N neurons,
/// n samples). Given the whole population (a metric's), each rank computes its blocks of it and
/// the gradients are gathered.
///
/// Data: a teacher network of k neurons, y = (1/k) Σ_j σ*(b*_j·z) + noise with b*_j uniform
/// on the unit sphere (drawn from `RandomStream(seed, .targetSample, 1, j)`), on inputs
/// z ~ N(0, I_d) (`gaussian`) or uniform on the sphere of radius √d (`sphere`); or rows of a
/// CSV file (`data-file`, header x1..x(d+1), the last column the label; the last
/// `test-fraction` of the rows is the test set).
public final class TwoLayerNetworkFlow: Flow, NetworkPredictions {
    /// σ of the network (and of the teacher): ReLU, tanh or the logistic function.
    public enum Activation: String, CaseIterable, Sendable {
        case relu, tanh, sigmoid
        @inline(__always) func apply(_ u: Double) -> (value: Double, slope: Double) {
            switch self {
            case .relu: return u > 0 ? (u, 1) : (0, 0)
            case .tanh:
                let t = Foundation.tanh(u)
                return (t, 1 - t * t)
            case .sigmoid:
                let s = 1 / (1 + exp(-u))
                return (s, s * (1 - s))
            }
        }
    }

    /// d, the inputs' dimension (a neuron has d + 2 coordinates).
    public let inputDimension: Int
    /// σ.
    public let activation: Activation
    /// α.
    public let weightDecay: Double
    /// τ (0: no noise).
    public let temperature: Double
    /// α_FR ≥ 0, the rate of the neurons' Fisher–Rao weight update (0: the weights stay).
    public let fisherRao: Double
    /// β ≥ 0, the rate of the neurons' motion: their step is βh.
    public let transport: Double
    /// Inputs (row-major, n × d) and labels, drawn (teacher data) at first use.
    public var trainInputs: [Double] { data.value.train.inputs }
    /// The training labels y, one per input.
    public var trainLabels: [Double] { data.value.train.labels }
    /// The test inputs (row-major, n × d).
    public var testInputs: [Double] { data.value.test.inputs }
    /// The test labels.
    public var testLabels: [Double] { data.value.test.labels }
    typealias DataSet = (inputs: [Double], labels: [Double])
    let data: Deferred<(train: DataSet, test: DataSet)>
    let sampleCounts: (train: Int, test: Int)
    let seed: UInt64
    let threads: Int
    /// The ranks that share the neurons (whole blocks each).
    let communicator: any Communicator
    /// σ(u_is) and σ'(u_is) of this rank's neurons (neuron-major), kept by the last forward pass.
    var values: [Double] = [], slopes: [Double] = [], gradient: [Double] = []
    /// V(θ_i) = Ψ(θ_i) + (α/2)|θ_i|² of every row, made by ``velocityField(_:)`` with `fisher-rao`.
    var variation: [Double] = []
    /// Neurons per block of the output's sum (a fixed association of the sum, whatever K).
    static let neuronBlock = 64

    /// A flow trained on the given data sets (inputs row-major, n × d; one label per row).
    public convenience init(
        inputDimension: Int, activation: Activation, weightDecay: Double, temperature: Double,
        train: (inputs: [Double], labels: [Double]), test: (inputs: [Double], labels: [Double]),
        fisherRao: Double = 0, transport: Double = 1, seed: UInt64, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.init(
            inputDimension: inputDimension, activation: activation, weightDecay: weightDecay, temperature: temperature,
            data: Deferred((train, test)), counts: (train.labels.count, test.labels.count), fisherRao: fisherRao,
            transport: transport, seed: seed, threads: threads, communicator: communicator)
    }

    /// `data`: the training and test sets (of `counts` samples), made when the run first needs them.
    init(
        inputDimension: Int, activation: Activation, weightDecay: Double, temperature: Double,
        data: Deferred<(train: DataSet, test: DataSet)>, counts: (train: Int, test: Int), fisherRao: Double = 0,
        transport: Double = 1, seed: UInt64, threads: Int, communicator: any Communicator = SerialCommunicator()
    ) {
        self.fisherRao = fisherRao
        self.transport = transport
        self.inputDimension = inputDimension
        self.activation = activation
        self.weightDecay = weightDecay
        self.temperature = temperature
        self.data = data
        sampleCounts = counts
        self.seed = seed
        self.threads = max(1, threads)
        self.communicator = communicator
    }

    /// Each rank's neurons (whole blocks of ``neuronBlock``, the blocks dealt out evenly) among N,
    /// and each rank's blocks: the ranks' shares under ``particleLayout``.
    func shares(_ n: Int) -> (neurons: [Range<Int>], blocks: [Range<Int>]) {
        let b = TwoLayerNetworkFlow.neuronBlock
        let deal = BlockPartition(count: (n + b - 1) / b, parts: communicator.size)
        let neurons = (0..<deal.parts).map {
            ParticleDecomposition.blockShare(rank: $0, ranks: deal.parts, count: n, block: b)
        }
        return (neurons, (0..<deal.parts).map(deal.range(of:)))
    }

    /// N, this rank's neurons, and the index of its first row in `p` (0 when `p` is whole; the
    /// first of its neurons when `p` is this rank's share, which must be exactly its blocks).
    func layout(of p: Population) -> (count: Int, mine: Range<Int>, firstRow: Int) {
        let n = p.share?.total ?? p.count
        let mine = shares(n).neurons[communicator.rank]
        guard let share = p.share else { return (n, mine, 0) }
        precondition(
            share.ids.count == mine.count && share.ids.first == mine.first && share.ids.last == mine.last,
            "TwoLayerNetworkFlow: a rank's share must be its blocks of neurons")
        return (n, mine, mine.lowerBound)
    }

    /// Neurons are dealt to the ranks in fixed blocks of `neuronBlock` indices: each neuron
    /// meets every other only through the outputs on the data, so space gives nothing to cut by.
    /// With `fisher-rao` the weights' normalisation sums over every neuron: each rank then holds
    /// the whole state (its blocks of neurons still computed apart, as for a metric).
    public var distributesParticles: Bool { fisherRao == 0 }
    /// Fixed blocks of `neuronBlock` neurons.
    public var particleLayout: ParticleDecomposition.Layout { .blocks(of: TwoLayerNetworkFlow.neuronBlock) }

    /// The network's outputs on `inputs`; keeps σ(u_is) and σ'(u_is) of this rank's neurons
    /// (neuron-major) when `keep`. Each rank sums its blocks of neurons; the blocks' partial sums
    /// are gathered and added in block order.
    func forward(_ p: Population, _ inputs: [Double], keep: Bool) -> [Double] {
        let d = inputDimension
        let m = inputs.count / d
        let (n, mine, firstRow) = layout(of: p)
        let pd = p.dimension
        let blockShares = shares(n).blocks
        let myBlocks = blockShares[communicator.rank]
        var sv = [Double](repeating: 0, count: mine.count * m)
        var ss = [Double](repeating: 0, count: keep ? mine.count * m : 0)
        var partials = [Double](repeating: 0, count: myBlocks.count * m)
        let act = activation
        let blockSize = TwoLayerNetworkFlow.neuronBlock
        // (A rank may hold no neuron: fewer blocks than ranks.)
        if !mine.isEmpty {
            p.positions.withUnsafeBufferPointer { th in
                p.weights.withUnsafeBufferPointer { wp in
                    inputs.withUnsafeBufferPointer { zp in
                        sv.withUnsafeMutableBufferPointer { svp in
                            ss.withUnsafeMutableBufferPointer { ssp in
                                partials.withUnsafeMutableBufferPointer { pp in
                                    let T = SharedPointer(th.baseAddress!)
                                    let W = SharedPointer(wp.baseAddress!)
                                    let Z = SharedPointer(zp.baseAddress!)
                                    let SV = SharedMutablePointer(svp.baseAddress!)
                                    let SS = keep ? SharedMutablePointer(ssp.baseAddress!) : nil
                                    let P = SharedMutablePointer(pp.baseAddress!)
                                    // One block of neurons per task: activations, then the block's partial sum.
                                    Parallel.forEachChunk(myBlocks.count, threads: threads, minimumChunk: 1) { chunk in
                                        for local in chunk {
                                            let block = myBlocks.lowerBound + local
                                            let first = block * blockSize
                                            for i in first..<min(n, first + blockSize) {
                                                let at = (i - firstRow) * pd
                                                let b = T.base + at + 1
                                                let c = T.base[at + d + 1]
                                                let row = (i - mine.lowerBound) * m
                                                for s in 0..<m {
                                                    var u = c
                                                    for a in 0..<d { u += b[a] * Z.base[s * d + a] }
                                                    let (v, sl) = act.apply(u)
                                                    SV.base[row + s] = v
                                                    SS?.base[row + s] = sl
                                                }
                                                let coefficient = W.base[i - firstRow] * T.base[at]
                                                let partial = P.base + local * m
                                                for s in 0..<m { partial[s] += coefficient * SV.base[row + s] }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if communicator.size > 1 {
            partials = communicator.allGather(partials, counts: blockShares.map { $0.count * m })
        }
        var f = [Double](repeating: 0, count: m)
        for b in 0..<(partials.count / max(1, m)) {
            for s in 0..<m { f[s] += partials[b * m + s] }
        }
        if keep {
            values = sv
            slopes = ss
        }
        return f
    }

    /// ½ mean (f(z) − y)² on a data set.
    public func loss(_ p: Population, test: Bool) -> Double {
        let f = forward(p, test ? testInputs : trainInputs, keep: false)
        let y = test ? testLabels : trainLabels
        var s = 0.0
        for k in 0..<y.count { s += (f[k] - y[k]) * (f[k] - y[k]) }
        return 0.5 * s / Double(max(1, y.count))
    }

    /// ∇Ψ(θ_i) + α θ_i for every neuron of `p` (row-major, one row per row of `p`, (d + 2)
    /// values each); each rank computes its neurons' and, when `p` is whole, the ranks gather them.
    /// With `fisher-rao`, also the first variation V(θ_i) of every row (``firstVariation(_:)``).
    public func velocityField(_ p: Population) -> [Double] {
        let labels = data.value.train.labels
        return velocityField(p) { f in (0..<labels.count).map { f[$0] - labels[$0] } }
    }

    /// ∇Ψ(θ_i) + α θ_i with Ψ(θ) = E_n[r(z) a σ(b·z + c)] for the residuals r = `residuals(f)`,
    /// f the network's outputs on the training set (entropic fictitious play freezes r at its
    /// mixture's); rows as in ``velocityField(_:)``.
    func velocityField(_ p: Population, residuals: ([Double]) -> [Double]) -> [Double] {
        let inputs = data.value.train.inputs
        let d = inputDimension
        let pd = d + 2
        let (n, mine, firstRow) = layout(of: p)
        let m = data.value.train.labels.count
        let r = residuals(forward(p, inputs, keep: true))
        if gradient.count != p.count * pd { gradient = [Double](repeating: 0, count: p.count * pd) }
        let wd = weightDecay
        let inv = 1 / Double(m)
        if !mine.isEmpty {
            p.positions.withUnsafeBufferPointer { th in
                inputs.withUnsafeBufferPointer { zp in
                    values.withUnsafeBufferPointer { svp in
                        slopes.withUnsafeBufferPointer { ssp in
                            r.withUnsafeBufferPointer { rp in
                                gradient.withUnsafeMutableBufferPointer { gp in
                                    let T = SharedPointer(th.baseAddress!)
                                    let Z = SharedPointer(zp.baseAddress!)
                                    let SV = SharedPointer(svp.baseAddress!)
                                    let SS = SharedPointer(ssp.baseAddress!)
                                    let R = SharedPointer(rp.baseAddress!)
                                    let G = SharedMutablePointer(gp.baseAddress!)
                                    Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 4) { range in
                                        for i in range {
                                            let row = (i - mine.lowerBound) * m
                                            let at = (i - firstRow) * pd
                                            let a = T.base[at]
                                            let g = G.base + at
                                            for k in 0..<pd { g[k] = 0 }
                                            for s in 0..<m {
                                                let rs = R.base[s]
                                                g[0] += rs * SV.base[row + s]
                                                let q = rs * a * SS.base[row + s]
                                                if q != 0 {
                                                    for k in 0..<d { g[1 + k] += q * Z.base[s * d + k] }
                                                    g[d + 1] += q
                                                }
                                            }
                                            for k in 0..<pd { g[k] = g[k] * inv + wd * T.base[at + k] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if p.share == nil { communicator.gatherBlocks(of: &gradient, width: pd, rows: shares(n).neurons) }
        if fisherRao > 0 {
            fillFirstVariation(p, residuals: r, mine: mine, firstRow: firstRow)
            if p.share == nil { communicator.gatherBlocks(of: &variation, width: 1, rows: shares(n).neurons) }
        }
        return gradient
    }

    /// V(θ_i) = a_i E_n[r σ(b_i·z + c_i)] + (α/2)|θ_i|² of this rank's neurons into `variation`
    /// (by rows of `p`), from the residuals r = f − y and the activations the forward pass kept.
    func fillFirstVariation(_ p: Population, residuals r: [Double], mine: Range<Int>, firstRow: Int) {
        let pd = inputDimension + 2
        let m = r.count
        if variation.count != p.count { variation = [Double](repeating: 0, count: p.count) }
        for i in mine {
            let at = (i - firstRow) * pd
            let row = (i - mine.lowerBound) * m
            var correlation = 0.0
            for s in 0..<m { correlation += r[s] * values[row + s] }
            var r2 = 0.0
            for k in 0..<pd { r2 += p.positions[at + k] * p.positions[at + k] }
            variation[i - firstRow] = p.positions[at] * correlation / Double(m) + 0.5 * weightDecay * r2
        }
    }

    /// The first variation of the risk with weight decay at every neuron of `p`,
    /// V(θ_i) = Ψ(θ_i) + (α/2)|θ_i|², Ψ(θ) = E_n[(f(z) − y) a σ(b·z + c)] (needs `fisher-rao` > 0;
    /// one forward and backward pass).
    public func firstVariation(_ p: Population) -> [Double] {
        precondition(fisherRao > 0, "TwoLayerNetworkFlow.firstVariation: the flow has no fisher-rao")
        _ = velocityField(p)
        return variation
    }

    /// One Euler–Maruyama step of every neuron held: θ ← θ − βh[∇Ψ(θ) + αθ] + √(2τβh) ξ, and
    /// with `fisher-rao` the weights' update from the state before the step.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let g = velocityField(state.populations[0])
        if fisherRao > 0 {
            state.populations[0].weights = FisherRaoWeights.update(
                weights: state.populations[0].weights, values: variation, rate: -fisherRao * h)
        }
        // The neurons' step βh (β = 1: h itself).
        langevinStep(&state, velocity: g, step: step, stepSize: transport * h)
    }

    /// θ ← θ − h g + √(2τh) ξ for every neuron held, g its row of `velocity`; ξ from
    /// `RandomStream(seed, .noise, step, i)`, i the neuron's index.
    func langevinStep(_ state: inout SimulationState, velocity g: [Double], step: Int, stepSize h: Double) {
        let p = state.populations[0]
        let pd = inputDimension + 2
        let s = (2 * temperature * h).squareRoot()
        for row in 0..<p.count {
            var rng = RandomStream(seed: seed, .noise, step, p.share?.ids[row] ?? row)
            for k in 0..<pd {
                state.populations[0].positions[row * pd + k] +=
                    -h * g[row * pd + k] + (temperature > 0 ? s * rng.normal() : 0)
            }
        }
    }

    /// The training risk with weight decay.
    public var energyDescription: String? {
        "½ E_train[(f(z) − y)²] + (α/2) Σ_i w_i |θ_i|² (training risk with weight decay)"
    }
    /// ½ E_train[(f(z) − y)²] + (α/2) Σ_i w_i |θ_i|².
    public func energy(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        var r = 0.0
        for i in 0..<p.count {
            for k in 0..<p.dimension {
                r += p.weights[i] * p.positions[i * p.dimension + k] * p.positions[i * p.dimension + k]
            }
        }
        return loss(p, test: false) + 0.5 * weightDecay * r
    }

    /// The input dimension, activation and data set sizes.
    public var report: [String: String] {
        var r = [
            "input-dimension": String(inputDimension), "activation": activation.rawValue,
            "train-samples": String(sampleCounts.train), "test-samples": String(sampleCounts.test),
        ]
        if fisherRao > 0 || transport != 1 {
            r["fisher-rao"] = formatNumber(fisherRao)
            r["transport"] = formatNumber(transport)
        }
        return r
    }

    // MARK: Data

    /// Teacher data: (inputs, labels) of `count` samples, sample s drawn from
    /// `RandomStream(seed, .targetSample, 2 + set, s)` (`set`: 0 training, 1 test).
    ///
    /// - Parameters:
    ///   - count: The number of samples.
    ///   - d: The inputs' dimension.
    ///   - sphere: Inputs uniform on the sphere of radius √d rather than N(0, I_d).
    ///   - teacher: The k teacher directions b*_j (row-major, k × d).
    ///   - k: The teacher's neurons.
    ///   - activation: The teacher's σ*.
    ///   - noise: The standard deviation of the label noise.
    ///   - seed: The scenario's seed.
    ///   - set: 0 for the training set, 1 for the test set.
    public static func teacherData(
        count: Int, dimension d: Int, sphere: Bool, teacher: [Double], neurons k: Int,
        activation: Activation, noise: Double, seed: UInt64, set: Int
    ) -> ([Double], [Double]) {
        var z = [Double](repeating: 0, count: count * d)
        var y = [Double](repeating: 0, count: count)
        for s in 0..<count {
            var rng = RandomStream(seed: seed, .targetSample, 2 + set, s)
            var r2 = 0.0
            for a in 0..<d {
                let g = rng.normal()
                z[s * d + a] = g
                r2 += g * g
            }
            if sphere {
                let c = Double(d).squareRoot() / r2.squareRoot()
                for a in 0..<d { z[s * d + a] *= c }
            }
            var f = 0.0
            for j in 0..<k {
                var u = 0.0
                for a in 0..<d { u += teacher[j * d + a] * z[s * d + a] }
                f += activation.apply(u).value
            }
            y[s] = f / Double(k) + (noise > 0 ? noise * rng.normal() : 0)
        }
        return (z, y)
    }

    static func inputDimension(_ s: Settings) throws -> Int {
        if s.contains("data-file") {
            let columns = try s.points("data-file").dimension
            guard columns >= 2 else {
                throw s.fail(
                    "data-file",
                    "has \(columns) column; it needs the inputs x1,...,xd and the label (at least 2 columns)")
            }
            try s.checkDimension(columns - 1, at: "data-file")
            return columns - 1
        }
        return try s.integer("input-dimension", default: 10, .dimension)
    }

    static let entry = FlowEntry(
        name: "two-layer-network",
        summary: "mean-field Langevin training of a two-layer network, neurons as particles (Mei et al. 2018)",
        make: { s, ctx in
            let d = try inputDimension(s)
            let activation = Activation(
                rawValue: try s.string("activation", default: "relu", oneOf: Activation.allCases.map(\.rawValue)))!
            let data: Deferred<(train: DataSet, test: DataSet)>
            let counts: (train: Int, test: Int)
            if s.contains("data-file") {
                let rows = try s.points("data-file").values
                let n = rows.count / (d + 1)
                let fraction = try s.real("test-fraction", default: 0.2, .open(0, 1))
                let nTest = Int((fraction * Double(n)).rounded())
                guard nTest >= 1, nTest < n else {
                    throw s.fail("test-fraction", "leaves no train or no test rows of the \(n) in data-file")
                }
                func split(_ range: Range<Int>) -> ([Double], [Double]) {
                    (
                        range.flatMap { i in (0..<d).map { rows[i * (d + 1) + $0] } },
                        range.map { rows[$0 * (d + 1) + d] }
                    )
                }
                data = Deferred((split(0..<(n - nTest)), split((n - nTest)..<n)))
                counts = (n - nTest, nTest)
            } else {
                let k = try s.integer("teacher-neurons", default: 4, .count)
                let teacherActivation = Activation(
                    rawValue: try s.string(
                        "teacher-activation", default: activation.rawValue,
                        oneOf: Activation.allCases.map(\.rawValue)))!
                let sphere = try s.string("inputs", default: "gaussian", oneOf: ["gaussian", "sphere"]) == "sphere"
                let nTrain = try s.integer("train-samples", default: 1000, .count)
                let nTest = try s.integer("test-samples", default: 1000, .count)
                let noise = try s.real("label-noise", default: 0, .nonNegative)
                try s.memory.reserve(
                    s, "teacher-neurons", "a teacher of \(k) neuron\(k == 1 ? "" : "s") in d = \(d)",
                    parts: "its input weights", bytes: 8 * Double(k) * Double(d))
                var teacher = [Double](repeating: 0, count: k * d)
                for j in 0..<k {
                    var rng = RandomStream(seed: ctx.seed, .targetSample, 1, j)
                    var r2 = 0.0
                    for a in 0..<d {
                        let g = rng.normal()
                        teacher[j * d + a] = g
                        r2 += g * g
                    }
                    for a in 0..<d { teacher[j * d + a] /= r2.squareRoot() }
                }
                let seed = ctx.seed
                data = Deferred {
                    (
                        teacherData(
                            count: nTrain, dimension: d, sphere: sphere, teacher: teacher, neurons: k,
                            activation: teacherActivation, noise: noise, seed: seed, set: 0),
                        teacherData(
                            count: nTest, dimension: d, sphere: sphere, teacher: teacher, neurons: k,
                            activation: teacherActivation, noise: 0, seed: seed, set: 1)
                    )
                }
                counts = (nTrain, nTest)
            }
            // Memory: the data sets; the activations σ and slopes σ' of every neuron on every
            // training sample, kept between the forward and backward passes, and those of the
            // pass being made (training or test set); per neuron its gradient.
            let (n, train, test) = (Double(ctx.particleCount), Double(counts.train), Double(counts.test))
            let key = s.contains("data-file") ? "data-file" : "train-samples"
            s.memory.add(
                s, key, "\(counts.train) training and \(counts.test) test samples for \(ctx.particleCount) neurons",
                parts: "inputs, labels, the activations and slopes of every neuron on every training sample",
                bytes: 8 * ((train + test) * Double(d + 1) + 2 * n * train))
            s.memory.add(
                s, key, "a forward pass of \(ctx.particleCount) neurons over \(max(counts.train, counts.test)) samples",
                parts: "activations and slopes", bytes: 16 * n * max(train, test), transient: true, derived: true)
            s.memory.addWork(population: 0, doubles: n * Double(d + 2))
            let weightDecay = try s.real("weight-decay", default: 0, .nonNegative)
            let temperature = try s.real("temperature", default: 0, .nonNegative)
            // fisher-rao and transport are read only when given, so other scenarios resolve unchanged.
            let fisherRao = s.contains("fisher-rao") ? try s.real("fisher-rao", default: 0, .nonNegative) : 0
            let transport = s.contains("transport") ? try s.real("transport", default: 1, .nonNegative) : 1
            if fisherRao > 0 { s.memory.addWork(population: 0, doubles: n) }
            if fisherRao > 0 && temperature > 0 {
                throw s.fail(
                    "fisher-rao",
                    "needs temperature = 0 (the entropy's first variation τ log ρ is not implemented; the temperature is \(formatNumber(temperature)))"
                )
            }
            return TwoLayerNetworkFlow(
                inputDimension: d, activation: activation, weightDecay: weightDecay, temperature: temperature,
                data: data, counts: counts, fisherRao: fisherRao, transport: transport, seed: ctx.seed,
                threads: ctx.threads, communicator: ctx.communicator)
        }, needsTarget: false, particleDimension: { s in try inputDimension(s) + 2 })

    static let metricEntries: [MetricEntry] = [
        MetricEntry(
            name: "train-loss",
            summary: "½ mean (f(z) − y)² on the training set (two-layer-network, entropic-fictitious-play)"
        ) {
            s, ctx in
            guard let flow = ctx.flow as? any NetworkPredictions else {
                throw s.fail("metrics", "train-loss needs the two-layer-network or entropic-fictitious-play flow")
            }
            return NetworkLossMetric(flow: flow, test: false)
        },
        MetricEntry(
            name: "test-loss",
            summary: "½ mean (f(z) − y)² on the test set (two-layer-network, entropic-fictitious-play)"
        ) { s, ctx in
            guard let flow = ctx.flow as? any NetworkPredictions else {
                throw s.fail("metrics", "test-loss needs the two-layer-network or entropic-fictitious-play flow")
            }
            return NetworkLossMetric(flow: flow, test: true)
        },
    ]
}

final class NetworkLossMetric: Metric {
    let flow: any NetworkPredictions, test: Bool
    init(flow: any NetworkPredictions, test: Bool) {
        self.flow = flow
        self.test = test
    }
    func evaluate(_ state: SimulationState) -> Double { flow.loss(state.populations[0], test: test) }
}
