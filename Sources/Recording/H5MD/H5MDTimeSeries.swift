import Foundation

/// An H5MD time-dependent element: a group holding `step` (int64), `time` (float64) and
/// `value` (records × row shape, float64), all three extendible along the records. A record
/// is appended value first, then time, then step (``appendRecord(to:step:time:rows:flush:)``);
/// the record count read back is the least of the three lengths, so a record half written by
/// a killed process is not seen.
final class H5MDTimeSeries {
    let step: HDF5Dataset, time: HDF5Dataset, value: HDF5Dataset
    /// Records present.
    private(set) var records: Int

    private init(step: HDF5Dataset, time: HDF5Dataset, value: HDF5Dataset) throws {
        self.step = step
        self.time = time
        self.value = value
        records = min(try step.shape()[0], try time.shape()[0], try value.shape()[0])
    }

    /// A new, empty element `name` in `parent`, with rows of `rowShape`.
    static func create(in parent: HDF5Group, _ name: String, rowShape: [Int]) throws -> H5MDTimeSeries {
        let g = try parent.createGroup(name)
        // A record per chunk of value; more chunks along the particles only when a record is huge.
        var chunk = [1] + rowShape
        if chunk.count > 1 {
            let perEntry = rowShape.dropFirst().reduce(1, *)
            chunk[1] = max(1, min(rowShape[0], H5MD.maxChunkValues / max(1, perEntry)))
        } else {
            chunk = [H5MD.seriesChunk]
        }
        return try H5MDTimeSeries(
            step: try HDF5Dataset.create(Int64.self, in: g, "step", rowShape: [], chunk: [H5MD.seriesChunk]),
            time: try HDF5Dataset.create(Double.self, in: g, "time", rowShape: [], chunk: [H5MD.seriesChunk]),
            value: try HDF5Dataset.create(Double.self, in: g, "value", rowShape: rowShape, chunk: chunk))
    }

    /// The existing element `name` in `parent`.
    static func open(in parent: HDF5Group, _ name: String) throws -> H5MDTimeSeries {
        let g = try parent.group(name)
        return try H5MDTimeSeries(
            step: try g.dataset("step"), time: try g.dataset("time"), value: try g.dataset("value"))
    }

    /// The shape of one record of `value`.
    func rowShape() throws -> [Int] { Array(try value.shape().dropFirst()) }

    func steps() throws -> [Int] { try step.read(Int64.self, rows: records).map { Int($0) } }
    func times() throws -> [Double] { try time.read(Double.self, rows: records) }

    /// Keeps the records with step ≤ `last` (steps increase along the records) and drops the
    /// rest from all three datasets: what a resume from a checkpoint at step `last` needs.
    /// The kept records are the leading ones whose steps increase: a writer whose flush failed
    /// (a file-size limit, a full disk) may have stored a dataset's new extent without the
    /// record's data, which reads as HDF5's fill value, step 0.
    func truncate(after last: Int) throws {
        let steps = try steps()
        let keep = steps.indices.first { k in steps[k] > last || (k > 0 && steps[k] <= steps[k - 1]) } ?? records
        for d in [step, time, value] { try d.setRows(keep) }
        records = keep
    }

    /// Appends one record to each of `series` (`rows[k]` holding the k-th one's values in C
    /// order) in three phases, each ended by `flush`: every value, then every time, then every
    /// step. A flush writes the datasets' metadata in no promised order, so a process killed
    /// during one may leave some of its datasets extended and others not; the phases keep, on
    /// disk at every moment, value ≥ time ≥ step records in every series: each step listed has
    /// its time and its value, whichever reader counts the records by `step`.
    static func appendRecord(
        to series: [H5MDTimeSeries], step s: Int, time t: Double, rows: [[Double]], flush: () throws -> Void
    ) throws {
        precondition(series.count == rows.count, "one row per series")
        for (e, row) in zip(series, rows) { try row.withUnsafeBufferPointer { try e.value.append(row: e.records, $0) } }
        try flush()
        for e in series { try [t].withUnsafeBufferPointer { try e.time.append(row: e.records, $0) } }
        try flush()
        for e in series { try [Int64(s)].withUnsafeBufferPointer { try e.step.append(row: e.records, $0) } }
        try flush()
        for e in series { e.records += 1 }
    }
}
