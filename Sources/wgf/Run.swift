import ArgumentParser
import Flows
import Foundation
import InputText
import KernelSum
import Recording
import Scenarios

/// The signal that asked the run to stop (SIGINT, SIGTERM, SIGHUP), or 0.
nonisolated(unsafe) var stopSignal: sig_atomic_t = 0

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario, or continue a run from its checkpoint.",
        discussion: """
            Writes trajectory.csv, metrics.csv, scenario.toml, run.json and checkpoint.wgf into the \
            output directory, which must be new or empty: --force replaces an earlier run there, and \
            without --out the directory is runs/<name>/ (runs/<name>-2/, ... when taken). \
            --resume RUN_DIR continues a stopped run (or extends a finished one with --steps N) from \
            its checkpoint: the outputs are cut back to the checkpoint and continued, and equal those \
            of one uninterrupted run bit for bit (the `wall` column aside). SIGINT, SIGTERM and SIGHUP \
            stop the run after the current step with a checkpoint.
            """)

    @Argument(
        help:
            "Scenario file, or the name of a bundled scenario (e.g. quickstart; `wgf list` names them). Default: scenarios/quickstart.toml, else the bundled quickstart."
    )
    var scenario: String?

    @Option(
        name: [.short, .long],
        help: "Output directory (default: runs/<scenario name>/, or runs/<name>-2/, ... when taken).")
    var out: String?

    @Option(help: "Random seed (overrides the scenario's seed).")
    var seed: Int?

    @Option(help: "Number of steps (overrides the scenario's steps; with --resume, the step to continue to).")
    var steps: Int?

    @Option(name: [.customShort("j"), .long], help: "Threads (default: all cores). Output does not depend on it.")
    var threads: Int?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a scenario key by its dotted path, e.g. population.count=5000.",
            valueName: "KEY=VALUE"))
    var overrides: [String] = []

    @Flag(name: [.short, .long], help: "No progress bar, only the one-line summary (--progress none).")
    var quiet = false

    @Option(
        help: ArgumentHelp(
            "Progress on stderr: auto (a bar on a terminal, else log lines), bar (fits the terminal: %, step, elapsed, ETA, the metric the expectations judge, steps/s), log (a plain line every --progress-seconds), json (a line {\"step\", \"steps\", \"elapsed\", \"metric\", \"value\"} at most every 0.1 s and at the last step, for programs), none.",
            valueName: "KIND"))
    var progress = "auto"

    @Option(
        help: ArgumentHelp(
            "Seconds between progress log lines (--progress log, or auto when stderr is not a terminal).",
            valueName: "SECONDS"))
    var progressSeconds = 5.0

    @Flag(
        name: [.short, .long],
        help: "Replace the earlier run in the output directory (only a wgf run directory is cleared).")
    var force = false

    @Option(
        help: ArgumentHelp(
            "Continue the run in RUN_DIR from its checkpoint (to --steps N if given).", valueName: "RUN_DIR"))
    var resume: String?

    func validate() throws {
        guard ProgressDisplay.Style(rawValue: progress) != nil || progress == "auto" else {
            throw ValidationError(
                "--progress \(Excerpt.quote(progress)): unknown (allowed: auto, bar, log, json, none)")
        }
        guard progressSeconds.isFinite, progressSeconds > 0 else {
            throw ValidationError("--progress-seconds must be a positive number of seconds")
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if let s = seed, s < 0 { throw ValidationError("--seed must be ≥ 0") }
        if let s = steps, s < 0 { throw ValidationError("--steps must be ≥ 0") }
        if resume != nil {
            if scenario != nil {
                throw ValidationError("--resume continues the scenario saved in its run directory: give no SCENARIO")
            }
            if out != nil { throw ValidationError("--resume writes into the run directory it continues: drop --out") }
            if seed != nil || !overrides.isEmpty {
                throw ValidationError(
                    "--resume continues the same scenario: only --steps, --threads, --quiet, --progress and --progress-seconds may be given (not --seed or --set)"
                )
            }
            if force { throw ValidationError("--force starts a new run and --resume continues one: give one of them") }
        }
    }

    func run() throws {
        keepRunningWithoutReader()
        if let directory = resume { try continueRun(in: directory) } else { try startRun() }
    }

    /// Loads the scenario at `path`; a bad scenario exits with 3. Each of the job's ranks on
    /// this machine holds the whole state: their memory together must fit.
    func load(_ path: String, _ sets: [String]) throws -> LoadedScenario {
        try reporting {
            try ScenarioLoader.load(
                path: path, overrides: sets, threads: threads ?? defaultThreads,
                memoryLimit: .forProcess(of: world.ranksOnThisNode), communicator: world)
        }
    }

    func startRun() throws {
        var sets: [String] = []
        if let seed { sets.append("seed=\(seed)") }
        if let steps { sets.append("steps=\(steps)") }
        let loaded = try together {
            try load(scenario.map(BundledScenarios.resolve) ?? BundledScenarios.defaultScenario, sets + overrides)
        }
        // Rank 0 prepares the run directory; the others step with it and write nothing.
        guard let (directory, info, recorder) = try together({ world.isRoot ? try prepareNew(loaded) : nil }) else {
            return try follow(loaded, resumed: nil)
        }
        try execute(loaded, in: directory, info: info, recorder: recorder, resumed: nil)
    }

    /// A new run directory with its scenario.toml, run.json ("running") and open outputs.
    func prepareNew(_ loaded: LoadedScenario) throws -> (String, RunInfo, any Recorder) {
        // run.json once written: a failure to open the outputs then goes into it.
        var written: RunInfo? = nil
        do {
            let directory = try RunDirectory.prepareNew(explicit: out, name: loaded.name, force: force)
            try AtomicFile.write(loaded.resolvedTOML, to: directory + "/scenario.toml")
            let info = RunInfo(directory: directory, loaded: loaded, started: Date())
            try info.write(status: "running", outputs: Run.outputs(loaded))
            written = info
            return (directory, info, try makeRecorder(directory: directory, loaded: loaded))
        } catch let e as any CommandError {
            // A refused directory fails before run.json exists; a failed write is recorded in it.
            try? written?.write(status: "io-failure", detail: e.description, outputs: Run.outputs(loaded))
            throw fail(e)
        } catch {
            throw fail(
                "\(out ?? "runs/\(loaded.name)"): cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
        }
    }

    /// The checks of `--resume` before anything in the directory changes (rank 0 locks it), and
    /// the scenario loaded with its parts put back to the checkpoint's.
    func prepareResume(in directory: String) throws -> (LoadedScenario, Checkpoint) {
        guard (try? RunDirectory.contents(of: directory)) == .run else {
            throw fail("cannot resume: \(directory) is not a wgf run directory", code: Exit.badInput)
        }
        if world.isRoot { try reporting(context: "cannot resume: ") { try RunDirectory.lock(directory) } }
        let checkpoint = try reporting(context: "cannot resume: ") { try CheckpointFile.read(directory: directory) }
        let scenarioPath = directory + "/scenario.toml"
        let loaded = try load(scenarioPath, steps.map { ["steps=\($0)"] } ?? [])
        let sim = loaded.simulation
        guard loaded.identity == checkpoint.scenarioIdentity else {
            throw fail(
                "cannot resume: \(scenarioPath) has changed since the checkpoint (its identity \(loaded.identity.prefix(12))… is not the checkpoint's \(checkpoint.scenarioIdentity.prefix(12))…); a resume continues the same scenario (only steps may grow): start a new run instead",
                code: Exit.badInput)
        }
        guard sim.steps >= checkpoint.step else {
            throw fail(
                "cannot resume: the checkpoint is at step \(checkpoint.step), beyond --steps \(sim.steps)",
                code: Exit.usage)
        }
        // The parts' states are put back before anything in the directory changes: a checkpoint
        // this build cannot continue (another version's parts) leaves the run as it was.
        do { try sim.restore(checkpoint) } catch let e as PartStateError {
            throw fail("cannot resume: \(directory)/\(CheckpointFile.name): \(e.message)", code: Exit.badInput)
        }
        return (loaded, checkpoint)
    }

    /// `--resume RUN_DIR [--steps N]`: the run's own resolved scenario, its checkpoint, its outputs cut back.
    func continueRun(in directory: String) throws {
        // Every rank reads the checkpoint and the scenario; rank 0 alone locks and writes.
        let (loaded, checkpoint) = try together { try prepareResume(in: directory) }
        guard let (info, recorder) = try together({ world.isRoot ? try reopen(directory, loaded, checkpoint) : nil })
        else {
            return try follow(loaded, resumed: checkpoint)
        }
        try execute(loaded, in: directory, info: info, recorder: recorder, resumed: checkpoint)
    }

    /// The run directory cut back to the checkpoint, its scenario.toml's steps updated, run.json
    /// "running" with the resume noted, and the outputs reopened.
    func reopen(
        _ directory: String, _ loaded: LoadedScenario, _ checkpoint: Checkpoint
    ) throws -> (RunInfo, any Recorder) {
        let sim = loaded.simulation
        let scenarioPath = directory + "/scenario.toml"
        var info = RunInfo(directory: directory, loaded: loaded, started: Date())
        info.continuing(from: directory + "/" + RunInfo.file)
        info.resumes.append([
            "at": RunInfo.timestamp(Date()), "from-step": checkpoint.step, "to-step": sim.steps,
            "threads": loaded.threads,
        ])
        let recorder: any Recorder
        do {
            try RunDirectory.removeDerived(directory)
            // The resolved scenario with its new steps, under its original header (which names the source).
            let saved = try String(contentsOfFile: scenarioPath, encoding: .utf8)
            let updated = Run.header(of: saved) + Run.body(of: loaded.resolvedTOML)
            if updated != saved { try AtomicFile.write(updated, to: scenarioPath) }
            try info.write(status: "running", outputs: Run.outputs(loaded))
            recorder = try makeRecorder(directory: directory, loaded: loaded, resuming: checkpoint)
        } catch let e as any CommandError {
            // A failed write, or an output replaced by a file of another kind (trajectory.h5
            // that is not HDF5: bad input): recorded in run.json.
            try? info.write(status: "io-failure", detail: "cannot resume: \(e)", outputs: Run.outputs(loaded))
            throw fail(e, context: "cannot resume: ")
        } catch {
            throw fail("cannot resume: \(directory): \(error.localizedDescription)", code: Exit.ioFailure)
        }
        return (info, recorder)
    }

    /// The leading comment lines of a resolved scenario, and the rest.
    static func header(of text: String) -> String {
        String(
            text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
                .map { $0 + "\n" }.joined())
    }
    static func body(of text: String) -> String { String(text.dropFirst(header(of: text).count)) }

    static func outputs(_ loaded: LoadedScenario) -> [String] {
        recordedFiles(loaded) + ["scenario.toml", RunInfo.file, CheckpointFile.name]
    }

    /// A follower rank of an MPI job: steps the same state as rank 0, sharing its kernel sums,
    /// and writes nothing; it ends with rank 0's exit code (rank 0 prints why).
    func follow(_ loaded: LoadedScenario, resumed: Checkpoint?) throws {
        for s in [SIGINT, SIGTERM, SIGHUP] { signal(s) { stopSignal = $0 } }
        let summary = try loaded.simulation.run(
            recorder: DiscardingRecorder(), resumingFrom: resumed, checkpoints: nil,
            shouldStop: agreedStop)
        switch summary.end {
        case .completed: return
        case .diverged: throw ExitCode(Exit.diverged)
        case .interrupted: throw ExitCode(128 + stopSignal)
        }
    }

    /// Runs (or continues) the simulation into `directory`, then writes run.json and the summary.
    func execute(
        _ loaded: LoadedScenario, in directory: String, info: RunInfo, recorder: any Recorder,
        resumed: Checkpoint?
    ) throws {
        let sim = loaded.simulation
        let outputs = Run.outputs(loaded)
        // Under MPI, what run.json says if the job is ended while a step is under way (LastWords).
        func prepareLastWords(checkpoint: Int?) {
            guard world.size > 1 else { return }
            let detail =
                "interrupted by SIGTERM during a step, and the job ended before rank 0 could stop after it: "
                + "another rank failed (mpirun's message names it) or the job was cancelled; the records and "
                + "the last checkpoint\(checkpoint.map { " (step \($0))" } ?? "") written before it stand; "
                + "continue with wgf run --resume \(directory)"
            guard
                let bytes = try? info.rendered(
                    status: "interrupted", detail: detail, lastCheckpointStep: checkpoint, outputs: outputs)
            else { return }
            LastWords.prepare(bytes, path: directory + "/" + RunInfo.file)
        }
        let writer = CheckpointWriter(schedule: loaded.checkpointSchedule, scenarioIdentity: loaded.identity) {
            try CheckpointFile.write($0, directory: directory)
            prepareLastWords(checkpoint: $0.step)
        }
        prepareLastWords(checkpoint: resumed?.step)
        for s in [SIGINT, SIGHUP] { signal(s) { stopSignal = $0 } }
        signal(SIGTERM) {
            stopSignal = $0
            LastWords.write()
        }
        // Past a file-size limit, write(2) then fails with EFBIG (reported, exit 5) instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        defer { for s in [SIGINT, SIGTERM, SIGHUP] { signal(s, SIG_DFL) } }
        let style =
            quiet ? .none : ProgressDisplay.Style(rawValue: progress) ?? (isatty(STDERR_FILENO) == 1 ? .bar : .log)
        let showProgress = style != .none
        // The metric the expectations judge is the one worth watching; else the last recorded.
        let watched = sim.expectations.first.map(\.metric)
        let bar = ProgressDisplay(
            title: info.name, style: style, metric: watched,
            interval: style == .log ? progressSeconds : 0.1)
        let summary: RunSummary
        do {
            summary = try sim.run(
                recorder: recorder, resumingFrom: resumed, checkpoints: writer,
                shouldStop: agreedStop, progress: { if showProgress { bar.update($0) } })
        } catch let e as any CommandError {
            LastWords.clear()
            if showProgress { bar.finish() }
            try? info.write(status: "io-failure", detail: e.description, outputs: outputs)
            let failure = fail(
                "\(e); the records and checkpoint written before it are in \(directory)/", code: e.exitCode)
            // The other ranks wait for rank 0 in their next exchange: end them too.
            if world.size > 1 { world.abort(code: e.exitCode) }
            throw failure
        }
        LastWords.clear()
        if showProgress { bar.finish() }

        let status: String
        let detail: String?
        let code: Int32
        switch summary.end {
        case .completed: (status, detail, code) = ("completed", nil, 0)
        case .diverged(let step, let population, let cause):
            (status, detail, code) = (
                "diverged",
                // At step 0 the initial state itself is refused: no step size is to blame.
                step == 0
                    ? "cannot start, population '\(population)': \(cause)"
                    : "diverged at step \(step), population '\(population)': \(cause) (step size too large? try --set step-size=\(formatNumber(sim.stepSize / 10)))",
                Exit.diverged
            )
        case .interrupted(let step):
            let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][stopSignal] ?? "a signal"
            (status, detail, code) = (
                "interrupted", "interrupted after step \(step) by \(name); continue with wgf run --resume \(directory)",
                128 + stopSignal
            )
        }
        do {
            try info.write(status: status, detail: detail, summary: summary, outputs: outputs)
        } catch {
            throw fail("\(error)", code: Exit.ioFailure)
        }
        let taken = summary.stepsTaken - (resumed?.step ?? 0)
        let metrics = summary.finalMetrics.map { "\($0.name) \(formatSignificant($0.value))" }.joined(separator: ", ")
        let span =
            resumed.map { "steps \($0.step + 1)–\(summary.stepsTaken) (\(taken))" } ?? "\(summary.stepsTaken) steps"
        print(
            "\(info.name): \(status), \(span) in \(Run.timeSplit(summary.timings, steps: summary.stepsTaken))"
                + "\(metrics.isEmpty ? "" : ", " + metrics) → \(directory)/")
        if let detail {
            let kept =
                summary.lastRecordedStep < 0
                ? "run.json is in \(directory)/" : "records up to step \(summary.lastRecordedStep) are in \(directory)/"
            throw fail("\(detail); \(kept)", code: code)
        }
    }
}

extension Run {
    /// `2.31 s (stepping 1.80 s at 278 steps/s, metrics 0.42 s, recording 0.05 s)`: the whole
    /// time, then where it went; the rate is the stepping rate (steps over the time in the flow
    /// alone), named as such. Checkpointing appears when it took any time to speak of.
    static func timeSplit(_ t: RunTimings, steps: Int) -> String {
        func s(_ v: Double) -> String { String(format: "%.2f s", v) }
        let rate = t.stepping > 0 ? ProgressLine.rate(Double(steps) / t.stepping) : "–"
        var parts = [
            "stepping \(s(t.stepping)) at \(rate) steps/s", "metrics \(s(t.metrics))", "recording \(s(t.recording))",
        ]
        if t.checkpointing >= 0.005 { parts.append("checkpoints \(s(t.checkpointing))") }
        return "\(s(t.total)) (" + parts.joined(separator: ", ") + ")"
    }
}
