import Communication
import Formula
import Foundation
import KernelSum

/// The payoff ℓ(θ, φ) of a two-player zero-sum game on measures: player 1 (min) holds θ in
/// R^d, player 2 (max) holds φ in R^e, and L(μ, ν) = ∬ℓ(θ, φ) dμ(θ) dν(φ).
///
/// A payoff computes the two first variations of L against weighted particles:
/// V(θ) = Σ_j b_j ℓ(θ, φ_j) (what the min player sees) and U(φ) = Σ_i a_i ℓ(θ_i, φ)
/// (what the max player sees), with their gradients, at any set of points (the particles
/// themselves, or the candidates of a best-response search).
public protocol GamePayoff: AnyObject {
    /// d, the min player's dimension.
    var minDimension: Int { get }
    /// e, the max player's dimension.
    var maxDimension: Int { get }
    /// The spec for run.json.
    var spec: String { get }
    /// Engine choices for run.json.
    var report: [String: String] { get }
    /// V(θ_k) = Σ_j b_j ℓ(θ_k, φ_j) and ∇_θ V(θ_k) at every row θ_k of `at` (row-major, d columns).
    func minField(at: [Double], phi: [Double], phiWeights: [Double], values: inout [Double], gradients: inout [Double])
    /// U(φ_k) = Σ_i a_i ℓ(θ_i, φ_k) and ∇_φ U(φ_k) at every row φ_k of `at` (row-major, e columns).
    func maxField(
        at: [Double], theta: [Double], thetaWeights: [Double], values: inout [Double], gradients: inout [Double])
}

/// A payoff whose parts do not have the players' dimensions (a matrix of the wrong size, a
/// formula in other variables): refused when it is built, since its sums would read past them.
/// Each case carries the dimensions d (min player) and e (max player) and what was given.
public enum PayoffShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A bilinear payoff's matrix has `entries` entries, not d×e (or d or e is below 1).
    case matrix(entries: Int, minDimension: Int, maxDimension: Int)
    /// A payoff formula has `inputs` inputs, not d + e.
    case formulaInputs(Int, minDimension: Int, maxDimension: Int)

    /// What does not fit.
    public var description: String {
        switch self {
        case .matrix(let entries, let d, let e):
            "a bilinear payoff between dimensions \(d) and \(e) needs \(d)×\(e) entries, not \(entries)"
        case .formulaInputs(let inputs, let d, let e):
            "a payoff formula between dimensions \(d) and \(e) needs \(d + e) inputs, not \(inputs)"
        }
    }
}

@inline(__always) func resize(_ a: inout [Double], _ n: Int) {
    if a.count != n { a = [Double](repeating: 0, count: n) }
}

/// ℓ = θᵀAφ, A a d×e matrix (`matrix`), or c·θ·φ with A = c·I (`coupling`, d = e).
/// Both fields are exact in O(N + M) through the weighted means.
public final class BilinearPayoff: GamePayoff {
    /// d and e.
    public let minDimension: Int, maxDimension: Int
    /// Row-major d×e.
    public let matrix: [Double]

    /// Throws unless `matrix` has d×e entries.
    public init(matrix: [Double], minDimension d: Int, maxDimension e: Int) throws {
        guard d >= 1, e >= 1, matrix.count == d * e else {
            throw PayoffShapeError.matrix(entries: matrix.count, minDimension: d, maxDimension: e)
        }
        self.matrix = matrix
        self.minDimension = d
        self.maxDimension = e
    }

    /// ℓ = c·θ·φ in d = e dimensions.
    public init(coupling c: Double, dimension d: Int) {
        var a = [Double](repeating: 0, count: d * d)
        for k in 0..<d { a[k * d + k] = c }
        matrix = a
        minDimension = d
        maxDimension = d
    }

    /// `bilinear`.
    public var spec: String { "bilinear" }
    /// The matrix, row-major.
    public var report: [String: String] { ["payoff-matrix": matrix.map(formatNumber).joined(separator: " ")] }

