import Flows
import Foundation
import KernelSum
import TestSupport
import XCTest

/// The Wasserstein–Fisher–Rao Langevin flow with the entropy (λ log ρ̂, the weighted kernel
/// density estimate) and interactions in its first variation, against what the tests compute
/// themselves: the KDE, the interaction sums by double loops, the update, and the stationary
/// weights of a two-particle system found by bisection.
final class WFREntropyTests: XCTestCase {
    /// The test's own first variation v_i = V(x_i) + Σ_{j≠i} w_j κ|x_i − x_j|²/2 + λ log ρ̂(x_i),
    /// ρ̂(x) = Σ_j w_j (2πσ²)^{−d/2} exp(−|x − x_j|²/(2σ²)), σ = s̄ (4/((d + 2)N))^{1/(d+4)},
    /// s̄² = Σ_i w_i |x_i − m|²/d (Σ w = 1), V given per particle.
    static func handFirstVariation(
        _ x: [Double], _ w: [Double], _ d: Int, v: [Double], lambda: Double, kappa: Double
    ) -> [Double] {
        let n = w.count
        var s2 = 0.0
        for a in 0..<d {
            var m = 0.0
            for i in 0..<n { m += w[i] * x[i * d + a] }
            for i in 0..<n { s2 += w[i] * (x[i * d + a] - m) * (x[i * d + a] - m) }
        }
        s2 /= Double(d)
        let sigma = s2.squareRoot() * pow(4 / (Double(d + 2) * Double(n)), 1 / Double(d + 4))
        func r2(_ i: Int, _ j: Int) -> Double { (0..<d).reduce(0) { $0 + pow(x[i * d + $1] - x[j * d + $1], 2) } }
        return (0..<n).map { i in
            var rho = 0.0
            var interaction = 0.0
            for j in 0..<n {
                rho += w[j] * exp(-r2(i, j) / (2 * sigma * sigma)) / pow(2 * Double.pi * sigma * sigma, Double(d) / 2)
                if j != i { interaction += w[j] * kappa * r2(i, j) / 2 }
            }
            return v[i] + interaction + lambda * log(rho)
        }
    }

    /// One step, λ = 0.3, α = 1.1, h = 0.1, transport 1, the tilted double well and a quadratic
    /// interaction κ = 0.8, four particles with weights 0.1 … 0.4: the weights are
    /// w_i exp(−αh(v_i − Σ_k w_k v_k))/Z with the test's own v (positions before the step; the
    /// step's noise moves the positions, not this), to 1e-14.
    func testOneEntropicStepIsTheHandUpdate() {
        let x = [-1.1, -0.4, 0.5, 1.3]
        let w = [0.1, 0.2, 0.3, 0.4]
        let (lambda, alpha, h, c, kappa) = (0.3, 1.1, 0.1, 0.5, 0.8)
        let flow = LangevinFlow(
            temperature: lambda, potential: TiltedDoubleWell(tilt: c),
            interactions: [QuadraticInteraction(kappa: kappa)], fisherRao: alpha, seed: 5, threads: 1)
        var s = state(x, dimension: 1)
        s.populations[0].weights = w
        let v = Self.handFirstVariation(
            x, w, 1, v: x.map { TiltedDoubleWell.value($0, c) }, lambda: lambda, kappa: kappa)
        let mean = (0..<4).reduce(0) { $0 + w[$1] * v[$1] }
        let raw = (0..<4).map { w[$0] * exp(-alpha * h * (v[$0] - mean)) }
        let z = raw.reduce(0, +)
        flow.advance(&s, step: 1, stepSize: h)
        for i in 0..<4 {
            XCTAssertEqual(s.populations[0].weights[i], raw[i] / z, accuracy: 1e-14, "particle \(i)")
        }
        XCTAssertNotEqual(s.populations[0].positions, x, "transport 1 moves the positions")
    }

    /// In d = 2 (the KDE's constant (2πσ²)^{−1} and the variance averaged over 2 coordinates),
    /// five weighted particles, λ = 0.7, a quadratic V and interaction: ``LangevinFlow/firstVariation(_:potentialValues:)``
    /// is the test's own v to 1e-13; and the log density estimate alone is (λ = 1, no V or W).
    func testFirstVariationInTwoDimensions() {
        let x = [0.2, -0.5, 1.1, 0.3, -0.7, 0.9, 0.4, 1.6, -1.2, -0.8]
        let w = [0.3, 0.1, 0.25, 0.15, 0.2]
        var p = population(x, dimension: 2)
        p.weights = w
        let flow = LangevinFlow(
            temperature: 0.7, potential: QuadraticPotential(a: 1.5, centre: [0.1, -0.2]),
            interactions: [QuadraticInteraction(kappa: 0.4)], fisherRao: 1, seed: 1, threads: 1)
        let vHand = (0..<5).map { i in 0.75 * (pow(x[2 * i] - 0.1, 2) + pow(x[2 * i + 1] + 0.2, 2)) }
        let want = Self.handFirstVariation(x, w, 2, v: vHand, lambda: 0.7, kappa: 0.4)
        let got = flow.firstVariation(p)
        for i in 0..<5 { XCTAssertEqual(got[i], want[i], accuracy: 1e-13, "particle \(i)") }
        let logRho = Self.handFirstVariation(x, w, 2, v: [0, 0, 0, 0, 0], lambda: 1, kappa: 0)
        let bare = LangevinFlow(temperature: 1, potential: nil, fisherRao: 1, seed: 1, threads: 1)
        let est = bare.logDensityEstimate(p)
        for i in 0..<5 { XCTAssertEqual(est[i], logRho[i], accuracy: 1e-13, "log ρ̂ at \(i)") }
    }

