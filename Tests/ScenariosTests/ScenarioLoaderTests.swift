import Flows
import Foundation
import Recording
import Scenarios
import TestSupport
import XCTest

final class ScenarioLoaderTests: XCTestCase {
    func testMinimalScenarioLoads() throws {
        let dir = TempDirectory()
        let path = dir.write("tiny.toml", baseScenario)
        let s = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertEqual(s.name, "tiny")
        XCTAssertEqual(s.path, path)
        XCTAssertEqual(s.seed, 3)
        XCTAssertEqual(s.threads, 1)
        XCTAssertTrue(s.writeTrajectory)
        let sim = s.simulation
        XCTAssertEqual(sim.title, "tiny")
        XCTAssertEqual(sim.steps, 5)
        XCTAssertEqual(sim.stepSize, 0.05)
        XCTAssertEqual(sim.recordEvery, 1)
        XCTAssertEqual(sim.state.populations.count, 1)
        XCTAssertEqual(sim.state.populations[0].name, "particles")
        XCTAssertEqual(sim.state.populations[0].dimension, 2)
        XCTAssertEqual(sim.state.populations[0].count, 20)
        XCTAssertEqual(sim.metricNames, ["ksd", "mean-error"])
        XCTAssertTrue(sim.flow is SteinVariationalGradientDescent)
        XCTAssertEqual(
            sim.expectations,
            [
                Expectation(metric: "ksd", bound: .atMost(10), byStep: 5),
                Expectation(metric: "mean-error", bound: .atLeast(0.001), byStep: 4),
            ])
        // The initial particles follow N((0, 4), 0.5²): their mean is near (0, 4).
        let x = sim.state.populations[0].positions
        let m0 = stride(from: 0, to: x.count, by: 2).map { x[$0] }.reduce(0, +) / 20
        let m1 = stride(from: 1, to: x.count, by: 2).map { x[$0] }.reduce(0, +) / 20
        XCTAssertEqual(m0, 0, accuracy: 0.5)
        XCTAssertEqual(m1, 4, accuracy: 0.5)
        // Same seed, same particles; another seed, others.
        XCTAssertEqual(try ScenarioLoader.load(path: path, threads: 1).simulation.state.populations[0].positions, x)
        XCTAssertNotEqual(
            try ScenarioLoader.load(path: path, overrides: ["seed=4"], threads: 1).simulation.state.populations[0]
                .positions, x)
    }

