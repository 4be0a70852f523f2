import Communication
import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

/// `fisher-rao` and `transport` on the two-layer network and the MMD flow, against updates the
/// test computes itself (the network's output and first variation, the MMD witness), and a
/// two-mode MMD target that only the weights can balance.
final class WeightedFlowTests: XCTestCase {
    static func network(
        fisherRao: Double, transport: Double = 1, weightDecay: Double = 0.1, threads: Int = 1,
        communicator: any Communicator = SerialCommunicator()
    ) -> TwoLayerNetworkFlow {
        let d = 3
        var teacher = [Double](repeating: 0, count: 2 * d)
        for j in 0..<2 { teacher[j * d + j] = 1 }
        let train = TwoLayerNetworkFlow.teacherData(
            count: 40, dimension: d, sphere: false, teacher: teacher, neurons: 2, activation: .tanh, noise: 0,
            seed: 1, set: 0)
        let test = TwoLayerNetworkFlow.teacherData(
            count: 30, dimension: d, sphere: false, teacher: teacher, neurons: 2, activation: .tanh, noise: 0,
            seed: 1, set: 1)
        return TwoLayerNetworkFlow(
            inputDimension: d, activation: .tanh, weightDecay: weightDecay, temperature: 0, train: train, test: test,
            fisherRao: fisherRao, transport: transport, seed: 1, threads: threads, communicator: communicator)
    }

    /// Non-uniform weights w_i ∝ i + 1 on `n` neurons in d = 3 (5 coordinates each).
    static func weightedNeurons(_ n: Int) -> Population {
        var p = population(gaussianPoints(n, 5, std: 0.8, seed: 3), dimension: 5)
        let raw = (0..<n).map { Double($0 + 1) }
        let total = raw.reduce(0, +)
        p.weights = raw.map { $0 / total }
        return p
    }

    /// The test's network: f(z) = Σ_i w_i a_i tanh(b_i·z + c_i) at every input, and the residuals.
    func naiveResiduals(_ flow: TwoLayerNetworkFlow, _ p: Population, test: Bool) -> [Double] {
        let z = test ? flow.testInputs : flow.trainInputs
        let y = test ? flow.testLabels : flow.trainLabels
        return (0..<y.count).map { s in
            var f = 0.0
            for i in 0..<p.count {
                let t = Array(p.positions[(i * 5)..<(i * 5 + 5)])
                f += p.weights[i] * t[0] * tanh(t[1] * z[s * 3] + t[2] * z[s * 3 + 1] + t[3] * z[s * 3 + 2] + t[4])
            }
            return f - y[s]
        }
    }

    /// The loss uses the weights: ½ mean (f − y)² with f = Σ_i w_i a_i σ(b_i·z + c_i) summed
    /// directly here, on 7 neurons of weights ∝ 1..7 (to 1e-13 relative).
    func testWeightedOutputIsTheDirectSum() {
        let flow = Self.network(fisherRao: 0)
        let p = Self.weightedNeurons(7)
        for test in [false, true] {
            let r = naiveResiduals(flow, p, test: test)
            let want = 0.5 * r.reduce(0) { $0 + $1 * $1 } / Double(r.count)
            XCTAssertEqual(flow.loss(p, test: test), want, accuracy: 1e-13 * want, "test set: \(test)")
        }
    }

