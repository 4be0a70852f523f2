import Foundation
import XCTest

/// The game scenarios end to end (each bundled one meeting its expectations is
/// CLITests.testEveryBundledScenarioMeetsItsExpectations): trajectory.csv carries both
/// populations with their weights; the GAN toy covers the modes; game errors are located.
final class GameScenarioTests: ScratchTestCase {
    /// The GAN toy (its expectations are checked with every bundled scenario in
    /// CLITests.testEveryBundledScenarioMeetsItsExpectations) also covers every mode.
    func testGANCoversTheModes() throws {
        let out = scratch.appendingPathComponent("gan")
        let r = try runWGF(["run", "scenarios/game-gan-mixture.toml", "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        try checkModeCoverage(out)
    }

    /// Every mode of the mixture holds at least 1/8 of the generator's mass within distance 1.
    func checkModeCoverage(_ out: URL) throws {
        let lines = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(lines.first, "step,time,population,particle,weight,x1,x2")
        var mass = [Double](repeating: 0, count: 4)
        let modes = [(2.0, 2.0), (-2.0, 2.0), (-2.0, -2.0), (2.0, -2.0)]
        var discriminator = 0
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f[0] == "800" else { continue }
            if f[2] == "discriminator" {
                discriminator += 1
                continue
            }
            XCTAssertEqual(f[2], "generator")
            let w = Double(f[4])!
            let x = Double(f[5])!
            let y = Double(f[6])!
            for (k, m) in modes.enumerated() where (x - m.0) * (x - m.0) + (y - m.1) * (y - m.1) < 1 { mass[k] += w }
        }
        XCTAssertEqual(discriminator, 300)
        for (k, m) in mass.enumerated() { XCTAssertGreaterThan(m, 0.125, "mode \(modes[k])") }
    }

    func testTrajectoryCarriesBothPopulationsAndWeights() throws {
        let out = scratch.appendingPathComponent("wfr")
        let r = try runWGF([
            "run", "scenarios/game-wfr-extragradient.toml", "--out", out.path, "--steps", "20",
            "--set", "expect=[]", "--quiet",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(lines.first, "step,time,population,particle,weight,x1")
        var mass: [String: Double] = [:]
        var count: [String: Int] = [:]
        for line in lines.dropFirst() {
            let f = line.split(separator: ",")
            guard f[0] == "20" else { continue }
            mass[String(f[2]), default: 0] += Double(f[4])!
            count[String(f[2]), default: 0] += 1
        }
        XCTAssertEqual(count, ["min": 50, "max": 50])
        XCTAssertEqual(mass["min"]!, 1, accuracy: 1e-12)
        XCTAssertEqual(mass["max"]!, 1, accuracy: 1e-12)
        // The weights moved (Fisher–Rao): not all equal to 1/50 any more.
        XCTAssertTrue(lines.contains { $0.hasPrefix("20,") && !$0.contains(",0.02,") })
        let info =
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json")))
            as! [String: Any]
        XCTAssertEqual((info["flow"] as? [String: Any])?["dynamics"] as? String, "extragradient")
        XCTAssertEqual((info["particles"] as? [[String: Any]])?.count, 2)
    }

    func testPlayersOfDifferentDimensionsShareTheTrajectory() throws {
        let f = scratch.appendingPathComponent("mixed.toml")
        try """
        steps = 3
        step-size = 0.1
        [population]
        dimension = 1
        count = 4
        init = { kind = "gaussian", mean = [0] }
        [flow]
        kind = "game"
        payoff = { kind = "formula", formula = "x1*(y1 + y2) + 0.5*x1^2 - 0.5*norm2(y)" }
        [flow.max]
        dimension = 2
        count = 3
        temperature = 0.1
        init = { kind = "gaussian", mean = [1, 1] }
        [record]
        metrics = ["nash-gap", "value"]
        """.write(to: f, atomically: true, encoding: .utf8)
        let out = scratch.appendingPathComponent("mixed")
        let r = try runWGF(["run", f.path, "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = try read(out.appendingPathComponent("trajectory.csv")).split(
            separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "step,time,population,particle,weight,x1,x2")
        XCTAssertTrue(lines[1].hasPrefix("0,0.0,particles,0,0.25,") && lines[1].hasSuffix(","), String(lines[1]))
        XCTAssertTrue(lines[5].hasPrefix("0,0.0,max,0,"), String(lines[5]))
        XCTAssertEqual(lines[5].split(separator: ",").count, 7)
    }

    func testGameScenarioErrorsAreLocated() throws {
        func validate(_ flowLines: String) throws -> WGFResult {
            let f = scratch.appendingPathComponent("bad.toml")
            try """
            steps = 3
            step-size = 0.1
            [population]
            dimension = 2
            count = 4
            init = { kind = "gaussian", mean = [0, 0] }
            [flow]
            kind = "game"
            \(flowLines)
            """.write(to: f, atomically: true, encoding: .utf8)
            return try runWGF(["validate", f.path])
        }
        let maxInit = "[flow.max]\ninit = { kind = \"gaussian\", mean = [0, 0] }"
        // The [flow] lines, and a part of the error.
        let rows = [
            ("payoff = { kind = \"bilinear\" }", "flow.max: missing"),
            ("payoff = { kind = \"formula\", formula = \"x1*y3\" }\n\(maxInit)", "flow.payoff.formula:"),
            (
                "payoff = { kind = \"gan\" }\n\(maxInit)",
                "flow.payoff.kind: the gan payoff takes its data from a [target]"
            ),
            (
                "payoff = { kind = \"kernel\" }\n[flow.max]\nperiod = 1\ninit = { kind = \"gaussian\", mean = [0, 0] }",
                "remove period"
            ),
            (
                "payoff = { kind = \"bilinear\" }\n\(maxInit)\n[flow.min]\nfisher-rao = -1",
                "flow.min.fisher-rao: -1 is out of range"
            ),
        ]
        for (flowLines, part) in rows {
            let r = try validate(flowLines)
            XCTAssertEqual(r.code, 3, flowLines)
            XCTAssertTrue(r.stderr.contains(part), "\(flowLines): \(r.stderr)")
        }
    }

    func testOutputIsIdenticalForAnyThreadCount() throws {
        for name in ["game-gan-mixture", "game-circle-cos"] {
            var outputs: [String] = []
            for threads in [1, 2] {
                let out = scratch.appendingPathComponent("\(name)-t\(threads)")
                let r = try runWGF([
                    "run", "scenarios/\(name).toml", "--out", out.path, "--steps", "20", "--threads", "\(threads)",
                    "--set", "expect=[]", "--quiet",
                ])
                XCTAssertEqual(r.code, 0, r.stderr)
                outputs.append(try read(out.appendingPathComponent("trajectory.csv")))
                outputs.append(
                    try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").map {
                        $0.split(separator: ",").enumerated().filter { $0.offset != 2 }.map(\.element).joined(
                            separator: ",")  // drop wall
                    }.joined(separator: "\n"))
            }
            XCTAssertEqual(outputs[0], outputs[2], name)
            XCTAssertEqual(outputs[1], outputs[3], name)
        }
    }

    func testListNamesTheGameFlowAndMetrics() throws {
        let r = try runWGF(["list"])
        XCTAssertEqual(r.code, 0)
        for name in [
            "game", "nash-gap", "value", "min-weight-entropy", "max-weight-entropy", "min-effective-count",
            "max-effective-count", "equilibrium-distance",
        ] {
            XCTAssertTrue(
                r.stdout.split(separator: "\n").contains {
                    $0.split(separator: " ").dropFirst().first == Substring(name)
                }, name)
        }
    }

    func testGameMetricsNeedTheGameFlow() throws {
        let out = scratch.appendingPathComponent("x")
        let r = try runWGF([
            "run", "scenarios/langevin-ou.toml", "--out", out.path, "--set", "record.metrics=[\"nash-gap\"]",
            "--set", "expect=[]", "--quiet",
        ])
        XCTAssertEqual(r.code, 3)
        XCTAssertTrue(r.stderr.contains("nash-gap needs the game flow"), r.stderr)
    }
}
