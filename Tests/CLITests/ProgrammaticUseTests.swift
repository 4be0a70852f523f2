import Foundation
import XCTest

/// What programs driving wgf (the Python package) rely on: bundled scenarios by name from any
/// directory, progress as JSON lines, and `check` as CSV or JSON.
final class ProgrammaticUseTests: ScratchTestCase {
    func testBundledScenariosRunByNameFromAnyDirectory() throws {
        let list = try runWGF(["list"], in: scratch)
        let bundled = list.stdout.split(separator: "\n").filter { $0.hasPrefix("scenario ") }
        let files = try FileManager.default.contentsOfDirectory(
            atPath: CLITests.root.appendingPathComponent("scenarios").path
        ).filter { $0.hasSuffix(".toml") }
        XCTAssertEqual(bundled.count, files.count, list.stdout)
        XCTAssertTrue(bundled.contains { $0.contains(" quickstart ") }, list.stdout)

        // From a directory without scenarios/, by name, with and without .toml; an unknown name
        // is a missing file, named as given.
        for name in ["quickstart", "quickstart.toml"] {
            XCTAssertEqual(try runWGF(["validate", name], in: scratch).code, 0, name)
        }
        let run = try runWGF(["run", "--out", "q", "--steps", "3", "--quiet"], in: scratch)
        XCTAssertEqual(run.code, 0, run.stderr)
        XCTAssertEqual(
            try runJSON(scratch.appendingPathComponent("q"))["scenario"].flatMap {
                ($0 as? [String: Any])?["name"] as? String
            }, "quickstart")
        let unknown = try runWGF(["validate", "no-such-scenario"], in: scratch)
        XCTAssertEqual(unknown.code, 3)
        XCTAssertTrue(unknown.stderr.contains("no-such-scenario"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no such file"), unknown.stderr)
    }

    func testProgressAsJSONLines() throws {
        let r = try runWGF([
            "run", "quickstart", "--out", scratch.appendingPathComponent("p").path, "--steps", "40",
            "--progress", "json",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.allSatisfy { $0 != nil }, "every stderr line is a JSON object: \(r.stderr)")
        let last = try XCTUnwrap(lines.last ?? nil)
        XCTAssertEqual(last["step"] as? Int, 40)
        XCTAssertEqual(last["steps"] as? Int, 40)
        // The metric the quickstart's first expectation judges (not the last recorded,
        // sliced-w2), at the last record: metrics.csv's value, every digit.
        XCTAssertEqual(last["metric"] as? String, "ksd")
        // The number as written (JSONSerialization may round it in the last place).
        let written = try XCTUnwrap(r.stderr.split(separator: "\n").last?.split(separator: "\"value\": ").last)
        XCTAssertEqual(
            Double(written.dropLast()), try metricsColumns(scratch.appendingPathComponent("p"))["ksd"]?.last,
            String(written))
        let bad = try runWGF(["run", "quickstart", "--progress", "fancy"])
        XCTAssertEqual(bad.code, 64)
        XCTAssertTrue(
            bad.stderr.contains("--progress fancy: unknown (allowed: auto, bar, log, json, none)"), bad.stderr)
    }

    /// Without a terminal (a notebook's `!wgf run`, nohup, CI), `auto` writes a plain line every
    /// --progress-seconds: step, percentage, elapsed, ETA, the judged metric, the rate.
    func testProgressLogLinesWithoutATerminal() throws {
        let dir = scratch.appendingPathComponent("log")
        let r = try runWGF([
            "run", "quickstart", "--out", dir.path, "--steps", "1500", "--progress-seconds", "0.05",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(lines.count, 1, r.stderr)
        let pattern = try NSRegularExpression(
            pattern:
                #"^quickstart: step (\d+)/1500 \((\d+)%\), [0-9.]+ s, ETA [0-9.:]+( s)?, ksd [0-9.e-]+, [0-9.]+ steps/s$"#
        )
        var previous = 0
        for line in lines {
            let m = try XCTUnwrap(
                pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "log line: \(line)")
            let step = Int(line[Range(m.range(at: 1), in: line)!])!
            XCTAssertEqual(Int(line[Range(m.range(at: 2), in: line)!])!, step * 100 / 1500, line)
            XCTAssertGreaterThan(step, previous)
            previous = step
        }
        XCTAssertFalse(r.stderr.contains("\r"), "no carriage returns in a log")
        XCTAssertTrue(r.stdout.contains(" (stepping "), "the summary splits the time: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains(", metrics "), r.stdout)
        XCTAssertEqual(try runWGF(["run", "quickstart", "--progress-seconds", "0"]).code, 64)
    }

    /// The bar fits the terminal's width (COLUMNS when stderr is no terminal): every redraw
    /// shorter than the width, so nothing wraps.
    func testProgressBarFitsTheWidth() throws {
        for columns in [40, 72, 160] {
            let r = try runWGF(
                [
                    "run", "quickstart", "--out", scratch.appendingPathComponent("bar\(columns)").path,
                    "--steps", "400", "--progress", "bar",
                ],
                environment: ["COLUMNS": "\(columns)"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let draws = r.stderr.split(separator: "\r").map { $0.replacingOccurrences(of: "\u{1B}[K", with: "") }
                .filter { !$0.isEmpty }
            XCTAssertFalse(draws.isEmpty)
            for d in draws {
                XCTAssertLessThan(d.count, columns, "\(columns) columns: \(d)")
                XCTAssertTrue(d.contains("%"), d)
            }
            XCTAssertEqual(draws.last?.contains("100%"), true, draws.last ?? "")
            if columns >= 160 {
                for field in ["quickstart [", "step 400/400", "ETA", "ksd ", "steps/s"] {
                    XCTAssertTrue(draws.last!.contains(field), "\(field) in \(draws.last!)")
                }
            }
        }
    }

    func testCheckAsCSVAndJSON() throws {
        // 30 steps (the expectations' step then defaults to 30): ksd ≤ 0.1 and mean-error ≤ 0.15
        // fail, judged on the record of step 30, every digit.
        let dir = scratch.appendingPathComponent("c")
        XCTAssertEqual(try runWGF(["run", "quickstart", "--out", dir.path, "--steps", "30", "--quiet"]).code, 0)
        let metrics = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let header = metrics.split(separator: "\n")[0].split(separator: ",")
        let lastRow = metrics.split(separator: "\n").last!.split(separator: ",")
        let ksd = Double(lastRow[header.firstIndex(of: "ksd")!])!
        let json = try runWGF(["check", dir.path, "--format", "json"])
        XCTAssertEqual(json.code, 1, "an expectation failed")
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["metric"] as? String }, ["ksd", "mean-error"])
        XCTAssertEqual(rows.map { $0["passed"] as? Bool }, [false, false])
        XCTAssertEqual(rows[0]["bound"] as? String, "at-most")
        XCTAssertEqual(rows[0]["threshold"] as? Double, 0.1)
        XCTAssertEqual(rows[0]["by-step"] as? Int, 30)
        XCTAssertEqual(rows[0]["step"] as? Int, 30)
        XCTAssertEqual(rows[0]["value"] as? Double ?? 0, ksd, accuracy: 4 * ksd.ulp)
        let csv = try runWGF(["check", dir.path, "--format", "csv"])
        XCTAssertEqual(csv.code, 1)
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "metric,bound,threshold,by-step,step,value,passed,detail")
        XCTAssertTrue(lines[1].hasPrefix("ksd,at-most,0.1,30,30,\(ksd.description),false,"), lines[1])

        // A step the run never reached: no record judged (null in JSON, empty in CSV).
        let short = scratch.appendingPathComponent("d")
        let run = try runWGF([
            "run", "quickstart", "--out", short.path, "--steps", "30", "--quiet",
            "--set", "expect=[{metric = \"ksd\", at-most = 100, by-step = 500}]",
        ])
        XCTAssertEqual(run.code, 0, run.stderr)
        let unreached = try runWGF(["check", short.path, "--format", "json"])
        XCTAssertEqual(unreached.code, 1)
        let row = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(unreached.stdout.utf8)) as? [[String: Any]])?.first)
        XCTAssertTrue(row["step"] is NSNull && row["value"] is NSNull, "\(row)")
        XCTAssertEqual(row["detail"] as? String, "the run ended at step 30, before step 500")
        XCTAssertEqual(
            try runWGF(["check", short.path, "--format", "csv"]).stdout.split(separator: "\n").last,
            "ksd,at-most,100.0,500,,,false,\"the run ended at step 30, before step 500\"")
    }
}
