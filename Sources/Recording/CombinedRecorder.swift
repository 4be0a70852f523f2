import Flows

/// Records to several recorders in turn (e.g. metrics.csv and an H5MD trajectory).
public final class CombinedRecorder: Recorder {
    /// The recorders, called in this order.
    public let parts: [any Recorder]
    /// Records to each of `parts` in turn.
    public init(_ parts: [any Recorder]) { self.parts = parts }

    /// Records the state to every part.
    public func recordState(step: Int, time: Double, state: SimulationState) throws {
        for r in parts { try r.recordState(step: step, time: time, state: state) }
    }

    /// Records the metrics to every part.
    public func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {
        for r in parts { try r.recordMetrics(step: step, time: time, wall: wall, values: values) }
    }

    /// Every part's marks (each names its own files).
    public func synchronize() throws -> [String: Int] {
        var marks: [String: Int] = [:]
        for r in parts { marks.merge(try r.synchronize()) { a, _ in a } }
        return marks
    }
}
