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

    /// `velocities`: the state carries velocities (underdamped Langevin), written as columns v1..vd after x1..xd.
    public init(directory: String, dimension: Int, metricNames: [String], writeTrajectory: Bool = true,
                velocities: Bool = false) throws {
        self.dimension = dimension
        if writeTrajectory {
            let t = try LineWriter(path: directory + "/trajectory.csv")
            t.write((["step", "time", "population", "particle", "weight"] + (1...dimension).map { "x\($0)" }
                     + (velocities ? (1...dimension).map { "v\($0)" } : []))
                .joined(separator: ",") + "\n")
            try t.flush()
            trajectory = t
        } else {
            trajectory = nil
        }
        metrics = try LineWriter(path: directory + "/metrics.csv")
        metrics.write((["step", "time", "wall"] + metricNames).joined(separator: ",") + "\n")
        try metrics.flush()
    }

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
            }
        }
        try t.flush()
    }

    public func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {
        metrics.write("\(step),\(time),\(wall)")
        for v in values { metrics.write(","); metrics.write(v) }
        metrics.write("\n")
        try metrics.flush()
    }
}
