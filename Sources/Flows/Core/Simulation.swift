import Communication
import Foundation
import KernelSum

/// Receives what a run records. Implementations stream to files and flush every record,
/// so an interrupted run leaves readable output.
public protocol Recorder: AnyObject {
    /// Records the particles at `step` (time = step × step size).
    func recordState(step: Int, time: Double, state: SimulationState) throws
    /// Records the metric values at `step`, in the simulation's metric order; `wall` is seconds
    /// since the run's start (continued across resumes).
    func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws
    /// Makes everything recorded so far durable (written and fsynced) and returns how far each
    /// output file reached (bytes for a CSV file): a checkpoint keeps these marks, and a resume
    /// cuts the outputs back to them.
    func synchronize() throws -> [String: Int]
}

/// How a run ended.
public enum RunEnd: Sendable, Equatable {
    /// Every step was taken.
    case completed
    /// Positions or a metric became NaN, infinite or too large at `step`.
    case diverged(step: Int, population: String, cause: String)
    /// Stopped on request (Ctrl-C, SIGTERM) after `step`.
    case interrupted(step: Int)
}

/// Where the time of a run went, in seconds (over every session of a resumed run).
public struct RunTimings: Sendable, Equatable {
    /// Seconds in `Flow.advance`, metric evaluation, recorders, checkpoints, and the whole run.
    public var stepping = 0.0, metrics = 0.0, recording = 0.0, checkpointing = 0.0, total = 0.0
    /// All zero.
    public init() {}
}

/// What the progress display needs.
public struct RunProgress: Sendable {
    /// The step just taken, of `steps`.
    public let step: Int, steps: Int
    /// The step this session started from (0, or the checkpoint's step on a resume).
    public let firstStep: Int
    /// Seconds since this session started.
    public let elapsed: Double
    /// The metrics at the latest record, in `record.metrics` order.
    public let metrics: [(name: String, value: Double)]
    /// The last metric at the latest record, if any.
    public var latest: (name: String, value: Double)? { metrics.last }
}

/// What ``Simulation/run(recorder:resumingFrom:checkpoints:shouldStop:progress:)`` returns.
public struct RunSummary: Sendable {
    /// How the run ended.
    public let end: RunEnd
    /// The step of the last record written (−1: none).
    public let lastRecordedStep: Int
    /// The metrics of the last record.
    public let finalMetrics: [(name: String, value: Double)]
    /// Where the time went (over every session of a resumed run).
    public let timings: RunTimings
    /// The last step taken (counting from the start of the run, also on a resume).
    public let stepsTaken: Int
    /// The step of the last checkpoint written, if any.
    public let lastCheckpointStep: Int?
}

/// Where and when a run saves checkpoints.
public struct CheckpointWriter {
    /// When to save, besides step 0, the end and an interruption.
    public let schedule: CheckpointSchedule
    /// The scenario's identity (SHA-256 of the resolved scenario without `steps`), stored in every checkpoint.
    public let scenarioIdentity: String
    /// Writes a checkpoint (to checkpoint.wgf, atomically).
    public let save: (Checkpoint) throws -> Void
    /// A writer; see the properties.
    public init(schedule: CheckpointSchedule, scenarioIdentity: String, save: @escaping (Checkpoint) throws -> Void) {
        self.schedule = schedule
        self.scenarioIdentity = scenarioIdentity
        self.save = save
    }
}

/// A built scenario: state, flow, metrics, and the step loop that ties them together.
public final class Simulation {
    /// The scenario's title.
    public let title: String
    /// The last step to take.
    public let steps: Int
    /// h: the time of step n is n·h.
    public let stepSize: Double
    /// Records at step 0, every `recordEvery` steps and at the last.
    public let recordEvery: Int
    /// The populations, advanced in place.
    public var state: SimulationState
    /// What moves the state.
    public let flow: any Flow
    /// The recorded metrics, in metrics.csv's order.
    public let metrics: [(name: String, metric: any Metric)]
    /// The scenario's `[[expect]]`, judged after the run.
    public let expectations: [Expectation]
    /// The scenario's formulas: a divergence names the first that gave NaN or ±inf, and where.
    public var formulaScope: FormulaScope?
    /// The ranks running the simulation together (every one calls ``run(recorder:resumingFrom:checkpoints:shouldStop:progress:)``).
    /// With more than one, and a flow that ``Flow/distributesParticles``, each rank holds only its
    /// slab's particles while the run steps (``ParticleDecomposition``); ``state`` is whole again
    /// when the run returns.
    public var communicator: any Communicator = SerialCommunicator()
    /// Whether records write the particles (the trajectory): when not, and there are no
    /// metrics, a record of particles held apart by the ranks does not gather them.
    public var recordsStates = true

