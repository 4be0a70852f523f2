import Foundation
import Recording
import XCTest

/// End-to-end tests of the `wgf` executable: exit codes, output files, determinism,
/// divergence, interruption, and every bundled scenario reaching its expectations.
final class CLITests: ScratchTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The wgf binary built beside the test bundle (same configuration as the tests).
    static var binary: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("wgf")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for b in Bundle.allBundles {
            let candidate = b.bundleURL.deletingLastPathComponent().appendingPathComponent("wgf")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        fatalError("wgf binary not found near \(Bundle.main.bundleURL.path)")
    }

    typealias Result = WGFResult

    @discardableResult
    func wgf(_ args: [String], in directory: URL = CLITests.root, interruptAfter: Double? = nil) throws -> Result {
        try runWGF(args, in: directory, interruptAfter: interruptAfter)
    }

    // MARK: run

    func testDefaultRunWritesTheFourFiles() throws {
        let out = scratch.appendingPathComponent("quick")
        let r = try wgf(["run", "--out", out.path, "--steps", "40"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("quickstart: completed, 40 steps"), r.stdout)
        XCTAssertTrue(r.stderr.isEmpty, "no bar without a terminal, and no log line in under 5 s: \(r.stderr)")
        for f in ["trajectory.csv", "metrics.csv", "scenario.toml", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let trajectory = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(trajectory.first, "step,time,population,particle,weight,x1,x2")
        XCTAssertEqual(trajectory.count, 1 + 5 * 300, "records at steps 0, 10, 20, 30, 40 of 300 particles")
        let metrics = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n")
        XCTAssertEqual(metrics.first, "step,time,wall,ksd,mmd,mean-error,cov-error,sliced-w2")
        XCTAssertEqual(metrics.count, 6)
        let info = try runJSON(out)
        XCTAssertEqual(info["status"] as? String, "completed")
        XCTAssertEqual(info["steps-taken"] as? Int, 40)
        let resolved = try read(out.appendingPathComponent("scenario.toml"))
        XCTAssertTrue(resolved.contains("steps = 40"), "the --steps override shows in the resolved scenario")
        XCTAssertTrue(resolved.contains("adagrad-alpha = 0.9"), "defaults are filled in")
        let hash = ((info["scenario"] as? [String: Any])?["sha256"] as? String) ?? ""
        XCTAssertEqual(hash.count, 64)
    }

    func testResolvedScenarioRepeatsTheRun() throws {
        let first = scratch.appendingPathComponent("first")
        let second = scratch.appendingPathComponent("second")
        XCTAssertEqual(
            try wgf([
                "run", "scenarios/svgd-1d-mixture.toml", "--out", first.path, "--steps", "30",
                "--set", "population.count=40",
            ]).code, 0)
        XCTAssertTrue(try read(first.appendingPathComponent("scenario.toml")).contains("count = 40"))
        let r = try wgf(["run", first.appendingPathComponent("scenario.toml").path, "--out", second.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(
            try read(first.appendingPathComponent("trajectory.csv")),
            try read(second.appendingPathComponent("trajectory.csv")))
    }

    func testOutputIsIdenticalForAnyThreadCount() throws {
        var trajectories: [String] = []
        var metrics: [[Substring]] = []
        for threads in [1, 2] {
            let out = scratch.appendingPathComponent("t\(threads)")
            let r = try wgf([
                "run", "scenarios/quickstart.toml", "--out", out.path, "--steps", "60", "--threads", "\(threads)",
            ])
            XCTAssertEqual(r.code, 0, r.stderr)
            trajectories.append(try read(out.appendingPathComponent("trajectory.csv")))
            // Drop the wall column (the third).
            metrics.append(
                try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").map { line in
                    let f = line.split(separator: ",", omittingEmptySubsequences: false)
                    return (f[0..<2] + f[3...]).joined(separator: ",")[...]
                })
        }
        XCTAssertEqual(trajectories[0], trajectories[1], "trajectory.csv must be byte-identical")
        XCTAssertEqual(metrics[0], metrics[1], "metrics.csv must be identical but for wall")
        // And the MMD flow with noise injection (per-particle random streams).
        var mmd: [String] = []
        for threads in [1, 2] {
            let out = scratch.appendingPathComponent("m\(threads)")
            XCTAssertEqual(
                try wgf([
                    "run", "scenarios/mmd-gaussian-noise.toml", "--out", out.path, "--steps", "200",
                    "--threads", "\(threads)", "--set", "expect=[]",
                ]).code, 0)
            mmd.append(try read(out.appendingPathComponent("trajectory.csv")))
        }
        XCTAssertEqual(mmd[0], mmd[1])
    }

    func testEveryBundledScenarioMeetsItsExpectations() throws {
        let dir = Self.root.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 6)
        for f in files {
            let out = scratch.appendingPathComponent(f)
            let r = try wgf(["run", "scenarios/\(f)", "--out", out.path, "--quiet"])
            XCTAssertEqual(r.code, 0, "\(f): \(r.stderr)")
            let c = try wgf(["check", out.path])
            XCTAssertEqual(c.code, 0, "\(f) missed an expectation:\n\(c.stdout)\(c.stderr)")
            XCTAssertTrue(c.stdout.contains("0 failed"), c.stdout)
            XCTAssertTrue(
                try read(dir.appendingPathComponent(f)).hasPrefix("#"), "\(f) must say which experiment it reproduces")
        }
    }

    /// The energy-distance flow with sliced sums (64 directions) still meets its expectations;
    /// the sliced engine refuses kernels it cannot sum, at validation.
    func testSlicedSummationInAScenario() throws {
        let out = scratch.appendingPathComponent("sliced")
        let r = try wgf([
            "run", "scenarios/mmd-riesz-mixture.toml", "--out", out.path, "--quiet",
            "--set", "flow.summation=sliced", "--set", "flow.directions=64",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try wgf(["check", out.path]).code, 0)
        let info = try runJSON(out)
        XCTAssertEqual(
            (info["flow"] as? [String: Any])?["summation-directions"] as? Int, 64, "numbers are JSON numbers")
        XCTAssertTrue(try read(out.appendingPathComponent("scenario.toml")).contains("directions = 64"))
        // With a tolerance instead, each step draws what its estimate needs (the witness's
        // gradients cancel between particles and samples: 0.05 takes thousands of directions a
        // step); run.json has the last step's count and estimate. Both keys at once are refused at directions.
        let adaptive = scratch.appendingPathComponent("sliced-tolerance")
        let a = try wgf([
            "run", "scenarios/mmd-riesz-mixture.toml", "--out", adaptive.path, "--quiet",
            "--set", "flow.summation=sliced", "--set", "flow.tolerance=0.2",
        ])
        XCTAssertEqual(a.code, 0, a.stderr)
        XCTAssertEqual(try wgf(["check", adaptive.path]).code, 0)
        let flow = try XCTUnwrap(try runJSON(adaptive)["flow"] as? [String: Any])
        XCTAssertEqual(flow["summation-tolerance"] as? Double, 0.2)
        XCTAssertLessThanOrEqual(try XCTUnwrap(flow["summation-estimated-error"] as? Double), 0.2)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(flow["summation-directions-drawn"] as? Int), 32)
        let both = try wgf([
            "run", "scenarios/mmd-riesz-mixture.toml", "--out", scratch.appendingPathComponent("both").path,
            "--set", "flow.summation=sliced", "--set", "flow.tolerance=0.05", "--set", "flow.directions=64",
        ])
        XCTAssertEqual(both.code, 3)
        XCTAssertTrue(both.stderr.contains("flow.directions: give either directions"), both.stderr)
        // The mesh engine on the Gaussian-kernel scenarios: same expectations met.
        for scenario in ["quickstart", "mmd-gaussian-noise"] {
            let mesh = scratch.appendingPathComponent("mesh-\(scenario)")
            XCTAssertEqual(
                try wgf([
                    "run", "scenarios/\(scenario).toml", "--out", mesh.path, "--quiet",
                    "--set", "flow.summation=mesh",
                ]).code, 0)
            XCTAssertEqual(try wgf(["check", mesh.path]).code, 0, scenario)
            XCTAssertEqual((try runJSON(mesh)["flow"] as? [String: Any])?["summation"] as? String, "mesh")
        }
        let refused = try wgf([
            "run", "--set", "flow.summation=sliced", "--set", "flow.kernel=\"log\"",
            "--out", scratch.appendingPathComponent("q").path,
        ])
        XCTAssertEqual(refused.code, 3)
        XCTAssertTrue(
            refused.stderr.contains("flow.summation: the sliced engine sums riesz with r in (1/2, 2)"), refused.stderr)
    }

    func testCheckFailsWhenAnExpectationIsMissed() throws {
        let out = scratch.appendingPathComponent("short")
        XCTAssertEqual(try wgf(["run", "--out", out.path, "--steps", "3"]).code, 0)
        let c = try wgf(["check", out.path])
        XCTAssertEqual(c.code, 1, c.stdout)
        XCTAssertTrue(c.stdout.contains("FAIL  ksd ≤ 0.1 by step 3: ksd = "), c.stdout)
    }

    /// A run cut from the command line below an expectation's explicit `by-step` (the circle
    /// game checks step 100): `wgf check` judges that expectation failed, as docs/scenarios.md
    /// says, instead of refusing the run's own scenario.toml (it exited 3 before).
    func testCheckJudgesAByStepBeyondACutRun() throws {
        let out = scratch.appendingPathComponent("cut")
        XCTAssertEqual(
            try wgf(["run", "scenarios/game-circle-cos.toml", "--out", out.path, "--steps", "30", "--quiet"]).code, 0)
        let c = try wgf(["check", out.path])
        XCTAssertEqual(c.code, 1, c.stdout + c.stderr)
        XCTAssertTrue(
            c.stdout.contains("FAIL  nash-gap ≤ 0.6 by step 100: the run ended at step 30, before step 100"), c.stdout)
        // The file itself is still refused when its own steps are below a by-step.
        let text = try read(Self.root.appendingPathComponent("scenarios/game-circle-cos.toml")).replacingOccurrences(
            of: "steps = 300", with: "steps = 30")
        let v = try wgf(["validate", try writeScenario("short.toml", text).path])
        XCTAssertEqual(v.code, 3)
        XCTAssertTrue(
            (v.stdout + v.stderr).contains(
                "expect[2].by-step: 100 is out of range (an integer in [0, 30] (the scenario's steps))"),
            v.stdout + v.stderr)
    }

    // MARK: failures

    func testMisspeltKeyIsAPreciseError() throws {
        let text = try read(Self.root.appendingPathComponent("scenarios/quickstart.toml")).replacingOccurrences(
            of: "count = 300", with: "cuont = 300")
        let bad = try writeScenario("bad.toml", text)
        let line =
            text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("cuont") }! + 1
        for args in [["run", bad.path, "--out", scratch.appendingPathComponent("x").path], ["validate", bad.path]] {
            let r = try wgf(args)
            XCTAssertEqual(r.code, 3)
            XCTAssertTrue(
                r.stderr.contains("\(bad.path):\(line): population.cuont: unknown key (did you mean 'count'?)"),
                r.stderr)
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: scratch.appendingPathComponent("x").path),
            "nothing written for a bad scenario")
        let r = try wgf(["run", "--set", "population.count=0", "--out", scratch.appendingPathComponent("y").path])
        XCTAssertEqual(r.code, 3)
        XCTAssertTrue(
            r.stderr.contains(
                "--set population.count=0: population.count: 0 is out of range (an integer from 1 to 2147483647)"),
            r.stderr)
    }

    func testValidateAcceptsEveryBundledScenario() throws {
        let dir = Self.root.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.map {
            "scenarios/\($0)"
        }
        let r = try wgf(["validate"] + files)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, files.count)
    }

    /// `validate --set ... --print`: the resolved scenario on stdout, overrides applied and every
    /// default filled in, itself a valid scenario that resolves to the same text; the verdict on
    /// stderr; a bad override located as `run` locates it.
    func testValidatePrintsTheResolvedScenario() throws {
        let r = try wgf(["validate", "scenarios/svgd-gaussian-2d.toml", "--set", "population.count=77", "--print"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("ok  scenarios/svgd-gaussian-2d.toml"), r.stderr)
        XCTAssertTrue(r.stdout.contains("count = 77"), r.stdout)
        XCTAssertTrue(r.stdout.contains("tolerance = "), "defaults filled in:\n\(r.stdout)")
        let resolved = scratch.appendingPathComponent("resolved.toml")
        try r.stdout.write(to: resolved, atomically: true, encoding: .utf8)
        let again = try wgf(["validate", resolved.path, "--print"])
        XCTAssertEqual(again.code, 0, again.stderr)
        func body(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("#") } }
        XCTAssertEqual(body(again.stdout), body(r.stdout), "the resolved scenario resolves to itself")
        let bad = try wgf(["validate", "scenarios/svgd-gaussian-2d.toml", "--set", "population.count=0", "--print"])
        XCTAssertEqual(bad.code, 3)
        XCTAssertEqual(bad.stdout, "")
        XCTAssertTrue(bad.stderr.contains("--set population.count=0: population.count: 0 is out of range"), bad.stderr)
    }

    /// A path in the scenario file is relative to the file's folder; one given with `--set` is
    /// relative to the shell's current directory, as the shell completed it. Either way the
    /// resolved scenario holds it absolute.
    func testPathsFromTheCommandLineAreRelativeToTheShell() throws {
        let folder = scratch.appendingPathComponent("scenario-folder")
        let shell = scratch.appendingPathComponent("shell")
        for f in [folder, shell] { try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true) }
        try "x1,x2\n0,0\n1,1\n".write(to: folder.appendingPathComponent("pts.csv"), atomically: true, encoding: .utf8)
        try "x1,x2,x3\n0,0,0\n".write(to: shell.appendingPathComponent("pts.csv"), atomically: true, encoding: .utf8)
        let scenario = folder.appendingPathComponent("s.toml")
        try """
        steps = 1
        step-size = 0.1
        [target]
        kind = "samples"
        file = "pts.csv"
        [population]
        count = 5
        init = { kind = "gaussian", mean = [0, 0] }
        [flow]
        kind = "mmd"
        """.write(to: scenario, atomically: true, encoding: .utf8)
        func resolvedFile(_ overrides: [String]) throws -> String? {
            let r = try runWGF(["validate", scenario.path, "--print"] + overrides, in: shell)
            XCTAssertEqual(r.code, 0, r.stderr)
            return r.stdout.split(separator: "\n").first { $0.hasPrefix("file = ") }.map(String.init)
        }
        // From the file: the scenario's folder; the shell's pts.csv (3 columns) would be refused.
        XCTAssertEqual(try resolvedFile([]), "file = \"\(folder.path)/pts.csv\"")
        // From --set, the key or the table holding it: the shell's folder (3-D points: population d = 3).
        let three = ["--set", "population.init={ kind = \"gaussian\", mean = [0, 0, 0] }"]
        XCTAssertEqual(try resolvedFile(["--set", "target.file=pts.csv"] + three), "file = \"\(shell.path)/pts.csv\"")
        XCTAssertEqual(
            try resolvedFile(["--set", "target={ kind = \"samples\", file = \"pts.csv\" }"] + three),
            "file = \"\(shell.path)/pts.csv\"")
    }

    func testDivergingRunStopsWithItsCodeAndReadableFiles() throws {
        let scenario = try writeScenario(
            "diverge.toml",
            """
            # SVGD with plain steps far too large: the particles overflow.
            steps = 200
            step-size = 1e150
            record-every = 1
            [target]
            kind = "gaussian"
            mean = [0, 0]
            [population]
            count = 20
            init = { kind = "gaussian", mean = [3, 3] }
            [flow]
            kind = "svgd"
            optimizer = "sgd"
            kernel = "gaussian:sigma=1"
            [record]
            metrics = ["mean-error"]
            """)
        let out = scratch.appendingPathComponent("div")
        let r = try wgf(["run", scenario.path, "--out", out.path])
        XCTAssertEqual(r.code, 4, r.stderr)
        XCTAssertTrue(r.stderr.contains("diverged at step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("step size too large?"), r.stderr)
        let info = try runJSON(out)
        XCTAssertEqual(info["status"] as? String, "diverged")
        let last = info["last-recorded-step"] as! Int
        let metrics = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n")
        XCTAssertEqual(metrics.count, last + 2, "header plus records 0...\(last)")
        XCTAssertTrue(metrics.dropFirst().allSatisfy { !$0.contains("nan") && !$0.contains("inf") })
        let rows = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(rows.count, 1 + (last + 1) * 20)
    }

    /// A particle outside the flow's domain (mirrored SVGD: the open simplex) stops the run before
    /// step 1, as "cannot start", naming the particle and the way to start inside; no step-size
    /// hint, and the kept files are stated as they are.
    func testStartOutsideTheFlowsDomainCannotStart() throws {
        let out = scratch.appendingPathComponent("outside")
        let r = try wgf([
            "run", "scenarios/mirrored-svgd-sparse-dirichlet.toml", "--out", out.path, "--quiet",
            "--set", "population.init={ kind = \"uniform\", low = 0, high = 0.2 }",
        ])
        XCTAssertEqual(r.code, 4, r.stderr)
        XCTAssertTrue(
            r.stderr.contains("cannot start, population 'particles': particle 0 is not inside the open simplex"),
            r.stderr)
        XCTAssertTrue(r.stderr.contains("init = { kind = \"dirichlet\""), r.stderr)
        XCTAssertFalse(r.stderr.contains("step size"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("run.json is in \(out.path)/\n"), r.stderr)
        XCTAssertEqual(try runJSON(out)["status"] as? String, "diverged")
    }

    func testInterruptKeepsWhatWasWritten() throws {
        let out = scratch.appendingPathComponent("int")
        let r = try wgf(
            [
                "run", "scenarios/mmd-gaussian-noise.toml", "--out", out.path, "--steps", "100000000",
                "--set", "expect=[]", "--set", "record.trajectory=false",
            ], interruptAfter: 1.5)
        XCTAssertEqual(r.code, 130, r.stderr)
        XCTAssertTrue(r.stderr.contains("interrupted after step"), r.stderr)
        XCTAssertEqual(try runJSON(out)["status"] as? String, "interrupted")
        XCTAssertGreaterThan(try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").count, 1)
    }

    func testUnwritableOutputIsAnIOFailure() throws {
        let file = try writeScenario("plain-file", "x")
        let r = try wgf(["run", "--out", file.appendingPathComponent("sub").path, "--steps", "1"])
        XCTAssertEqual(r.code, 5, r.stderr)
    }

    func testListNamesEverything() throws {
        let r = try wgf(["list"])
        XCTAssertEqual(r.code, 0)
        for name in [
            "svgd", "mmd", "gaussian", "imq", "laplace", "riesz", "gaussian-mixture", "banana", "samples",
            "uniform", "file", "ksd", "mean-error", "cov-error", "energy",
        ] {
            XCTAssertTrue(
                r.stdout.split(separator: "\n").contains {
                    $0.split(separator: " ").dropFirst().first == Substring(name)
                }, name)
        }
    }

    /// Every kind a scenario names is listed (potentials, interactions, payoffs and optimizers
    /// too), in aligned columns, and as JSON with the same rows.
    func testListIsCompleteAlignedAndJSON() throws {
        let text = try wgf(["list"])
        XCTAssertEqual(text.code, 0, text.stderr)
        let lines = text.stdout.split(separator: "\n")
        let json = try wgf(["list", "--format", "json"])
        XCTAssertEqual(json.code, 0, json.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: String]])
        XCTAssertEqual(rows.count, lines.count)
        let names = { (kind: String) in Set(rows.filter { $0["kind"] == kind }.compactMap { $0["name"] }) }
        XCTAssertEqual(names("potential"), ["quadratic", "double-well", "formula", "target"])
        XCTAssertEqual(names("payoff"), ["bilinear", "kernel", "gan", "formula"])
        XCTAssertEqual(names("optimizer"), ["sgd", "adagrad", "momentum"])
        XCTAssertTrue(names("interaction").isSuperset(of: ["quadratic", "formula"]))
        for kind in ["flow", "kernel", "target", "initialisation", "metric", "summation", "scenario"] {
            XCTAssertFalse(names(kind).isEmpty, kind)
        }
        // Aligned: every summary starts in the same column.
        let starts = Set(
            zip(lines, rows).map { line, row in
                line.distance(from: line.startIndex, to: line.range(of: row["summary"]!)!.lowerBound)
            })
        XCTAssertEqual(starts.count, 1, text.stdout)
        XCTAssertEqual(try wgf(["list", "--format", "yaml"]).code, 64)

        // One kind, by its name or plural: exactly the full list's rows of that kind.
        let bundled = try FileManager.default.contentsOfDirectory(
            atPath: CLITests.root.appendingPathComponent("scenarios").path
        ).filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }
        for (asked, kind) in [("scenarios", "scenario"), ("kernel", "kernel"), ("Initializations", "initialisation")] {
            let only = try wgf(["list", asked, "--format", "json"])
            XCTAssertEqual(only.code, 0, only.stderr)
            let kept = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(only.stdout.utf8)) as? [[String: String]])
            XCTAssertEqual(kept, rows.filter { $0["kind"] == kind }, asked)
            if kind == "scenario" { XCTAssertEqual(Set(kept.compactMap { $0["name"] }), Set(bundled)) }
        }
        let unknown = try wgf(["list", "widgets"])
        XCTAssertEqual(unknown.code, 64)
        XCTAssertTrue(unknown.stderr.contains("unknown kind widgets (allowed: flow, kernel,"), unknown.stderr)
    }
}