    func testResolvedTOMLHasEveryDefault() throws {
        let dir = TempDirectory()
        let path = dir.write("tiny.toml", baseScenario)
        // mmd recorded: its defaults appear too.
        let s = try ScenarioLoader.load(
            path: path, overrides: [#"record.metrics=["ksd", "mmd", "mean-error"]"#], threads: 1)
        let r = lines(s.resolvedTOML)
        XCTAssertTrue(r[0].hasPrefix("# tiny: resolved by wgf from \(path)"), r[0])
        for line in [
            #"title = "tiny""#, "seed = 3", "steps = 5", "step-size = 0.05", "record-every = 1",
            "[target]", #"kind = "gaussian-mixture""#, "weights = [0.5, 0.5]", "std = 0.6",
            "[population]", #"name = "particles""#, "count = 20",
            "[population.init]", #"kind = "gaussian""#, "mean = [0, 4]", "std = 0.5",
            "[flow]", #"kind = "svgd""#, #"kernel = "gaussian:sigma=median""#, #"optimizer = "adagrad""#,
            "adagrad-alpha = 0.9", "adagrad-fudge = 1e-06", #"summation = "auto""#, "tolerance = 1e-06",
            "[record]", #"metrics = ["ksd", "mmd", "mean-error"]"#, "trajectory = true",
            "ksd-c = 1.0", "ksd-beta = -0.5", #"mmd-kernel = "gaussian:sigma=1""#, "mmd-samples = 1000",
            "[[expect]]", #"metric = "ksd""#, "at-most = 10", "by-step = 5", "by-step = 4",
        ] {
            XCTAssertTrue(r.contains(line), "missing '\(line)' in\n\(s.resolvedTOML)")
        }
        // The SGD-only flow keys do not appear for SVGD, nor metric keys for unrecorded metrics.
        XCTAssertFalse(s.resolvedTOML.contains("noise"))
        XCTAssertFalse(s.resolvedTOML.contains("target-samples"))
        // Without mmd recorded, no mmd keys.
        let noMMD = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertFalse(noMMD.resolvedTOML.contains("mmd-samples"), noMMD.resolvedTOML)
        // record-every defaults to steps / 100.
        let long = try ScenarioLoader.load(path: path, overrides: ["steps=1000", "population.count=2"], threads: 1)
        XCTAssertEqual(long.simulation.recordEvery, 10)
        XCTAssertTrue(lines(long.resolvedTOML).contains("record-every = 10"))
        XCTAssertTrue(lines(long.resolvedTOML).contains("by-step = 1000"))
    }

    func testResolvedTOMLIsIdempotent() throws {
        let dir = TempDirectory()
        let first = try ScenarioLoader.load(path: dir.write("tiny.toml", baseScenario), threads: 1)
        let again = try ScenarioLoader.load(path: dir.write("resolved.toml", first.resolvedTOML), threads: 1)
        XCTAssertEqual(resolvedBody(again.resolvedTOML), resolvedBody(first.resolvedTOML))
        XCTAssertEqual(again.simulation.state.populations[0].positions, first.simulation.state.populations[0].positions)
        XCTAssertEqual(again.simulation.expectations, first.simulation.expectations)
        XCTAssertEqual(again.simulation.title, first.simulation.title)
        // A second pass changes nothing either.
        let third = try ScenarioLoader.load(path: dir.write("resolved2.toml", again.resolvedTOML), threads: 1)
        XCTAssertEqual(
            third.resolvedTOML.components(separatedBy: "\n").dropFirst(),
            again.resolvedTOML.components(separatedBy: "\n").dropFirst())
    }

    /// A title with line breaks and other control characters (escaped in its TOML string) keeps
    /// the resolved file's header comment one line, so the file reads back with that title.
    func testATitleWithLineBreaksResolvesToAFileThatReadsBack() throws {
        let dir = TempDirectory()
        let awkward = "line one\nline two\r\u{7}\u{2028}end"
        let escaped = #""line one\nline two\r\u0007\u2028end""#
        let first = try ScenarioLoader.load(
            path: dir.write("t.toml", baseScenario), overrides: ["title=" + escaped], threads: 1)
        XCTAssertEqual(first.simulation.title, awkward)
        XCTAssertTrue(first.resolvedTOML.hasPrefix("# line one line two   end: resolved by wgf"), first.resolvedTOML)
        let again = try ScenarioLoader.load(path: dir.write("resolved.toml", first.resolvedTOML), threads: 1)
        XCTAssertEqual(again.simulation.title, awkward)
    }

    func testBundledScenariosResolveIdempotently() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("scenarios").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".toml") }
            .sorted()
        XCTAssertFalse(names.isEmpty)
        let dir = TempDirectory()
        for name in names {
            // Fewer particles keep the test fast; the structure is what matters here.
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            // The mmd metric's samples, where it is recorded (not for every mmd flow).
            let recordsMMD = text.split(separator: "\n").contains {
                $0.hasPrefix("metrics =") && $0.contains("\"mmd\"")
            }
            let overrides = ["population.count=10"] + (recordsMMD ? ["record.mmd-samples=50"] : [])
            let first: LoadedScenario
            do { first = try ScenarioLoader.load(path: folder + "/" + name, overrides: overrides, threads: 1) } catch {
                XCTFail("\(name): \(error)")
                continue
            }
            let again = try ScenarioLoader.load(path: dir.write(name, first.resolvedTOML), threads: 1)
            XCTAssertEqual(resolvedBody(again.resolvedTOML), resolvedBody(first.resolvedTOML), name)
            XCTAssertEqual(
                again.simulation.state.populations[0].positions, first.simulation.state.populations[0].positions, name)
        }
    }

    func testRunsAndIsJudged() throws {
        let dir = TempDirectory()
        let s = try ScenarioLoader.load(path: dir.write("tiny.toml", baseScenario), threads: 1)
        let out = dir.path + "/run"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let recorder = try RunRecorder(directory: out, dimension: 2, metricNames: s.simulation.metricNames)
        let summary = try s.simulation.run(recorder: recorder)
        XCTAssertEqual(summary.end, .completed)
        let metrics = try NumericTable.read(path: out + "/metrics.csv")
        XCTAssertEqual(metrics.header, ["step", "time", "wall", "ksd", "mean-error"])
        XCTAssertEqual(metrics.column("step"), [0, 1, 2, 3, 4, 5])
        let verdicts = judge(s.simulation.expectations, metrics: metrics)
        XCTAssertEqual(verdicts.count, 2)
        XCTAssertTrue(verdicts[0].passed, verdicts[0].line)  // ksd ≤ 10: loose
        XCTAssertTrue(verdicts[1].passed, verdicts[1].line)  // mean-error ≥ 0.001: the blob starts far off
    }

    func testExpectationsWithoutBuilding() throws {
        let dir = TempDirectory()
        let expected = [
            Expectation(metric: "ksd", bound: .atMost(10), byStep: 5),
            Expectation(metric: "mean-error", bound: .atLeast(0.001), byStep: 4),
        ]
        XCTAssertEqual(try ScenarioLoader.expectations(path: dir.write("a.toml", baseScenario)), expected)
        // The rest of the scenario is not read: an unknown target kind does not matter.
        let broken = edit(baseScenario, #"kind = "gaussian-mixture""#, #"kind = "cauchy""#)
        XCTAssertEqual(try ScenarioLoader.expectations(path: dir.write("b.toml", broken)), expected)
        // No expectations, no record table.
        XCTAssertEqual(try ScenarioLoader.expectations(path: dir.write("c.toml", "steps = 3\n")), [])
        // Its errors are located as the loader's.
        let noSteps = dir.write("d.toml", edit(baseScenario, "steps = 5\n", ""))
        XCTAssertThrowsError(try ScenarioLoader.expectations(path: noSteps)) { e in
            XCTAssertEqual("\(e)", "\(noSteps):1: steps: missing (required: an integer ≥ 0)")
        }
        let notRecorded = dir.write("e.toml", edit(baseScenario, #"metric = "ksd""#, #"metric = "energy""#))
        XCTAssertThrowsError(try ScenarioLoader.expectations(path: notRecorded)) { e in
            XCTAssertEqual(
                "\(e)",
                "\(notRecorded):23: expect[1].metric: \"energy\" is not recorded (add it to record.metrics; recorded: ksd, mean-error)"
            )
        }
        let syntax = dir.write("f.toml", "steps = 3\nx = 'a\n")
        XCTAssertThrowsError(try ScenarioLoader.expectations(path: syntax)) { e in
            XCTAssertEqual("\(e)", "\(syntax):2:7: unterminated string: expected '")
        }
    }

    func testIntegerAcceptedWhereARealIsExpected() throws {
        let dir = TempDirectory()
        let s = try ScenarioLoader.load(
            path: dir.write("s.toml", edit(baseScenario, "step-size = 0.05", "step-size = 1")), threads: 1)
        XCTAssertEqual(s.simulation.stepSize, 1.0)
        XCTAssertTrue(lines(s.resolvedTOML).contains("step-size = 1"), s.resolvedTOML)
    }

    func testFilesAreRelativeToTheScenario() throws {
        let dir = TempDirectory()
        dir.write("sub/data/target.csv", "x1,x2\n0,0\n1,0\n0,1\n1,1\n")
        dir.write("init.csv", "x1,x2\n5,5\n6,5\n5,6\n")
        let text = """
            steps = 2
            step-size = 0.1

            [target]
            kind = "samples"
            file = "data/target.csv"

            [population]
            init = { kind = "file", file = "../init.csv" }

            [flow]
            kind = "mmd"

            [record]
            metrics = ["mean-error", "energy", "mmd"]
            """
        let path = dir.write("sub/scenario.toml", text)
        let s = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertEqual(s.simulation.state.populations[0].count, 3)  // count from the file
        XCTAssertEqual(s.simulation.state.populations[0].positions, [5, 5, 6, 5, 5, 6])
        let r = lines(s.resolvedTOML)
        XCTAssertTrue(r.contains("count = 3"), s.resolvedTOML)
        XCTAssertTrue(r.contains("file = \"\(dir.path)/sub/data/target.csv\""), s.resolvedTOML)
        XCTAssertTrue(r.contains("file = \"\(dir.path)/init.csv\""), s.resolvedTOML)
        XCTAssertTrue(r.contains("target-samples = 4"), s.resolvedTOML)  // the file's rows
        XCTAssertTrue(r.contains("mmd-samples = 4"), s.resolvedTOML)
        XCTAssertTrue(r.contains(#"optimizer = "sgd""#), s.resolvedTOML)
        // The resolved file (absolute paths) loads from anywhere.
        let again = try ScenarioLoader.load(path: dir.write("elsewhere/resolved.toml", s.resolvedTOML), threads: 1)
        XCTAssertEqual(resolvedBody(again.resolvedTOML), resolvedBody(s.resolvedTOML))
        // A count that agrees with the file is accepted.
        XCTAssertNoThrow(try ScenarioLoader.load(path: path, overrides: ["population.count=3"], threads: 1))
    }

    func testRecordTableIsOptional() throws {
        let dir = TempDirectory()
        var text = baseScenario
        text = edit(text, "[record]\nmetrics = [\"ksd\", \"mean-error\"]\n", "")
        text = String(text[..<text.range(of: "[[expect]]")!.lowerBound])
        let s = try ScenarioLoader.load(path: dir.write("s.toml", text), threads: 1)
        XCTAssertEqual(s.simulation.metricNames, [])
        XCTAssertEqual(s.simulation.expectations, [])
        XCTAssertTrue(lines(s.resolvedTOML).contains("[record]"), s.resolvedTOML)
        XCTAssertTrue(lines(s.resolvedTOML).contains("metrics = []"), s.resolvedTOML)
        let off = try ScenarioLoader.load(
            path: dir.write("t.toml", text + "[record]\ntrajectory = false\n"), threads: 1)
        XCTAssertFalse(off.writeTrajectory)
    }
}

final class ScenarioTOMLEquivalenceTests: XCTestCase {
    /// `expect = [{...}, {...}]` is the same TOML as two `[[expect]]` tables.
    func testArrayOfInlineTablesEqualsArrayOfTables() throws {
        let dir = TempDirectory()
        let head = String(baseScenario[..<baseScenario.range(of: "[[expect]]")!.lowerBound])
        let inline = head.replacingOccurrences(
            of: "[target]",
            with: """
                expect = [
                  { metric = "ksd", at-most = 10 },
                  { metric = "mean-error", at-least = 0.001, by-step = 4 },
                ]

                [target]
                """)
        let a = try ScenarioLoader.load(path: dir.write("a.toml", baseScenario), threads: 1)
        let b: LoadedScenario
        do { b = try ScenarioLoader.load(path: dir.write("b.toml", inline), threads: 1) } catch {
            return XCTFail("an array of inline tables must be accepted for [[expect]]: \(error)")
        }
        XCTAssertEqual(b.simulation.expectations, a.simulation.expectations)
    }
}