    /// Pure Fisher–Rao (transport 0, λ = 0.5) on two fixed particles x = 0, 1 with the tilted
    /// double well (V(0) = 1, V(1) = 0.5): the weights stop where V + λ log ρ̂ is equal at both,
    ///
    ///     g(w₁) = V(0) − V(1) + λ[log(w₁ + w₂k) − log(w₁k + w₂)] = 0,  k = exp(−1/(2σ²)),
    ///
    /// σ² = w₁w₂ (4/6)^{2/5} (the weighted variance of the two points; the KDE's constant cancels).
    /// g increases from −∞ to +∞ on (0, 1), so its root (found by bisection, w₁* ≈ 0.25) is the
    /// only stationary point and it is stable (ẇ₁ = −α w₁w₂ g(w₁)). 4000 steps of 0.05 with α = 1
    /// from uniform weights reach it to 1e-10; the positions never move.
    func testPureFisherRaoReachesTheStationaryWeights() {
        let (lambda, c) = (0.5, 0.5)
        let dV = TiltedDoubleWell.value(0, c) - TiltedDoubleWell.value(1, c)
        func g(_ w1: Double) -> Double {
            let k = exp(-1 / (2 * w1 * (1 - w1) * pow(4.0 / 6, 0.4)))
            return dV + lambda * (log(w1 + (1 - w1) * k) - log(w1 * k + 1 - w1))
        }
        var (lo, hi) = (1e-6, 1 - 1e-6)
        XCTAssertLessThan(g(lo), 0)
        XCTAssertGreaterThan(g(hi), 0)
        for _ in 0..<200 {
            let m = 0.5 * (lo + hi)
            if g(m) < 0 { lo = m } else { hi = m }
        }
        let wStar = 0.5 * (lo + hi)
        let flow = LangevinFlow(
            temperature: lambda, potential: TiltedDoubleWell(tilt: c), fisherRao: 1, transport: 0, seed: 2, threads: 1)
        var s = state([0, 1], dimension: 1)
        for n in 1...4000 { flow.advance(&s, step: n, stepSize: 0.05) }
        XCTAssertEqual(s.populations[0].positions, [0, 1])
        XCTAssertEqual(s.populations[0].weights[0], wStar, accuracy: 1e-10)
        XCTAssertEqual(s.populations[0].weights[1], 1 - wStar, accuracy: 1e-10)
    }

    /// Three fixed particles in d = 2 with a Gaussian-kernel interaction as well: after pure
    /// Fisher–Rao the first variation (the test's own, from the final weights) is the same at
    /// every particle to 1e-9, the stationarity the weights converge to, and the weights are not
    /// the Gibbs weights exp(−V/λ)/Z of the small-σ limit (σ is not small here: the biased KDE).
    func testPureFisherRaoEqualisesTheFirstVariation() {
        let x = [0.0, 0.0, 1.0, 0.2, -0.3, 0.9]
        let (lambda, a, weight, sigmaW) = (0.4, 2.0, 0.6, 0.7)
        let flow = LangevinFlow(
            temperature: lambda, potential: QuadraticPotential(a: a, centre: [0.5, 0]),
            interactions: [
                KernelInteraction(
                    kernel: GaussianKernel(sigma: sigmaW), weight: weight, engine: DirectSum(threads: 1),
                    domain: .free, threads: 1)
            ], fisherRao: 2, transport: 0, seed: 2, threads: 1)
        var s = state(x, dimension: 2)
        for n in 1...3000 { flow.advance(&s, step: n, stepSize: 0.05) }
        let w = s.populations[0].weights
        let vHand = (0..<3).map { i in 0.5 * a * (pow(x[2 * i] - 0.5, 2) + pow(x[2 * i + 1], 2)) }
        var v = Self.handFirstVariation(x, w, 2, v: vHand, lambda: lambda, kappa: 0)
        for i in 0..<3 {
            for j in 0..<3 where j != i {
                let r2 = pow(x[2 * i] - x[2 * j], 2) + pow(x[2 * i + 1] - x[2 * j + 1], 2)
                v[i] += w[j] * weight * exp(-r2 / (2 * sigmaW * sigmaW))
            }
        }
        XCTAssertLessThan(v.max()! - v.min()!, 1e-9, "first variation \(v)")
        let gibbs = vHand.map { exp(-$0 / lambda) }
        let z = gibbs.reduce(0, +)
        XCTAssertGreaterThan(abs(w[0] - gibbs[0] / z), 1e-3)
    }

