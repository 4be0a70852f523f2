import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// The Langevin metrics of a loaded scenario at step 0 against values written out here from the
/// particles (their inits are internal, so they are reached through a scenario): 2-D, V the
/// quadratic a|x − c|²/2, W the quadratic κ|z|²/2, temperature λ ≠ 1. The entropy H comes from
/// the kNN estimator (tested against closed forms in FlowsTests); the free energy and the KL
/// divergence combine it as F = U + I − λH and KL = −H + U/λ + log Z, Z = (2πλ/a)^{d/2}.
/// Tolerance 1e-12 relative.
final class LangevinMetricTests: XCTestCase {
    let dir = TempDirectory()

    /// With the interaction (every metric but kl, which needs a known Gibbs measure) and without
    /// it (kl too).
    func testLangevinMetricsByHand() throws {
        for kappa in [0.6, 0] { try check(kappa: kappa) }
    }

    func check(kappa: Double) throws {
        let a = 1.7
        let lambda = 0.45
        let c = [0.5, -1.0]
        let text = """
            title = "metrics"
            seed = 4
            steps = 1
            step-size = 0.01

            [population]
            count = 300
            dimension = 2
            init = { kind = "gaussian", mean = [1, 0.5], std = 0.8 }

            [flow]
            kind = "langevin"
            temperature = \(lambda)
            potential = { kind = "quadratic", a = \(a), centre = [\(c[0]), \(c[1])] }
            \(kappa != 0 ? "interaction = [{ kind = \"quadratic\", weight = \(kappa) }]" : "")

            [record]
            metrics = ["mean", "variance", "potential-energy", "interaction-energy", "entropy", "free-energy"\(kappa != 0 ? "" : ", \"kl\"")]

            """
        let simulation = try ScenarioLoader.load(path: dir.write("m.toml", text), threads: 1).simulation
        let state = simulation.state
        let x = state.populations[0].positions
        let d = 2
        let n = x.count / d
        let w = 1 / Double(n)
        let mean = (0..<d).map { q in (0..<n).reduce(0.0) { $0 + x[$1 * d + q] } / Double(n) }
        var variance = 0.0
        var potential = 0.0
        var interaction = 0.0
        for i in 0..<n {
            for q in 0..<d {
                variance += pow(x[i * d + q] - mean[q], 2) / Double(n - 1) / Double(d)
                potential += w * a / 2 * pow(x[i * d + q] - c[q], 2)
            }
            for j in 0..<n where j != i {
                var r2 = 0.0
                for q in 0..<d { r2 += pow(x[i * d + q] - x[j * d + q], 2) }
                interaction += 0.5 * w * w * kappa * r2 / 2
            }
        }
        var values: [String: Double] = [:]
        for (name, metric) in simulation.metrics { values[name] = metric.evaluate(state) }
        let entropy = try XCTUnwrap(values["entropy"])
        var want: [String: Double] = [
            "mean": (mean[0] * mean[0] + mean[1] * mean[1]).squareRoot(),
            "variance": variance,
            "potential-energy": potential,
            "interaction-energy": interaction,
            "free-energy": potential + interaction - lambda * entropy,
        ]
        if kappa == 0 { want["kl"] = -entropy + potential / lambda + Double(d) / 2 * log(2 * Double.pi * lambda / a) }
        XCTAssertEqual(Set(values.keys), Set(want.keys).union(["entropy"]))
        for (name, value) in want {
            XCTAssertEqual(
                try XCTUnwrap(values[name]), value, accuracy: 1e-12 * max(1, abs(value)), "\(name) κ = \(kappa)")
        }
    }
}
