import Flows
import Foundation
import Recording
import Scenarios

/// run.json: what was run, how, how long each phase took, and how it ended. Written
/// atomically (``AtomicFile``) when the run starts (status `running`), at its end, and on
/// every resume, so it is never torn and never describes another run's files.
struct RunInfo {
    let directory: String
    let loaded: LoadedScenario
    /// The scenario's name and source file as the run first saw them (a resume loads the
    /// run directory's scenario.toml, whose stem is not the run's name).
    var name: String
    var source: String
    /// When the run first started, and each resume (ISO 8601, with the step and threads).
    var started: String
    var resumes: [[String: Any]] = []

    static let file = "run.json"
    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    init(directory: String, loaded: LoadedScenario, started: Date) {
        self.directory = directory
        self.loaded = loaded
        self.started = RunInfo.timestamp(started)
        name = loaded.name
        source = loaded.path
    }

    /// The record of an earlier session of this run (its start and resumes), to continue.
    mutating func continuing(from path: String) {
        guard let data = FileManager.default.contents(atPath: path),
            let info = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return }
        if let s = info["started"] as? String { started = s }
        if let scenario = info["scenario"] as? [String: Any] {
            if let n = scenario["name"] as? String { name = n }
            if let s = scenario["source"] as? String { source = s }
        }
        if let r = info["resumes"] as? [[String: Any]] { resumes = r }
    }

    /// Writes run.json with `status` (`running`, `completed`, `diverged`, `interrupted`,
    /// `io-failure`) and, when there is one, the summary of the session.
    func write(status: String, detail: String? = nil, summary: RunSummary? = nil, outputs: [String]) throws {
        let bytes = try rendered(status: status, detail: detail, summary: summary, outputs: outputs)
        try AtomicFile.write(bytes, to: directory + "/" + RunInfo.file)
    }

    /// run.json's bytes (see ``write(status:detail:summary:outputs:)``); `lastCheckpointStep`
    /// where there is no summary yet.
    func rendered(
        status: String, detail: String? = nil, summary: RunSummary? = nil, lastCheckpointStep: Int? = nil,
        outputs: [String]
    ) throws -> [UInt8] {
        let sim = loaded.simulation
        var info: [String: Any] = [
            "tool": "wgf", "version": wgfVersion,
            "scenario": [
                "name": name, "title": sim.title, "source": source,
                "resolved": "scenario.toml", "sha256": loaded.sha256, "identity": loaded.identity,
            ],
            // Threads per rank, and the ranks of the MPI job that ran the session (1: one process).
            "seed": loaded.seed, "threads": loaded.threads, "ranks": world.size,
            "steps": sim.steps, "step-size": sim.stepSize, "record-every": sim.recordEvery,
            "checkpoint": [
                "file": CheckpointFile.name, "every-steps": loaded.checkpointSchedule.steps,
                "every-seconds": loaded.checkpointSchedule.seconds,
            ],
            "particles": sim.state.populations.map { ["name": $0.name, "count": $0.count, "dimension": $0.dimension] },
            "flow": RunInfo.typed(sim.flow.report),
            "started": started,
            "status": status,
            "outputs": outputs,
        ]
        if status == "running" { info["pid"] = Int(getpid()) }
        if !resumes.isEmpty { info["resumes"] = resumes }
        if let detail { info["detail"] = detail }
        if let lastCheckpointStep { info["last-checkpoint-step"] = lastCheckpointStep }
        if let summary {
            info["steps-taken"] = summary.stepsTaken
            info["last-recorded-step"] = summary.lastRecordedStep
            if let c = summary.lastCheckpointStep { info["last-checkpoint-step"] = c }
            info["seconds"] = [
                "stepping": summary.timings.stepping, "metrics": summary.timings.metrics,
                "recording": summary.timings.recording, "checkpointing": summary.timings.checkpointing,
                "total": summary.timings.total,
            ]
            if world.size > 1 {
                // What rank 0 sent to the others this session (docs/scaling.md's cost model).
                info["bytes-sent-by-rank-0"] = world.bytesSent
            }
            var final: [String: Double] = [:]
            for m in summary.finalMetrics { final[m.name] = m.value }
            info["final-metrics"] = final
        }
        let data = try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys])
        return [UInt8](data) + [UInt8(ascii: "\n")]
    }

    /// A flow's report with numbers as JSON numbers and booleans as booleans: the flows state
    /// their choices as text (one form for run.json and messages); a value that reads back as
    /// an integer or a finite number is one.
    static func typed(_ report: [String: String]) -> [String: Any] {
        report.mapValues { text -> Any in
            if let i = Int(text) { return i }
            if let x = Double(text), x.isFinite { return x }
            if text == "true" || text == "false" { return text == "true" }
            return text
        }
    }
}
