import Flows
import Foundation
import Recording

/// A run of a sweep as its directory shows it after the sweep: what sweep.csv and
/// summary.csv are built from, so that a resumed sweep's tables equal an uninterrupted one's.
public struct RunResult {
    /// The run.
    public let run: SweepRun
    /// `completed`, `diverged`, `interrupted`, `io-failure` or `running` (run.json's status;
    /// `running` is a run killed, or still going), or what the sweep found instead: `failed`
    /// (its child ended without leaving a run.json of this scenario, or killed), `not-a-run`
    /// (the directory holds something else; never cleared), `other-scenario` (run.json is of
    /// another scenario), `missing` (no directory: the run never started).
    public let status: String
    /// The exit code of its `wgf run`: the child's when this process ran one, else the code
    /// `wgf run` gives for its status (0 completed, 4 diverged, 5 io-failure, 128 + N
    /// interrupted, 64 not-a-run); nil when not known.
    public let exitCode: Int32?
    /// run.json's `seconds.total`: the run's wall time over all its sessions.
    public let seconds: Double?
    /// Its metrics.csv (complete rows), when the run is of this variant's scenario and has one.
    public let metrics: NumericTable?

    /// Reads every run of `plan` from its directory; `outcomes` (of this process, any order)
    /// give the exit codes of the children that ran.
    public static func collect(_ plan: SweepPlan, _ validated: [ValidatedRun], outcomes: [RunOutcome]) -> [RunResult] {
        var byIndex: [Int: RunOutcome] = [:]
        for o in outcomes { byIndex[o.run.index] = o }
        return plan.runs.map { read($0, validated[$0.index], outcome: byIndex[$0.index]) }
    }

    /// One run from its directory.
    static func read(_ run: SweepRun, _ validated: ValidatedRun, outcome: RunOutcome?) -> RunResult {
        let child = outcome?.exitCode
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run.directory, isDirectory: &isDirectory) else {
            return RunResult(
                run: run, status: child == nil ? "missing" : "failed", exitCode: child, seconds: nil, metrics: nil)
        }
        if case .foreign = RunState.listing(run.directory) {
            return RunResult(run: run, status: "not-a-run", exitCode: child ?? 64, seconds: nil, metrics: nil)
        }
        guard let record = RunRecord.read(run.directory) else {
            return RunResult(run: run, status: "failed", exitCode: child, seconds: nil, metrics: nil)
        }
        guard record.identity == validated.identity else {
            return RunResult(run: run, status: "other-scenario", exitCode: child, seconds: nil, metrics: nil)
        }
        var status = record.status ?? "failed"
        if status == "running" && child != nil { status = "failed" }
        let metrics = try? NumericTable.read(path: run.directory + "/metrics.csv", ending: .completeRowsOnly)
        return RunResult(
            run: run, status: status, exitCode: child ?? record.exitCode, seconds: record.seconds, metrics: metrics)
    }

    /// The last recorded value of `metric`; nil when there is none.
    public func final(_ metric: String) -> Double? { metrics?.column(metric)?.last }

    /// The first record at which `expectation` held (its bound met, at any step), as (step, time).
    public func firstHeld(_ expectation: Expectation) -> (step: Int, time: Double)? {
        guard let m = metrics, let values = m.column(expectation.metric), let steps = m.column("step") else {
            return nil
        }
        let times = m.column("time") ?? steps
        guard let k = values.indices.first(where: { values[$0].isFinite && expectation.holds(values[$0]) }),
            let step = Int(exactly: steps[k])
        else { return nil }
        return (step, times[k])
    }
}
