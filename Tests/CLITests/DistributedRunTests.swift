import Foundation
import XCTest

/// `mpirun -np K wgf run`: the ranks share the flows' kernel sums and rank 0 writes, so every
/// output must be the single process's, byte for byte (metrics.csv's wall column aside), for
/// every bundled scenario; failures print once, end every rank with the documented code, and
/// never leave a rank waiting.
final class DistributedRunTests: ScratchTestCase {
    func wgf(_ args: [String], ranks: Int? = nil, interruptAfter: Double? = nil) throws -> WGFResult {
        try runWGF(args, in: scratch, interruptAfter: interruptAfter, ranks: ranks)
    }

    /// metrics.csv without its `wall` column (the third).
    func metricsWithoutWall(_ dir: URL) throws -> [String] {
        try read(dir.appendingPathComponent("metrics.csv")).split(separator: "\n").map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).enumerated().filter { $0.offset != 2 }
                .map(\.element).joined(separator: ",")
        }
    }

    func assertSameOutputs(
        _ a: URL, _ b: URL, _ label: String, scenario: Bool = true,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ta = try Data(contentsOf: a.appendingPathComponent("trajectory.csv"))
        let tb = try Data(contentsOf: b.appendingPathComponent("trajectory.csv"))
        XCTAssertFalse(ta.isEmpty, label, file: file, line: line)
        XCTAssertTrue(ta == tb, "\(label): trajectory.csv differs", file: file, line: line)
        XCTAssertEqual(
            try metricsWithoutWall(a), try metricsWithoutWall(b), "\(label): metrics.csv", file: file, line: line)
        guard scenario else { return }
        XCTAssertEqual(
            try read(a.appendingPathComponent("scenario.toml")), try read(b.appendingPathComponent("scenario.toml")),
            label, file: file, line: line)
    }

    /// Every bundled scenario, 20 steps, on 2 and 3 ranks: the single process's files.
    func testEveryScenarioOnTwoAndThreeRanksWritesTheSingleProcessFiles() throws {
        let dir = CLITests.root.appendingPathComponent("scenarios")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }
            .sorted()
        XCTAssertGreaterThanOrEqual(names.count, 20)
        for name in names {
            let path = dir.appendingPathComponent(name).path
            let one = scratch.appendingPathComponent(name + "-1")
            let single = try wgf(["run", path, "--steps", "20", "--out", one.path, "--quiet"])
            for ranks in [2, 3] {
                let many = scratch.appendingPathComponent(name + "-\(ranks)")
                let r = try wgf(["run", path, "--steps", "20", "--out", many.path, "--quiet"], ranks: ranks)
                XCTAssertEqual(r.code, single.code, "\(name) on \(ranks) ranks: \(r.stderr)")
                XCTAssertEqual(r.stdout.components(separatedBy: "→").count, 2, "\(name): one summary line (rank 0's)")
                try assertSameOutputs(one, many, "\(name) on \(ranks) ranks")
                let info = try runJSON(many)
                XCTAssertEqual(info["status"] as? String, "completed", name)
                XCTAssertEqual(info["ranks"] as? Int, ranks, name)
                XCTAssertEqual(try runJSON(one)["ranks"] as? Int, 1, name)
            }
        }
    }

    /// The mesh's grid shared by slabs (2-D with the log kernel's near field, SVGD, 3-D, the
    /// periodic box), 20 steps on 2 and 3 ranks: the single process's files, byte for byte.
    func testMeshRunsOnRanksWriteTheSingleProcessFiles() throws {
        let scenarios = CLITests.root.appendingPathComponent("scenarios")
        let quiet = ["--steps", "20", "--quiet", "--set", "expect=[]", "--set", "flow.summation=mesh"]
        let swarm = scenarios.appendingPathComponent("swarm-attraction-repulsion-2d.toml").path
        let cases: [(String, [String])] = [
            ("swarm", [swarm]),
            ("svgd", [scenarios.appendingPathComponent("svgd-gaussian-2d.toml").path]),
            (
                "swarm 3-d",
                [
                    swarm, "--set", "population.dimension=3", "--set",
                    "population.init={ kind = \"gaussian\", mean = [0.5, -0.5, 0], std = 0.2 }",
                ]
            ),
            (
                "periodic",
                [
                    swarm, "--set", "flow.period=4", "--set",
                    "flow.interaction=[{ kernel = \"gaussian:sigma=0.2\", weight = -1 }]",
                    "--set", "record.metrics=[\"interaction-energy\"]",
                ]
            ),
        ]
        for (label, args) in cases {
            let one = scratch.appendingPathComponent(label + "-1")
            let single = try wgf(["run"] + args + quiet + ["--out", one.path])
            XCTAssertEqual(single.code, 0, "\(label): \(single.stderr)")
            XCTAssertTrue(try read(one.appendingPathComponent("run.json")).contains("summation-grid"), label)
            for ranks in [2, 3] {
                let many = scratch.appendingPathComponent(label + "-\(ranks)")
                let r = try wgf(["run"] + args + quiet + ["--out", many.path], ranks: ranks)
                XCTAssertEqual(r.code, 0, "\(label) on \(ranks) ranks: \(r.stderr)")
                try assertSameOutputs(one, many, "\(label) on \(ranks) ranks")
            }
        }
    }

    /// Bad input and a directory in use: one message (rank 0's), every rank's exit code the
    /// documented one; no run directory is made for bad input.
    func testFailuresPrintOnceAndEndEveryRankWithTheirCode() throws {
        let bad = try writeScenario("bad.toml", "steps = \"x\"\n")
        let r = try wgf(["run", bad.path, "--out", "b"], ranks: 2)
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "wgf: ").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.toml:1: steps: expected an integer"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("b").path))

        let quick = CLITests.root.appendingPathComponent("scenarios/quickstart.toml").path
        XCTAssertEqual(try wgf(["run", quick, "--steps", "2", "--out", "q", "--quiet"], ranks: 2).code, 0)
        let again = try wgf(["run", quick, "--steps", "2", "--out", "q", "--quiet"], ranks: 3)
        XCTAssertEqual(again.code, 64, again.stderr)
        XCTAssertEqual(again.stderr.components(separatedBy: "wgf: ").count - 1, 1, again.stderr)
        XCTAssertTrue(again.stderr.contains("holds an earlier run"), again.stderr)
    }

    /// Every rank of a job holds the whole state, so the ranks on one machine share its memory:
    /// a run (or a sweep's runs) too large for the machine is refused on every rank, once,
    /// before anything is allocated, with each rank's share of the memory in the message.
    /// (A run too large for the whole machine, so that no rank allocates even if the share
    /// were not counted.)
    func testTheRanksOnAMachineShareItsMemory() throws {
        let quick = try read(CLITests.root.appendingPathComponent("scenarios/quickstart.toml"))
        let huge = try writeScenario(
            "huge.toml", quick.replacingOccurrences(of: "count = 300", with: "count = 200000000"))
        let alone = try wgf(["run", huge.path, "--out", "a", "--quiet"])
        XCTAssertEqual(alone.code, 3, alone.stderr)
        XCTAssertFalse(alone.stderr.contains("shared by"), alone.stderr)
        for command in [
            ["run", huge.path, "--out", "r", "--quiet"], ["sweep", huge.path, "--seeds", "1..2", "--out", "s"],
        ] {
            let r = try wgf(command, ranks: 2)
            XCTAssertEqual(r.code, 3, "\(command[0]): \(r.stderr)")
            XCTAssertEqual(r.stderr.components(separatedBy: "wgf: ").count - 1, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("shared by the 2 processes of this job on it"), r.stderr)
        }
        for made in ["a", "r", "s"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent(made).path), made)
        }
    }

    /// Ctrl-C to mpirun: every rank stops after the same step, rank 0 checkpoints and says so in
    /// run.json; the run resumed on 3 ranks (to 200 steps past its checkpoint) ends with the
    /// files of one uninterrupted process run to that step.
    func testInterruptedJobResumesToTheUninterruptedFiles() throws {
        let quick = CLITests.root.appendingPathComponent("scenarios/quickstart.toml").path
        let options = ["--set", "record-every=50", "--quiet"]
        let stopped = try wgf(
            ["run", quick, "--out", "i", "--steps", "100000000"] + options, ranks: 2, interruptAfter: 2.5)
        XCTAssertNotEqual(stopped.code, 0, stopped.stderr)
        let dir = scratch.appendingPathComponent("i")
        let info = try runJSON(dir)
        XCTAssertEqual(info["status"] as? String, "interrupted", stopped.stderr)
        let checkpoint = try XCTUnwrap(info["last-checkpoint-step"] as? Int)
        let end = "\(checkpoint + 200)"
        let resumed = try wgf(["run", "--resume", "i", "--steps", end, "--quiet"], ranks: 3)
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertEqual(try wgf(["run", quick, "--out", "u", "--steps", end] + options).code, 0)
        // (scenario.toml's header names each run's own --steps.)
        try assertSameOutputs(scratch.appendingPathComponent("u"), dir, "resumed on 3 ranks", scenario: false)
    }

    /// A rank killed mid-run ends the whole job within seconds: no rank waits forever; run.json
    /// says the job was ended (not `running`), and the run resumes from its last checkpoint.
    func testAKilledRankEndsTheJob() throws {
        let quick = CLITests.root.appendingPathComponent("scenarios/quickstart.toml").path
        let start = Date()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments =
            mpirunArguments + [
                "-np", "2", CLITests.binary.path, "run", quick, "--steps", "10000000", "--out", "k",
                "--quiet",
            ]
        p.currentDirectoryURL = scratch
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for both ranks, then kill the one that is not rank 0 (the younger process).
        var ranks: [Int32] = []
        while ranks.count < 2, Date().timeIntervalSince(start) < 30 {
            Thread.sleep(forTimeInterval: 0.2)
            ranks = pids(ofCommandsContaining: "--out k --quiet")
        }
        XCTAssertEqual(ranks.count, 2)
        Thread.sleep(forTimeInterval: 1)
        kill(ranks.max()!, SIGKILL)
        let killed = Date()
        while p.isRunning, Date().timeIntervalSince(killed) < 30 { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(p.isRunning, "the job still runs 30 s after one rank was killed")
        if p.isRunning { p.terminate() } else { XCTAssertNotEqual(p.terminationStatus, 0) }
        XCTAssertTrue(pids(ofCommandsContaining: "--out k --quiet").isEmpty, "a rank outlived the job")
        let info = try runJSON(scratch.appendingPathComponent("k"))
        XCTAssertEqual(info["status"] as? String, "interrupted")
        XCTAssertTrue((info["detail"] as? String ?? "").contains("another rank failed"), "\(info)")
        let checkpoint = try XCTUnwrap(info["last-checkpoint-step"] as? Int)
        let resumed = try wgf(["run", "--resume", "k", "--steps", "\(checkpoint + 20)", "--quiet"], ranks: 2)
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertEqual(try runJSON(scratch.appendingPathComponent("k"))["status"] as? String, "completed")
    }

    /// The processes whose command line contains `text` and runs the wgf binary.
    func pids(ofCommandsContaining text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.hasPrefix(CLITests.binary.path) && line.contains(text)
        }
    }
}
