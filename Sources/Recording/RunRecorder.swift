import Flows
import Foundation

/// Streams a run to `trajectory.csv` and `metrics.csv` in a directory, flushing every record.
///
/// - trajectory.csv: `step,time,population,particle,weight,x1,...,xd`, one row per particle per record;
/// - metrics.csv: `step,time,wall,<metric>,...`, one row per record; `wall` is seconds since the start.
public final class RunRecorder: Recorder {
    let trajectory: LineWriter?
    let metrics: LineWriter
    /// Columns x1..xd: the largest dimension of the populations (a smaller one leaves its extra cells empty).
    let dimension: Int

    /// Creates (or, resuming, reopens) the files and writes their header lines.
    ///
    /// - Parameters:
    ///   - directory: The run directory.
    ///   - dimension: The number of x columns: the largest population dimension.
    ///   - metricNames: The metric columns after `step,time,wall`, in order.
    ///   - writeTrajectory: False writes metrics.csv only.
    ///   - velocities: The state carries velocities (underdamped Langevin), written as columns
    ///     v1..vd after x1..xd.
    ///   - marks: The output marks of a checkpoint (``synchronize()``): the files are cut back
    ///     to them and continued; nil starts new files.
    /// - Throws: ``IOFailure`` when a file cannot be opened, written or cut back.
    public init(
        directory: String, dimension: Int, metricNames: [String], writeTrajectory: Bool = true,
        velocities: Bool = false, resuming marks: [String: Int]? = nil
    ) throws {
        self.dimension = dimension
        func open(_ name: String, header: [String]) throws -> LineWriter {
            let path = directory + "/" + name
            guard let marks else {
                let w = try LineWriter(path: path)
                w.write(header.joined(separator: ",") + "\n")
                try w.flush()
                return w
            }
            guard let keep = marks[name] else { throw IOFailure(path: path, .noCheckpointMark) }
            return try LineWriter(path: path, keepingFirst: keep)
        }
        trajectory =
            writeTrajectory
            ? try open(
                RunRecorder.trajectoryFile,
                header: ["step", "time", "population", "particle", "weight"]
                    + (1...dimension).map { "x\($0)" } + (velocities ? (1...dimension).map { "v\($0)" } : []))
            : nil
        metrics = try open(RunRecorder.metricsFile, header: ["step", "time", "wall"] + metricNames)
    }

    /// The file names in the run directory.
    public static let trajectoryFile = "trajectory.csv", metricsFile = "metrics.csv"

    /// Flushes and fsyncs both files; the marks are their sizes in bytes, by file name.
    public func synchronize() throws -> [String: Int] {
        var marks: [String: Int] = [:]
        if let t = trajectory {
            try t.synchronize()
            marks[RunRecorder.trajectoryFile] = t.size
        }
        try metrics.synchronize()
        marks[RunRecorder.metricsFile] = metrics.size
        return marks
    }

    /// Writes one trajectory row per particle of every population (nothing without a trajectory).
    public func recordState(step: Int, time: Double, state: SimulationState) throws {
        guard let t = trajectory else { return }
        let prefix = "\(step),\(time),"
        for p in state.populations {
            let d = p.dimension
            for i in 0..<p.count {
                t.write(prefix)
                t.write(p.name)
                t.write(",\(i),")
                t.write(p.weights[i])
                for a in 0..<d {
                    t.write(",")
                    t.write(p.positions[i * d + a])
                }
                for _ in d..<max(d, dimension) { t.write(",") }
                if let v = p.velocities {
                    for a in 0..<d {
                        t.write(",")
                        t.write(v[i * d + a])
                    }
                }
                t.write("\n")
                try t.flushIfFull()
            }
        }
        try t.flush()
    }

    /// Writes one metrics.csv row: step, time, wall seconds, then `values` in the header's order.
    public func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {
        metrics.write("\(step),\(time),\(wall)")
        for v in values {
            metrics.write(",")
            metrics.write(v)
        }
        metrics.write("\n")
        try metrics.flush()
    }
}
