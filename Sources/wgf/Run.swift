import ArgumentParser
import Flows
import Foundation
import KernelSum
import Recording
import Scenarios

nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario and write trajectory.csv, metrics.csv, scenario.toml and run.json.")

    @Argument(help: "Scenario file (default: scenarios/quickstart.toml).")
    var scenario: String = "scenarios/quickstart.toml"

    @Option(help: "Output directory (default: runs/<scenario name>/).")
    var out: String?

    @Option(help: "Random seed (overrides the scenario's seed).")
    var seed: Int?

    @Option(help: "Number of steps (overrides the scenario's steps).")
    var steps: Int?

    @Option(help: "Threads (default: all cores). Output does not depend on it.")
    var threads: Int?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a scenario key by its dotted path, e.g. population.count=5000.",
                                                         valueName: "KEY=VALUE"))
    var overrides: [String] = []

    @Flag(help: "No progress bar, only the one-line summary.")
    var quiet = false

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if let s = seed, s < 0 { throw ValidationError("--seed must be ≥ 0") }
        if let s = steps, s < 0 { throw ValidationError("--steps must be ≥ 0") }
    }

    func run() throws {
        let threadCount = threads ?? Parallel.defaultThreads
        var sets: [String] = []
        if let seed { sets.append("seed=\(seed)") }
        if let steps { sets.append("steps=\(steps)") }
        sets += overrides
        let loaded: LoadedScenario
        do {
            loaded = try ScenarioLoader.load(path: scenario, overrides: sets, threads: threadCount)
        } catch let e as ScenarioError {
            throw fail(e.description, code: Exit.badInput)
        }
        let sim = loaded.simulation
        let directory = out ?? "runs/\(loaded.name)"
        let recorder: any Recorder
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(loaded.resolvedTOML.utf8).write(to: URL(fileURLWithPath: directory + "/scenario.toml"))
            recorder = try makeRecorder(directory: directory, loaded: loaded)
        } catch let e as IOFailure {
            throw fail(e.description, code: Exit.ioFailure)
        } catch {
            throw fail("\(directory): cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
        }

        signal(SIGINT) { _ in interruptRequested = 1 }
        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let bar = ProgressBar(title: loaded.name)
        let started = Date()
        let summary: RunSummary
        do {
            summary = try sim.run(recorder: recorder, shouldStop: { interruptRequested != 0 },
                                  progress: { if showProgress { bar.update($0) } })
        } catch let e as IOFailure {
            if showProgress { bar.finish() }
            try? writeRunJSON(directory: directory, loaded: loaded, summary: nil, started: started, status: "io-failure", detail: e.description)
            throw fail(e.description, code: Exit.ioFailure)
        }
        if showProgress { bar.finish() }
        signal(SIGINT, SIG_DFL)

        let status: String, detail: String?, code: Int32
        switch summary.end {
        case .completed: (status, detail, code) = ("completed", nil, 0)
        case let .diverged(step, population, cause):
            (status, detail, code) = ("diverged", "diverged at step \(step), population '\(population)': \(cause) (step size too large? try --set step-size=\(formatNumber(sim.stepSize / 10)))", Exit.diverged)
        case let .interrupted(step):
            (status, detail, code) = ("interrupted", "interrupted after step \(step)", Exit.interrupted)
        }
        do {
            try writeRunJSON(directory: directory, loaded: loaded, summary: summary, started: started, status: status, detail: detail)
        } catch {
            throw fail("\(directory)/run.json: cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
        }
        let rate = summary.timings.stepping > 0 ? Double(summary.stepsTaken) / summary.timings.stepping : 0
        let metrics = summary.finalMetrics.map { "\($0.name) \(formatSignificant($0.value))" }.joined(separator: ", ")
        print("\(loaded.name): \(status), \(summary.stepsTaken) steps in \(String(format: "%.2f", summary.timings.total)) s "
              + "(\(String(format: "%.0f", rate)) steps/s)\(metrics.isEmpty ? "" : ", " + metrics) → \(directory)/")
        if let detail {
            throw fail("\(detail); records up to step \(summary.lastRecordedStep) are in \(directory)/", code: code)
        }
    }
}

/// run.json: what was run, how, how long each phase took, and how it ended.
func writeRunJSON(directory: String, loaded: LoadedScenario, summary: RunSummary?, started: Date,
                  status: String, detail: String?) throws {
    let sim = loaded.simulation
    let formatter = ISO8601DateFormatter()
    var info: [String: Any] = [
        "tool": "wgf", "version": wgfVersion,
        "scenario": ["name": loaded.name, "title": sim.title, "source": loaded.path,
                     "resolved": "scenario.toml", "sha256": sha256Hex(Array(loaded.resolvedTOML.utf8))],
        "seed": loaded.seed, "threads": loaded.threads,
        "steps": sim.steps, "step-size": sim.stepSize, "record-every": sim.recordEvery,
        "particles": sim.state.populations.map { ["name": $0.name, "count": $0.count, "dimension": $0.dimension] },
        "flow": sim.flow.report,
        "started": formatter.string(from: started),
        "status": status,
        "outputs": recordedFiles(loaded) + ["scenario.toml", "run.json"],
    ]
    if let detail { info["detail"] = detail }
    if let summary {
        info["steps-taken"] = summary.stepsTaken
        info["last-recorded-step"] = summary.lastRecordedStep
        info["seconds"] = ["stepping": summary.timings.stepping, "metrics": summary.timings.metrics,
                           "recording": summary.timings.recording, "total": summary.timings.total]
        var final: [String: Double] = [:]
        for m in summary.finalMetrics { final[m.name] = m.value }
        info["final-metrics"] = final
    }
    let data = try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys])
    try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: directory + "/run.json"))
}

/// A one-line progress display on stderr: bar, step, steps/s, ETA and the latest metric.
final class ProgressBar {
    let title: String
    var lastDraw = -1.0
    init(title: String) { self.title = title }

    func update(_ p: RunProgress) {
        guard p.elapsed - lastDraw >= 0.1 || p.step == p.steps else { return }
        lastDraw = p.elapsed
        let fraction = p.steps > 0 ? Double(p.step) / Double(p.steps) : 1
        let width = 24, filled = Int(fraction * Double(width))
        let rate = p.elapsed > 0 ? Double(p.step) / p.elapsed : 0
        let eta = rate > 0 ? Double(p.steps - p.step) / rate : 0
        var line = "\r\(title) [\(String(repeating: "=", count: filled))\(String(repeating: " ", count: width - filled))] "
            + "step \(p.step)/\(p.steps)  \(String(format: "%.0f", rate)) steps/s  ETA \(String(format: "%.1f", eta)) s"
        if let m = p.latest { line += "  \(m.name) \(formatSignificant(m.value))" }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