    static func mean(_ x: [Double], _ w: [Double], _ d: Int) -> [Double] {
        var m = [Double](repeating: 0, count: d)
        for i in 0..<w.count { for a in 0..<d { m[a] += w[i] * x[i * d + a] } }
        return m
    }

    /// V(θ) = θᵀA φ̄ and ∇V = A φ̄, φ̄ = Σ_j b_j φ_j.
    public func minField(
        at: [Double], phi: [Double], phiWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        let d = minDimension
        let e = maxDimension
        let n = at.count / d
        let m = Self.mean(phi, phiWeights, e)
        var g = [Double](repeating: 0, count: d)  // A φ̄
        for a in 0..<d { for b in 0..<e { g[a] += matrix[a * e + b] * m[b] } }
        resize(&values, n)
        resize(&gradients, n * d)
        for k in 0..<n {
            var v = 0.0
            for a in 0..<d {
                v += at[k * d + a] * g[a]
                gradients[k * d + a] = g[a]
            }
            values[k] = v
        }
    }

    /// U(φ) = θ̄ᵀA φ and ∇U = Aᵀθ̄, θ̄ = Σ_i a_i θ_i.
    public func maxField(
        at: [Double], theta: [Double], thetaWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        let d = minDimension
        let e = maxDimension
        let n = at.count / e
        let m = Self.mean(theta, thetaWeights, d)
        var g = [Double](repeating: 0, count: e)  // Aᵀ θ̄
        for a in 0..<d { for b in 0..<e { g[b] += matrix[a * e + b] * m[a] } }
        resize(&values, n)
        resize(&gradients, n * e)
        for k in 0..<n {
            var v = 0.0
            for b in 0..<e {
                v += at[k * e + b] * g[b]
                gradients[k * e + b] = g[b]
            }
            values[k] = v
        }
    }
}

/// ℓ = weight·k(θ − φ) + c(φ) with k a radial kernel and c an optional data term
/// c(φ) = dataWeight·(1/M) Σ_m k(y_m − φ) over samples y_m (the GAN-like toy: weight −1,
/// dataWeight 1, so L(μ, ν) = ∫(k∗data − k∗μ) dν: the discriminator ν looks for where the
/// data outweighs the generator μ, and the generator moves towards the discriminator's mass).
/// Both fields are kernel sums through the engine (two populations as sources and targets).
public final class KernelPayoff: GamePayoff {
    /// k.
    public let kernel: any RadialKernel
    /// The weight of k(θ − φ) (−1 in the GAN-like toy).
    public let weight: Double
    /// The data samples of the data term (row-major), drawn at first use; nil without one.
    public var data: [Double]? { deferredData.value }
    let deferredData: Deferred<[Double]?>
    /// The weight of the data term.
    public let dataWeight: Double
    /// d = e: both players live in the same space.
    public let minDimension: Int, maxDimension: Int
    let engine: any KernelSumEngine
    var scaled: [Double] = [], dataValues: [Double] = [], dataGradients: [Double] = []

    /// A payoff summed by `engine`; `data` (row-major, M × d) adds the data term.
    public convenience init(
        kernel: any RadialKernel, weight: Double, dimension: Int, engine: any KernelSumEngine,
        data: [Double]? = nil, dataWeight: Double = 1
    ) {
        self.init(
            kernel: kernel, weight: weight, dimension: dimension, engine: engine, data: Deferred(data),
            dataWeight: dataWeight)
    }

    init(
        kernel: any RadialKernel, weight: Double, dimension: Int, engine: any KernelSumEngine,
        data: Deferred<[Double]?>, dataWeight: Double
    ) {
        self.kernel = kernel
        self.weight = weight
        self.minDimension = dimension
        self.maxDimension = dimension
        self.engine = engine
        deferredData = data
        self.dataWeight = dataWeight
    }

    /// `weight·SPEC`, and the data term's weight and sample count.
    public var spec: String {
        "\(formatNumber(weight))·\(kernel.spec)"
            + (data != nil ? " + \(formatNumber(dataWeight))·data term (\(data!.count / minDimension) samples)" : "")
    }
    /// The engine and its parameters.
    public var report: [String: String] {
        var r = ["summation": engine.name]
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        return r
    }

