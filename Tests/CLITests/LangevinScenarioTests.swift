import Foundation
import XCTest

/// The mean-field Langevin scenarios end to end (each bundled one meeting its expectations is
/// CLITests.testEveryBundledScenarioMeetsItsExpectations): velocities in trajectory.csv,
/// scenarios without [target], errors and divergence.
final class LangevinScenarioTests: ScratchTestCase {

    func testVelocitiesAreColumnsOnlyForTheUnderdampedFlow() throws {
        let under = scratch.appendingPathComponent("under")
        let over = scratch.appendingPathComponent("over")
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/langevin-underdamped-ou.toml", "--out", under.path, "--steps", "3", "--quiet",
            ]).code, 0)
        XCTAssertEqual(
            try runWGF(["run", "scenarios/langevin-ou.toml", "--out", over.path, "--steps", "3", "--quiet"]).code, 0)
        let u = try read(under.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(u.first, "step,time,population,particle,weight,x1,x2,v1,v2")
        XCTAssertEqual(u[1].split(separator: ",").count, 9)
        XCTAssertEqual(
            try read(over.appendingPathComponent("trajectory.csv")).split(separator: "\n").first,
            "step,time,population,particle,weight,x1,x2")
        let info =
            try JSONSerialization.jsonObject(with: Data(contentsOf: under.appendingPathComponent("run.json")))
            as! [String: Any]
        XCTAssertEqual((info["flow"] as? [String: Any])?["dynamics"] as? String, "underdamped")
    }

    func testOutputIsIdenticalForAnyThreadCount() throws {
        var outputs: [String] = []
        for threads in [1, 2] {
            let out = scratch.appendingPathComponent("t\(threads)")
            let r = try runWGF([
                "run", "scenarios/langevin-underdamped-ou.toml", "--out", out.path, "--steps", "40",
                "--threads", "\(threads)", "--quiet",
            ])
            XCTAssertEqual(r.code, 0, r.stderr)
            outputs.append(try read(out.appendingPathComponent("trajectory.csv")))
            // Without the wall column.
            let metrics = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").map {
                $0.split(separator: ",").enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: ",")
            }
            outputs.append(metrics.joined(separator: "\n"))
        }
        XCTAssertEqual(outputs[0], outputs[2])
        XCTAssertEqual(outputs[1], outputs[3])
    }

    /// `wgf validate` of a scenario without [target] or population.dimension, written to `name`
    /// with the flow `kind`: it must exit 3; returns the scenario's path and the output.
    func validateWithoutTarget(_ name: String, flow kind: String) throws -> (path: String, output: String) {
        let f = try writeScenario(
            name,
            """
            steps = 10
            step-size = 0.1
            [population]
            count = 10
            init = { kind = "gaussian", mean = [0] }
            [flow]
            kind = "\(kind)"
            """)
        let r = try runWGF(["validate", f.path])
        XCTAssertEqual(r.code, 3, r.stdout + r.stderr)
        return (f.path, r.stdout + r.stderr)
    }

    func testAFlowThatNeedsATargetSaysSo() throws {
        let (path, output) = try validateWithoutTarget("svgd-no-target.toml", flow: "svgd")
        XCTAssertTrue(output.contains("\(path):1: target: missing (the svgd flow needs a target)"), output)
    }

    func testLangevinWithoutTargetNeedsADimension() throws {
        let (_, output) = try validateWithoutTarget("no-dimension.toml", flow: "langevin")
        XCTAssertTrue(output.contains("population.dimension: missing"), output)
    }

    func testPeriodicBoxRunsDirectAndMeshAndRefusesSliced() throws {
        let text = """
            # A periodic box with a Gaussian repulsion, particles started in a quarter of it.
            steps = 50
            step-size = 0.05
            record-every = 50
            [population]
            count = 200
            dimension = 2
            init = { kind = "uniform", low = 0, high = 1 }
            [flow]
            kind = "langevin"
            temperature = 0.1
            period = 2
            interaction = [{ kernel = "gaussian:sigma=0.3", weight = 1 }]
            summation = "SUM"
            [record]
            metrics = ["entropy", "free-energy"]
            """
        let bad = try writeScenario("periodic-sliced.toml", text.replacingOccurrences(of: "SUM", with: "sliced"))
        let r = try runWGF(["validate", bad.path])
        XCTAssertEqual(r.code, 3)
        XCTAssertTrue(
            (r.stdout + r.stderr).contains("flow.summation: sliced does not handle the periodic box"),
            r.stdout + r.stderr)
        // σ = 0.3 has decayed only to 4e-3 of its peak by L/2 = 1: the periodic mesh cannot meet
        // the default tolerance 1e-6 there and is refused; asked for 5e-3 it runs.
        let strict = try writeScenario("periodic-strict.toml", text.replacingOccurrences(of: "SUM", with: "mesh"))
        let refused = try runWGF(["validate", strict.path])
        XCTAssertEqual(refused.code, 3)
        XCTAssertTrue(
            refused.stderr.contains(
                "flow.summation: the periodic mesh meets the tolerance only for kernels that have decayed by L/2"),
            refused.stderr)
        var trajectories: [[Double]] = []
        for method in ["direct", "mesh"] {
            let good = try writeScenario(
                "periodic-\(method).toml",
                text.replacingOccurrences(
                    of: "\"SUM\"", with: method == "mesh" ? "\"mesh\"\ntolerance = 5e-3" : "\"\(method)\""))
            let out = scratch.appendingPathComponent("periodic-\(method)")
            let g = try runWGF(["run", good.path, "--out", out.path, "--quiet"])
            XCTAssertEqual(g.code, 0, g.stderr)
            let rows = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n").dropFirst()
            var positions: [Double] = []
            for row in rows {
                let cols = row.split(separator: ",")
                for c in cols[5...6] {
                    let v = Double(c)!
                    XCTAssertTrue(v >= 0 && v < 2, "\(row)")
                    positions.append(v)
                }
            }
            trajectories.append(positions)
            // The repulsion spreads the particles from the 1×1 square (entropy log 1 = 0) over the
            // 2×2 box: entropy close to log 4 at the end (measured 1.405; the estimator's noise at
            // N = 200 is about 0.04, and a repulsive, more regular arrangement reads up to 0.07 high
            // at λ = 0.01, 0.02 at λ = 0.1), not at the start.
            let records = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").map {
                $0.split(separator: ",")
            }
            XCTAssertEqual(records.count, 3, "records at steps 0 and 50")
            XCTAssertLessThan(
                Double(records[1][3])!, 0.5,
                "\(method): entropy at step 0 (log 1 = 0, measured 0.09: the estimator's edge bias)")
            XCTAssertEqual(Double(records[2][3])!, log(4.0), accuracy: 0.15, "\(method): entropy at step 50")
            let run = try read(out.appendingPathComponent("run.json"))
            XCTAssertTrue(run.contains("interaction-summation-period") && run.contains("\"\(method)\""), run)
        }
        // σ = 0.3 has decayed only to 4e-3 by L/2 = 1: the mesh then follows the minimum-image
        // kernel only to about the size of its kink at L/2, not to the tolerance (measured: the
        // positions differ by 3.6e-4 after 50 steps); the runs still agree closely.
        XCTAssertEqual(trajectories[0].count, trajectories[1].count)
        var worst = 0.0
        for k in 0..<trajectories[0].count {
            var t = trajectories[0][k] - trajectories[1][k]
            t -= 2 * (t / 2).rounded()
            worst = max(worst, abs(t))
        }
        XCTAssertLessThan(worst, 1e-3, "direct and mesh trajectories")
    }

    func testDivergingUnderdampedRunStopsWithStepAndCause() throws {
        let f = try writeScenario(
            "diverge.toml",
            """
            # Underdamped Langevin on a stiff double well with a step far too large.
            steps = 100
            step-size = 50
            record-every = 1
            [population]
            count = 10
            dimension = 1
            init = { kind = "gaussian", mean = [2] }
            [flow]
            kind = "langevin"
            dynamics = "underdamped"
            temperature = 0
            potential = { kind = "double-well", height = 10 }
            """)
        let out = scratch.appendingPathComponent("div")
        let r = try runWGF(["run", f.path, "--out", out.path])
        XCTAssertEqual(r.code, 4, r.stderr)
        XCTAssertTrue(r.stderr.contains("diverged at step"), r.stderr)
    }
}
