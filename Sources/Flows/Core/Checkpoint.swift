import KernelSum

/// The parts of a run whose state outlives a step, each under the dotted scenario path it was
/// built from (`flow.optimizer`, `flow.summation`, `flow.interaction[1].summation`); a second
/// part under the same path gets `#2`, `#3`, ... in build order, which the scenario fixes.
public final class PartRegistry {
    /// The parts with their keys, in build order.
    public private(set) var parts: [(key: String, part: any StatefulPart)] = []
    /// An empty registry.
    public init() {}

    /// Enrols `part` under `key`, or `key#2`, `key#3`, ... when the key is taken.
    public func add(_ part: any StatefulPart, key: String) {
        var name = key
        var k = 1
        while parts.contains(where: { $0.key == name }) {
            k += 1
            name = "\(key)#\(k)"
        }
        parts.append((name, part))
    }
}

/// The complete state of a run after `step`: what a resume needs to continue it bit for bit.
/// Randomness is keyed by (seed, purpose, step, particle), so no generator state is kept.
public struct Checkpoint: Sendable, Equatable {
    /// The last step taken.
    public var step: Int
    /// The last step whose record is in the outputs (−1: none).
    public var lastRecordedStep: Int
    /// Every population: positions, weights and velocities.
    public var populations: [Population]
    /// Each stateful part's state, by its key in ``PartRegistry``.
    public var parts: [String: PartState]
    /// How far each output file reached when the checkpoint was taken (bytes for CSV files):
    /// a resume cuts the outputs back to these marks, dropping records past the checkpoint.
    public var outputs: [String: Int]
    /// Seconds spent so far per phase (stepping, metrics, recording) and in all, so that
    /// run.json and the `wall` column continue from them.
    public var timings: RunTimings
    /// The scenario's identity: SHA-256 of the resolved scenario without `steps` (hex).
    public var scenarioIdentity: String

    /// A checkpoint; see the properties.
    public init(
        step: Int, lastRecordedStep: Int, populations: [Population], parts: [String: PartState],
        outputs: [String: Int], timings: RunTimings, scenarioIdentity: String
    ) {
        self.step = step
        self.lastRecordedStep = lastRecordedStep
        self.populations = populations
        self.parts = parts
        self.outputs = outputs
        self.timings = timings
        self.scenarioIdentity = scenarioIdentity
    }
}

/// When a run writes checkpoints, besides the end and every interruption: every `steps`
/// steps (0: never by count) and whenever `seconds` of wall time have passed since the last
/// one (0: never by time).
public struct CheckpointSchedule: Sendable, Equatable {
    /// Every this many steps; 0: never by count.
    public var steps: Int
    /// Whenever this many seconds of wall time have passed since the last one; 0: never by time.
    public var seconds: Double
    /// A schedule; the defaults are ``standard``.
    public init(steps: Int = 0, seconds: Double = 600) {
        self.steps = steps
        self.seconds = seconds
    }
    /// The default: by wall time, every ten minutes.
    public static let standard = CheckpointSchedule()

    func isDue(step: Int, secondsSinceLast: Double) -> Bool {
        (steps > 0 && step % steps == 0) || (seconds > 0 && secondsSinceLast >= seconds)
    }
}
