import Flows
import Foundation
import KernelSum
import XCTest

/// The sparse-deconvolution flow (conic particle gradient descent) against sums written out
/// here: the Dirichlet kernel and the periodic Gaussian, finite differences, the closed-form
/// mass step and the closed-form optimum on fixed positions.
final class SparseDeconvolutionTests: XCTestCase {
    let spikes1 = [0.15, 0.42, 0.47]
    let masses1 = [1.0, 0.6, 0.8]
    let spikes2 = [0.2, 0.3, 0.7, 0.25, 0.45, 0.75]
    let masses2 = [1.0, 0.7, 0.5]

    func fourier(
        _ d: Int, cutoff: Int, lambda: Double = 0.03, transport: Double = 0.005, fisherRao: Double = 1,
        threads: Int = 2
    ) -> SparseDeconvolutionFlow {
        SparseDeconvolutionFlow(
            measurements: .fourier, dimension: d, cutoff: cutoff, regularisation: lambda, transport: transport,
            fisherRao: fisherRao, initialMass: 0.1, spikes: d == 1 ? spikes1 : spikes2,
            masses: d == 1 ? masses1 : masses2, threads: threads)
    }

    func gaussian(_ d: Int, grid: Int, width: Double, lambda: Double = 0.03) -> SparseDeconvolutionFlow {
        SparseDeconvolutionFlow(
            measurements: .gaussian, dimension: d, gridSize: grid, width: width, regularisation: lambda,
            transport: 0.01, fisherRao: 1, initialMass: 0.1, spikes: d == 1 ? spikes1 : spikes2,
            masses: d == 1 ? masses1 : masses2, threads: 2)
    }

    /// N particles uniform in [0, 1)^d with masses in [0.05, 0.25).
    func particles(_ d: Int, _ n: Int, seed: UInt64) -> Population {
        var rng = RandomStream(seed: seed, .flow, 0)
        var p = Population(name: "p", dimension: d, positions: (0..<(n * d)).map { _ in rng.uniform() })
        p.weights = (0..<n).map { _ in 0.05 + 0.2 * rng.uniform() }
        return p
    }

    /// The Dirichlet kernel D(u) = Σ_{|k|_∞ ≤ f_c} cos(2π k·u), a term per frequency.
    static func dirichlet(_ u: [Double], cutoff fc: Int) -> Double {
        var s = 0.0
        if u.count == 1 {
            for k in -fc...fc { s += cos(2 * Double.pi * Double(k) * u[0]) }
        } else {
            for k1 in -fc...fc {
                for k2 in -fc...fc { s += cos(2 * Double.pi * (Double(k1) * u[0] + Double(k2) * u[1])) }
            }
        }
        return s
    }

    /// ⟨Φ(θ), Φ(θ')⟩ written out: D(θ − θ')/K (Fourier), or (1/K) Σ_j g(θ − x_j) g(θ' − x_j)
    /// over the grid x_j = j/n with the periodic Gaussian g (Gaussian).
    static func kernel(_ flow: SparseDeconvolutionFlow, _ a: [Double], _ b: [Double]) -> Double {
        let d = a.count
        switch flow.measurements {
        case .fourier:
            let k = pow(Double(2 * flow.cutoff + 1), Double(d))
            return dirichlet(zip(a, b).map { $0 - $1 }, cutoff: flow.cutoff) / k
        case .gaussian:
            let n = flow.gridSize
            let s2 = flow.width * flow.width
            func g(_ t: [Double], _ x: [Double]) -> Double {
                var r2 = 0.0
                for c in 0..<d {
                    var u = t[c] - x[c]
                    u -= u.rounded()
                    r2 += u * u
                }
                return exp(-r2 / (2 * s2))
            }
            var s = 0.0
            if d == 1 {
                for j in 0..<n { s += g(a, [Double(j) / Double(n)]) * g(b, [Double(j) / Double(n)]) }
            } else {
                for j1 in 0..<n {
                    for j2 in 0..<n {
                        let x = [Double(j1) / Double(n), Double(j2) / Double(n)]
                        s += g(a, x) * g(b, x)
                    }
                }
            }
            return s / pow(Double(n), Double(d))
        }
    }

    /// J'(μ)(θ) = λ + Σ_i m_i ⟨Φ(θ), Φ(θ_i)⟩ − Σ_s m*_s ⟨Φ(θ), Φ(θ*_s)⟩, pair by pair.
    static func naiveFirstVariation(_ flow: SparseDeconvolutionFlow, _ p: Population, at theta: [Double]) -> Double {
        let d = p.dimension
        var v = flow.regularisation
        for i in 0..<p.count { v += p.weights[i] * kernel(flow, theta, Array(p.positions[(i * d)..<(i * d + d)])) }
        for s in 0..<flow.masses.count {
            v -= flow.masses[s] * kernel(flow, theta, Array(flow.spikes[(s * d)..<(s * d + d)]))
        }
        return v
    }