    /// A particle whose weight has underflowed to 0, far from the others (ρ̂ = 0 there in
    /// doubles): the step keeps every weight finite, its weight 0 and the sum 1 (log 0 = −∞ would
    /// make the update NaN).
    func testZeroWeightFarParticleKeepsTheWeightsFinite() {
        let flow = LangevinFlow(
            temperature: 0.5, potential: TiltedDoubleWell(tilt: 0.5), fisherRao: 1, transport: 0, seed: 1, threads: 1)
        var s = state([0, 0.1, 1000], dimension: 1)
        s.populations[0].weights = [0.5, 0.5, 0]
        flow.advance(&s, step: 1, stepSize: 0.1)
        let w = s.populations[0].weights
        XCTAssertTrue(w.allSatisfy { $0.isFinite }, "\(w)")
        XCTAssertEqual(w[2], 0)
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-14)
    }

    // MARK: Interaction values

    /// Σ_{j≠i} w_j W(x_i − x_j) by a double loop (minimum images with a period).
    func doubleLoop(
        _ x: [Double], _ w: [Double], _ d: Int, period: Double? = nil, _ W: ([Double]) -> Double
    )
        -> [Double]
    {
        (0..<w.count).map { i in
            var s = 0.0
            for j in 0..<w.count where j != i {
                var z = (0..<d).map { x[i * d + $0] - x[j * d + $0] }
                if let l = period { z = z.map { $0 - l * ($0 / l).rounded() } }
                s += w[j] * W(z)
            }
            return s
        }
    }

    func weights(_ n: Int, seed: UInt64) -> [Double] {
        var rng = RandomStream(seed: seed, .flow)
        let w = (0..<n).map { _ in 0.5 + rng.uniform() }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// The values pass adds to what is there: 1 + the sum.
    func values(_ term: any Interaction, _ x: [Double], _ w: [Double], _ d: Int) -> [Double] {
        var v = [Double](repeating: 1, count: w.count)
        term.addValues(x, weights: w, dimension: d, into: &v)
        return v.map { $0 - 1 }
    }

    /// Quadratic (through the moments), in d = 3 with non-uniform weights, to 1e-12 relative.
    func testQuadraticValuesMatchTheDoubleLoop() {
        let (n, d, kappa) = (300, 3, 0.7)
        let x = gaussianPoints(n, d, mean: 1, std: 2)
        let w = weights(n, seed: 4)
        let want = doubleLoop(x, w, d) { z in kappa * z.reduce(0) { $0 + $1 * $1 } / 2 }
        XCTAssertLessThan(relativeError(values(QuadraticInteraction(kappa: kappa), x, w, d), want), 1e-12)
    }

    /// Kernel terms: a smooth Gaussian (the engine's diagonal w_i·k(0) removed), the singular
    /// logarithm (no diagonal), each by the direct engine to 1e-12, the log kernel through the
    /// mesh to 1e-5, and a Gaussian in the periodic box by minimum images to 1e-12.
    func testKernelValuesMatchTheDoubleLoop() {
        let (n, d) = (400, 2)
        let x = gaussianPoints(n, d)
        let w = weights(n, seed: 7)
        let sigma = 0.8
        func gaussian(_ z: [Double]) -> Double { -2 * exp(-z.reduce(0) { $0 + $1 * $1 } / (2 * sigma * sigma)) }
        let smooth = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: -2, engine: DirectSum(threads: 2), domain: .free, threads: 2)
        XCTAssertLessThan(relativeError(values(smooth, x, w, d), doubleLoop(x, w, d, gaussian)), 1e-12)
        let logWant = doubleLoop(x, w, d) { z in -0.5 * log(z.reduce(0) { $0 + $1 * $1 }.squareRoot()) }
        for (engine, tolerance) in [
            (DirectSum(threads: 2) as any KernelSumEngine, 1e-12), (MeshSum(tolerance: 1e-6, threads: 2), 1e-5),
        ] {
            let term = KernelInteraction(
                kernel: LogarithmicKernel(), weight: 0.5, engine: engine, domain: .free, threads: 2)
            XCTAssertLessThan(relativeError(values(term, x, w, d), logWant), tolerance, engine.name)
        }
        let l = 3.0
        let box = x.map { $0 - l * ($0 / l).rounded(.down) }
        let periodic = KernelInteraction(
            kernel: GaussianKernel(sigma: sigma), weight: -2, engine: nil, domain: .periodic(length: l), threads: 2)
        XCTAssertLessThan(
            relativeError(values(periodic, box, w, d), doubleLoop(box, w, d, period: l, gaussian)), 1e-12)
    }
}
