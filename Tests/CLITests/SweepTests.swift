import Foundation
import XCTest

/// `wgf sweep` end to end: the run directories it makes, sweep.csv and summary.csv checked
/// against values computed here from the runs' metrics.csv, resuming, jobs, refusals, the
/// check over seeds and the comparison of a sweep directory.
final class SweepTests: ScratchTestCase {
    /// SVGD on the 1-D mixture, 30 particles, 40 steps recorded every 10: a run takes a tenth of
    /// a second. mean-error falls from about 10.6; it is ≤ 5 from step 30 at step size 0.25, and
    /// never within 40 steps at 0.1.
    static let scenario = """
        title = "sweep test"
        seed = 1
        steps = 40
        step-size = 0.25
        record-every = 10

        [target]
        kind = "gaussian-mixture"
        weights = [0.3333333333333333, 0.6666666666666667]
        means = [[-2], [2]]
        std = 1

        [population]
        count = 30
        init = { kind = "gaussian", mean = [-10], std = 1 }

        [flow]
        kind = "svgd"
        kernel = "gaussian:sigma=median"
        optimizer = "adagrad"

        [record]
        metrics = ["mmd", "mean-error"]
        trajectory = false

        [[expect]]
        metric = "mean-error"
        at-most = 5

        """

    /// t_{0.975, 2}, for three seeds: with two degrees of freedom the quantile has the closed
    /// form (2p − 1)/√(2p(1 − p)) = 4.3027 (4.303 in every printed table).
    static let t2 = 0.95 / (2 * 0.975 * 0.025).squareRoot()

    var scenarioPath: String!

    override func setUp() {
        super.setUp()
        scenarioPath = try! writeScenario("sweep-test.toml", SweepTests.scenario).path
    }

    /// `wgf sweep SCENARIO --vary step-size=0.25,0.1 --seeds 1..3 --out DIR ...`, run in the scratch directory.
    @discardableResult
    func sweep(
        _ out: String, _ extra: [String] = [], vary: [String] = ["step-size=0.25,0.1"], seeds: String = "1..3",
        scenario: String? = nil, interruptAfter: Double? = nil, interruptWhen: (() -> Bool)? = nil,
        signal: Int32 = SIGINT, ranks: Int? = nil
    ) throws -> WGFResult {
        try runWGF(
            ["sweep", scenario ?? scenarioPath, "--seeds", seeds, "--out", out] + vary.flatMap { ["--vary", $0] }
                + extra,
            in: scratch, interruptAfter: interruptAfter, interruptWhen: interruptWhen, signal: signal, ranks: ranks)
    }

    func path(_ parts: String...) -> String { ([scratch.path] + parts).joined(separator: "/") }