    /// Φ(θ) against e^{−2πik·θ}/√K written out, and J' at every particle against the pair sums of
    /// the Dirichlet kernel (1-D and 2-D) or of the periodic Gaussian on the grid.
    func testMeasurementsAndFirstVariationMatchNaiveSums() {
        let phi = fourier(2, cutoff: 3).measurement(at: [0.3, 0.85])
        var k = 0
        for k2 in -3...3 {
            for k1 in -3...3 {
                let w = 2 * Double.pi * (Double(k1) * 0.3 + Double(k2) * 0.85)
                XCTAssertEqual(phi[2 * k], cos(w) / 7, accuracy: 1e-14, "k = (\(k1), \(k2))")
                XCTAssertEqual(phi[2 * k + 1], -sin(w) / 7, accuracy: 1e-14, "k = (\(k1), \(k2))")
                k += 1
            }
        }
        let cases: [(String, SparseDeconvolutionFlow)] = [
            ("fourier 1-D", fourier(1, cutoff: 7)), ("fourier 2-D", fourier(2, cutoff: 4)),
            ("gaussian 1-D", gaussian(1, grid: 40, width: 0.06)), ("gaussian 2-D", gaussian(2, grid: 12, width: 0.1)),
        ]
        for (name, flow) in cases {
            let d = flow.dimension
            let p = particles(d, 13, seed: 3)
            let (values, _) = flow.firstVariation(of: p, at: p.positions)
            for i in 0..<p.count {
                let expected = Self.naiveFirstVariation(flow, p, at: Array(p.positions[(i * d)..<(i * d + d)]))
                XCTAssertEqual(values[i], expected, accuracy: 1e-12, "\(name), particle \(i)")
            }
            // J = ½‖Φμ − y‖² + λ Σ m_i = ½(Σ_ij m_i m_j k_ij − 2 Σ_is m_i m*_s k_is + Σ_st m*_s m*_t k_st) + λ Σ m_i.
            var quadratic = 0.0
            let all = p.positions + flow.spikes
            let signed = p.weights + flow.masses.map { -$0 }
            for a in 0..<signed.count {
                for b in 0..<signed.count {
                    quadratic +=
                        signed[a] * signed[b]
                        * Self.kernel(flow, Array(all[(a * d)..<(a * d + d)]), Array(all[(b * d)..<(b * d + d)]))
                }
            }
            let objective = 0.5 * quadratic + flow.regularisation * p.weights.reduce(0, +)
            XCTAssertEqual(flow.objective(p), objective, accuracy: 1e-12, name)
        }
    }

    /// ∇J'(μ)(θ) against central differences of J'(μ)(·) at fixed μ, at points off the particles.
    func testGradientMatchesFiniteDifferences() {
        let cases: [(String, SparseDeconvolutionFlow)] = [
            ("fourier 1-D", fourier(1, cutoff: 7)), ("fourier 2-D", fourier(2, cutoff: 4)),
            ("gaussian 1-D", gaussian(1, grid: 40, width: 0.06)), ("gaussian 2-D", gaussian(2, grid: 12, width: 0.1)),
        ]
        let eps = 1e-6
        for (name, flow) in cases {
            let d = flow.dimension
            let p = particles(d, 11, seed: 5)
            let points = particles(d, 6, seed: 9).positions
            let (_, gradients) = flow.firstVariation(of: p, at: points)
            for i in 0..<(points.count / d) {
                for a in 0..<d {
                    var plus = Array(points[(i * d)..<(i * d + d)])
                    var minus = plus
                    plus[a] += eps
                    minus[a] -= eps
                    let fd =
                        (flow.firstVariation(of: p, at: plus).values[0]
                            - flow.firstVariation(of: p, at: minus).values[0])
                        / (2 * eps)
                    XCTAssertEqual(
                        gradients[i * d + a], fd, accuracy: 1e-6 * max(1, abs(fd)), "\(name) point \(i) axis \(a)")
                }
            }
        }
    }

