import Foundation
import XCTest

/// The command line on hostile input (issue 12, "found by fuzzing"): each must end in a located
/// error with exit 3, or in correct output, never in a crash; no message prints a file.
final class HostileInputTests: ScratchTestCase {
    @discardableResult
    func wgf(_ args: [String]) throws -> WGFResult { try runWGF(args, in: CLITests.root) }

    func write(_ name: String, _ text: String) throws -> String { try writeScenario(name, text).path }

    /// A Gaussian log-density −(x1² + x2²)/2 written as a sum of `terms` terms.
    func longLogDensity(terms: Int) -> String {
        "-(" + Array(repeating: "x1^2 + x2^2", count: terms).joined(separator: " + ") + ")/\(2 * terms)"
    }

    func scenario(logDensity: String) -> String {
        """
        title = "long formula"
        steps = 4
        step-size = 0.05
        [target]
        kind = "formula"
        dimension = 2
        log-density = "\(logDensity)"
        [population]
        count = 20
        init = { kind = "gaussian", mean = [0, 0], std = 1 }
        [flow]
        kind = "svgd"
        [record]
        metrics = ["ksd"]
        [[expect]]
        metric = "ksd"
        at-most = 100

        """
    }

    func testDeeplyNestedScenarioIsALocatedError() throws {
        let path = try write(
            "deep.toml",
            "title = \"x\"\na = " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "\n"
        )
        let r = try wgf(["validate", path])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertEqual(
            r.stderr,
            "\(path):2:69: nested more than 64 levels deep (arrays, inline tables and dotted keys count); flatten the data\n"
        )
    }

    func testSumWithAnEightThousandTermFormulaKernel() throws {
        let sources = try write("s.csv", "x1,x2\n0,0\n3,4\n")
        let targets = try write("t.csv", "x1,x2\n0,0\n")
        let kernel = "formula:" + Array(repeating: "r", count: 8000).joined(separator: "+")
        let r = try wgf(["sum", "--kernel", kernel, "--sources", sources, "--targets", targets, "--method", "direct"])
        XCTAssertEqual(r.code, 0, String(r.stderr.prefix(500)))
        XCTAssertEqual(r.stdout, "value\n40000.0\n", "k(r) = 8000 r: 8000·0 + 8000·5")
    }

