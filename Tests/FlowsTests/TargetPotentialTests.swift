import Flows
import Foundation
import KernelSum
import XCTest

final class TargetPotentialTests: XCTestCase {
    /// V = −log π and ∇V = −∇log π at each point of a batch (a 2-D Gaussian target), and log Z = 0
    /// at λ = 1 only.
    func testValuesAndGradientsAreMinusLogDensityAndScore() throws {
        let target = GaussianTarget(mean: [1, -1], covariance: SPDMatrix(size: 2, entries: [1, 0.5, 0.5, 2])!)
        let potential = TargetPotential(density: target)
        let x = [0.3, 0.2, -1.0, 2.0, 1.0, -1.0]
        var values: [Double] = []
        var gradients: [Double] = []
        potential.evaluate(x, dimension: 2, values: &values, gradients: &gradients, threads: 1)
        for i in 0..<3 {
            let point = Array(x[(2 * i)..<(2 * i + 2)])
            XCTAssertEqual(values[i], -target.logDensity(point))
            XCTAssertEqual(Array(gradients[(2 * i)..<(2 * i + 2)]), target.score(point).map { -$0 })
        }
        XCTAssertEqual(potential.logPartition(temperature: 1, dimension: 2), 0)
        XCTAssertNil(potential.logPartition(temperature: 0.5, dimension: 2))
    }

    /// Langevin at λ = 1 with V = −log π samples π: 4000 particles, N(1, 0.5²), step 0.01, 600 steps
    /// (t = 6, twelve relaxation times): mean within 0.03 and variance within 4 % of the unadjusted
    /// scheme's stationary 0.25/(1 − h/(2·0.25)) = 0.2551.
    func testLangevinSamplesTheTarget() {
        let target = GaussianTarget(mean: [1], covariance: SPDMatrix.diagonal([0.25])!)
        let flow = LangevinFlow(
            dynamics: .overdamped, temperature: 1, friction: 1, potential: TargetPotential(density: target),
            interactions: [], domain: .free, initialVelocity: .thermal, seed: 2, threads: 2)
        var s = SimulationState(populations: [
            Population(name: "p", dimension: 1, positions: [Double](repeating: -2, count: 4000))
        ])
        for step in 1...600 { flow.advance(&s, step: step, stepSize: 0.01) }
        let x = s.populations[0].positions
        let mean = x.reduce(0, +) / 4000
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3999
        XCTAssertEqual(mean, 1, accuracy: 0.03)
        XCTAssertEqual(variance, 0.25 / (1 - 0.01 / 0.5), accuracy: 0.04 * 0.2551)
    }

    /// With a minibatched target the drift at step k is minus that step's minibatch scores
    /// (SGLD), and at step 0 minus the full scores.
    func testDriftTakesTheStepsMinibatch() {
        var rng = RandomStream(seed: 5, .flow)
        var features: [Double] = []
        var labels: [Double] = []
        for _ in 0..<30 {
            let x = (0..<2).map { _ in rng.normal() }
            features += x + [1]
            labels.append(x[0] > 0 ? 1 : 0)
        }
        let target = LogisticRegressionTarget(
            features: features, labels: labels, weightCount: 3, prior: .gaussian(std: 1), batchSize: 4)
        let flow = LangevinFlow(
            dynamics: .overdamped, temperature: 1, friction: 1, potential: TargetPotential(density: target),
            interactions: [], domain: .free, initialVelocity: .thermal, seed: 8, threads: 1)
        let points = [0.2, -0.1, 0.3, -0.4, 0.5, 0.0]
        let population = Population(name: "p", dimension: 3, positions: points)
        var minibatch = [Double](repeating: 0, count: 6)
        points.withUnsafeBufferPointer { p in
            minibatch.withUnsafeMutableBufferPointer { o in
                target.minibatchScores(p.baseAddress!, count: 2, into: o.baseAddress!, threads: 1, step: 3, seed: 8)
            }
        }
        var full: [Double] = []
        target.scores(points, into: &full, threads: 1)
        XCTAssertEqual(flow.drift(population, step: 3), minibatch)
        XCTAssertEqual(flow.drift(population), full)
        XCTAssertNotEqual(minibatch, full)
    }
}