    /// With transport = 0, one step multiplies each mass by exp(−4αh J'(θ_i)) (J' from the pair
    /// sums) and leaves the positions; with fisher-rao = 0 it moves each position by −βh∇J'
    /// (central differences), wrapped into [0, 1), and leaves the masses.
    func testOneStepIsTheClosedFormUpdate() {
        let (alpha, beta, h) = (0.7, 0.003, 0.2)
        let p = particles(1, 17, seed: 11)
        let masses = SparseDeconvolutionFlow(
            measurements: .fourier, dimension: 1, cutoff: 6, regularisation: 0.05, transport: 0, fisherRao: alpha,
            initialMass: 1, spikes: spikes1, masses: masses1)
        var state = SimulationState(populations: [p])
        masses.advance(&state, step: 1, stepSize: h)
        XCTAssertEqual(state.populations[0].positions, p.positions)
        for i in 0..<p.count {
            let v = Self.naiveFirstVariation(masses, p, at: [p.positions[i]])
            XCTAssertEqual(
                state.populations[0].weights[i], p.weights[i] * exp(-4 * alpha * h * v),
                accuracy: 1e-14 * p.weights[i], "mass \(i)")
        }
        let positions = SparseDeconvolutionFlow(
            measurements: .fourier, dimension: 1, cutoff: 6, regularisation: 0.05, transport: beta, fisherRao: 0,
            initialMass: 1, spikes: spikes1, masses: masses1)
        state = SimulationState(populations: [p])
        positions.advance(&state, step: 1, stepSize: h)
        XCTAssertEqual(state.populations[0].weights, p.weights)
        let eps = 1e-6
        for i in 0..<p.count {
            let t = p.positions[i]
            let g =
                (Self.naiveFirstVariation(positions, p, at: [t + eps])
                    - Self.naiveFirstVariation(positions, p, at: [t - eps])) / (2 * eps)
            var expected = t - beta * h * g
            expected -= expected.rounded(.down)
            XCTAssertEqual(state.populations[0].positions[i], expected, accuracy: 1e-9, "position \(i)")
        }
    }

    /// Particles fixed on the true spikes (transport = 0): the masses converge to the minimiser
    /// of the convex problem on those positions, m* − λ G⁻¹1 with G_st = D(θ*_s − θ*_t)/K, the
    /// spikes at 0.42 and 0.47 close enough (f_c = 4) for G to be far from diagonal.
    func testFixedPositionsConvergeToTheRegularisedOptimum() {
        let lambda = 0.1
        let flow = fourier(1, cutoff: 4, lambda: lambda, transport: 0)
        var p = Population(name: "p", dimension: 1, positions: spikes1)
        p.weights = [0.3, 0.3, 0.3]
        var state = SimulationState(populations: [p])
        for step in 1...6000 { flow.advance(&state, step: step, stepSize: 0.05) }
        // G m = G m* − λ1, solved by Gaussian elimination.
        var g = (0..<3).map { s in (0..<3).map { t in Self.kernel(flow, [spikes1[s]], [spikes1[t]]) } }
        var rhs = [Double](repeating: -lambda, count: 3)
        for r in 0..<3 {
            for c in (r + 1)..<3 {
                let f = g[c][r] / g[r][r]
                for k in r..<3 { g[c][k] -= f * g[r][k] }
                rhs[c] -= f * rhs[r]
            }
        }
        var shift = [Double](repeating: 0, count: 3)
        for r in stride(from: 2, through: 0, by: -1) {
            var s = rhs[r]
            for k in (r + 1)..<3 { s -= g[r][k] * shift[k] }
            shift[r] = s / g[r][r]
        }
        let expected = zip(masses1, shift).map { $0 + $1 }
        XCTAssertGreaterThan(maxAbsDifference(expected, masses1), 0.05, "the bias is visible")
        XCTAssertLessThan(maxAbsDifference(state.populations[0].weights, expected), 1e-9)
    }

