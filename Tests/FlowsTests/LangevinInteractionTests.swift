import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

final class LangevinInteractionTests: XCTestCase {
    /// Brute force Σ_j w_j ∇W(x_i − x_j) and ½ Σ_{i≠j} w_i w_j W(x_i − x_j) for W given by value and gradient.
    func bruteForce(
        _ x: [Double], _ w: [Double], _ d: Int, period: Double? = nil,
        _ W: ([Double]) -> (Double, [Double])
    ) -> (gradients: [Double], energy: Double) {
        let n = w.count
        var g = [Double](repeating: 0, count: n * d)
        var e = 0.0
        for i in 0..<n {
            for j in 0..<n where j != i {
                var z = (0..<d).map { x[i * d + $0] - x[j * d + $0] }
                if let l = period { z = z.map { $0 - l * ($0 / l).rounded() } }
                let (v, grad) = W(z)
                e += 0.5 * w[i] * w[j] * v
                for a in 0..<d { g[i * d + a] += w[j] * grad[a] }
            }
        }
        return (g, e)
    }

    func testQuadraticInteractionThroughMomentsMatchesTheDirectSum() {
        let d = 3
        let n = 400
        let kappa = 0.7
        let x = gaussianPoints(n, d, mean: 1, std: 2)
        var rng = RandomStream(seed: 4, .flow)
        var w = (0..<n).map { _ in 0.5 + rng.uniform() }
        let total = w.reduce(0, +)
        w = w.map { $0 / total }
        let q = QuadraticInteraction(kappa: kappa)
        var g = [Double](repeating: 0, count: n * d)
        q.addGradients(x, weights: w, dimension: d, into: &g)
        let ref = bruteForce(x, w, d) { z in (kappa * z.reduce(0) { $0 + $1 * $1 } / 2, z.map { kappa * $0 }) }
        XCTAssertLessThan(relativeError(g, ref.gradients), 1e-12)
        XCTAssertEqual(q.energy(x, weights: w, dimension: d), ref.energy, accuracy: 1e-12 * abs(ref.energy))
    }

    func testKernelInteractionSignAndDiagonal() throws {
        // W = −2·gaussian(σ = 0.8): an attraction. The drift −Σ_j w_j ∇W(x_i − x_j) points to the others.
        let d = 2
        let n = 300
        let sigma = 0.8
        let weight = -2.0
        let x = gaussianPoints(n, d)
        let w = [Double](repeating: 1 / Double(n), count: n)
        let k = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: weight, engine: DirectSum(threads: 2),
            domain: .free, threads: 2)
        var g = [Double](repeating: 0, count: n * d)
        k.addGradients(x, weights: w, dimension: d, into: &g)
        let ref = bruteForce(x, w, d) { z in
            let r2 = z.reduce(0) { $0 + $1 * $1 }
            let v = weight * exp(-r2 / (2 * sigma * sigma))
            return (v, z.map { -$0 / (sigma * sigma) * v })
        }
        XCTAssertLessThan(relativeError(g, ref.gradients), 1e-12)
        XCTAssertEqual(k.energy(x, weights: w, dimension: d), ref.energy, accuracy: 1e-12 * abs(ref.energy))
        // Two particles: the attraction's drift on particle 0 points towards particle 1.
        var g2 = [0.0, 0, 0, 0]
        k.addGradients([0, 0, 1, 0], weights: [0.5, 0.5], dimension: 2, into: &g2)
        XCTAssertGreaterThan(-g2[0], 0, "drift of particle 0 towards +x")
    }

    func testSingularRepulsionThroughTheMeshMatchesDirect() throws {
        // W = 0.5·log-kernel (−½ log|x|): a repulsion in 2-D, near field exact, far field by NUFFT.
        let d = 2
        let n = 3000
        let x = gaussianPoints(n, d)
        let w = [Double](repeating: 1 / Double(n), count: n)
        let direct = KernelInteraction(
            kernel: LogarithmicKernel(), weight: 0.5, engine: DirectSum(threads: 2), domain: .free, threads: 2)
        let mesh = KernelInteraction(
            kernel: LogarithmicKernel(), weight: 0.5, engine: MeshSum(tolerance: 1e-6, threads: 2),
            domain: .free, threads: 2)
        var g1 = [Double](repeating: 0, count: n * d)
        var g2 = g1
        direct.addGradients(x, weights: w, dimension: d, into: &g1)
        mesh.addGradients(x, weights: w, dimension: d, into: &g2)
        XCTAssertLessThan(relativeError(g2, g1), 1e-5, "within 10× the mesh tolerance (singular kernel)")
        let e1 = direct.energy(x, weights: w, dimension: d)
        let e2 = mesh.energy(x, weights: w, dimension: d)
        XCTAssertEqual(e2, e1, accuracy: 1e-5 * abs(e1))
    }

    func testPeriodicInteractionUsesMinimumImages() {
        let d = 2
        let n = 200
        let l = 3.0
        let sigma = 0.4
        var rng = RandomStream(seed: 8, .flow)
        let x = (0..<(n * d)).map { _ in l * rng.uniform() }
        let w = [Double](repeating: 1 / Double(n), count: n)
        let k = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: 1, engine: nil, domain: .periodic(length: l), threads: 2)
        var g = [Double](repeating: 0, count: n * d)
        k.addGradients(x, weights: w, dimension: d, into: &g)
        let ref = bruteForce(x, w, d, period: l) { z in
            let r2 = z.reduce(0) { $0 + $1 * $1 }
            let v = exp(-r2 / (2 * sigma * sigma))
            return (v, z.map { -$0 / (sigma * sigma) * v })
        }
        XCTAssertLessThan(relativeError(g, ref.gradients), 1e-12)
        XCTAssertEqual(k.energy(x, weights: w, dimension: d), ref.energy, accuracy: 1e-12 * ref.energy)
        // Two particles across the boundary attract/repel through it: 0.1 and 2.9 are 0.2 apart.
        var g2 = [0.0, 0, 0, 0]
        k.addGradients([0.1, 1, 2.9, 1], weights: [0.5, 0.5], dimension: 2, into: &g2)
        // x₀ − x₁ = +0.2 by minimum image (−2.8 without): ∇W(z) = −(z/σ²) e^{−z²/(2σ²)}, weight ½.
        XCTAssertEqual(g2[0], 0.5 * (-0.2 / (sigma * sigma)) * exp(-0.04 / (2 * sigma * sigma)), accuracy: 1e-12)
        var wrapped = [-0.5, 3.0, 6.2, 2.999999999999]
        Domain.periodic(length: l).wrap(&wrapped)
        XCTAssertTrue(wrapped.allSatisfy { $0 >= 0 && $0 < l }, "\(wrapped)")
        XCTAssertEqual(wrapped[0], 2.5, accuracy: 1e-15)
    }
}