    /// One step with fisher-rao 2, transport 0.5, weight decay 0.1: the weights are the test's
    /// update with V_i = (1/n) Σ_s r_s a_i σ(b_i·z_s + c_i) + 0.05|θ_i|² (r the weighted residuals
    /// above), w_i ∝ w_i exp(−2h(V_i − Σ_k w_k V_k)); the neurons move by −0.5h times the
    /// velocity field (checked against the risk's finite differences in TwoLayerNetworkTests).
    func testOneTwoLayerStepIsTheNaiveUpdate() {
        let (alpha, beta, h) = (2.0, 0.5, 0.3)
        let flow = Self.network(fisherRao: alpha, transport: beta)
        let p = Self.weightedNeurons(6)
        let r = naiveResiduals(flow, p, test: false)
        let z = flow.trainInputs
        var v = [Double](repeating: 0, count: p.count)
        for i in 0..<p.count {
            let t = Array(p.positions[(i * 5)..<(i * 5 + 5)])
            var psi = 0.0
            for s in 0..<r.count {
                psi += r[s] * t[0] * tanh(t[1] * z[s * 3] + t[2] * z[s * 3 + 1] + t[3] * z[s * 3 + 2] + t[4])
            }
            v[i] = psi / Double(r.count) + 0.05 * t.reduce(0) { $0 + $1 * $1 }
        }
        let mean = (0..<p.count).reduce(0.0) { $0 + p.weights[$1] * v[$1] }
        let raw = (0..<p.count).map { p.weights[$0] * exp(-alpha * h * (v[$0] - mean)) }
        let z0 = raw.reduce(0, +)
        let g = flow.velocityField(p)
        var s = SimulationState(populations: [p])
        flow.advance(&s, step: 1, stepSize: h)
        for i in 0..<p.count {
            XCTAssertEqual(s.populations[0].weights[i], raw[i] / z0, accuracy: 1e-14, "weight \(i)")
        }
        for k in 0..<p.positions.count {
            XCTAssertEqual(s.populations[0].positions[k], p.positions[k] - beta * h * g[k], accuracy: 1e-15)
        }
        let variation = flow.firstVariation(p)
        for i in 0..<p.count { XCTAssertEqual(variation[i], v[i], accuracy: 1e-14, "first variation \(i)") }
    }

    /// 150 neurons (3 blocks of 64), 5 weighted steps: 2 threads, and 2 ranks of a thread job each
    /// holding the whole state (their blocks computed apart, outputs and values gathered), end in
    /// the 1-thread state bit for bit, weights included.
    func testTwoLayerThreadsAndRanksAreOneProcess() {
        let alone = Self.runNetwork(Self.network(fisherRao: 1.5))
        XCTAssertNotEqual(alone.weights, Self.weightedNeurons(150).weights, "the weights moved")
        XCTAssertTrue(Self.runNetwork(Self.network(fisherRao: 1.5, threads: 2)) == alone, "2 threads")
        let ranks = ThreadJob(size: 2).run { comm in Self.runNetwork(Self.network(fisherRao: 1.5, communicator: comm)) }
        for (r, p) in ranks.enumerated() { XCTAssertTrue(p == alone, "rank \(r) of 2") }
    }

    /// 5 steps of 0.5 from the 150 weighted neurons.
    static func runNetwork(_ flow: TwoLayerNetworkFlow) -> Population {
        var s = SimulationState(populations: [weightedNeurons(150)])
        for n in 1...5 { flow.advance(&s, step: n, stepSize: 0.5) }
        return s.populations[0]
    }

    // MARK: MMD

    static let sigma = 0.8
    static func k(_ r: Double) -> Double { exp(-r * r / (2 * sigma * sigma)) }

    func mmdFlow(samples: [Double], fisherRao: Double, transport: Double) -> MMDFlow {
        MMDFlow(
            kernel: GaussianKernel(sigma: Self.sigma), targetSamples: samples, dimension: 1, noise: 0,
            halvingEvery: 0, optimizer: Optimizer(rule: .sgd), engine: DirectSum(threads: 1), seed: 1,
            fisherRao: fisherRao, transport: transport)
    }