    /// The metrics' definition on a hand-made measure: spike 0 at 0.02 gets the particles at 0.99
    /// (across the wrap) and 0.05, spike 1 at 0.5 those at 0.45, 0.6 and 0.3 (0.2 from it, 0.28
    /// from spike 0).
    func testSpikeRecoveryByHand() {
        var p = Population(name: "p", dimension: 1, positions: [0.99, 0.05, 0.45, 0.6, 0.3])
        p.weights = [0.2, 0.6, 0.5, 0.3, 0.1]
        let r = SpikeRecovery(p, spikes: [0.02, 0.5], masses: [1.0, 0.8])
        // Spike 0: mass 0.8, moment 0.2·(−0.03) + 0.6·0.03 = 0.012 → 0.015; mass error 0.2.
        // Spike 1: mass 0.9, moment 0.5·(−0.05) + 0.3·0.1 + 0.1·(−0.2) = −0.015 → 0.01667; 0.1.
        XCTAssertEqual(r.positionError, 0.015 / 0.9, accuracy: 1e-14)
        XCTAssertEqual(r.massError, 0.2, accuracy: 1e-14)
        // A spike without mass: the largest torus distance, √d/2.
        var q = Population(name: "q", dimension: 2, positions: [0.1, 0.1])
        q.weights = [1]
        let empty = SpikeRecovery(q, spikes: [0.1, 0.1, 0.6, 0.6], masses: [1, 0.5])
        XCTAssertEqual(empty.positionError, 0.5.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(empty.massError, 0.5)
    }

    /// A small case recovered: three spikes (two 0.05 apart) from f_c = 10 Fourier coefficients,
    /// 60 particles, λ = 10⁻⁴: positions and masses within 10⁻³.
    func testSmallCaseRecoversTheSpikes() {
        let flow = SparseDeconvolutionFlow(
            measurements: .fourier, dimension: 1, cutoff: 10, regularisation: 1e-4, transport: 0.005, fisherRao: 1,
            initialMass: 1e-4, spikes: [0.15, 0.42, 0.72], masses: masses1, threads: 2)
        var state = SimulationState(populations: [particles(1, 60, seed: 2)])
        flow.prepare(&state)
        let start = SpikeRecovery(state.populations[0], spikes: flow.spikes, masses: flow.masses)
        XCTAssertGreaterThan(start.massError, 0.5)
        for step in 1...300 { flow.advance(&state, step: step, stepSize: 0.1) }
        let end = SpikeRecovery(state.populations[0], spikes: flow.spikes, masses: flow.masses)
        XCTAssertLessThan(end.positionError, 1e-3)
        XCTAssertLessThan(end.massError, 1e-3)
    }

    /// `noise` adds N(0, σ²) to every real and imaginary part of y (Fourier; Gaussian
    /// measurements stay real): over 2·4001 parts the mean square of y − Φμ* is σ² within five
    /// standard errors (σ²√(2/n)); the same seed draws the same noise, another seed other noise.
    func testNoiseHasTheStatedStandardDeviation() {
        func flow(_ kind: SparseDeconvolutionFlow.Measurements, noise: Double, seed: UInt64) -> SparseDeconvolutionFlow
        {
            SparseDeconvolutionFlow(
                measurements: kind, dimension: 1, cutoff: 2000, gridSize: 4001, width: 0.01, regularisation: 0,
                transport: 1, fisherRao: 1, initialMass: 1, spikes: spikes1, masses: masses1, noise: noise,
                seed: seed, threads: 2)
        }
        let sigma = 0.3
        let clean = flow(.fourier, noise: 0, seed: 1).observations
        let noisy = flow(.fourier, noise: sigma, seed: 1).observations
        let n = Double(clean.count)
        let meanSquare = zip(noisy, clean).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / n
        XCTAssertEqual(meanSquare, sigma * sigma, accuracy: 5 * sigma * sigma * (2 / n).squareRoot())
        XCTAssertEqual(flow(.fourier, noise: sigma, seed: 1).observations, noisy)
        XCTAssertNotEqual(flow(.fourier, noise: sigma, seed: 2).observations, noisy)
        let blurred = flow(.gaussian, noise: sigma, seed: 1).observations
        XCTAssertEqual((0..<4001).map { blurred[2 * $0 + 1] }, [Double](repeating: 0, count: 4001))
        let blurredClean = flow(.gaussian, noise: 0, seed: 1).observations
        let realSquare = (0..<4001).reduce(0.0) { $0 + pow(blurred[2 * $1] - blurredClean[2 * $1], 2) } / 4001
        XCTAssertEqual(realSquare, sigma * sigma, accuracy: 5 * sigma * sigma * (2 / 4001.0).squareRoot())
    }

    /// One and two threads step to the same state, bit for bit (2-D, Gaussian and Fourier).
    func testThreadCountDoesNotChangeTheRun() {
        for measurements in SparseDeconvolutionFlow.Measurements.allCases {
            var states: [SimulationState] = []
            for threads in [1, 2] {
                let flow = SparseDeconvolutionFlow(
                    measurements: measurements, dimension: 2, cutoff: 5, gridSize: 15, width: 0.08,
                    regularisation: 1e-3, transport: 0.005, fisherRao: 1, initialMass: 0.01, spikes: spikes2,
                    masses: masses2, threads: threads)
                var state = SimulationState(populations: [particles(2, 150, seed: 4)])
                flow.prepare(&state)
                for step in 1...20 { flow.advance(&state, step: step, stepSize: 0.1) }
                states.append(state)
            }
            XCTAssertTrue(states[0] == states[1], "\(measurements)")
        }
    }
}