    /// A simulation; see the properties.
    public init(
        title: String, steps: Int, stepSize: Double, recordEvery: Int, state: SimulationState,
        flow: any Flow, metrics: [(name: String, metric: any Metric)], expectations: [Expectation]
    ) {
        self.title = title
        self.steps = steps
        self.stepSize = stepSize
        self.recordEvery = recordEvery
        self.state = state
        self.flow = flow
        self.metrics = metrics
        self.expectations = expectations
    }

    /// The metrics' names, in order.
    public var metricNames: [String] { metrics.map(\.name) }
    /// The parts whose state a checkpoint saves beside the particles.
    public var parts = PartRegistry()

    /// Records are taken at step 0, every `recordEvery` steps, and at the last step.
    func isRecorded(_ step: Int) -> Bool { isRegularRecord(step) || step == steps }
    /// A record that a longer run of the same scenario also takes (not only because it is the last).
    func isRegularRecord(_ step: Int) -> Bool { step % recordEvery == 0 }

    /// The first invalid position of any population of `state` (by default the simulation's),
    /// as (population, cause).
    func invalidPosition(in state: SimulationState? = nil) -> (String, String)? {
        for p in (state ?? self.state).populations {
            if let bad = p.firstInvalidPosition() { return (p.name, "\(bad.cause) in particle \(bad.particle)") }
        }
        return nil
    }

    /// Why the state that a step left is invalid, or nil: the first invalid position (in the whole
    /// state), else the first formula that went non-finite, which stops the run even if the
    /// positions did not (e.g. a NaN log-density whose gradient is finite). When the ranks hold
    /// the particles apart (`decomposition`), they agree whether any found a problem, then gather
    /// the state to name it as one process would; a formula's note is then the lowest such rank's.
    func divergence(_ decomposition: ParticleDecomposition?) -> (population: String, cause: String)? {
        var note = formulaScope?.firstFailure
        guard let decomposition else {
            if let (pop, cause) = invalidPosition() { return (pop, explained(cause)) }
            return note.map { (state.populations[0].name, $0) }
        }
        let found = invalidPosition() != nil || note != nil
        guard communicator.maximum(found ? 1 : 0) == 1 else { return nil }
        let whole = decomposition.gather(state)
        note = communicator.allGather(note ?? "").first { !$0.isEmpty }
        if let (pop, cause) = invalidPosition(in: whole) { return (pop, note.map { "\(cause); \($0)" } ?? cause) }
        return (whole.populations[0].name, note ?? "")
    }

    /// A divergence cause, followed by the formula that first went non-finite, if any.
    func explained(_ cause: String) -> String {
        guard let note = formulaScope?.firstFailure else { return cause }
        return "\(cause); \(note)"
    }

    /// The run's state after `step` (`whole`: every particle; `carried`: the per-particle parts'
    /// rows of every particle, when the ranks hold them apart), for a checkpoint.
    func checkpoint(
        _ whole: SimulationState, carried: [(part: any ParticleStatePart, rows: [Double])] = [], step: Int,
        lastRecordedStep: Int, outputs: [String: Int], timings: RunTimings, scenarioIdentity: String
    ) -> Checkpoint {
        var saved: [String: PartState] = [:]
        for (key, part) in parts.parts {
            let gathered = carried.first { ($0.part as AnyObject) === (part as AnyObject) }
            saved[key] = gathered.map { $0.part.savedState(rows: $0.rows) } ?? part.saveState()
        }
        return Checkpoint(
            step: step, lastRecordedStep: lastRecordedStep, populations: whole.populations, parts: saved,
            outputs: outputs, timings: timings, scenarioIdentity: scenarioIdentity)
    }

