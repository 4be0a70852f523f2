import ArgumentParser
import Flows
import Foundation
import Scenarios
import Sweeps

/// The signal that asked the sweep to stop (SIGINT, SIGTERM, SIGHUP), or 0.
nonisolated(unsafe) var sweepStopSignal: sig_atomic_t = 0

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario for every combination of varied values and every seed, and tabulate the runs.",
        discussion: """
            Each (variant, seed) is an ordinary run directory DIR/<variant>/seed-<S>/, made by `wgf run` \
            as a child process, J at a time. Every variant is validated before any run starts. \
            Rerunning the same command skips the runs that completed (or diverged), continues the \
            others from their checkpoints, and never clears a directory that is not a wgf run. At the \
            end DIR/sweep.csv (one row per run) and DIR/summary.csv (mean, sd and 95% confidence \
            half-width over seeds, per variant and step) are rebuilt from the run directories. Exit 0 \
            when every run completed; otherwise the exit code of the first run that did not (4 \
            diverged, 5 I/O failure, ...), 128 + N when a signal stopped the sweep. See docs/sweeps.md.
            """)

    @Argument(help: ArgumentHelp("Scenario file, or the name of a bundled scenario.", valueName: "scenario"))
    var scenarioArgument: String

    /// The scenario's file (a bundled scenario's, given its name).
    var scenario: String { BundledScenarios.resolve(scenarioArgument) }

    @Option(
        name: .customLong("vary"),
        help: ArgumentHelp(
            "A key and its values, e.g. flow.step-size=0.1,0.05 (repeatable: every combination is run).",
            valueName: "KEY=V1,V2,..."))
    var varies: [String] = []

    @Option(
        help: ArgumentHelp(
            "Seeds: a range A..B (both included) or a list 1,5,9 (default: the scenario's seed).",
            valueName: "A..B|S1,S2,..."))
    var seeds: String?

    @Option(help: "Runs at once.")
    var jobs: Int = 1

    @Option(name: [.short, .long], help: "Sweep directory (default: runs/<scenario name>-sweep/).")
    var out: String?

    @Option(
        name: [.customShort("j"), .long],
        help: "Threads of each run (default: cores / jobs, at least 1). Output does not depend on it.")
    var threads: Int?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a scenario key in every run, e.g. steps=200.",
            valueName: "KEY=VALUE"))
    var overrides: [String] = []

    @Flag(name: [.short, .long], help: "No line per run, only the final table (and the failures, on stderr).")
    var quiet = false

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Which runs this process does: every run, or under an MPI launcher the runs i with
    /// i % K == rank (rank 0 writes the tables once every rank is done).
    static func share() -> SweepShare {
        world.size > 1 ? .rank(world.rank, of: world.size, barrier: { world.barrier() }) : .whole
    }

    func run() throws {
        keepRunningWithoutReader()
        // Agreed by the ranks: their machines' limits may differ (ranks per machine).
        let (plan, validated) = try together { () throws -> (SweepPlan, [ValidatedRun]) in
            do {
                let varies = try self.varies.map(Vary.parse)
                try Vary.checkTogether(varies, sets: overrides)
                let seeds = try self.seeds.map(Seeds.parse) ?? [defaultSeed(varies)]
                let plan = try SweepPlan(
                    scenario: scenario, baseOverrides: overrides, varies: varies, seeds: seeds,
                    directory: out ?? SweepPlan.defaultDirectory(scenario: scenario))
                // Every rank of the job on this machine runs up to `jobs` of its runs (i mod K)
                // at once, in its part of the machine's memory.
                return (
                    plan,
                    try SweepValidation.validate(
                        plan, jobs: jobs, ranks: world.size, memoryLimit: .forProcess(of: world.ranksOnThisNode))
                )
            } catch let e as SweepError {
                throw Sweep.failure(e)
            }
        }
        if FileManager.default.fileExists(atPath: plan.directory + "/run.json") {
            throw fail("\(plan.directory) is a run directory, not a sweep's: give another --out", code: Exit.usage)
        }
        guard let executable = Executable.current else {
            throw fail(
                "cannot find the wgf executable to run (neither /proc/self/exe nor \(CommandLine.arguments.first ?? "argv[0]") names one)",
                code: Exit.ioFailure)
        }
        // This machine's cores, shared by the job's ranks on it and by each one's J runs.
        let threads = self.threads ?? max(1, defaultThreads / jobs)
        let share = Sweep.share()
        let todo = plan.runs.filter { share.includes($0.index) }.count
        if !quiet, world.isRoot {
            print(
                "sweep of \(scenario): \(plan.variants.count) variant\(plan.variants.count == 1 ? "" : "s") × \(plan.seeds.count) seed\(plan.seeds.count == 1 ? "" : "s") = \(plan.runs.count) runs, \(jobs) at a time, \(threads) thread\(threads == 1 ? "" : "s") each → \(plan.directory)/"
            )
            fflush(nil)
        }

        for s in [SIGINT, SIGTERM, SIGHUP] { signal(s) { sweepStopSignal = $0 } }
        defer { for s in [SIGINT, SIGTERM, SIGHUP] { signal(s, SIG_DFL) } }
        let executor = SweepExecutor(
            plan: plan, validated: validated, executable: executable, threads: threads, jobs: jobs)
        let counter = EndedCounter()
        let quiet = self.quiet
        let outcomes = executor.execute(include: share.includes, stopSignal: { sweepStopSignal }) { outcome in
            let k = counter.next()
            Sweep.report(outcome, plan: plan, position: "[\(k)/\(todo)]", quiet: quiet)
        }
        do { try share.waitForAll() } catch {
            throw fail("waiting for the other processes of the sweep: \(error)", code: Exit.ioFailure)
        }
        guard share.writesTables else { return try exitForOwn(outcomes) }

        let results = RunResult.collect(plan, validated, outcomes: outcomes)
        var written = true
        do { try SweepTables.write(plan, validated, results) } catch {
            printError("wgf: \(error.description); the runs are in \(plan.directory)/")
            written = false
        }
        Sweep.printTable(plan, validated, results)
        if written {
            print("wrote \(plan.directory)/\(SweepTables.sweepFile) and \(plan.directory)/\(SweepTables.summaryFile)")
        }
        if sweepStopSignal != 0 { throw ExitCode(128 + sweepStopSignal) }
        if !written { throw ExitCode(Exit.ioFailure) }
        if let first = results.first(where: { $0.status != "completed" }) {
            throw ExitCode(first.exitCode.flatMap { $0 == 0 ? nil : $0 } ?? Exit.ioFailure)
        }
    }

    /// The seed of the first variant's scenario (seeds default to it).
    func defaultSeed(_ varies: [Vary]) throws -> Int {
        let first = overrides + varies.map { "\($0.key)=\($0.values[0])" }
        do {
            return Int(try ScenarioLoader.validate(path: scenario, overrides: first, threads: 1).seed)
        } catch let e as ScenarioError {
            let label = Variant(varies.map { Variant.Assignment(key: $0.key, value: $0.values[0]) }).label
            throw SweepError(.badInput, "variant \(label): \(e.description)")
        }
    }

    /// A process that writes no tables (an MPI rank other than 0) exits by its own runs.
    func exitForOwn(_ outcomes: [RunOutcome]) throws {
        if sweepStopSignal != 0 { throw ExitCode(128 + sweepStopSignal) }
        if let bad = outcomes.first(where: { ($0.exitCode ?? 0) != 0 }) { throw ExitCode(bad.exitCode!) }
    }

    /// Prints a sweep's error and gives its exit code: 64 usage, 3 bad input, 5 I/O.
    static func failure(_ e: SweepError) -> ExitCode {
        switch e.kind {
        case .usage: return fail(e.description, code: Exit.usage)
        case .badInput: return fail(e.description, code: Exit.badInput)
        case .io: return fail(e.description, code: Exit.ioFailure)
        }
    }

    /// The line of a run as it ends: on stdout unless `quiet`; a failure's child message on stderr.
    static func report(_ o: RunOutcome, plan: SweepPlan, position: String, quiet: Bool) {
        let name = "\(plan.variants[o.run.variant].label) seed \(o.run.seed)"
        let time = String(format: "%.2f s", o.seconds)
        var line: String
        var failure: String? = nil
        switch o.action {
        case .skipped(let status): line = "\(status) earlier, skipped"
        case .notStarted: line = "not started (the sweep was stopped)"
        case .refused(let file):
            line = "not run: \(o.run.directory) is not a wgf run directory (it holds '\(file)'); it is never cleared"
            failure = line
        case .started, .resumed, .replaced:
            var how = ""
            if case .resumed(let step) = o.action { how = "resumed from step \(step), " }
            if case .replaced(let reason) = o.action { how = "replaced (\(reason)), " }
            let code = o.exitCode ?? 0
            let ending =
                code == 0 ? "completed" : code == Exit.diverged ? "diverged" : code > 128 ? "interrupted" : "FAILED"
            line = "\(how)\(ending) in \(time)" + (code == 0 ? "" : " (exit \(code))")
            if code != 0 {
                let message =
                    o.output.split(separator: "\n").last(where: { $0.hasPrefix("wgf: ") }).map(String.init)
                    ?? o.output.split(separator: "\n").last.map(String.init) ?? "no message"
                failure = message
            }
        }
        if !quiet {
            print("\(position) \(name): \(line)")
            fflush(nil)
        }
        if let failure { printError("wgf sweep: \(name) (\(o.run.directory)): \(failure)") }
    }

    /// The final table: per variant, runs completed and not, and the first metric's final
    /// value over the completed seeds (mean ± 95 % confidence half-width).
    static func printTable(_ plan: SweepPlan, _ validated: [ValidatedRun], _ results: [RunResult]) {
        let metric = SweepTables.metricNames(validated).first
        var header = ["variant", "completed", "failed"]
        if let metric { header.append("final \(metric) (mean ± 95% CI)") }
        var rows: [[String]] = []
        for (k, v) in plan.variants.enumerated() {
            let own = results.filter { $0.run.variant == k }
            let done = own.filter { $0.status == "completed" }
            var row = [v.label, "\(done.count)/\(own.count)", String(own.count - done.count)]
            if let metric {
                let finals = done.compactMap { $0.final(metric) }
                if finals.isEmpty {
                    row.append("-")
                } else {
                    let s = SampleStatistics(finals)
                    row.append(
                        s.confidenceHalfWidth.map { "\(formatSignificant(s.mean)) ± \(formatSignificant($0))" }
                            ?? "\(formatSignificant(s.mean)) (1 seed)")
                }
            }
            rows.append(row)
        }
        printColumns(header: header, rows: rows)
    }
}

/// Counts runs as they end, across the executor's worker threads.
final class EndedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
}
