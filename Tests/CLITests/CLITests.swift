import Foundation
import XCTest

/// End-to-end tests of the `wgf` executable: exit codes, output files, determinism,
/// divergence, interruption, and every bundled scenario reaching its expectations.
final class CLITests: XCTestCase {
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

    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
    }

    @discardableResult
    func wgf(_ args: [String], in directory: URL = CLITests.root, interruptAfter: Double? = nil) throws -> Result {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        if let t = interruptAfter {
            Thread.sleep(forTimeInterval: t)
            kill(p.processIdentifier, SIGINT)
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wgf-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    func runJSON(_ dir: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run.json"))) as! [String: Any]
    }

    func writeScenario(_ name: String, _ text: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // MARK: run

    func testDefaultRunWritesTheFourFiles() throws {
        let out = scratch.appendingPathComponent("quick")
        let r = try wgf(["run", "--out", out.path, "--steps", "40"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("quickstart: completed, 40 steps"), r.stdout)
        XCTAssertTrue(r.stderr.isEmpty, "no progress bar without a terminal: \(r.stderr)")
        for f in ["trajectory.csv", "metrics.csv", "scenario.toml", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let trajectory = try read(out.appendingPathComponent("trajectory.csv")).split(separator: "\n")
        XCTAssertEqual(trajectory.first, "step,time,population,particle,weight,x1,x2")
        XCTAssertEqual(trajectory.count, 1 + 5 * 300, "records at steps 0, 10, 20, 30, 40 of 300 particles")
        let metrics = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n")
        XCTAssertEqual(metrics.first, "step,time,wall,ksd,mmd,mean-error,cov-error")
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
        let first = scratch.appendingPathComponent("first"), second = scratch.appendingPathComponent("second")
        XCTAssertEqual(try wgf(["run", "scenarios/svgd-1d-mixture.toml", "--out", first.path, "--steps", "30",
                                "--set", "population.count=40"]).code, 0)
        XCTAssertTrue(try read(first.appendingPathComponent("scenario.toml")).contains("count = 40"))
        let r = try wgf(["run", first.appendingPathComponent("scenario.toml").path, "--out", second.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try read(first.appendingPathComponent("trajectory.csv")), try read(second.appendingPathComponent("trajectory.csv")))
    }

    func testOutputIsIdenticalForAnyThreadCount() throws {
        var trajectories: [String] = [], metrics: [[Substring]] = []
        for threads in [1, 2] {
            let out = scratch.appendingPathComponent("t\(threads)")
            let r = try wgf(["run", "scenarios/quickstart.toml", "--out", out.path, "--steps", "60", "--threads", "\(threads)"])
            XCTAssertEqual(r.code, 0, r.stderr)
            trajectories.append(try read(out.appendingPathComponent("trajectory.csv")))
            // Drop the wall column (the third).
            metrics.append(try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n").map { line in
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
            XCTAssertEqual(try wgf(["run", "scenarios/mmd-gaussian-noise.toml", "--out", out.path, "--steps", "200",
                                    "--threads", "\(threads)", "--set", "expect=[]"]).code, 0)
            mmd.append(try read(out.appendingPathComponent("trajectory.csv")))
        }
        XCTAssertEqual(mmd[0], mmd[1])
    }

    func testEveryBundledScenarioMeetsItsExpectations() throws {
        let dir = Self.root.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 6)
        for f in files {
            let out = scratch.appendingPathComponent(f)
            let r = try wgf(["run", "scenarios/\(f)", "--out", out.path, "--quiet"])
            XCTAssertEqual(r.code, 0, "\(f): \(r.stderr)")
            let c = try wgf(["check", out.path])
            XCTAssertEqual(c.code, 0, "\(f) missed an expectation:\n\(c.stdout)\(c.stderr)")
            XCTAssertTrue(c.stdout.contains("0 failed"), c.stdout)
            XCTAssertTrue(try read(dir.appendingPathComponent(f)).hasPrefix("#"), "\(f) must say which experiment it reproduces")
        }
    }

    func testCheckFailsWhenAnExpectationIsMissed() throws {
        let out = scratch.appendingPathComponent("short")
        XCTAssertEqual(try wgf(["run", "--out", out.path, "--steps", "3"]).code, 0)
        let c = try wgf(["check", out.path])
        XCTAssertEqual(c.code, 1, c.stdout)
        XCTAssertTrue(c.stdout.contains("FAIL  ksd ≤ 0.1 by step 3: ksd = "), c.stdout)
    }

    // MARK: failures

    func testMisspeltKeyIsAPreciseError() throws {
        let text = try read(Self.root.appendingPathComponent("scenarios/quickstart.toml")).replacingOccurrences(of: "count = 300", with: "cuont = 300")
        let bad = try writeScenario("bad.toml", text)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("cuont") }! + 1
        for args in [["run", bad.path, "--out", scratch.appendingPathComponent("x").path], ["validate", bad.path]] {
            let r = try wgf(args)
            XCTAssertEqual(r.code, 3)
            XCTAssertTrue(r.stderr.contains("\(bad.path):\(line): population.cuont: unknown key (did you mean 'count'?)"), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("x").path), "nothing written for a bad scenario")
        let r = try wgf(["run", "--set", "population.count=0", "--out", scratch.appendingPathComponent("y").path])
        XCTAssertEqual(r.code, 3)
        XCTAssertTrue(r.stderr.contains("--set population.count=0: population.count: 0 is out of range (an integer ≥ 1)"), r.stderr)
    }

    func testValidateAcceptsEveryBundledScenario() throws {
        let dir = Self.root.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.map { "scenarios/\($0)" }
        let r = try wgf(["validate"] + files)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, files.count)
    }

    func testDivergingRunStopsWithItsCodeAndReadableFiles() throws {
        let scenario = try writeScenario("diverge.toml", """
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

    func testInterruptKeepsWhatWasWritten() throws {
        let out = scratch.appendingPathComponent("int")
        let r = try wgf(["run", "scenarios/mmd-gaussian-noise.toml", "--out", out.path, "--steps", "100000000",
                         "--set", "expect=[]", "--set", "record.trajectory=false"], interruptAfter: 1.5)
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
        for name in ["svgd", "mmd", "gaussian", "imq", "laplace", "riesz", "gaussian-mixture", "banana", "samples",
                     "uniform", "file", "ksd", "mean-error", "cov-error", "energy"] {
            XCTAssertTrue(r.stdout.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(name) }, name)
        }
    }
}
