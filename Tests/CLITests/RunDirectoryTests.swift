import Foundation
import XCTest

/// Run directories never lie: a run never lands on another's files, stale derived outputs go,
/// run.json keeps its types, and every failed write is an error (exit 5), not a success.
final class RunDirectoryTests: ScratchTestCase {
    func wgf(_ args: [String], in directory: URL = CLITests.root) throws -> WGFResult {
        try runWGF(args, in: directory)
    }

    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    func testARerunIntoAUsedDirectoryIsRefusedUnlessForced() throws {
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "20", "--quiet"]).code, 0)
        XCTAssertEqual(try wgf(["export", run.path]).code, 0)
        XCTAssertTrue(exists(run.appendingPathComponent("npy")))
        let before = try Data(contentsOf: run.appendingPathComponent("run.json"))
        let refused = try wgf(["run", "--out", run.path, "--steps", "10", "--seed", "7"])
        XCTAssertEqual(refused.code, 64, refused.stderr)
        XCTAssertTrue(
            refused.stderr.contains("holds an earlier run: use --force to replace it, --resume"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("run.json")), before, "nothing touched")
        // --force replaces the run: no trajectory when the new run writes none, no stale npy/.
        let forced = try wgf([
            "run", "--out", run.path, "--steps", "10", "--seed", "7", "--force", "--quiet",
            "--set", "record.trajectory=false",
        ])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertFalse(exists(run.appendingPathComponent("trajectory.csv")), "the old trajectory is gone")
        XCTAssertFalse(exists(run.appendingPathComponent("npy")), "the old arrays are gone")
        XCTAssertEqual(try runJSON(run)["seed"] as? Int, 7)
        XCTAssertEqual(
            try runJSON(run)["outputs"] as? [String], ["metrics.csv", "scenario.toml", "run.json", "checkpoint.wgf"])
    }

    func testForceNeverClearsADirectoryWgfDidNotWrite() throws {
        let mine = scratch.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try "precious".write(to: mine.appendingPathComponent("thesis.tex"), atomically: true, encoding: .utf8)
        for extra in [[], ["--force"]] {
            let r = try wgf(["run", "--out", mine.path, "--steps", "5"] + extra)
            XCTAssertEqual(r.code, 64, r.stderr)
            XCTAssertTrue(
                r.stderr.contains("is not empty and not a wgf run directory (it holds 'thesis.tex')"), r.stderr)
        }
        XCTAssertEqual(try read(mine.appendingPathComponent("thesis.tex")), "precious")
        // A run directory with a file of the user's in it is not cleared either.
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "5", "--quiet"]).code, 0)
        try "notes".write(to: run.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "5", "--force"]).code, 64)
        XCTAssertTrue(exists(run.appendingPathComponent("notes.txt")))
    }

    /// One process at a time writes a run directory: while a run goes on, a resume or a
    /// --force into its directory is refused, and once it ended the resume works.
    func testARunningRunDirectoryIsLocked() throws {
        let run = scratch.appendingPathComponent("run")
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = [
            "run", "--out", run.path, "--steps", "100000", "--quiet", "--set", "expect=[]",
            "--set", "record.trajectory=false", "--set", "checkpoint-every=100",
        ]
        p.currentDirectoryURL = CLITests.root
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var waited = 0.0
        while !FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.wgf").path) && waited < 20
        {
            Thread.sleep(forTimeInterval: 0.05)
            waited += 0.05
        }
        let resume = try wgf(["run", "--resume", run.path])
        XCTAssertEqual(resume.code, 64, resume.stderr)
        XCTAssertTrue(resume.stderr.contains("is in use by another wgf process"), resume.stderr)
        let force = try wgf(["run", "--out", run.path, "--force", "--steps", "3"])
        XCTAssertEqual(force.code, 64, force.stderr)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.csv").path), "nothing cleared")
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let at = try XCTUnwrap(try runJSON(run)["last-checkpoint-step"] as? Int)
        let r = try wgf(["run", "--resume", run.path, "--steps", "\(at + 50)", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
    }

    /// Without --out: runs/<name>/, then runs/<name>-2/, ... (relative to the working directory).
    func testDefaultDirectoriesDoNotCollide() throws {
        let scenario = CLITests.root.appendingPathComponent("scenarios/svgd-1d-mixture.toml").path
        for expected in ["svgd-1d-mixture", "svgd-1d-mixture-2", "svgd-1d-mixture-3"] {
            let r = try wgf(["run", scenario, "--steps", "5", "--quiet"], in: scratch)
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasSuffix("→ runs/\(expected)/\n"), r.stdout)
            XCTAssertTrue(exists(scratch.appendingPathComponent("runs/\(expected)/run.json")))
        }
    }

    func testRunJSONKeepsItsTypesAndIsNeverTorn() throws {
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try wgf(["run", "--out", run.path, "--steps", "20", "--quiet", "--threads", "2"]).code, 0)
        let info = try runJSON(run)
        let flow = try XCTUnwrap(info["flow"] as? [String: Any])
        XCTAssertEqual(flow["adagrad-alpha"] as? Double, 0.9, "numbers are JSON numbers: \(flow)")
        XCTAssertEqual(flow["summation-threads"] as? Int, 2)
        XCTAssertEqual(flow["kernel"] as? String, "gaussian:sigma=median")
        XCTAssertEqual(info["steps-taken"] as? Int, 20)
        XCTAssertFalse(exists(run.appendingPathComponent("run.json.partial")), "no temporary file left")
        XCTAssertFalse(exists(run.appendingPathComponent("checkpoint.wgf.partial")))
    }

    /// An output path that is a file, a directory without write permission: exit 5, with the path.
    func testUnwritableOutputs() throws {
        let file = try writeScenario("plain-file", "x")
        var r = try wgf(["run", "--out", file.path, "--steps", "1"])
        XCTAssertEqual(r.code, 5, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(file.path): exists and is not a directory"), r.stderr)
        guard geteuid() != 0 else { return }  // root writes anywhere: permissions cannot be tested
        let locked = scratch.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        chmod(locked.path, 0o500)
        defer { chmod(locked.path, 0o700) }
        r = try wgf(["run", "--out", locked.path, "--steps", "1"])
        XCTAssertEqual(r.code, 5, r.stderr)
    }

    /// Under a file-size limit the trajectory's write fails part-way: exit 5 (not 0 with
    /// `completed`), run.json says io-failure, and the run resumes once there is room.
    func testAFileSizeLimitIsAnIOFailureNotASuccess() throws {
        let run = scratch.appendingPathComponent("run")
        let limited = try runWGF(["run", "--out", run.path, "--quiet", "--steps", "400"], ulimit: "-f 200")
        let stderr = limited.stderr
        XCTAssertEqual(limited.code, 5, stderr)
        XCTAssertTrue(stderr.contains("trajectory.csv: write failed"), stderr)
        XCTAssertTrue(stderr.contains("File too large"), stderr)
        XCTAssertEqual(try runJSON(run)["status"] as? String, "io-failure")
        let resumed = try wgf(["run", "--resume", run.path, "--quiet"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        let whole = scratch.appendingPathComponent("whole")
        XCTAssertEqual(try wgf(["run", "--out", whole.path, "--quiet", "--steps", "400"]).code, 0)
        XCTAssertEqual(
            try Data(contentsOf: run.appendingPathComponent("trajectory.csv")),
            try Data(contentsOf: whole.appendingPathComponent("trajectory.csv")))
    }

    /// A full disk (a 1 MiB tmpfs): exit 5, what was written stays readable up to the checkpoint.
    func testAFullDiskIsAnIOFailure() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mount = scratch.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let m = Process()
        m.executableURL = URL(fileURLWithPath: "/bin/mount")
        m.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.path]
        try m.run()
        m.waitUntilExit()
        XCTAssertEqual(m.terminationStatus, 0, "mount a tmpfs")
        defer {
            let u = Process()
            u.executableURL = URL(fileURLWithPath: "/bin/umount")
            u.arguments = [mount.path]
            try? u.run()
            u.waitUntilExit()
        }
        let run = mount.appendingPathComponent("run")
        let r = try wgf(["run", "--out", run.path, "--steps", "2000", "--quiet"])
        XCTAssertEqual(r.code, 5, r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        XCTAssertNotNil(try? runJSON(run), "run.json is whole (the old one if the new one found no room)")
        let c = try wgf(["check", run.path])
        XCTAssertTrue([0, 1].contains(c.code), "metrics.csv stays readable: \(c.stderr)")
    }
}
