import Foundation
import Recording

/// A sweep directory read back (``SweepTables``' files): what `wgf compare DIR` and
/// `wgf check DIR` work from.
public struct SweepDirectory {
    /// The directory.
    public let path: String
    /// sweep.csv: one entry per run, in its order.
    public let runs: [Entry]
    /// summary.csv's header and rows.
    let summaryHeader: [String]
    let summaryRows: [[String]]

    /// One run of sweep.csv.
    public struct Entry: Sendable, Equatable {
        /// The variant's label (`key=value,...`).
        public let variant: String
        /// The seed.
        public let seed: Int
        /// Its status (see ``RunResult/status``).
        public let status: String
    }

    /// Whether `path` is a sweep directory: it holds sweep.csv and summary.csv (a run
    /// directory holds run.json instead).
    public static func isSweep(_ path: String) -> Bool {
        let m = FileManager.default
        return m.fileExists(atPath: path + "/" + SweepTables.sweepFile)
            && m.fileExists(atPath: path + "/" + SweepTables.summaryFile)
            && !m.fileExists(atPath: path + "/run.json")
    }

    /// Reads sweep.csv and summary.csv of `path`.
    ///
    /// - Throws: ``SweepError`` (`.badInput`) for a file that cannot be read or is not a sweep's.
    public static func read(_ path: String) throws(SweepError) -> SweepDirectory {
        func table(_ name: String, required: [String]) throws(SweepError) -> (header: [String], rows: [[String]]) {
            let file = path + "/" + name
            let bytes: [UInt8]
            do { bytes = try readInputFile(path: file) } catch { throw SweepError(.badInput, error.description) }
            guard let rows = CSVText.parse(String(decoding: bytes, as: UTF8.self)), let header = rows.first else {
                throw SweepError(.badInput, "\(file): not a CSV file (a malformed quote, or empty)")
            }
            for r in required where !header.contains(r) {
                throw SweepError(.badInput, "\(file): no column '\(r)': not a file written by wgf sweep")
            }
            for (i, row) in rows.enumerated().dropFirst() where row.count != header.count {
                throw SweepError(.badInput, "\(file): row \(i + 1) has \(row.count) fields, the header \(header.count)")
            }
            return (header, Array(rows.dropFirst()))
        }
        let sweep = try table(SweepTables.sweepFile, required: ["variant", "seed", "status"])
        let summary = try table(SweepTables.summaryFile, required: ["variant", "step", "time", "n"])
        let v = sweep.header.firstIndex(of: "variant")!
        let s = sweep.header.firstIndex(of: "seed")!
        let st = sweep.header.firstIndex(of: "status")!
        var runs: [Entry] = []
        for (i, row) in sweep.rows.enumerated() {
            guard let seed = Int(row[s]), seed >= 0 else {
                throw SweepError(
                    .badInput, "\(path)/\(SweepTables.sweepFile): row \(i + 2): seed '\(row[s])' is not a seed")
            }
            runs.append(Entry(variant: row[v], seed: seed, status: row[st]))
        }
        return SweepDirectory(path: path, runs: runs, summaryHeader: summary.header, summaryRows: summary.rows)
    }

    /// The variants' labels, in the sweep's order.
    public var variants: [String] {
        var seen: Set<String> = []
        return runs.map(\.variant).filter { seen.insert($0).inserted }
    }

    /// The run directory of a variant's seed: `DIR/<directory name>/seed-<seed>`.
    public func runDirectory(_ entry: Entry) -> String {
        (path as NSString).appendingPathComponent(Variant.directoryName(for: entry.variant) + "/seed-\(entry.seed)")
    }

    /// The metrics of summary.csv, in its order.
    public var metrics: [String] {
        summaryHeader.compactMap { $0.hasSuffix(":mean") ? String($0.dropLast(5)) : nil }
    }

    /// A variant's statistics of one metric, per recorded step.
    public struct Band: Sendable {
        /// The variant's label.
        public var variant: String
        /// The steps.
        public var steps: [Double] = []
        /// The simulated times of the steps.
        public var times: [Double] = []
        /// n: the seeds that recorded each step.
        public var counts: [Int] = []
        /// The mean over seeds.
        public var means: [Double] = []
        /// The 95 % confidence half-width (nil with one seed).
        public var halfWidths: [Double?] = []
    }

    /// Each variant's ``Band`` of `metric` (those that recorded it), in order; nil when
    /// summary.csv has no such metric.
    public func bands(_ metric: String) -> [Band]? {
        guard let mean = summaryHeader.firstIndex(of: "\(metric):mean"),
            let ci = summaryHeader.firstIndex(of: "\(metric):ci95")
        else { return nil }
        let v = summaryHeader.firstIndex(of: "variant")!
        let st = summaryHeader.firstIndex(of: "step")!
        let t = summaryHeader.firstIndex(of: "time")!
        let n = summaryHeader.firstIndex(of: "n")!
        var bands: [Band] = []
        for row in summaryRows {
            guard let m = Double(row[mean]), let step = Double(row[st]) else { continue }
            if bands.last?.variant != row[v] { bands.append(Band(variant: row[v])) }
            bands[bands.count - 1].steps.append(step)
            bands[bands.count - 1].times.append(Double(row[t]) ?? step)
            bands[bands.count - 1].counts.append(Int(row[n]) ?? 0)
            bands[bands.count - 1].means.append(m)
            bands[bands.count - 1].halfWidths.append(Double(row[ci]))
        }
        return bands
    }
}