/// `wgf sum` against a brute-force sum written here, and its input errors.
final class SumCommandTests: ScratchTestCase {
    /// Uniform numbers on [−2, 2) from a 64-bit linear congruential generator: test data that
    /// Python can draw alike.
    func uniforms(seed: UInt64) -> () -> Double {
        var state = seed
        return {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) * 0x1p-53 * 4 - 2
        }
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The short flags: -o, -j, -q and -f are --out, --threads, --quiet and --force.
    func testShortFlags() throws {
        let out = scratch.appendingPathComponent("short").path
        let args = ["run", "scenarios/svgd-gaussian-2d.toml", "--steps", "4", "-o", out, "-q", "-j", "1"]
        let first = try runWGF(args)
        XCTAssertEqual(first.code, 0, first.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/metrics.csv"))
        XCTAssertEqual(first.stderr, "", "-q: no progress")
        XCTAssertNotEqual(try runWGF(args).code, 0, "the directory is taken")
        let forced = try runWGF(args + ["-f"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        let info = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
                as? [String: Any])
        XCTAssertEqual(info["threads"] as? Int, 1, "-j 1")
    }

    /// `--method auto` reports the engine it chose as the method, and that auto chose it.
    func testSumReportsAutosChoice() throws {
        let rows = (0..<30).map { "\(Double($0) * 0.1),\(Double($0 % 7) * 0.2)" }
        let points = try file("p.csv", "x1,x2\n" + rows.joined(separator: "\n") + "\n")
        let r = try runWGF([
            "sum", "--kernel", "gaussian:sigma=0.5", "--sources", points, "--targets", points, "--method", "auto",
            "--out", scratch.appendingPathComponent("o.csv").path,
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stderr.utf8)) as? [String: Any])
        XCTAssertEqual(info["method"] as? String, "direct", "30 points: auto sums directly")
        XCTAssertEqual(info["requested"] as? String, "auto")
        XCTAssertNil((info["parameters"] as? [String: String])?["choice"])
    }

    /// `wgf sum --method sliced --tolerance τ` draws directions until its estimate meets τ and
    /// reports both; the result is within τ of direct (d = 8, the energy distance);
    /// --directions and --tolerance together are refused.
    func testSlicedSumMeetsItsToleranceAndReportsTheEstimate() throws {
        let uniform = uniforms(seed: 3)
        let d = 8
        let rows = { (count: Int) in (0..<count).map { _ in (0..<d).map { _ in "\(uniform())" }.joined(separator: ",") }
        }
        let header = (1...d).map { "x\($0)" }.joined(separator: ",")
        let src = try file("s.csv", header + "\n" + rows(600).joined(separator: "\n") + "\n")
        let tgt = try file("t.csv", header + "\n" + rows(80).joined(separator: "\n") + "\n")
        func sum(_ extra: [String]) throws -> (values: [Double], info: [String: Any], stderr: String) {
            let r = try runWGF(["sum", "--kernel", "riesz:r=1", "--sources", src, "--targets", tgt] + extra)
            XCTAssertEqual(r.code, 0, r.stderr)
            let lines = r.stderr.split(separator: "\n")
            let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            return (r.stdout.split(separator: "\n").dropFirst().map { Double($0)! }, info, r.stderr)
        }
        let exact = try sum(["--method", "direct"]).values
        let sliced = try sum(["--method", "sliced", "--tolerance", "0.002", "--seed", "4"])
        let parameters = try XCTUnwrap(sliced.info["parameters"] as? [String: String])
        XCTAssertEqual(parameters["tolerance"], "0.002")
        let estimate = try XCTUnwrap(parameters["estimated-error"].flatMap(Double.init))
        XCTAssertLessThanOrEqual(estimate, 0.002)
        XCTAssertGreaterThan(try XCTUnwrap(parameters["directions-drawn"].flatMap(Int.init)), 16 * d)
        let largest = exact.map(abs).max()!
        let error = zip(sliced.values, exact).map { abs($0 - $1) }.max()! / largest
        XCTAssertLessThanOrEqual(error, 0.002)
        XCTAssertFalse(sliced.stderr.contains("warning"), sliced.stderr)
        // Fixed directions report their estimate too.
        let fixed = try sum(["--method", "sliced", "--directions", "64"])
        XCTAssertEqual((fixed.info["parameters"] as? [String: String])?["directions-drawn"], "64")
        let both = try runWGF([
            "sum", "--kernel", "riesz:r=1", "--sources", src, "--targets", tgt, "--method", "sliced", "--directions",
            "64", "--tolerance", "0.1",
        ])
        XCTAssertEqual(both.code, 3)
        XCTAssertTrue(both.stderr.contains("give either --directions (a fixed count) or --tolerance"), both.stderr)
    }

    /// With more than 1024 targets the count of directions is chosen by a pilot on an even
    /// stride of them (here every second: 550 of 1100), and the estimate on all of them can
    /// exceed the tolerance: the sum then warns, naming the pilot rather than a cap it never
    /// reached. The pilot's targets (even rows) lie 30 away from 300 sources of weights ±1,
    /// the others among them, where the gradients' spread is larger (d = 8, the energy distance).
    func testSlicedSumWarnsWhenItsPilotsCountFallsShortOnAllTargets() throws {
        let uniform = uniforms(seed: 2)
        let d = 8
        let header = (1...d).map { "x\($0)" }.joined(separator: ",")
        var sources = [header + ",w"]
        for _ in 0..<300 { sources.append(((0..<d).map { _ in "\(uniform())" }).joined(separator: ",")) }
        for i in 1...300 { sources[i] += uniform() > 0 ? ",1" : ",-1" }
        var targets = [header]
        for _ in 0..<550 {
            let v = (0..<d).map { _ in uniform() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            targets.append(v.map { "\(30 * $0 / norm)" }.joined(separator: ","))
            targets.append((0..<d).map { _ in "\(uniform() / 2)" }.joined(separator: ","))
        }
        let src = try file("s.csv", sources.joined(separator: "\n") + "\n")
        let tgt = try file("t.csv", targets.joined(separator: "\n") + "\n")
        let r = try runWGF([
            "sum", "--kernel", "riesz:r=1", "--sources", src, "--targets", tgt, "--method", "sliced", "--tolerance",
            "0.1", "--gradient", "--seed", "4",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n")
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let parameters = try XCTUnwrap(info["parameters"] as? [String: String])
        let estimate = try XCTUnwrap(parameters["estimated-error"].flatMap(Double.init))
        XCTAssertGreaterThan(estimate, 0.1)
        let drawn = try XCTUnwrap(parameters["directions-drawn"])
        XCTAssertEqual(lines.count, 2, r.stderr)
        XCTAssertTrue(
            r.stderr.contains(
                "warning: sliced drew the \(drawn) directions its pilot on 550 of the 1100 targets found enough and "
                    + "estimates a relative error of"), r.stderr)
        XCTAssertFalse(r.stderr.contains("maximum"), r.stderr)
    }

    func testSumMatchesBruteForceWithGradient() throws {
        let uniform = uniforms(seed: 7)
        let n = 50
        let m = 20
        let x = (0..<n).map { _ in [uniform(), uniform()] }
        let w = (0..<n).map { _ in uniform() }
        let y = (0..<m).map { _ in [uniform(), uniform()] }
        let src = try file(
            "src.csv", "x1,x2,w\n" + (0..<n).map { "\(x[$0][0]),\(x[$0][1]),\(w[$0])" }.joined(separator: "\n") + "\n")
        let tgt = try file("tgt.csv", "x1,x2\n" + y.map { "\($0[0]),\($0[1])" }.joined(separator: "\n") + "\n")
        let out = scratch.appendingPathComponent("out.csv").path
        let r = try runWGF([
            "sum", "--kernel", "gaussian:sigma=0.5", "--sources", src, "--targets", tgt,
            "--method", "direct", "--gradient", "--repeat", "3", "--out", out,
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let info = try JSONSerialization.jsonObject(with: Data(r.stderr.utf8)) as! [String: Any]
        XCTAssertEqual(info["method"] as? String, "direct")
        XCTAssertNil(info["requested"])
        XCTAssertEqual(info["N"] as? Int, n)
        XCTAssertEqual(info["M"] as? Int, m)
        XCTAssertEqual(info["d"] as? Int, 2)
        XCTAssertNotNil(info["seconds"] as? Double)
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "value,g1,g2")
        XCTAssertEqual(rows.count, m + 1)
        // Brute force: s = Σ w e^{−|y−x|²/(2σ²)}, ∇s = Σ w e^{…}·(−(y − x)/σ²). Relative 1e-12.
        for j in 0..<m {
            var s = 0.0
            var g = [0.0, 0.0]
            for i in 0..<n {
                let dx = [y[j][0] - x[i][0], y[j][1] - x[i][1]]
                let e = w[i] * exp(-(dx[0] * dx[0] + dx[1] * dx[1]) / 0.5)
                s += e
                g[0] -= e * dx[0] / 0.25
                g[1] -= e * dx[1] / 0.25
            }
            let got = rows[j + 1].split(separator: ",").map { Double($0)! }
            XCTAssertEqual(got[0], s, accuracy: 1e-12 * max(1, abs(s)))
            XCTAssertEqual(got[1], g[0], accuracy: 1e-12 * max(1, abs(g[0])))
            XCTAssertEqual(got[2], g[1], accuracy: 1e-12 * max(1, abs(g[1])))
        }
        // Without --gradient, stdout carries the values only.
        let plain = try runWGF(["sum", "--kernel", "gaussian:sigma=0.5", "--sources", src, "--targets", tgt])
        XCTAssertEqual(plain.code, 0)
        XCTAssertEqual(plain.stdout.split(separator: "\n").first, "value")
        XCTAssertEqual(
            plain.stdout.split(separator: "\n").dropFirst().map { Double($0)! },
            rows.dropFirst().map { Double($0.split(separator: ",")[0])! })

        // The same sum through .npy files (points, --weights, the output): the CSV's numbers bit
        // for bit, the output of shape (M, 1 + d).
        func npy(_ name: String, _ values: [Double], _ shape: [Int]) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try NPY.encode(values, shape: shape).write(to: URL(fileURLWithPath: path))
            return path
        }
        let srcNPY = try npy("src.npy", x.flatMap { $0 }, [n, 2])
        let weightsNPY = try npy("w.npy", w, [n])
        let tgtNPY = try npy("tgt.npy", y.flatMap { $0 }, [m, 2])
        let outNPY = scratch.appendingPathComponent("out.npy").path
        let binary = try runWGF([
            "sum", "--kernel", "gaussian:sigma=0.5", "--sources", srcNPY, "--weights", weightsNPY, "--targets",
            tgtNPY, "--method", "direct", "--gradient", "--out", outNPY,
        ])
        XCTAssertEqual(binary.code, 0, binary.stderr)
        let array = try NPY.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: outNPY))))
        XCTAssertEqual(array.shape, [m, 3])
        XCTAssertEqual(
            array.values.map(\.bitPattern),
            rows.dropFirst().flatMap { $0.split(separator: ",").map { Double($0)!.bitPattern } })
        // Weights twice, or of another count, are refused.
        for (weights, message) in [
            (try npy("w-short.npy", Array(w.dropLast()), [n - 1]), "49 weights for the 50 sources"),
            (weightsNPY, "has a w column already"),
        ] {
            let sources = weights == weightsNPY ? src : srcNPY
            let r = try runWGF([
                "sum", "--kernel", "gaussian", "--sources", sources, "--weights", weights, "--targets", tgt,
            ])
            XCTAssertEqual(r.code, 3, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }

    func testBadInputIsAClearError() throws {
        let good = try file("good.csv", "x1,x2\n0,0\n1,1\n")
        let cases: [([String], String)] = [
            (["--kernel", "cauchy", "--sources", good, "--targets", good], "unknown kernel 'cauchy'"),
            (
                ["--kernel", "gaussian:s=1", "--sources", good, "--targets", good],
                "has no parameter 's' (allowed: sigma)"
            ),
            (
                ["--kernel", "gaussian", "--sources", try file("ragged.csv", "x1,x2\n1,2\n3\n"), "--targets", good],
                "ragged.csv:3: 1 fields, the header has 2"
            ),
            (
                ["--kernel", "gaussian", "--sources", try file("nan.csv", "x1,x2\n1,abc\n"), "--targets", good],
                "nan.csv:2: column x2: 'abc' is not a number"
            ),
            (
                ["--kernel", "gaussian", "--sources", good, "--targets", try file("t3.csv", "x1,x2,x3\n1,2,3\n")],
                "3 coordinates but"
            ),
            (["--kernel", "gaussian", "--sources", good, "--targets", good, "--tolerance", "0"], "--tolerance"),
            (
                ["--kernel", "gaussian", "--sources", good, "--targets", good, "--method", "magic"],
                "--method magic: unknown"
            ),
        ]
        for (args, message) in cases {
            let r = try runWGF(["sum"] + args)
            XCTAssertEqual(r.code, 3, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
        }
    }
}

struct WGFResult {
    let code: Int32
    let stdout: String
    let stderr: String
}

/// How the tests start an MPI job on this machine's loopback (`mpirun` from Open MPI, which
/// `.ci/run` installs; root needs the first flag, more ranks than cores the second).
let mpirunArguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader"]

/// Runs the wgf binary in `directory`; optionally sends `signal` (SIGINT unless said) after
/// `interruptAfter` seconds, or as soon as `interruptWhen` holds (polled every 5 ms, for at
/// most 60 s), or runs it under a shell `ulimit` (e.g. `"-f 200"`: a file-size
/// limit in 512-byte blocks; `"-v 1048576"`: an address-space limit in KiB), as a scheduler sets
/// one, or as `ranks` ranks of an MPI job (the signal then goes to `mpirun`).
@discardableResult
func runWGF(
    _ args: [String], in directory: URL = CLITests.root, interruptAfter: Double? = nil,
    interruptWhen: (() -> Bool)? = nil, signal: Int32 = SIGINT, ulimit: String? = nil, ranks: Int? = nil,
    environment: [String: String] = [:]
) throws -> WGFResult {
    let p = Process()
    if !environment.isEmpty {
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let ranks {
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = mpirunArguments + ["-np", "\(ranks)", CLITests.binary.path] + args
    } else if let ulimit {
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit \(ulimit) && exec \"$0\" \"$@\"", CLITests.binary.path] + args
    } else {
        p.executableURL = CLITests.binary
        p.arguments = args
    }
    p.currentDirectoryURL = directory
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    if let t = interruptAfter {
        Thread.sleep(forTimeInterval: t)
        kill(p.processIdentifier, signal)
    }
    if let condition = interruptWhen {
        let deadline = Date().addingTimeInterval(60)
        while !condition() && p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        kill(p.processIdentifier, signal)
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return WGFResult(
        code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self))
}
