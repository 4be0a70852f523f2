import ArgumentParser
import Flows
import Foundation
import Plotting
import Recording
import Sweeps

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the convergence of runs on one metric: a table on stdout and an overlay SVG.",
        discussion: """
            For each run: its flow, N, steps, the final and best value of the metric, the step and time \
            at which it first reached the threshold (value ≤ X), the fitted rate and the wall time. The \
            fitted rate is the least-squares slope of ln(metric) against step over the converging phase: \
            from the first record to the first record within 10% of the run's best value (value ≤ 1.1 × \
            best); records with a value ≤ 0 are left out. A negative rate means the metric decays like \
            exp(rate · step). Without --threshold, the first run's at-most expectation on the metric is \
            used, if it has one. Exit 3 if a run lacks the metric.
            """)

    @Argument(help: "Run directories written by `wgf run`.")
    var runDirectories: [String]

    @Option(help: "The metric (default: the first metric of the first run).")
    var metric: String?

    @Option(help: "Threshold X: report when the metric first is ≤ X.")
    var threshold: Double?

    @Option(
        name: [.short, .long],
        help:
            "Directory of the overlay SVG compare-<metric>.svg (default: the directory holding the first run, or the sweep)."
    )
    var out: String?

    @Option(help: "Output format on stdout: table, csv or json.")
    var format: String = "table"

    @Flag(help: "Do not write the overlay figure.")
    var noPlot = false

    @Option(help: "The overlay's file format: svg, pdf (vector, for papers) or png.")
    var plotFormat: String = "svg"

    func run() throws {
        guard FigureFormat(rawValue: plotFormat) != nil else {
            throw fail("--plot-format \(plotFormat): expected svg, pdf or png", code: Exit.badInput)
        }
        if runDirectories.count == 1, SweepDirectory.isSweep(runDirectories[0]) {
            return try compareSweep(runDirectories[0])
        }
        guard ["table", "csv", "json"].contains(format) else {
            throw fail("--format \(format): unknown (allowed: table, csv, json)", code: Exit.badInput)
        }
        if let threshold, !threshold.isFinite {
            throw fail("--threshold: must be a finite number", code: Exit.badInput)
        }
        let runs = try runDirectories.map { try LoadedRun.load($0, needTrajectory: false) }
        guard let metric = metric ?? runs.first?.metrics.metrics.first?.name else {
            throw fail("\(runDirectories[0]): metrics.csv records no metric", code: Exit.badInput)
        }
        for r in runs where r.metrics.values(metric) == nil {
            throw fail(
                "\(r.directory): metrics.csv has no column '\(metric)' (recorded: \(r.metrics.metrics.map(\.name).joined(separator: ", ")))",
                code: Exit.badInput)
        }
        var thresholdSource = threshold == nil ? "" : "--threshold"
        let thr =
            threshold
            ?? runs.first?.context.thresholds.first { $0.metric == metric && $0.atMost }.map { t in
                thresholdSource = "expectation of \(runs[0].directory)"
                return t.value
            }
        var labels = runs.map { ($0.directory as NSString).lastPathComponent }
        if Set(labels).count < labels.count { labels = runs.map(\.directory) }

        struct Row {
            var label: String
            var flow: String
            var n: Int?
            var steps: Int
            var s: ConvergenceSummary
            var wall: Double?
        }
        let rows: [Row] = zip(runs, labels).map { r, label in
            let values = r.metrics.values(metric)!
            let s = ConvergenceSummary(steps: r.metrics.steps, times: r.metrics.times, values: values, threshold: thr)
            let n = (r.info["particles"] as? [[String: Any]])?.compactMap { $0["count"] as? Int }.reduce(0, +)
            let steps = (r.info["steps-taken"] as? Int) ?? r.metrics.steps.last.flatMap { Int(exactly: $0) } ?? 0
            let wall =
                ((r.info["seconds"] as? [String: Any])?["total"] as? Double)
                ?? r.metrics.walls.last.flatMap { $0.isFinite ? $0 : nil }
            return Row(label: label, flow: r.flowKind ?? "?", n: n, steps: steps, s: s, wall: wall)
        }
        let header = [
            "run", "flow", "N", "steps", "final", "best", "step-to-threshold", "time-to-threshold", "rate",
            "rate-per-time", "wall",
        ]
        let cells: [[TableCell]] = rows.map { r in
            [
                .text(r.label), .text(r.flow), .integer(r.n), .integer(r.steps), .number(r.s.final),
                .number(r.s.best), .integer(r.s.reachedStep), .number(r.s.reachedTime), .number(r.s.rate),
                .number(r.s.ratePerTime), .number(r.wall),
            ]
        }
        switch format {
        case "csv": printCSV(header: header, rows: cells)
        case "json":
            let objects: [[String: Any]] = rows.map { r in
                var o: [String: Any] = [
                    "run": r.label, "flow": r.flow, "steps": r.steps, "metric": metric,
                    "final": r.s.final, "best": r.s.best, "best-step": r.s.bestStep,
                ]
                o["N"] = r.n ?? NSNull()
                o["threshold"] = thr ?? NSNull()
                o["step-to-threshold"] = r.s.reachedStep ?? NSNull()
                o["time-to-threshold"] = r.s.reachedTime ?? NSNull()
                o["rate"] = r.s.rate ?? NSNull()
                o["rate-per-time"] = r.s.ratePerTime ?? NSNull()
                o["rate-window"] = r.s.rateWindow.map { [$0.from, $0.through] } ?? NSNull()
                o["wall"] = r.wall ?? NSNull()
                return o
            }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        default:
            print(
                "metric \(metric)"
                    + (thr.map {
                        ", threshold \(formatSignificant($0))"
                            + (thresholdSource.isEmpty ? "" : " (\(thresholdSource))")
                    } ?? ", no threshold")
                    + "; rate = slope of ln(\(metric)) per step (rate-per-time: per unit of simulated time) until within 10% of the best"
            )
            printColumns(header: header, rows: cells.map { $0.map(\.shown) }, leftAligned: 2)
        }
        if !noPlot {
            let out = out ?? Compare.folderHolding(runDirectories)
            try makeDirectory(out)
            let title = runs.count == 2 ? "\(labels[0]) vs \(labels[1])" : "\(runs.count) runs compared"
            let svg = compareOverlay(
                title: title, metric: metric,
                runs: zip(runs, labels).map { ($1, $0.metrics.steps, $0.metrics.values(metric)!) }, threshold: thr)
            try writeOverlay(svg, to: out, metric: metric)
        }
    }
}

extension Compare {
    /// Writes the overlay `compare-<metric>.<format>` into `directory`: a failed write is an
    /// I/O failure (exit 5).
    func writeOverlay(_ figure: Figure, to directory: String, metric: String) throws {
        let format = FigureFormat(rawValue: plotFormat) ?? .svg
        let path = (directory as NSString).appendingPathComponent("compare-\(metric).\(format.rawValue)")
        do { try figure.write(to: path, format: format) } catch {
            throw fail("\(error)", code: Exit.ioFailure)
        }
        printError("wrote \(path)")
    }

    /// Where the overlay goes by default: the directory holding the first run (`runs/` for
    /// `runs/a runs/b`), as given; never a run directory itself, whose files `--force` owns.
    static func folderHolding(_ runs: [String]) -> String {
        let trimmed = runs[0].hasSuffix("/") && runs[0].count > 1 ? String(runs[0].dropLast()) : runs[0]
        let parent = (trimmed as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