extension LangevinInteractionTests {
    /// The periodic box through the mesh: a 2-D Gaussian repulsion (σ = L/14, negligible by
    /// L/2) summed by the periodic mesh gives the minimum-image direct sum's gradients and
    /// energy to the tolerance, and a short Langevin run (same seed, positions wrapped every
    /// step, 3000 particles) follows the direct run's trajectory to about the same accuracy.
    func testPeriodicInteractionThroughTheMeshMatchesDirect() {
        let d = 2
        let n = 3000
        let l = 2.0
        let sigma = l / 14
        var rng = RandomStream(seed: 21, .flow)
        let x = (0..<(n * d)).map { _ in (l + 0.4 * rng.normal()).truncatingRemainder(dividingBy: l) }
        var x0 = x
        Domain.periodic(length: l).wrap(&x0)
        let w = [Double](repeating: 1 / Double(n), count: n)
        let domain = Domain.periodic(length: l)
        let direct = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: 1,
            engine: DirectSum(threads: 2, domain: .periodic(length: l)),
            domain: domain, threads: 2)
        let mesh = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: 1,
            engine: MeshSum(tolerance: 1e-6, threads: 2, domain: .periodic(length: l)), domain: domain, threads: 2)
        var g1 = [Double](repeating: 0, count: n * d)
        var g2 = g1
        direct.addGradients(x0, weights: w, dimension: d, into: &g1)
        mesh.addGradients(x0, weights: w, dimension: d, into: &g2)
        XCTAssertLessThan(relativeError(g2, g1), 1e-6)
        let e1 = direct.energy(x0, weights: w, dimension: d)
        let e2 = mesh.energy(x0, weights: w, dimension: d)
        XCTAssertEqual(e2, e1, accuracy: 1e-6 * abs(e1))
        XCTAssertEqual(mesh.report["summation"], "mesh")
        XCTAssertEqual(mesh.report["summation-period"], "2.0")
        // The trajectories: 20 steps of overdamped Langevin at a small temperature.
        var ends: [[Double]] = []
        for interaction in [direct, mesh] {
            let flow = LangevinFlow(
                temperature: 0.01, potential: nil, interactions: [interaction], domain: domain, seed: 5, threads: 2)
            let p = runLangevin(flow, x0, dimension: d, steps: 20, h: 0.05).populations[0].positions
            XCTAssertTrue(p.allSatisfy { $0 >= 0 && $0 < l })
            ends.append(p)
        }
        var worst = 0.0
        for k in 0..<ends[0].count { worst = max(worst, abs(domain.minimumImage(ends[0][k] - ends[1][k]))) }
        XCTAssertLessThan(worst, 1e-6, "mesh and direct trajectories (box width 2)")
    }

    /// `engine: nil` in the box is the minimum-image direct engine, and the periodic
    /// direct engine's energy leaves the diagonal out exactly as before.
    func testPeriodicDefaultEngineIsTheMinimumImageDirectSum() {
        let k = KernelInteraction(
            kernel: LaplaceKernel(alpha: 3), weight: 0.5, engine: nil, domain: .periodic(length: 1.5), threads: 1)
        XCTAssertEqual(k.report["summation"], "direct")
        XCTAssertEqual(k.report["summation-period"], "1.5")
        let x = [0.1, 0.2, 1.4, 0.3, 0.7, 0.7, 0.1, 0.2]  // the first and last coincide
        let w = [0.1, 0.2, 0.3, 0.4]
        let ref = bruteForce(x, w, 2, period: 1.5) { z in
            let r = (z[0] * z[0] + z[1] * z[1]).squareRoot()
            let v = 0.5 * exp(-3 * r)
            return (v, r == 0 ? [0, 0] : z.map { -3 * $0 / r * v })
        }
        var g = [Double](repeating: 0, count: 8)
        k.addGradients(x, weights: w, dimension: 2, into: &g)
        XCTAssertLessThan(relativeError(g, ref.gradients), 1e-13)
        XCTAssertEqual(k.energy(x, weights: w, dimension: 2), ref.energy, accuracy: 1e-14)
    }
}