    /// Puts the state of a checkpoint back: populations and every part's state.
    public func restore(_ c: Checkpoint) throws {
        guard c.populations.count == state.populations.count,
            zip(c.populations, state.populations).allSatisfy({ $0.name == $1.name && $0.dimension == $1.dimension })
        else {
            throw PartStateError(
                "the checkpoint's populations (\(c.populations.map { "\($0.name): d = \($0.dimension)" }.joined(separator: ", "))) are not the scenario's"
            )
        }
        let known = Set(parts.parts.map(\.key))
        if let stray = c.parts.keys.sorted().first(where: { !known.contains($0) }) {
            throw PartStateError("the checkpoint holds the state of '\(stray)', which the scenario does not build")
        }
        for (key, part) in parts.parts {
            do { try part.restoreState(c.parts[key] ?? PartState()) } catch let e as PartStateError {
                throw PartStateError("\(key): \(e.message)")
            }
        }
        state.populations = c.populations
    }

    /// Integrates from step 0 (or from the step of the checkpoint `resumed` from) to `steps`,
    /// recording every `recordEvery` steps and at the end. Stops at the first invalid state
    /// (a non-finite or huge position, metric or formula value; nothing invalid is recorded) or
    /// when `shouldStop` returns true.
    ///
    /// Checkpoints (with a `checkpoints` writer) are taken at step 0, when the schedule says,
    /// when stopped on request, and at the last step — before that step's record when it is
    /// taken only because it is the last, so that a resume to more steps drops it and its
    /// outputs equal those of the longer run in one go. A run resumed from a checkpoint at
    /// step K continues with step K + 1; its outputs continue the checkpoint's (cut back to its
    /// marks by the caller).
    ///
    /// - Parameters:
    ///   - recorder: Receives every record; asked to ``Recorder/synchronize()`` before each checkpoint.
    ///   - resumed: The checkpoint to continue from (its state is restored first); nil starts at step 0.
    ///   - checkpoints: Where and when to save checkpoints; nil saves none.
    ///   - shouldStop: Asked before every step (a signal handler's flag).
    ///   - progress: Called after every step.
    /// - Returns: How the run ended, its last record and metrics, timings and checkpoint.
    /// - Throws: The recorder's or the checkpoint writer's errors (I/O), and `PartStateError`
    ///   when `resumed` does not fit the scenario.
    public func run(
        recorder: Recorder, resumingFrom resumed: Checkpoint? = nil, checkpoints: CheckpointWriter? = nil,
        shouldStop: () -> Bool = { false },
        progress: (RunProgress) -> Void = { _ in }
    ) throws -> RunSummary {
        let clock = ContinuousClock()
        let start = clock.now
        func seconds(since t: ContinuousClock.Instant) -> Double {
            let d = t.duration(to: clock.now)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var timings = resumed?.timings ?? RunTimings()
        let priorTotal = timings.total
        var latest: [(name: String, value: Double)] = []
        var lastRecorded = resumed?.lastRecordedStep ?? -1
        var lastCheckpoint: Int? = resumed?.step
        // The last step a checkpoint was taken at by every rank (gathered, if not written here):
        // what the ranks decide on when a stop request comes.
        var lastGathered: Int? = resumed?.step
        var lastCheckpointTime = clock.now
        // On several ranks, a flow that allows it steps each rank's share of the particles.
        let decomposition =
            communicator.size > 1 && flow.distributesParticles
            ? ParticleDecomposition(
                communicator: communicator, carried: flow.particleState, layout: flow.particleLayout)
            : nil
        /// Every particle (gathered from the ranks when they hold them apart: collective).
        func whole() -> SimulationState { decomposition?.gather(state) ?? state }
        /// The ranks agree: whether `flag` holds on any.
        func anyRank(_ flag: Bool) -> Bool { decomposition == nil ? flag : communicator.maximum(flag ? 1 : 0) == 1 }

        /// Records the state and metrics at `step`; returns a divergence if a metric is not finite.
        func record(_ step: Int) throws -> RunEnd? {
            let t0 = clock.now
            let snapshot = recordsStates || !metrics.isEmpty ? whole() : state
            var values: [Double] = []
            for (name, metric) in metrics {
                let v = metric.evaluate(snapshot, step: step)
                guard v.isFinite else {
                    return .diverged(
                        step: step, population: state.populations[0].name,
                        cause: explained("metric \(name) is \(v)"))
                }
                values.append(v)
            }
            timings.metrics += seconds(since: t0)
            let t1 = clock.now
            let time = Double(step) * stepSize
            try recorder.recordState(step: step, time: time, state: snapshot)
            try recorder.recordMetrics(step: step, time: time, wall: priorTotal + seconds(since: start), values: values)
            timings.recording += seconds(since: t1)
            latest = zip(metricNames, values).map { ($0, $1) }
            lastRecorded = step
            return nil
        }

        /// Saves a checkpoint where there is a writer (every rank calls it: the particles are
        /// gathered first when the ranks hold them apart).
        func saveCheckpoint(_ step: Int) throws {
            guard checkpoints != nil || decomposition != nil else { return }
            let t0 = clock.now
            let snapshot = whole()
            let carried = decomposition?.gatherCarried(state) ?? []
            lastGathered = step
            guard let writer = checkpoints else { return }
            let marks = try recorder.synchronize()
            var sofar = timings
            sofar.total = priorTotal + seconds(since: start)
            try writer.save(
                checkpoint(
                    snapshot, carried: carried, step: step, lastRecordedStep: lastRecorded, outputs: marks,
                    timings: sofar,
                    scenarioIdentity: writer.scenarioIdentity))
            timings.checkpointing += seconds(since: t0)
            lastCheckpoint = step
            lastCheckpointTime = clock.now
        }

        /// Records `step` as the run's last (a checkpoint first when the record is not a regular one).
        func finish(_ step: Int) throws -> RunEnd? {
            if isRegularRecord(step) {
                if let bad = try record(step) { return bad }
                try saveCheckpoint(step)
                return nil
            }
            try saveCheckpoint(step)
            return try record(step)
        }

        var end = RunEnd.completed
        var taken = resumed?.step ?? 0
        var first = 1
        if let c = resumed {
            try restore(c)
            if let decomposition { state = decomposition.share(of: state) }
            first = c.step + 1
            // A run resumed at its last step: put back the last record the checkpoint left out.
            if c.step == steps, !isRegularRecord(c.step), let bad = try record(c.step) { end = bad }
        } else if let (pop, cause) = invalidPosition() {
            end = .diverged(step: 0, population: pop, cause: explained(cause))
        } else if let cause = flow.invalidStart(state) {
            end = .diverged(step: 0, population: state.populations[0].name, cause: cause)
        } else {
            if let decomposition { state = decomposition.share(of: state) }
            if let bad = try record(0) { end = bad } else { try saveCheckpoint(0) }
        }
        if end == .completed {
            for step in Swift.stride(from: first, through: steps, by: 1) {
                if shouldStop() {
                    end = .interrupted(step: step - 1)
                    if lastGathered != step - 1 { try saveCheckpoint(step - 1) }
                    break
                }
                let t0 = clock.now
                flow.advance(&state, step: step, stepSize: stepSize)
                timings.stepping += seconds(since: t0)
                taken = step
                if let failure = divergence(decomposition) {
                    end = .diverged(step: step, population: failure.population, cause: failure.cause)
                    break
                }
                if let decomposition { decomposition.migrate(&state) }
                if step == steps {
                    if let bad = try finish(step) {
                        end = bad
                        break
                    }
                } else {
                    if isRecorded(step), let bad = try record(step) {
                        end = bad
                        break
                    }
                    let due =
                        checkpoints?.schedule.isDue(step: step, secondsSinceLast: seconds(since: lastCheckpointTime))
                        ?? false
                    // Rank 0 holds the writer and the clock: with the particles held apart, the
                    // ranks gather them together when it says.
                    if anyRank(due) { try saveCheckpoint(step) }
                }
                progress(
                    RunProgress(
                        step: step, steps: steps, firstStep: first - 1, elapsed: seconds(since: start),
                        metrics: latest))
            }
        }
        state = whole()
        timings.total = priorTotal + seconds(since: start)
        return RunSummary(
            end: end, lastRecordedStep: lastRecorded, finalMetrics: latest, timings: timings, stepsTaken: taken,
            lastCheckpointStep: lastCheckpoint)
    }
}
