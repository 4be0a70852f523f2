import Flows
import Foundation
import KernelSum
import Recording
import XCTest

/// Checkpoints and `--resume`: a resumed run writes the same files as an uninterrupted one,
/// bit for bit (the `wall` column aside), whatever stopped it (the end of its steps, SIGTERM,
/// kill -9 in the middle of a write) and with another thread count.
final class ResumeTests: ScratchTestCase {
    func wgf(_ args: [String], interruptAfter: Double? = nil, signal: Int32 = SIGINT) throws -> WGFResult {
        try runWGF(args, interruptAfter: interruptAfter, signal: signal)
    }

    /// metrics.csv without its `wall` column (the one thing that differs between sessions).
    func metricsWithoutWall(_ dir: URL) throws -> [String] {
        try read(dir.appendingPathComponent("metrics.csv")).split(separator: "\n", omittingEmptySubsequences: false).map
        { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > 2 { fields.remove(at: 2) }
            return fields.joined(separator: ",")
        }
    }

    func assertSameOutputs(
        _ a: URL, _ b: URL, _ label: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ta = try Data(contentsOf: a.appendingPathComponent("trajectory.csv"))
        let tb = try Data(contentsOf: b.appendingPathComponent("trajectory.csv"))
        XCTAssertGreaterThan(ta.count, 100, label, file: file, line: line)
        XCTAssertTrue(
            ta == tb, "\(label): trajectory.csv differs (\(ta.count) vs \(tb.count) bytes)", file: file, line: line)
        let ma = try metricsWithoutWall(a)
        let mb = try metricsWithoutWall(b)
        XCTAssertEqual(ma.count, mb.count, "\(label): metrics.csv rows", file: file, line: line)
        XCTAssertEqual(ma, mb, "\(label): metrics.csv differs", file: file, line: line)
    }