final class LangevinEntropyTests: XCTestCase {
    /// Kozachenko–Leonenko against H = ½ log((2πe)^d det Σ). The estimator's standard deviation
    /// is about √(d/2)/√N (the spread of log density) ≈ 0.01 at N = 20000, d ≤ 3, and its bias
    /// for a Gaussian at this N is of the same order: 0.04 is about 4 standard deviations.
    func testKNNEntropyOfGaussians() {
        for (d, std) in [(1, 0.7), (2, 1.5), (3, 1.0)] {
            let n = 20_000
            let x = gaussianPoints(n, d, std: std, seed: UInt64(d))
            let exact = 0.5 * Double(d) * log(2 * Double.pi * exp(1.0) * std * std)
            let estimate = knnEntropy(x, dimension: d, neighbours: 5, threads: 2)
            XCTAssertEqual(estimate, exact, accuracy: 0.04, "d = \(d)")
        }
    }

    func testPeriodicKNNEntropyMatchesBruteForceMinimumImages() {
        let d = 2
        let n = 600
        let l = 2.0
        let k = 4
        var rng = RandomStream(seed: 12, .flow)
        // Clustered near a corner so that many neighbours are across the boundary.
        let x = (0..<(n * d)).map { _ in (l + 0.3 * rng.normal()).truncatingRemainder(dividingBy: l) }
        var x2 = x
        Domain.periodic(length: l).wrap(&x2)
        var sum = 0.0
        for i in 0..<n {
            var r2s: [Double] = []
            for j in 0..<n where j != i {
                var s = 0.0
                for a in 0..<d {
                    var t = x2[i * d + a] - x2[j * d + a]
                    t -= l * (t / l).rounded()
                    s += t * t
                }
                r2s.append(s)
            }
            r2s.sort()
            sum += 0.5 * log(r2s[k - 1])
        }
        let brute = digamma(n) - digamma(k) + log(Double.pi) + Double(d) * sum / Double(n)
        XCTAssertEqual(
            knnEntropy(x2, dimension: d, neighbours: k, domain: .periodic(length: l), threads: 2), brute,
            accuracy: 1e-10)
        // Uniform on the torus: H = d log L.
        let u = (0..<(20_000 * d)).map { _ in l * rng.uniform() }
        XCTAssertEqual(
            knnEntropy(u, dimension: d, neighbours: 5, domain: .periodic(length: l), threads: 2), Double(d) * log(l),
            accuracy: 0.03)
    }

    func testDigamma() {
        XCTAssertEqual(digamma(1), -0.5772156649015329, accuracy: 1e-15)
        XCTAssertEqual(digamma(10), 2.251752589066721, accuracy: 1e-13)
        XCTAssertEqual(digamma(51), digamma(50) + 1.0 / 50, accuracy: 1e-13)
        XCTAssertEqual(digamma(1000), 6.907255195648812, accuracy: 1e-12)
    }

