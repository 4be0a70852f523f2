import ArgumentParser
import Flows
import Foundation
import Plotting
import Scenarios
import Sweeps

extension Compare {
    /// `wgf compare SWEEP_DIR`: per variant, the metric's mean over seeds at the last step with
    /// its 95 % confidence half-width, and when the mean first reached the threshold; the
    /// figure `compare-<metric>.svg` draws each variant's mean with its band.
    func compareSweep(_ directory: String) throws {
        let sweep: SweepDirectory
        do { sweep = try SweepDirectory.read(directory) } catch { throw Sweep.failure(error) }
        guard let metric = metric ?? sweep.metrics.first else {
            throw fail("\(directory)/\(SweepTables.summaryFile) records no metric", code: Exit.badInput)
        }
        guard let bands = sweep.bands(metric) else {
            throw fail(
                "\(directory)/\(SweepTables.summaryFile) has no metric '\(metric)' (recorded: \(sweep.metrics.joined(separator: ", ")))",
                code: Exit.badInput)
        }
        var thresholdSource = threshold == nil ? "" : "--threshold"
        var thr = threshold
        if thr == nil, let first = sweep.runs.first,
            let e = (try? ScenarioLoader.expectations(path: sweep.runDirectory(first) + "/scenario.toml"))?
                .first(where: { if case .atMost = $0.bound { return $0.metric == metric } else { return false } }),
            case .atMost(let t) = e.bound
        {
            thr = t
            thresholdSource = "expectation of \(first.variant)"
        }
        let header = ["variant", "seeds", "last-step", "mean", "ci95", "step-to-threshold"]
        let cells: [[TableCell]] = bands.map { b in
            let reached = thr.flatMap { t in b.means.indices.first { b.means[$0] <= t }.map { Int(b.steps[$0]) } }
            return [
                .text(b.variant), .integer(b.counts.last), .integer(b.steps.last.map { Int($0) }),
                .number(b.means.last), .number(b.halfWidths.last ?? nil), .integer(reached),
            ]
        }
        switch format {
        case "csv": printCSV(header: header, rows: cells)
        case "json":
            let objects: [[String: Any]] = bands.map { b in
                [
                    "variant": b.variant, "metric": metric, "seeds": b.counts.last ?? 0,
                    "last-step": b.steps.last ?? NSNull(), "mean": b.means.last ?? NSNull(),
                    "ci95": (b.halfWidths.last ?? nil) ?? NSNull(), "threshold": thr ?? NSNull(),
                    "step-to-threshold": thr.flatMap { t in
                        b.means.indices.first { b.means[$0] <= t }.map { Int(b.steps[$0]) }
                    } ?? NSNull(),
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        default:
            print(
                "metric \(metric) over seeds"
                    + (thr.map {
                        ", threshold \(formatSignificant($0))"
                            + (thresholdSource.isEmpty ? "" : " (\(thresholdSource))")
                    } ?? ", no threshold")
                    + "; mean and 95% confidence half-width at the last step; step-to-threshold: first step with mean ≤ threshold"
            )
            printColumns(header: header, rows: cells.map { $0.map(\.shown) }, leftAligned: 1)
        }
        if !noPlot {
            let out = out ?? Compare.folderHolding([directory])
            try makeDirectory(out)
            let seeds = Set(sweep.runs.map(\.seed)).count
            let svg = bandOverlay(
                title:
                    "\((directory as NSString).lastPathComponent): \(bands.count) variant\(bands.count == 1 ? "" : "s")",
                metric: metric,
                subtitle:
                    "\(metric) against step: mean over \(seeds) seed\(seeds == 1 ? "" : "s") with its 95% confidence band",
                series: bands.map {
                    BandSeries(label: $0.variant, steps: $0.steps, values: $0.means, halfWidths: $0.halfWidths)
                },
                threshold: thr)
            try writeOverlay(svg, to: out, metric: metric)
        }
    }
}