    /// Every bundled scenario: half its steps, then `--resume --steps` to all of them on one
    /// thread, equals all of them in one go on two. Half is usually not a record step, so the
    /// first leg's last record (taken only because it was the last) must be dropped.
    func testEveryBundledScenarioResumesBitForBit() throws {
        let dir = CLITests.root.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 20)
        for f in files {
            let text = try read(dir.appendingPathComponent(f))
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("steps = ") }),
                let steps = Int(line.dropFirst("steps = ".count).prefix { $0.isNumber })
            else {
                XCTFail("\(f): no top-level steps line")
                continue
            }
            let whole = scratch.appendingPathComponent("whole-\(f)")
            let parts = scratch.appendingPathComponent("parts-\(f)")
            let half = steps / 2 + 1
            let r = try wgf(["run", "scenarios/\(f)", "--out", whole.path, "--quiet", "--threads", "2"])
            XCTAssertEqual(r.code, 0, "\(f): \(r.stderr)")
            let first = try wgf([
                "run", "scenarios/\(f)", "--out", parts.path, "--quiet", "--steps", "\(half)", "--threads", "2",
            ])
            XCTAssertEqual(first.code, 0, "\(f): \(first.stderr)")
            let second = try wgf(["run", "--resume", parts.path, "--steps", "\(steps)", "--quiet", "--threads", "1"])
            XCTAssertEqual(second.code, 0, "\(f): \(second.stderr)")
            try assertSameOutputs(whole, parts, f)
            XCTAssertEqual(try runJSON(parts)["steps-taken"] as? Int, steps, f)
        }
    }

    /// The `two-sample` metric draws a fresh target sample and permutations at every record,
    /// keyed by the step: a resumed run (on another thread count) records the same p-values, and
    /// `wgf check` judges its expectation from metrics.csv (passing on particles drawn from the
    /// target, failing on shifted ones).
    func testTwoSampleRunResumesBitForBitAndIsChecked() throws {
        let text = """
            seed = 5
            steps = 6
            step-size = 0.01
            record-every = 2

            [target]
            kind = "gaussian"
            mean = [0, 0]
            std = 1

            [population]
            count = 300
            init = { kind = "gaussian", mean = [0, 0], std = 1 }

            [flow]
            kind = "svgd"

            [record]
            metrics = ["two-sample"]

            [[expect]]
            kind = "two-sample"
            alpha = 0.01

            """
        let file = try writeScenario("two-sample.toml", text).path
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(["run", file, "--out", whole.path, "--quiet", "--threads", "2"]).code, 0)
        XCTAssertEqual(
            try wgf(["run", file, "--out", parts.path, "--quiet", "--steps", "3", "--threads", "2"]).code, 0)
        let second = try wgf(["run", "--resume", parts.path, "--steps", "6", "--quiet", "--threads", "1"])
        XCTAssertEqual(second.code, 0, second.stderr)
        try assertSameOutputs(whole, parts, "two-sample")
        let values = try metricsWithoutWall(whole).dropFirst().compactMap { $0.split(separator: ",").last }
        XCTAssertEqual(values.count, 4)
        XCTAssertGreaterThan(Set(values).count, 1, "\(values)")
        let c = try wgf(["check", whole.path])
        XCTAssertEqual(c.code, 0, c.stdout)
        XCTAssertTrue(
            c.stdout.contains("pass  two-sample test (two-sample) does not reject at α = 0.01 by step 6: p = "),
            c.stdout)
        let shifted = scratch.appendingPathComponent("shifted")
        XCTAssertEqual(
            try wgf([
                "run", file, "--out", shifted.path, "--quiet", "--set", "population.init.mean=[0.6, 0]",
            ]).code, 0)
        let f = try wgf(["check", shifted.path])
        XCTAssertEqual(f.code, 1, f.stdout)
        XCTAssertTrue(f.stdout.contains("FAIL  two-sample test (two-sample) does not reject at α = 0.01"), f.stdout)
    }

    /// The swarm on the mesh engine, whose box grows as it spreads: the grid kept by the
    /// mesh's hysteresis is restored from the checkpoint (another grid would round differently).
    func testMeshRunResumesBitForBit() throws {
        let args = [
            "scenarios/swarm-attraction-repulsion-2d.toml", "--quiet", "--set", "flow.summation=mesh",
            "--set", "flow.tolerance=1e-3", "--set", "population.count=5000", "--set", "expect=[]",
        ]
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(["run"] + args + ["--out", whole.path, "--steps", "60"]).code, 0)
        XCTAssertEqual(try wgf(["run"] + args + ["--out", parts.path, "--steps", "23", "--threads", "1"]).code, 0)
        let r = try wgf(["run", "--resume", parts.path, "--steps", "60"])
        XCTAssertEqual(r.code, 0, r.stderr)
        try assertSameOutputs(whole, parts, "mesh swarm")
    }

    /// An H5MD run (underdamped: positions, velocities, weights) extended past a finished run's
    /// last record and resumed after kill -9: trajectory.h5 holds the same records as one run
    /// (compared through `wgf export`, whose arrays are the file's numbers exactly).
    func testH5MDRunResumesBitForBit() throws {
        let args = [
            "scenarios/langevin-underdamped-ou.toml", "--quiet", "--set", "record.format=h5md", "--set", "expect=[]",
            "--set", "population.count=500", "--set", "record-every=10",
        ]
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(["run"] + args + ["--out", whole.path, "--steps", "300"]).code, 0)
        XCTAssertEqual(try wgf(["run"] + args + ["--out", parts.path, "--steps", "47"]).code, 0)
        let r = try wgf(["run", "--resume", parts.path, "--steps", "300", "--threads", "1"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts.appendingPathComponent("trajectory.csv").path))
        for dir in [whole, parts] { XCTAssertEqual(try wgf(["export", dir.path]).code, 0) }
        for file in ["positions.npy", "velocities.npy", "weights.npy", "steps.npy", "times.npy"] {
            let a = try Data(contentsOf: whole.appendingPathComponent("npy/\(file)"))
            let b = try Data(contentsOf: parts.appendingPathComponent("npy/\(file)"))
            XCTAssertTrue(a == b, "\(file) differs (\(a.count) vs \(b.count) bytes)")
        }
        XCTAssertEqual(try metricsWithoutWall(whole), try metricsWithoutWall(parts))
    }

    /// SIGTERM (a scheduler's way to stop a job) writes a checkpoint and run.json, exits 143,
    /// and the resumed run equals an uninterrupted one.
    func testSIGTERMCheckpointsAndTheResumeMatches() throws {
        let args = [
            "run", "scenarios/quickstart.toml", "--quiet", "--set", "steps=6000", "--set", "record-every=50",
            "--set", "expect=[]",
        ]
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(args + ["--out", whole.path]).code, 0)
        let stopped = try wgf(args + ["--out", parts.path], interruptAfter: 0.6, signal: SIGTERM)
        XCTAssertEqual(stopped.code, 143, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("by SIGTERM; continue with wgf run --resume"), stopped.stderr)
        let info = try runJSON(parts)
        XCTAssertEqual(info["status"] as? String, "interrupted")
        let at = try XCTUnwrap(info["last-checkpoint-step"] as? Int)
        XCTAssertEqual(info["steps-taken"] as? Int, at, "the checkpoint is taken at the step the run stopped")
        XCTAssertLessThan(at, 6000, "stopped before the end (lengthen the run if this machine is faster)")
        let resumed = try wgf(["run", "--resume", parts.path])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("steps \(at + 1)–6000"), resumed.stdout)
        try assertSameOutputs(whole, parts, "SIGTERM")
        let resumes = try XCTUnwrap(try runJSON(parts)["resumes"] as? [[String: Any]])
        XCTAssertEqual(resumes.first?["from-step"] as? Int, at)
    }

    /// kill -9 at arbitrary instants (often in the middle of writing a record or a checkpoint):
    /// each resume continues from the last whole checkpoint, and the end result equals one run.
    func testKillNineAnywhereThenResumeMatches() throws {
        let args = [
            "--quiet", "--set", "steps=12000", "--set", "record-every=7", "--set", "checkpoint-every=29",
            "--set", "expect=[]", "--set", "population.count=1000", "--set", "record.metrics=[\"variance\"]",
        ]
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(["run", "scenarios/langevin-underdamped-ou.toml", "--out", whole.path] + args).code, 0)
        var r = try wgf(
            ["run", "scenarios/langevin-underdamped-ou.toml", "--out", parts.path] + args,
            interruptAfter: 0.8, signal: SIGKILL)
        XCTAssertEqual(r.code, SIGKILL, "killed")
        XCTAssertEqual(
            try runJSON(parts)["status"] as? String, "running", "a killed run's run.json says it never ended")
        var kills = 1
        for delay in [0.15, 0.33, 0.21] {
            r = try wgf(["run", "--resume", parts.path, "--quiet"], interruptAfter: delay, signal: SIGKILL)
            if r.code == 0 { break }
            XCTAssertEqual(r.code, SIGKILL, r.stderr)
            kills += 1
        }
        if r.code != 0 {
            r = try wgf(["run", "--resume", parts.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
        }
        XCTAssertGreaterThanOrEqual(kills, 2, "killed more than once")
        try assertSameOutputs(whole, parts, "kill -9 ×\(kills)")
        XCTAssertEqual(try runJSON(parts)["status"] as? String, "completed")
    }

    /// A completed run extended to more steps equals the longer run in one go; a resume to its
    /// own last step changes nothing.
    func testExtendingACompletedRun() throws {
        let whole = scratch.appendingPathComponent("whole")
        let parts = scratch.appendingPathComponent("parts")
        XCTAssertEqual(try wgf(["run", "--out", whole.path, "--steps", "125", "--quiet"]).code, 0)
        XCTAssertEqual(try wgf(["run", "--out", parts.path, "--steps", "53", "--quiet"]).code, 0)
        let before = try Data(contentsOf: parts.appendingPathComponent("trajectory.csv"))
        let same = try wgf(["run", "--resume", parts.path, "--quiet"])
        XCTAssertEqual(same.code, 0, same.stderr)
        XCTAssertEqual(try Data(contentsOf: parts.appendingPathComponent("trajectory.csv")), before, "nothing to add")
        XCTAssertEqual(try wgf(["run", "--resume", parts.path, "--steps", "90", "--quiet"]).code, 0)
        XCTAssertEqual(try wgf(["run", "--resume", parts.path, "--steps", "125", "--quiet"]).code, 0)
        try assertSameOutputs(whole, parts, "53 → 90 → 125")
        XCTAssertTrue(try read(parts.appendingPathComponent("scenario.toml")).contains("\nsteps = 125\n"))
        XCTAssertTrue(
            try read(parts.appendingPathComponent("scenario.toml")).hasPrefix("# SVGD"), "the original header stays")
        let back = try wgf(["run", "--resume", parts.path, "--steps", "100"])
        XCTAssertEqual(back.code, 64, back.stderr)
        XCTAssertTrue(back.stderr.contains("the checkpoint is at step 125, beyond --steps 100"), back.stderr)
    }

    func testResumeRefusesWhatItCannotContinue() throws {
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "20", "--quiet"]).code, 0)
        // The scenario changed (any key but steps).
        let scenario = run.appendingPathComponent("scenario.toml")
        let original = try read(scenario)
        try original.replacingOccurrences(of: "step-size = 0.05", with: "step-size = 0.04").write(
            to: scenario, atomically: true, encoding: .utf8)
        var r = try wgf(["run", "--resume", run.path, "--steps", "40"])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("scenario.toml has changed since the checkpoint"), r.stderr)
        try original.write(to: scenario, atomically: true, encoding: .utf8)
        // Outputs cut below what the checkpoint recorded.
        let trajectory = run.appendingPathComponent("trajectory.csv")
        let data = try Data(contentsOf: trajectory)
        try data.prefix(data.count / 2).write(to: trajectory)
        r = try wgf(["run", "--resume", run.path, "--steps", "40"])
        XCTAssertEqual(r.code, 5, r.stderr)
        XCTAssertTrue(r.stderr.contains("fewer than the \(data.count) it had at the checkpoint"), r.stderr)
        // A damaged checkpoint.
        let checkpoint = run.appendingPathComponent("checkpoint.wgf")
        var bytes = [UInt8](try Data(contentsOf: checkpoint))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: checkpoint)
        r = try wgf(["run", "--resume", run.path])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("damaged: its SHA-256 does not match"), r.stderr)
        // Not a run directory; options a resume cannot take.
        r = try wgf(["run", "--resume", scratch.path])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("is not a wgf run directory"), r.stderr)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: scratch.appendingPathComponent("run.lock").path),
            "no lock left there")
        try FileManager.default.removeItem(at: checkpoint)
        r = try wgf(["run", "--resume", run.path])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("no checkpoint"), r.stderr)
        for extra in [
            ["--seed", "3"], ["--set", "steps=5"], ["--out", "x"], ["--force"], ["scenarios/quickstart.toml"],
        ] {
            XCTAssertEqual(try wgf(["run", "--resume", run.path] + extra).code, 64, "\(extra)")
        }
    }

    /// A checkpoint holding the state of a part this build does not make (a checkpoint of another
    /// wgf version) is refused before anything in the directory changes: run.json keeps its
    /// status, the outputs their bytes.
    func testACheckpointOfForeignPartsLeavesTheRunAsItWas() throws {
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "20", "--quiet"]).code, 0)
        var checkpoint = try CheckpointFile.read(directory: run.path)
        checkpoint.parts["flow.interaction[1].summation"] = PartState(reals: ["x": [1]])
        try CheckpointFile.write(checkpoint, directory: run.path)
        let before = try ["run.json", "scenario.toml", "trajectory.csv", "metrics.csv"].map {
            try Data(contentsOf: run.appendingPathComponent($0))
        }
        let r = try wgf(["run", "--resume", run.path, "--steps", "40"])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("'flow.interaction[1].summation', which the scenario does not build"), r.stderr)
        let after = try ["run.json", "scenario.toml", "trajectory.csv", "metrics.csv"].map {
            try Data(contentsOf: run.appendingPathComponent($0))
        }
        XCTAssertTrue(before == after, "the refused resume changed the run directory")
        XCTAssertEqual(try runJSON(run)["status"] as? String, "completed")
    }
}