    func testDoubleWellPartitionFunction() {
        // ∫exp(−(t² − 1)²/λ) dt by a fine Riemann sum, against the trapezoid on [−R, R].
        let lambda = 0.4
        var z = 0.0
        let dt = 1e-4
        for t in stride(from: -5.0, through: 5.0, by: dt) { z += exp(-(t * t - 1) * (t * t - 1) / lambda) * dt }
        let p = DoubleWellPotential(height: 1)
        XCTAssertEqual(p.logPartition(temperature: lambda, dimension: 1)!, log(z), accuracy: 1e-8)
        XCTAssertEqual(
            p.logPartition(temperature: lambda, dimension: 3)!, log(z) + log(2 * Double.pi * lambda), accuracy: 1e-8)
        XCTAssertEqual(
            QuadraticPotential(a: 2, centre: [0, 0]).logPartition(temperature: 0.5, dimension: 2)!,
            log(2 * Double.pi * 0.5 / 2), accuracy: 1e-14)
    }

    func testPotentialGradientsMatchFiniteDifferences() {
        let potentials: [any Potential] = [
            QuadraticPotential(a: 1.5, centre: [0.3, -1, 2]), DoubleWellPotential(height: 0.7),
        ]
        let x = [0.4, -0.8, 1.3]
        for p in potentials {
            var g = [0.0, 0, 0]
            var v = 0.0
            x.withUnsafeBufferPointer { p.evaluate($0.baseAddress!, count: 1, dimension: 3, values: &v, gradients: &g) }
            for a in 0..<3 {
                var xp = x
                var xm = x
                xp[a] += 1e-6
                xm[a] -= 1e-6
                XCTAssertEqual(g[a], (p.value(xp) - p.value(xm)) / 2e-6, accuracy: 1e-6, "\(p.spec) ∂\(a)")
            }
        }
    }
}

final class TwoLayerNetworkTests: XCTestCase {
    func makeFlow(
        activation: TwoLayerNetworkFlow.Activation, d: Int, samples: Int, weightDecay: Double = 0
    ) -> TwoLayerNetworkFlow {
        var teacher = [Double](repeating: 0, count: 2 * d)
        for j in 0..<2 { teacher[j * d + j] = 1 }
        let train = TwoLayerNetworkFlow.teacherData(
            count: samples, dimension: d, sphere: false, teacher: teacher, neurons: 2,
            activation: activation, noise: 0, seed: 1, set: 0)
        let test = TwoLayerNetworkFlow.teacherData(
            count: samples, dimension: d, sphere: false, teacher: teacher, neurons: 2,
            activation: activation, noise: 0, seed: 1, set: 1)
        return TwoLayerNetworkFlow(
            inputDimension: d, activation: activation, weightDecay: weightDecay, temperature: 0,
            train: train, test: test, seed: 1, threads: 2)
    }

    /// ∇Ψ(θ_i) is N times the gradient of the training risk with respect to θ_i (w_i = 1/N).
    func testVelocityFieldIsTheScaledRiskGradient() {
        for act in TwoLayerNetworkFlow.Activation.allCases {
            let d = 4
            let n = 7
            let flow = makeFlow(activation: act, d: d, samples: 50, weightDecay: 0.1)
            let p = population(gaussianPoints(n, d + 2, std: 0.8, seed: 3), dimension: d + 2)
            let g = flow.velocityField(p)
            for i in [0, 3, 6] {
                for k in 0..<(d + 2) {
                    var pp = p
                    var pm = p
                    pp.positions[i * (d + 2) + k] += 1e-6
                    pm.positions[i * (d + 2) + k] -= 1e-6
                    // energy = R + (α/2) Σ w_i|θ_i|²: its θ_i-gradient is w_i (∇Ψ + α θ_i).
                    let fd =
                        (flow.energy(SimulationState(populations: [pp]))
                            - flow.energy(SimulationState(populations: [pm]))) / 2e-6
                    XCTAssertEqual(
                        g[i * (d + 2) + k], Double(n) * fd, accuracy: 1e-6, "\(act) neuron \(i) coordinate \(k)")
                }
            }
        }
    }

    func testTrainingLowersTheLoss() {
        let d = 5
        let n = 100
        let flow = makeFlow(activation: .tanh, d: d, samples: 400)
        var positions = gaussianPoints(n, d + 2, std: 1, seed: 5)
        for i in 0..<n { positions[i * (d + 2) + d + 1] = 0 }
        var s = state(positions, dimension: d + 2)
        let initial = flow.loss(s.populations[0], test: true)
        for step in 1...400 { flow.advance(&s, step: step, stepSize: 0.5) }
        let final = flow.loss(s.populations[0], test: true)
        XCTAssertLessThan(final, initial / 20, "test loss \(initial) → \(final)")
        XCTAssertLessThan(flow.loss(s.populations[0], test: false), initial / 20)
    }
}