    func testSumWithADeeplyNestedFormulaKernelIsALocatedError() throws {
        let sources = try write("s.csv", "x1\n0\n")
        for inner in [
            String(repeating: "(", count: 10_000) + "r" + String(repeating: ")", count: 10_000),
            String(repeating: "-", count: 10_000) + "r",
        ] {
            let r = try wgf(["sum", "--kernel", "formula:" + inner, "--sources", sources, "--targets", sources])
            XCTAssertEqual(r.code, 3)
            XCTAssertTrue(r.stderr.contains("nested more than 100 levels deep"), String(r.stderr.prefix(300)))
            XCTAssertTrue(r.stderr.contains("(column 101)"), String(r.stderr.prefix(300)))
            XCTAssertLessThan(r.stderr.utf8.count, 600, "a window of the formula, not 20 KB of it")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 3)
            XCTAssertEqual(lines.last?.trimmingCharacters(in: .whitespaces), "^")
        }
    }

    func testRunsWithHugeFormulasAreRunCheckedPlottedAndCompared() throws {
        let path = try write("long.toml", scenario(logDensity: longLogDensity(terms: 8000)))
        let run = scratch.appendingPathComponent("run").path
        let r = try wgf(["run", path, "--out", run])
        XCTAssertEqual(r.code, 0, String(r.stderr.prefix(500)))
        XCTAssertEqual(try wgf(["check", run]).code, 0)
        let plot = try wgf(["plot", run, "--out", scratch.appendingPathComponent("plots").path])
        XCTAssertEqual(plot.code, 0, String(plot.stderr.prefix(500)))
        XCTAssertEqual(try wgf(["compare", run, run, "--out", scratch.path]).code, 0)
        // A resolved scenario edited to hold 10 000 nested parentheses: plot draws without the
        // target and says why in a few lines; check and compare do not need the formula.
        let deep = String(repeating: "(", count: 10_000) + "x1" + String(repeating: ")", count: 10_000)
        try scenario(logDensity: deep).write(toFile: run + "/scenario.toml", atomically: true, encoding: .utf8)
        let p = try wgf(["plot", run, "--out", scratch.appendingPathComponent("plots2").path])
        XCTAssertEqual(p.code, 0, String(p.stderr.prefix(500)))
        XCTAssertLessThan(p.stderr.utf8.count, 2000)
        XCTAssertEqual(try wgf(["check", run]).code, 0)
        XCTAssertEqual(try wgf(["compare", run, "--out", scratch.path]).code, 0)
    }

    func testAFileNamedAsCSVIsNotEchoed() throws {
        setenv("WGF_TEST_SECRET", "correct-horse-battery-staple", 1)
        defer { unsetenv("WGF_TEST_SECRET") }
        let text = scenario(logDensity: "-0.5*norm2(x)")
        for (name, edited) in [
            (
                "init.toml",
                text.replacingOccurrences(
                    of: "init = { kind = \"gaussian\", mean = [0, 0], std = 1 }",
                    with: "init = { kind = \"file\", file = \"/proc/self/environ\" }")
            ),
            (
                "target.toml",
                text.replacingOccurrences(
                    of: "kind = \"formula\"\ndimension = 2\nlog-density = \"-0.5*norm2(x)\"",
                    with: "kind = \"samples\"\nfile = \"/proc/self/environ\"")
            ),
        ] {
            XCTAssertNotEqual(edited, text)
            let r = try wgf(["validate", try write(name, edited)])
            XCTAssertEqual(r.code, 3)
            XCTAssertTrue(r.stderr.contains("/proc/self/environ:1: not a CSV text file"), r.stderr)
            XCTAssertFalse(r.stderr.contains("correct-horse"), r.stderr)
            XCTAssertFalse(r.stderr.contains("PATH="), r.stderr)
        }
        // A text file that is not a CSV: at most a shortened field of it is quoted.
        let secret = try write("secret.txt", "token=" + String(repeating: "s", count: 200) + "\n")
        let r = try wgf(["sum", "--kernel", "gaussian", "--sources", secret, "--targets", secret])
        XCTAssertEqual(r.code, 3)
        XCTAssertEqual(
            r.stderr,
            "wgf: \(secret):1: header 'token=\(String(repeating: "s", count: 34))…' is not x1,...,xd and optionally w\n"
        )
    }

    func testCutRunOutputsAreReadUpToTheLastCompleteRow() throws {
        let run = scratch.appendingPathComponent("cut").path
        XCTAssertEqual(
            try wgf(["run", "scenarios/quickstart.toml", "--out", run, "--steps", "30", "--set", "population.count=50"])
                .code, 0)
        // A run killed while writing: the last row of each file ends inside a number.
        for file in ["metrics.csv", "trajectory.csv"] {
            let path = run + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try String(text.dropLast(4)).write(toFile: path, atomically: true, encoding: .utf8)
        }
        let metricsRows = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n").count
        let warning = "\(run)/metrics.csv: ignoring an incomplete last row (line \(metricsRows))"
        let check = try wgf(["check", run])
        XCTAssertTrue(check.stderr.contains(warning), check.stderr)
        XCTAssertTrue(check.stdout.contains("the run ended at step 20, before step 30"), check.stdout)
        // compare gives what it gives on the same file without the cut row.
        let whole = scratch.appendingPathComponent("whole").path
        try FileManager.default.copyItem(atPath: run, toPath: whole)
        let metrics = try String(contentsOfFile: whole + "/metrics.csv", encoding: .utf8)
        try String(metrics[...metrics.lastIndex(of: "\n")!]).write(
            toFile: whole + "/metrics.csv", atomically: true, encoding: .utf8)
        let compare = try wgf(["compare", run, "--format", "csv", "--no-plot"])
        XCTAssertEqual(compare.code, 0, compare.stderr)
        XCTAssertTrue(compare.stderr.contains(warning), compare.stderr)
        let reference = try wgf(["compare", whole, "--format", "csv", "--no-plot"])
        XCTAssertEqual(reference.stderr, "")
        XCTAssertEqual(compare.stdout.replacingOccurrences(of: "cut,", with: "whole,"), reference.stdout)
        let export = try wgf(["export", run, "--out", scratch.appendingPathComponent("npy").path])
        XCTAssertEqual(export.code, 0, export.stderr)
        XCTAssertTrue(export.stderr.contains("\(run)/trajectory.csv: ignoring an incomplete last row"), export.stderr)
        XCTAssertTrue(
            export.stderr.contains("\(run)/trajectory.csv: ignoring the incomplete last record (step 30)"),
            export.stderr)
        let plot = try wgf(["plot", run, "--out", scratch.appendingPathComponent("plots").path])
        XCTAssertEqual(plot.code, 0, plot.stderr)
        XCTAssertTrue(plot.stderr.contains(warning), plot.stderr)
    }
}