    /// One MMD step, d = 1, weights ∝ 1..6, against the test's witness
    /// f(x) = Σ_j w_j k(x − x_j) − (1/M) Σ_m k(x − y_m) and its derivative: w_i ∝ w_i
    /// exp(−αh(f(x_i) − Σ_k w_k f(x_k))), x_i ← x_i − βh f′(x_i).
    func testOneMMDStepIsTheNaiveWitnessUpdate() {
        let x = [-1.0, -0.4, 0.1, 0.5, 1.2, 2.0]
        let y = [-0.8, 0.0, 0.3, 0.9, 1.5]
        let (alpha, beta, h) = (1.5, 0.5, 0.2)
        var p = population(x, dimension: 1)
        p.weights = (1...6).map { Double($0) / 21 }
        func witness(_ t: Double) -> (value: Double, slope: Double) {
            var f = 0.0
            var g = 0.0
            for j in 0..<x.count {
                f += p.weights[j] * Self.k(t - x[j])
                g -= p.weights[j] * Self.k(t - x[j]) * (t - x[j]) / (Self.sigma * Self.sigma)
            }
            for m in y {
                f -= Self.k(t - m) / Double(y.count)
                g += Self.k(t - m) * (t - m) / (Self.sigma * Self.sigma) / Double(y.count)
            }
            return (f, g)
        }
        let f = x.map { witness($0).value }
        let mean = (0..<x.count).reduce(0.0) { $0 + p.weights[$1] * f[$1] }
        let raw = (0..<x.count).map { p.weights[$0] * exp(-alpha * h * (f[$0] - mean)) }
        let z = raw.reduce(0, +)
        let flow = mmdFlow(samples: y, fisherRao: alpha, transport: beta)
        var s = SimulationState(populations: [p])
        flow.advance(&s, step: 1, stepSize: h)
        for i in 0..<x.count {
            XCTAssertEqual(s.populations[0].weights[i], raw[i] / z, accuracy: 1e-14, "weight \(i)")
            XCTAssertEqual(s.populations[0].positions[i], x[i] - beta * h * witness(x[i]).slope, accuracy: 1e-14)
        }
        // transport 0: the positions stay, bit for bit.
        let frozen = mmdFlow(samples: y, fisherRao: alpha, transport: 0)
        var t = SimulationState(populations: [p])
        frozen.advance(&t, step: 1, stepSize: h)
        XCTAssertEqual(t.populations[0].positions, x)
        XCTAssertEqual(t.populations[0].weights, s.populations[0].weights)
    }

    /// A target of two modes of equal mass at ±2 (5 samples each, 0.3 apart), 18 particles
    /// started on the right mode and 2 on the left. With σ = 0.8 the modes barely see each other
    /// (k(4) = 4e-6): by t = 30 (600 steps of 0.05) plain MMD transport has moved only a few
    /// particles across (left mass 0.25, asserted < 0.3); fisher-rao = 5 moves the weights until
    /// the witness is level: the left mass is 0.5 ± 0.02 and ½MMD² below a tenth of plain
    /// transport's.
    func testFisherRaoBalancesTwoModes() {
        let offsets: [Double] = [-0.6, -0.3, 0, 0.3, 0.6]
        let y: [Double] = offsets.map { $0 - 2 } + offsets.map { $0 + 2 }
        let right: [Double] = (0..<18).map { 2 + 0.08 * (Double($0) - 8.5) }
        let x: [Double] = right + [-2.1, -1.9]
        func run(_ alpha: Double) -> (left: Double, energy: Double) {
            let flow = mmdFlow(samples: y, fisherRao: alpha, transport: 1)
            var s = SimulationState(populations: [population(x, dimension: 1)])
            for n in 1...600 { flow.advance(&s, step: n, stepSize: 0.05) }
            let p = s.populations[0]
            let left = (0..<p.count).reduce(0.0) { $0 + (p.positions[$1] < 0 ? p.weights[$1] : 0) }
            return (left, flow.energy(s))
        }
        let plain = run(0)
        let wfr = run(5)
        XCTAssertLessThan(plain.left, 0.3, "plain transport: left mass \(plain.left)")
        XCTAssertEqual(wfr.left, 0.5, accuracy: 0.02)
        XCTAssertLessThan(wfr.energy, plain.energy / 10, "½MMD²: \(wfr.energy) vs \(plain.energy)")
    }
}