    /// c(φ_k) and ∇c(φ_k) into dataValues/dataGradients.
    func dataTerm(_ at: [Double]) {
        let d = minDimension
        let n = at.count / d
        guard let data else {
            resize(&dataValues, n)
            resize(&dataGradients, n * d)
            for k in 0..<dataValues.count { dataValues[k] = 0 }
            for k in 0..<dataGradients.count { dataGradients[k] = 0 }
            return
        }
        let m = data.count / d
        let w = [Double](repeating: dataWeight / Double(m), count: m)
        engine.sum(
            kernel, dimension: d, sources: data, weights: w, channels: 1, targets: at, gradientChannels: [0],
            values: &dataValues, gradients: &dataGradients)
    }

    /// V(θ) = weight Σ_j b_j k(θ − φ_j) + Σ_j b_j c(φ_j), by the engine.
    public func minField(
        at: [Double], phi: [Double], phiWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        resize(&scaled, phiWeights.count)
        for j in 0..<phiWeights.count { scaled[j] = weight * phiWeights[j] }
        engine.sum(
            kernel, dimension: minDimension, sources: phi, weights: scaled, channels: 1, targets: at,
            gradientChannels: [0], values: &values, gradients: &gradients)
        if data != nil {
            dataTerm(phi)
            var c = 0.0
            for j in 0..<phiWeights.count { c += phiWeights[j] * dataValues[j] }
            for k in 0..<values.count { values[k] += c }
        }
    }

    /// U(φ) = weight Σ_i a_i k(θ_i − φ) + c(φ), by the engine.
    public func maxField(
        at: [Double], theta: [Double], thetaWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        resize(&scaled, thetaWeights.count)
        for i in 0..<thetaWeights.count { scaled[i] = weight * thetaWeights[i] }
        engine.sum(
            kernel, dimension: minDimension, sources: theta, weights: scaled, channels: 1, targets: at,
            gradientChannels: [0], values: &values, gradients: &gradients)
        if data != nil {
            dataTerm(at)
            for k in 0..<values.count { values[k] += dataValues[k] }
            for k in 0..<gradients.count { gradients[k] += dataGradients[k] }
        }
    }
}

/// ℓ given as a formula in x (= θ, d components) and y (= φ, e components), summed directly
/// (O(N·M) per field, multi-threaded, each output independent of the thread count; on several
/// ranks each sums its block of the outer player's particles and the blocks are gathered, bit
/// for bit one process's); its gradients are the formula's exact ones.
public final class FormulaPayoff: GamePayoff {
    /// ℓ as a formula in x (θ) and y (φ).
    public let formula: ScenarioFormula
    /// d and e: the formula's x and y components.
    public let minDimension: Int, maxDimension: Int
    let threads: Int
    /// The ranks that share the sums (by blocks of the outer player's particles).
    let communicator: any Communicator

    /// Throws unless the formula's inputs are the d + e coordinates of x and y.
    public init(
        formula: ScenarioFormula, minDimension d: Int, maxDimension e: Int, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) throws {
        guard formula.inputCount == d + e else {
            throw PayoffShapeError.formulaInputs(formula.inputCount, minDimension: d, maxDimension: e)
        }
        self.formula = formula
        self.minDimension = d
        self.maxDimension = e
        self.threads = max(1, threads)
        self.communicator = communicator
    }

    /// A payoff formula outside a scenario (no parameters), e.g. "cos(x1 - y1)".
    public convenience init(compiling text: String, minDimension d: Int, maxDimension e: Int, threads: Int) throws {
        try self.init(
            formula: try ScenarioFormula(compiling: text, variables: .payoff(dimension: d, secondDimension: e)),
            minDimension: d, maxDimension: e, threads: threads)
    }

    /// `formula:EXPR`.
    public var spec: String { "formula:\(formula.source)" }
    /// Always the direct sum.
    public var report: [String: String] { ["summation": "direct (formula)"] }

