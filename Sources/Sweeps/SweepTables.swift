import Flows
import Foundation
import Recording

/// sweep.csv and summary.csv, built from the runs' directories (``RunResult``) only: a
/// sweep resumed any number of times, or run with any number of jobs or ranks, writes the
/// same bytes (the `wall-seconds` column aside).
///
/// sweep.csv, one row per run in plan order:
/// `variant,<varied key>...,seed,status,exit-code,wall-seconds,final:<metric>...,expect<k>:step,expect<k>:time...,directory`
/// (`directory`: the run's directory relative to the sweep's, `<variant directory name>/seed-<seed>`)
///
/// summary.csv, per variant (plan order) and per recorded step (increasing):
/// `variant,<varied key>...,step,time,n,<metric>:mean,<metric>:sd,<metric>:ci95...`, over the
/// n seeds that recorded the step (``SampleStatistics``; sd and ci95 empty when n = 1).
public enum SweepTables {
    /// The per-run table's file name in the sweep directory.
    public static let sweepFile = "sweep.csv"
    /// The per-variant statistics' file name in the sweep directory.
    public static let summaryFile = "summary.csv"

    /// Every metric recorded by some variant, in order of first appearance.
    public static func metricNames(_ validated: [ValidatedRun]) -> [String] {
        var names: [String] = []
        for v in validated { for m in v.metricNames where !names.contains(m) { names.append(m) } }
        return names
    }

    /// sweep.csv's text.
    public static func sweepCSV(_ plan: SweepPlan, _ validated: [ValidatedRun], _ results: [RunResult]) -> String {
        let metrics = metricNames(validated)
        let expectations = validated.map(\.expectations.count).max() ?? 0
        var header = ["variant"] + plan.varies.map(\.key) + ["seed", "status", "exit-code", "wall-seconds"]
        header += metrics.map { "final:\($0)" }
        for k in 1...max(1, expectations) where expectations > 0 { header += ["expect\(k):step", "expect\(k):time"] }
        header.append("directory")
        var text = CSVText.row(header.map(CSVText.field))
        for r in results {
            let variant = plan.variants[r.run.variant]
            var row = [variant.label] + variant.assignments.map(\.value)
            row += [String(r.run.seed), r.status, CSVText.integer(r.exitCode), CSVText.number(r.seconds)]
            row = row.map(CSVText.field)
            row += metrics.map { CSVText.number(r.final($0)) }
            let own = validated[r.run.index].expectations
            for k in 0..<expectations {
                let held = k < own.count ? r.firstHeld(own[k]) : nil
                row += [CSVText.integer(held?.step), CSVText.number(held?.time)]
            }
            row.append(CSVText.field(variant.directoryName + "/seed-\(r.run.seed)"))
            text += CSVText.row(row)
        }
        return text
    }

    /// summary.csv's text.
    public static func summaryCSV(_ plan: SweepPlan, _ validated: [ValidatedRun], _ results: [RunResult]) -> String {
        let metrics = metricNames(validated)
        var header = ["variant"] + plan.varies.map(\.key) + ["step", "time", "n"]
        for m in metrics { header += ["\(m):mean", "\(m):sd", "\(m):ci95"] }
        var text = CSVText.row(header.map(CSVText.field))
        for (k, variant) in plan.variants.enumerated() {
            // The variant's runs with records, in seed order, each with its rows by step.
            let runs: [(columns: [String: [Double]], rowOfStep: [Int: Int])] = results.filter { $0.run.variant == k }
                .compactMap { r in
                    guard let t = r.metrics, let steps = t.column("step") else { return nil }
                    var rowOfStep: [Int: Int] = [:]
                    for (i, s) in steps.enumerated() {
                        if let s = Int(exactly: s), rowOfStep[s] == nil { rowOfStep[s] = i }
                    }
                    var columns: [String: [Double]] = [:]
                    for name in ["time"] + metrics { columns[name] = t.column(name) }
                    return (columns, rowOfStep)
                }
            let prefix = ([variant.label] + variant.assignments.map(\.value)).map(CSVText.field)
            let steps = Set(runs.flatMap(\.rowOfStep.keys)).sorted()
            for step in steps {
                let at = runs.compactMap { r in r.rowOfStep[step].map { (r.columns, $0) } }
                let time = at[0].0["time"]?[at[0].1]
                var row = prefix + [String(step), CSVText.number(time), String(at.count)]
                for m in metrics {
                    let values = at.compactMap { columns, i in columns[m].map { $0[i] } }
                    guard !values.isEmpty else {
                        row += ["", "", ""]
                        continue
                    }
                    let s = SampleStatistics(values)
                    row += [
                        CSVText.number(s.mean), CSVText.number(s.standardDeviation),
                        CSVText.number(s.confidenceHalfWidth),
                    ]
                }
                text += CSVText.row(row)
            }
        }
        return text
    }

    /// Writes both tables into the sweep directory, each atomically (a reader sees the old
    /// file or the new one, whole).
    ///
    /// - Throws: ``SweepError`` (`.io`) naming the file that could not be written.
    public static func write(_ plan: SweepPlan, _ validated: [ValidatedRun], _ results: [RunResult]) throws(SweepError)
    {
        do {
            try FileManager.default.createDirectory(atPath: plan.directory, withIntermediateDirectories: true)
        } catch {
            throw SweepError(.io, "\(plan.directory): cannot create the directory (\(error.localizedDescription))")
        }
        let files = [
            (sweepFile, sweepCSV(plan, validated, results)), (summaryFile, summaryCSV(plan, validated, results)),
        ]
        for (name, text) in files {
            do { try AtomicFile.write(text, to: (plan.directory as NSString).appendingPathComponent(name)) } catch let e
                as IOFailure
            {
                throw SweepError(.io, e.description)
            } catch {
                throw SweepError(.io, "\(plan.directory)/\(name): \(error)")
            }
        }
    }
}
