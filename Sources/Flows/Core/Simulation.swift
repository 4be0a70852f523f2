import Foundation
import KernelSum

/// Receives what a run records. Implementations stream to files and flush every record,
/// so an interrupted run leaves readable output.
public protocol Recorder: AnyObject {
    func recordState(step: Int, time: Double, state: SimulationState) throws
    func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws
}

/// How a run ended.
public enum RunEnd: Sendable, Equatable {
    case completed
    /// Positions or a metric became NaN, infinite or too large at `step`.
    case diverged(step: Int, population: String, cause: String)
    case interrupted(step: Int)
}

/// Where the time of a run went, in seconds.
public struct RunTimings: Sendable {
    public var stepping = 0.0, metrics = 0.0, recording = 0.0, total = 0.0
}

/// What the progress display needs.
public struct RunProgress: Sendable {
    public let step: Int, steps: Int
    public let elapsed: Double
    public let latest: (name: String, value: Double)?
}

public struct RunSummary: Sendable {
    public let end: RunEnd
    public let lastRecordedStep: Int
    public let finalMetrics: [(name: String, value: Double)]
    public let timings: RunTimings
    public let stepsTaken: Int
}

/// A built scenario: state, flow, metrics, and the step loop that ties them together.
public final class Simulation {
    public let title: String
    public let steps: Int
    public let stepSize: Double
    public let recordEvery: Int
    public var state: SimulationState
    public let flow: any Flow
    public let metrics: [(name: String, metric: any Metric)]
    public let expectations: [Expectation]
    /// The scenario's formulas: a divergence names the first that gave NaN or ±inf, and where.
    public var formulaScope: FormulaScope?

    public init(title: String, steps: Int, stepSize: Double, recordEvery: Int, state: SimulationState,
                flow: any Flow, metrics: [(name: String, metric: any Metric)], expectations: [Expectation]) {
        self.title = title
        self.steps = steps
        self.stepSize = stepSize
        self.recordEvery = recordEvery
        self.state = state
        self.flow = flow
        self.metrics = metrics
        self.expectations = expectations
    }

    public var metricNames: [String] { metrics.map(\.name) }

    func isRecorded(_ step: Int) -> Bool { step % recordEvery == 0 || step == steps }

    /// The first invalid position of any population, as (population, cause).
    func invalidPosition() -> (String, String)? {
        for p in state.populations {
            if let bad = p.firstInvalidPosition() { return (p.name, "\(bad.cause) in particle \(bad.particle)") }
        }
        return nil
    }

    /// Integrates from step 0 to `steps`, recording every `recordEvery` steps and at the end.
    /// Stops at the first invalid state (nothing invalid is recorded) or when `shouldStop`
    /// returns true. Errors thrown by the recorder (I/O) propagate.
    /// A divergence cause, followed by the formula that first went non-finite, if any.
    func explained(_ cause: String) -> String {
        guard let note = formulaScope?.firstFailure else { return cause }
        return "\(cause); \(note)"
    }

    public func run(recorder: Recorder, shouldStop: () -> Bool = { false },
                    progress: (RunProgress) -> Void = { _ in }) throws -> RunSummary {
        let clock = ContinuousClock()
        let start = clock.now
        func seconds(since t: ContinuousClock.Instant) -> Double {
            let d = t.duration(to: clock.now)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var timings = RunTimings()
        var latest: [(name: String, value: Double)] = []
        var lastRecorded = -1

        /// Records the state and metrics at `step`; returns a divergence if a metric is not finite.
        func record(_ step: Int) throws -> RunEnd? {
            let t0 = clock.now
            var values: [Double] = []
            for (name, metric) in metrics {
                let v = metric.evaluate(state)
                guard v.isFinite else {
                    return .diverged(step: step, population: state.populations[0].name,
                                     cause: explained("metric \(name) is \(v)"))
                }
                values.append(v)
            }
            timings.metrics += seconds(since: t0)
            let t1 = clock.now
            let time = Double(step) * stepSize
            try recorder.recordState(step: step, time: time, state: state)
            try recorder.recordMetrics(step: step, time: time, wall: seconds(since: start), values: values)
            timings.recording += seconds(since: t1)
            latest = zip(metricNames, values).map { ($0, $1) }
            lastRecorded = step
            return nil
        }

        var end = RunEnd.completed
        var taken = 0
        if let (pop, cause) = invalidPosition() {
            end = .diverged(step: 0, population: pop, cause: explained(cause))
        } else if let bad = try record(0) {
            end = bad
        } else {
            for step in Swift.stride(from: 1, through: steps, by: 1) {
                if shouldStop() { end = .interrupted(step: step - 1); break }
                let t0 = clock.now
                flow.advance(&state, step: step, stepSize: stepSize)
                timings.stepping += seconds(since: t0)
                taken = step
                if let (pop, cause) = invalidPosition() {
                    end = .diverged(step: step, population: pop, cause: explained(cause))
                    break
                }
                // A formula that went non-finite stops the run even if the positions did not
                // (e.g. a NaN log-density whose gradient is finite).
                if let note = formulaScope?.firstFailure {
                    end = .diverged(step: step, population: state.populations[0].name, cause: note)
                    break
                }
                if isRecorded(step), let bad = try record(step) { end = bad; break }
                progress(RunProgress(step: step, steps: steps, elapsed: seconds(since: start), latest: latest.last))
            }
        }
        timings.total = seconds(since: start)
        return RunSummary(end: end, lastRecordedStep: lastRecorded, finalMetrics: latest, timings: timings, stepsTaken: taken)
    }
}