    /// A CSV file's rows, fields split at commas outside quotes (quotes removed).
    func csv(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            var fields: [String] = []
            var field = ""
            var quoted = false
            var chars = Array(line)[...]
            while let c = chars.popFirst() {
                if quoted {
                    if c == "\"" {
                        if chars.first == "\"" {
                            field.append("\"")
                            chars.removeFirst()
                        } else {
                            quoted = false
                        }
                    } else {
                        field.append(c)
                    }
                } else if c == "\"" {
                    quoted = true
                } else if c == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(c)
                }
            }
            return fields + [field]
        }
    }

    /// A metrics.csv as columns by name.
    func metrics(_ runDirectory: String) throws -> [String: [Double]] {
        let rows = try csv(runDirectory + "/metrics.csv")
        var columns: [String: [Double]] = [:]
        for (c, name) in rows[0].enumerated() { columns[name] = rows.dropFirst().map { Double($0[c])! } }
        return columns
    }

    /// sweep.csv without its wall-seconds column.
    func withoutWall(_ path: String) throws -> [[String]] {
        let rows = try csv(path)
        let wall = try XCTUnwrap(rows[0].firstIndex(of: "wall-seconds"))
        return rows.map {
            var r = $0
            r.remove(at: wall)
            return r
        }
    }

    func runJSON(_ runDirectory: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/run.json")))
            as! [String: Any]
    }

    // MARK: the sweep's directories and tables

    func testSweepWritesRunDirectoriesAndTablesOverSeeds() throws {
        let out = path("sw")
        let r = try sweep(out)
        XCTAssertEqual(r.code, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.contains(": completed in ") }.count, 6, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("[6/6] ") }, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("step-size=0.25  3/3        0       ") }, r.stdout)
        XCTAssertTrue(lines.contains("wrote \(out)/sweep.csv and \(out)/summary.csv"), r.stdout)

        // DIR/<variant>/seed-<s>/: ordinary run directories of the variant's scenario and seed.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
            ["step-size=0.1", "step-size=0.25", "summary.csv", "sweep.csv"])
        for variant in ["0.25", "0.1"] {
            XCTAssertEqual(
                try FileManager.default.contentsOfDirectory(atPath: "\(out)/step-size=\(variant)").sorted(),
                ["seed-1", "seed-2", "seed-3"])
            for seed in 1...3 {
                let run = "\(out)/step-size=\(variant)/seed-\(seed)"
                let info = try runJSON(run)
                XCTAssertEqual(info["status"] as? String, "completed")
                XCTAssertEqual(info["seed"] as? Int, seed)
                XCTAssertEqual(info["threads"] as? Int, max(1, ProcessInfo.processInfo.activeProcessorCount))
                XCTAssertTrue(
                    try read(URL(fileURLWithPath: run + "/scenario.toml")).contains("step-size = \(variant)\n"))
            }
        }
        // A run equals the same `wgf run` made by hand (the wall column aside).
        let byHand = path("by-hand")
        XCTAssertEqual(
            try runWGF(["run", scenarioPath, "--seed", "2", "--set", "step-size=0.1", "--out", byHand], in: scratch)
                .code, 0)
        var a = try metrics(byHand)
        var b = try metrics("\(out)/step-size=0.1/seed-2")
        a["wall"] = nil
        b["wall"] = nil
        XCTAssertEqual(a, b)

        // sweep.csv: one row per run, in order, with the final values and the first step and
        // time at which the expectation held, as read here from each run's metrics.csv.
        let table = try csv(out + "/sweep.csv")
        XCTAssertEqual(
            table[0],
            [
                "variant", "step-size", "seed", "status", "exit-code", "wall-seconds",
                "final:mmd", "final:mean-error", "expect1:step", "expect1:time", "directory",
            ])
        XCTAssertEqual(table.count, 7)
        var row = 1
        for variant in ["0.25", "0.1"] {
            for seed in 1...3 {
                let f = table[row]
                row += 1
                XCTAssertEqual(Array(f[0..<5]), ["step-size=\(variant)", variant, "\(seed)", "completed", "0"])
                XCTAssertEqual(f[10], "step-size=\(variant)/seed-\(seed)")
                let info = try runJSON("\(out)/step-size=\(variant)/seed-\(seed)")
                XCTAssertEqual(Double(f[5]), (info["seconds"] as? [String: Any])?["total"] as? Double)
                let m = try metrics("\(out)/step-size=\(variant)/seed-\(seed)")
                XCTAssertEqual(Double(f[6]), m["mmd"]!.last!)
                XCTAssertEqual(Double(f[7]), m["mean-error"]!.last!)
                if let k = m["mean-error"]!.firstIndex(where: { $0 <= 5 }) {
                    XCTAssertEqual(Int(f[8]), Int(m["step"]![k]))
                    XCTAssertEqual(Double(f[9]), m["time"]![k])
                } else {
                    XCTAssertEqual(Array(f[8...9]), ["", ""])
                }
            }
        }
        XCTAssertEqual(Array(table[1][8...9]), ["30", "7.5"], "0.25: held from step 30 (time 30 × 0.25)")
        XCTAssertEqual(Array(table[4][8...9]), ["", ""], "0.1: never within 40 steps")

        // summary.csv: per variant and step, mean, sd and 95 % half-width over the 3 seeds.
        let summary = try csv(out + "/summary.csv")
        XCTAssertEqual(
            summary[0],
            [
                "variant", "step-size", "step", "time", "n", "mmd:mean", "mmd:sd", "mmd:ci95",
                "mean-error:mean", "mean-error:sd", "mean-error:ci95",
            ])
        XCTAssertEqual(summary.count, 1 + 2 * 5, "steps 0, 10, 20, 30, 40 per variant")
        row = 1
        for variant in ["0.25", "0.1"] {
            let seeds = try (1...3).map { try metrics("\(out)/step-size=\(variant)/seed-\($0)") }
            for (k, step) in seeds[0]["step"]!.enumerated() {
                let f = summary[row]
                row += 1
                XCTAssertEqual(
                    Array(f[0..<5]), ["step-size=\(variant)", variant, "\(Int(step))", "\(seeds[0]["time"]![k])", "3"])
                for (c, metric) in ["mmd", "mean-error"].enumerated() {
                    let x = seeds.map { $0[metric]![k] }
                    let mean = (x[0] + x[1] + x[2]) / 3
                    let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
                    let ci = SweepTests.t2 * sd / 3.0.squareRoot()
                    XCTAssertEqual(
                        Double(f[5 + 3 * c])!, mean, accuracy: 1e-14 * abs(mean), "\(variant) \(step) \(metric) mean")
                    XCTAssertEqual(Double(f[6 + 3 * c])!, sd, accuracy: 1e-12 * sd, "\(variant) \(step) \(metric) sd")
                    XCTAssertEqual(Double(f[7 + 3 * c])!, ci, accuracy: 1e-12 * ci, "\(variant) \(step) \(metric) ci95")
                    XCTAssertGreaterThan(sd, 0)
                }
            }
        }
    }

    func testOneSeedLeavesSdAndIntervalEmptyAndTwoKeysMakeAProduct() throws {
        let out = path("one")
        let r = try sweep(
            out, ["--set", "steps=10"], vary: ["step-size=0.25,0.1", "population.count=20,30"], seeds: "4")
        XCTAssertEqual(r.code, 0, r.stderr)
        let table = try csv(out + "/sweep.csv")
        XCTAssertEqual(Array(table[0][0..<4]), ["variant", "step-size", "population.count", "seed"])
        XCTAssertEqual(
            table.dropFirst().map { Array($0[0..<4]) },
            [
                ["step-size=0.25,population.count=20", "0.25", "20", "4"],
                ["step-size=0.25,population.count=30", "0.25", "30", "4"],
                ["step-size=0.1,population.count=20", "0.1", "20", "4"],
                ["step-size=0.1,population.count=30", "0.1", "30", "4"],
            ])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: out + "/step-size=0.1,population.count=20/seed-4/run.json"))
        for f in try csv(out + "/summary.csv").dropFirst() {
            XCTAssertEqual(f[5], "1", "n = 1")
            XCTAssertFalse(f[6].isEmpty, "the mean")
            XCTAssertEqual(Array(f[7...8]), ["", ""], "no sd or interval from one seed")
        }
        XCTAssertTrue(r.stdout.contains("(1 seed)"), r.stdout)
    }

    // MARK: resuming

    func testRerunSkipsCompleteRunsAndRedoesTheOthers() throws {
        let out = path("sw")
        XCTAssertEqual(try sweep(out).code, 0)
        let sweepBefore = try withoutWall(out + "/sweep.csv")
        let summaryBefore = try read(URL(fileURLWithPath: out + "/summary.csv"))
        // Unchanged: nothing in them may be written again.
        func stamps(_ run: String) throws -> [String: Date] {
            var s: [String: Date] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: run) {
                s[name] = try FileManager.default.attributesOfItem(atPath: run + "/" + name)[.modificationDate] as? Date
            }
            return s
        }
        let untouched = ["step-size=0.25/seed-1", "step-size=0.25/seed-2", "step-size=0.1/seed-1"].map {
            out + "/" + $0
        }
        let before = try untouched.map(stamps)
        Thread.sleep(forTimeInterval: 0.05)

        // One run without its run.json, one that says it is still running, one holding a run of
        // another seed (another scenario: replaced).
        try FileManager.default.removeItem(atPath: out + "/step-size=0.1/seed-2/run.json")
        let running = out + "/step-size=0.25/seed-3/run.json"
        try read(URL(fileURLWithPath: running)).replacingOccurrences(
            of: "\"status\" : \"completed\"", with: "\"status\" : \"running\""
        )
        .write(toFile: running, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runJSON(out + "/step-size=0.25/seed-3")["status"] as? String, "running")
        try FileManager.default.removeItem(atPath: out + "/step-size=0.1/seed-3")
        try FileManager.default.copyItem(atPath: out + "/step-size=0.1/seed-1", toPath: out + "/step-size=0.1/seed-3")

        let r = try sweep(out)
        XCTAssertEqual(r.code, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasSuffix(": completed earlier, skipped") }.count, 3, r.stdout)
        XCTAssertTrue(lines.contains { $0.contains("step-size=0.1 seed 2: resumed from step 40, completed") }, r.stdout)
        XCTAssertTrue(
            lines.contains { $0.contains("step-size=0.25 seed 3: resumed from step 40, completed") }, r.stdout)
        XCTAssertTrue(
            lines.contains { $0.contains("step-size=0.1 seed 3: replaced (a run of another scenario), completed") },
            r.stdout)
        XCTAssertEqual(try untouched.map(stamps), before, "complete runs are not written again")
        XCTAssertEqual(try runJSON(out + "/step-size=0.1/seed-3")["seed"] as? Int, 3)
        XCTAssertEqual(try withoutWall(out + "/sweep.csv"), sweepBefore)
        XCTAssertEqual(try read(URL(fileURLWithPath: out + "/summary.csv")), summaryBefore)
    }

    func testStoppedSweepFinishesOnRerunWithTheSameTables() throws {
        // Runs of about a second each; SIGTERM lands in the middle of the first, once it has
        // written its first checkpoint (step 100 of 2000).
        let long = [
            "--set", "steps=2000", "--set", "population.count=300", "--set", "record-every=250", "--set",
            "checkpoint-every=100",
        ]
        let reference = path("reference")
        let out = path("stopped")
        XCTAssertEqual(try sweep(reference, long, vary: ["step-size=0.25"], seeds: "1..2").code, 0)
        let firstCheckpoint = out + "/step-size=0.25/seed-1/checkpoint.wgf"
        let stopped = try sweep(
            out, long, vary: ["step-size=0.25"], seeds: "1..2",
            interruptWhen: { FileManager.default.fileExists(atPath: firstCheckpoint) }, signal: SIGTERM)
        XCTAssertEqual(stopped.code, 128 + SIGTERM, stopped.stdout + stopped.stderr)
        // The running child got the signal and stopped with a checkpoint; the next never started.
        XCTAssertEqual(
            try csv(out + "/sweep.csv").dropFirst().map { [$0[3], $0[4]] }, [["interrupted", "143"], ["missing", ""]])
        XCTAssertTrue(stopped.stdout.contains("seed 2: not started (the sweep was stopped)"), stopped.stdout)
        let r = try sweep(out, long, vary: ["step-size=0.25"], seeds: "1..2")
        XCTAssertEqual(r.code, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("step-size=0.25 seed 1: resumed from step"), r.stdout)
        XCTAssertEqual(try withoutWall(out + "/sweep.csv"), try withoutWall(reference + "/sweep.csv"))
        XCTAssertEqual(
            try read(URL(fileURLWithPath: out + "/summary.csv")),
            try read(URL(fileURLWithPath: reference + "/summary.csv")))
    }

    func testTablesDoNotDependOnJobs() throws {
        let one = path("j1")
        let two = path("j2")
        let a = try sweep(one, ["--jobs", "1"])
        let b = try sweep(two, ["--jobs", "2"])
        XCTAssertEqual(a.code, 0, a.stderr)
        XCTAssertEqual(b.code, 0, b.stderr)
        XCTAssertTrue(b.stdout.contains("2 at a time, 1 thread each"), b.stdout)
        XCTAssertEqual(try withoutWall(one + "/sweep.csv"), try withoutWall(two + "/sweep.csv"))
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: one + "/summary.csv")),
            try Data(contentsOf: URL(fileURLWithPath: two + "/summary.csv")))
        // The final table too (it follows the per-run lines, whose order may differ).
        func finalTable(_ s: String) -> [Substring] {
            Array(s.split(separator: "\n").drop { !$0.hasPrefix("variant") }.dropLast())
        }
        XCTAssertEqual(finalTable(a.stdout), finalTable(b.stdout))
        XCTAssertEqual(finalTable(a.stdout).count, 3)
    }

    /// Under `mpirun -np 2` and `-np 3` the ranks share the runs (i % K == rank) and rank 0
    /// writes the tables: the same sweep.csv (wall aside), summary.csv and final table as one
    /// process; the header and the table are printed once. A rerun on 2 ranks after one run
    /// lost its run.json redoes that run alone and ends with the same tables.
    func testTablesDoNotDependOnRanks() throws {
        let one = path("k1")
        let a = try sweep(one)
        XCTAssertEqual(a.code, 0, a.stderr)
        func finalTable(_ s: String) -> [Substring] {
            Array(s.split(separator: "\n").drop { !$0.hasPrefix("variant") }.dropLast())
        }
        for ranks in [2, 3] {
            let many = path("k\(ranks)")
            let b = try sweep(many, ranks: ranks)
            XCTAssertEqual(b.code, 0, b.stderr)
            XCTAssertEqual(b.stdout.components(separatedBy: "sweep of").count - 1, 1, b.stdout)
            XCTAssertEqual(b.stdout.split(separator: "\n").filter { $0.contains(": completed in") }.count, 6, b.stdout)
            XCTAssertEqual(try withoutWall(one + "/sweep.csv"), try withoutWall(many + "/sweep.csv"))
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: one + "/summary.csv")),
                try Data(contentsOf: URL(fileURLWithPath: many + "/summary.csv")))
            XCTAssertEqual(finalTable(a.stdout), finalTable(b.stdout))
        }
        let lost = path("k2", "step-size=0.1", "seed-2", "run.json")
        try FileManager.default.removeItem(atPath: lost)
        let again = try sweep(path("k2"), ranks: 2)
        XCTAssertEqual(again.code, 0, again.stderr)
        XCTAssertEqual(
            again.stdout.split(separator: "\n").filter { $0.contains("completed in") }.count, 1, again.stdout)
        XCTAssertEqual(again.stdout.split(separator: "\n").filter { $0.contains("skipped") }.count, 5, again.stdout)
        XCTAssertEqual(try withoutWall(one + "/sweep.csv"), try withoutWall(path("k2") + "/sweep.csv"))
    }

    // MARK: refusals and failures

    /// `wgf sweep ... | head` and `wgf run ... | head`: the reader going away must not end the
    /// computation (SIGPIPE would kill it after the first line, with no tables): both finish
    /// with exit 0 and every file.
    func testSweepAndRunFinishWhenTheReaderGoesAway() throws {
        let quick = CLITests.root.appendingPathComponent("scenarios/quickstart.toml").path
        for args in [
            ["sweep", quick, "--vary", "step-size=0.1,0.05", "--seeds", "1..2", "--out", "s", "--set", "steps=30"],
            ["run", quick, "--steps", "30", "--out", "r"],
        ] {
            let pipe = Pipe()
            try pipe.fileHandleForReading.close()
            let p = Process()
            p.executableURL = CLITests.binary
            p.arguments = args
            p.currentDirectoryURL = scratch
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, args[0])
            XCTAssertEqual(p.terminationStatus, 0, args[0])
        }
        let rows = try read(scratch.appendingPathComponent("s/sweep.csv")).split(separator: "\n")
        XCTAssertEqual(rows.count, 5)
        XCTAssertEqual(try runJSON(scratch.appendingPathComponent("r"))["status"] as? String, "completed")
    }

    func testBadVaryIsRefusedBeforeAnyRun() throws {
        let out = path("bad")
        let usage: [([String], String)] = [
            (["step-size"], "--vary step-size: expected KEY=V1,V2,..."),
            (["step-size="], "no values"),
            (["step-size=0.1,,0.2"], "value 2 is empty"),
            (["step-size=0.1", "step-size=0.2"], "the key is varied twice"),
            (["seed=1,2"], "the seeds are given by --seeds"),
            (["step-size=0.1,0.10"], "give the same scenario"),
        ]
        for (vary, message) in usage {
            let r = try sweep(out, vary: vary)
            XCTAssertEqual(r.code, 64, "\(vary): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(vary): \(r.stderr)")
        }
        let set = try sweep(out, ["--set", "step-size=0.3"])
        XCTAssertEqual(set.code, 64, set.stderr)
        XCTAssertTrue(set.stderr.contains("--set step-size=0.3: step-size is also varied"), set.stderr)
        XCTAssertEqual(try sweep(out, seeds: "3..1").code, 64)

        // A bad key or value: exit 3, located, naming the variant (each bad one, only those).
        let key = try sweep(out, vary: ["flow.kernal=imq,laplace"])
        XCTAssertEqual(key.code, 3, key.stderr)
        XCTAssertTrue(
            key.stderr.contains(
                "wgf: variant flow.kernal=imq: --set flow.kernal=imq: flow.kernal: unknown key (did you mean 'kernel'?)"
            ), key.stderr)
        XCTAssertTrue(key.stderr.contains("variant flow.kernal=laplace: "), key.stderr)
        let value = try sweep(out, vary: ["step-size=0.1,-1", "population.count=10,abc"])
        XCTAssertEqual(value.code, 3, value.stderr)
        let lines = value.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, value.stderr)
        XCTAssertEqual(
            lines[0],
            "wgf: variant step-size=0.1,population.count=abc: --set population.count=abc: population.count: expected an integer, found the string \"abc\" (an integer from 1 to 2147483647)"
        )
        XCTAssertTrue(
            lines[1].hasPrefix(
                "variant step-size=-1,population.count=10: --set step-size=-1: step-size: -1 is out of range"), lines[1]
        )
        XCTAssertTrue(lines[2].hasPrefix("variant step-size=-1,population.count=abc: "), lines[2])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written before every variant is valid")

        // A run directory is not a sweep directory.
        let run = path("a-run")
        XCTAssertEqual(try runWGF(["run", scenarioPath, "--out", run], in: scratch).code, 0)
        let into = try sweep(run)
        XCTAssertEqual(into.code, 64, into.stderr)
        XCTAssertTrue(into.stderr.contains("is a run directory, not a sweep's"), into.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/sweep.csv"))
    }

    func testDivergedRunsAreReportedAndNotRedone() throws {
        // Euler–Maruyama on a|x|²/2 with h·a = 10: |1 − ha| = 9, the particles blow up.
        let ou = try writeScenario(
            "ou.toml",
            """
            seed = 1
            steps = 400
            step-size = 0.1
            record-every = 50
            [population]
            count = 20
            dimension = 1
            init = { kind = "gaussian", mean = [1], std = 0.2 }
            [flow]
            kind = "langevin"
            temperature = 0.5
            potential = { kind = "quadratic", a = 2 }
            [record]
            metrics = ["variance"]
            trajectory = false
            """
        ).path
        let out = path("div")
        let r = try sweep(out, vary: ["step-size=0.1,5"], seeds: "1..2", scenario: ou)
        XCTAssertEqual(r.code, 4, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("step-size=5 seed 1: diverged in"), r.stdout)
        XCTAssertTrue(r.stderr.contains("step-size=5 seed 1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("diverged at step"), r.stderr)
        XCTAssertTrue(r.stdout.contains("step-size=5    0/2        2"), r.stdout)
        let table = try csv(out + "/sweep.csv")
        XCTAssertEqual(
            table.dropFirst().map { [$0[3], $0[4]] },
            [["completed", "0"], ["completed", "0"], ["diverged", "4"], ["diverged", "4"]])
        // The summary still has the steps the diverged runs recorded.
        XCTAssertTrue(try csv(out + "/summary.csv").contains { $0[0] == "step-size=5" && $0[2] == "0" && $0[4] == "2" })
        let again = try sweep(out, vary: ["step-size=0.1,5"], seeds: "1..2", scenario: ou)
        XCTAssertEqual(again.code, 4)
        XCTAssertEqual(again.stdout.components(separatedBy: "diverged earlier, skipped").count - 1, 2, again.stdout)
    }

    func testDirectoryThatIsNotARunIsNeverCleared() throws {
        let out = path("foreign")
        let notes = out + "/step-size=0.25/seed-2/notes.txt"
        try FileManager.default.createDirectory(
            atPath: out + "/step-size=0.25/seed-2", withIntermediateDirectories: true)
        try "mine".write(toFile: notes, atomically: true, encoding: .utf8)
        let r = try sweep(out, vary: ["step-size=0.25"])
        XCTAssertEqual(r.code, 64, r.stdout + r.stderr)
        XCTAssertTrue(
            r.stderr.contains("is not a wgf run directory (it holds 'notes.txt'); it is never cleared"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "mine")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: out + "/step-size=0.25/seed-2"), ["notes.txt"])
        XCTAssertEqual(
            try csv(out + "/sweep.csv").dropFirst().map { [$0[3], $0[4]] },
            [["completed", "0"], ["not-a-run", "64"], ["completed", "0"]])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/summary.csv"))
    }

    // MARK: check and compare of a sweep directory

    func testCheckJudgesExpectationsOverSeedsWithTheirFraction() throws {
        // Five seeds' final mean-error at step size 0.25, then a bound that exactly 3 of them meet.
        let probe = path("probe")
        XCTAssertEqual(try sweep(probe, vary: ["step-size=0.25"], seeds: "1..5").code, 0)
        let finals = try csv(probe + "/sweep.csv").dropFirst().map { Double($0[7])! }.sorted()
        XCTAssertEqual(Set(finals).count, 5)
        let bound = (finals[2] + finals[3]) / 2

        let out = path("fraction")
        let r = try sweep(
            out, ["--set", "expect[1].at-most=\(bound)"], vary: ["expect[1].fraction=0.6,0.7,0.8"], seeds: "1..5")
        XCTAssertEqual(r.code, 0, r.stderr)
        let check = try runWGF(["check", out], in: scratch)
        XCTAssertEqual(check.code, 1, check.stdout + check.stderr)
        let lines = check.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines[0].split(separator: " ", omittingEmptySubsequences: true).prefix(3),
            ["variant", "expectation", "seeds"])
        let row60 = try XCTUnwrap(lines.first { $0.hasPrefix("expect[1].fraction=0.6 ") })
        let row70 = try XCTUnwrap(lines.first { $0.hasPrefix("expect[1].fraction=0.7 ") })
        let row80 = try XCTUnwrap(lines.first { $0.hasPrefix("expect[1].fraction=0.8 ") })
        // 3 of 5 seeds: 60 % needs 3 (pass); 70 % needs ⌈3.5⌉ = 4, 80 % needs 4 (fail).
        for (row, required, verdict) in [
            (row60, "60% (3)", "pass"), (row70, "70% (4)", "FAIL"), (row80, "80% (4)", "FAIL"),
        ] {
            XCTAssertTrue(row.contains("1. mean-error ≤ \(formatBound(bound)) by step 40"), row)
            XCTAssertTrue(row.contains("  3/5  "), row)
            XCTAssertTrue(row.contains(required), row)
            XCTAssertTrue(row.hasSuffix(verdict), row)
        }
        XCTAssertEqual(lines.last, "\(out): 1 passed, 2 failed (over seeds, each against its fraction)")
        // A single run's check ignores fraction: seed by seed, the bound alone.
        let passing = try (1...5).filter {
            try runWGF(
                ["check", "\(out)/expect_1_.fraction=0.8_\(hashOf("expect[1].fraction=0.8"))/seed-\($0)"], in: scratch
            ).code == 0
        }
        XCTAssertEqual(passing.count, 3)
        // Every seed holding a looser bound: both pass, exit 0.
        let loose = path("loose")
        XCTAssertEqual(
            try sweep(
                loose, ["--set", "expect[1].at-most=\(finals[4])"], vary: ["expect[1].fraction=0.6,1"], seeds: "1..5"
            ).code, 0)
        let ok = try runWGF(["check", loose], in: scratch)
        XCTAssertEqual(ok.code, 0, ok.stdout)
        XCTAssertTrue(ok.stdout.contains("  5/5  "), ok.stdout)
    }

    func testCompareDrawsEachVariantsMeanWithItsBand() throws {
        let out = path("sw")
        XCTAssertEqual(try sweep(out).code, 0)
        let r = try runWGF(["compare", out, "--metric", "mean-error", "--out", path("figures")], in: scratch)
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(
            lines[0].hasPrefix("metric mean-error over seeds, threshold 5 (expectation of step-size=0.25)"), lines[0])
        // The last record's mean and half-width are summary.csv's.
        let summary = try csv(out + "/summary.csv")
        let last = try XCTUnwrap(summary.last { $0[0] == "step-size=0.25" })
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("step-size=0.25 ") })
        let fields = row.split(separator: " ").map(String.init)
        XCTAssertEqual(fields[1...3], ["3", "40", formatSignificant6(Double(last[8])!)])
        XCTAssertEqual(fields[4], formatSignificant6(Double(last[10])!))
        XCTAssertEqual(fields[5], "30")
        XCTAssertTrue(lines.contains { $0.hasPrefix("step-size=0.1 ") && $0.hasSuffix(" -") }, r.stdout)
        let svg = try read(URL(fileURLWithPath: path("figures", "compare-mean-error.svg")))
        XCTAssertEqual(svg.components(separatedBy: "<g class=\"band\"").count - 1, 2)
        XCTAssertEqual(
            svg.components(separatedBy: "fill-opacity=\"0.18\"").count - 1, 2, "one band polygon per variant")
        XCTAssertTrue(svg.contains("data-variant=\"step-size=0.1\""))
        XCTAssertTrue(svg.contains("class=\"threshold\""))
        // Runs given one by one are still compared as runs.
        let runs = try runWGF(
            ["compare", out + "/step-size=0.25/seed-1", out + "/step-size=0.1/seed-1", "--no-plot"], in: scratch)
        XCTAssertEqual(runs.code, 0, runs.stderr)
        XCTAssertTrue(runs.stdout.contains("rate"), runs.stdout)
    }

    /// What `formatNumber` prints for a bound in an expectation's description (shortest form).
    func formatBound(_ v: Double) -> String { "\(v)" }

    /// Six significant digits, as `formatSignificant` prints (for values in [1e-3, 1e6)).
    func formatSignificant6(_ v: Double) -> String { String(format: "%.6g", v) }

    func hashOf(_ label: String) throws -> String {
        // The directory name's hash: the first 8 hex digits of the label's SHA-256 (sha256sum, independent of wgf).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(label.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix(8))
    }
}