    /// For every row of `outer` (the player `outerIsMin` or not), Σ_j w_j ℓ and the gradient
    /// with respect to that player's coordinates, against the rows of `inner`.
    func pairSums(
        outer: [Double], outerIsMin: Bool, inner: [Double], innerWeights: [Double],
        values: inout [Double], gradients: inout [Double]
    ) {
        let d = minDimension
        let e = maxDimension
        let k = d + e
        let od = outerIsMin ? d : e
        let id = outerIsMin ? e : d
        let oOff = outerIsMin ? 0 : d
        let iOff = outerIsMin ? d : 0
        let n = outer.count / od
        let m = innerWeights.count
        resize(&values, n)
        resize(&gradients, n * od)
        guard n > 0 else { return }
        let formula = self.formula
        let blocks = BlockPartition(count: n, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        outer.withUnsafeBufferPointer { op in
            inner.withUnsafeBufferPointer { ip in
                innerWeights.withUnsafeBufferPointer { wp in
                    values.withUnsafeMutableBufferPointer { vp in
                        gradients.withUnsafeMutableBufferPointer { gp in
                            let O = SharedPointer(op.baseAddress!)
                            let I = SharedPointer(ip.baseAddress ?? op.baseAddress!)
                            let W = SharedPointer(wp.baseAddress ?? op.baseAddress!)
                            let V = SharedMutablePointer(vp.baseAddress!)
                            let G = SharedMutablePointer(gp.baseAddress!)
                            Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 8) { range in
                                let batch = 256
                                var ws = formula.makeWorkspace(batch: 64)
                                let inputs = UnsafeMutablePointer<Double>.allocate(capacity: batch * k)
                                let vals = UnsafeMutablePointer<Double>.allocate(capacity: batch)
                                let grads = UnsafeMutablePointer<Double>.allocate(capacity: batch * k)
                                defer {
                                    inputs.deallocate()
                                    vals.deallocate()
                                    grads.deallocate()
                                }
                                var g = [Double](repeating: 0, count: od)
                                for i in range {
                                    var v = 0.0
                                    for a in 0..<od { g[a] = 0 }
                                    for t in 0..<batch {
                                        for a in 0..<od { inputs[t * k + oOff + a] = O.base[i * od + a] }
                                    }
                                    var j0 = 0
                                    while j0 < m {
                                        let c = min(batch, m - j0)
                                        for t in 0..<c {
                                            for a in 0..<id { inputs[t * k + iOff + a] = I.base[(j0 + t) * id + a] }
                                        }
                                        formula.evaluate(
                                            inputs: inputs, count: c, values: vals, gradients: grads, workspace: &ws)
                                        for t in 0..<c {
                                            let w = W.base[j0 + t]
                                            v += w * vals[t]
                                            for a in 0..<od { g[a] += w * grads[t * k + oOff + a] }
                                        }
                                        j0 += c
                                    }
                                    V.base[i] = v
                                    for a in 0..<od { G.base[i * od + a] = g[a] }
                                }
                            }
                        }
                    }
                }
            }
        }
        communicator.gatherBlocks(of: &values, width: 1, blocks: blocks)
        communicator.gatherBlocks(of: &gradients, width: od, blocks: blocks)
    }

    /// V(θ) = Σ_j b_j ℓ(θ, φ_j) and its gradient, summed directly.
    public func minField(
        at: [Double], phi: [Double], phiWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        pairSums(
            outer: at, outerIsMin: true, inner: phi, innerWeights: phiWeights, values: &values, gradients: &gradients)
    }

    /// U(φ) = Σ_i a_i ℓ(θ_i, φ) and its gradient, summed directly.
    public func maxField(
        at: [Double], theta: [Double], thetaWeights: [Double], values: inout [Double], gradients: inout [Double]
    ) {
        pairSums(
            outer: at, outerIsMin: false, inner: theta, innerWeights: thetaWeights, values: &values,
            gradients: &gradients)
    }
}
