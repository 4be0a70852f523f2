import Foundation

/// What a sweep did with one run in this process.
public struct RunOutcome: Sendable {
    /// What was done.
    public enum Action: Sendable, Equatable {
        /// Nothing: the run had ended for good already (`completed` or `diverged`).
        case skipped(status: String)
        /// A new run (`wgf run`).
        case started
        /// Continued from its checkpoint at `step` (`wgf run --resume`).
        case resumed(step: Int)
        /// An earlier run of the directory replaced (`wgf run --force`), for `reason`.
        case replaced(reason: String)
        /// Not run: the directory is not a wgf run directory (it holds `file`) and is never cleared.
        case refused(file: String)
        /// Not run: the sweep was stopped (a signal) before its turn.
        case notStarted
    }
    /// The run.
    public let run: SweepRun
    /// What was done.
    public let action: Action
    /// The child's exit code (128 + N when signal N killed it); nil when no child ran.
    public let exitCode: Int32?
    /// What the child wrote on stdout and stderr.
    public let output: String
    /// Wall seconds of the child.
    public let seconds: Double
}

/// Runs a sweep's runs as child `wgf run` processes, `jobs` at a time.
///
/// Which runs are done is decided by the caller's `include` (by index in the plan): all of
/// them on one machine, `index % size == rank` for one rank of an MPI job. What is done with
/// each is decided by its directory (``RunState``): skipped, continued, replaced or started.
public final class SweepExecutor: @unchecked Sendable {
    /// The plan.
    public let plan: SweepPlan
    /// The plan's runs validated (``SweepValidation``), by index.
    public let validated: [ValidatedRun]
    /// The wgf executable the children run (``Executable/current``).
    public let executable: String
    /// `--threads` of each child.
    public let threads: Int
    /// Children at once.
    public let jobs: Int
    /// The environment the children's is made from (``ChildProcess/childEnvironment(_:)``).
    public let environment: [String: String]

    let lock = NSLock()
    var running: Set<pid_t> = []
    var forwardedSignal: Int32 = 0

    /// An executor; see the properties.
    public init(
        plan: SweepPlan, validated: [ValidatedRun], executable: String, threads: Int, jobs: Int,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        precondition(validated.count == plan.runs.count, "one validated run per run of the plan")
        self.plan = plan
        self.validated = validated
        self.executable = executable
        self.threads = threads
        self.jobs = max(1, jobs)
        self.environment = environment
    }

    /// The arguments of the child for `run` in `state` (after the executable's name); nil when
    /// no child runs (done, or a directory that is not a run's).
    public func arguments(_ run: SweepRun, _ state: RunState) -> [String]? {
        let common = ["--threads", String(threads), "--quiet"]
        switch state {
        case .done, .foreign: return nil
        case .resumable:
            return ["run", "--resume", run.directory, "--steps", String(validated[run.index].steps)] + common
        case .absent, .replace:
            var a = ["run", plan.scenario, "--out", run.directory, "--seed", String(run.seed)] + common
            for o in plan.overrides(run) { a += ["--set", o] }
            if case .replace = state { a.append("--force") }
            return a
        }
    }

    /// Runs every run whose index `include` accepts, `jobs` at a time, in plan order.
    ///
    /// - Parameters:
    ///   - include: Whether this process does the run of that index.
    ///   - stopSignal: The signal that asked the sweep to stop, or 0 (polled). Once non-zero,
    ///     no further run starts, and the running children get the same signal (they stop
    ///     with a checkpoint and exit 128 + N).
    ///   - ended: Called as each run ends, one call at a time, from a worker thread.
    /// - Returns: The outcome of each included run, in plan order.
    public func execute(
        include: (Int) -> Bool, stopSignal: @escaping @Sendable () -> Int32 = { 0 },
        ended: @escaping @Sendable (RunOutcome) -> Void = { _ in }
    ) -> [RunOutcome] {
        let todo = plan.runs.filter { include($0.index) }
        let shared = Shared(count: todo.count)
        let group = DispatchGroup()
        let reportLock = NSLock()
        let finished = Atomic()
        for _ in 0..<min(jobs, max(1, todo.count)) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while true {
                    lock.lock()
                    let k = shared.next
                    shared.next += 1
                    lock.unlock()
                    guard k < todo.count else { return }
                    let outcome =
                        stopSignal() != 0
                        ? RunOutcome(run: todo[k], action: .notStarted, exitCode: nil, output: "", seconds: 0)
                        : perform(todo[k])
                    lock.lock()
                    shared.outcomes[k] = outcome
                    lock.unlock()
                    reportLock.lock()
                    ended(outcome)
                    reportLock.unlock()
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        // Forwards a stop signal to the children once (a Ctrl-C at a terminal reaches them
        // directly as well; a scheduler's SIGTERM to the sweep alone does not).
        let monitor = Thread { [self] in
            while !finished.value {
                let s = stopSignal()
                if s != 0 {
                    lock.lock()
                    if forwardedSignal == 0 {
                        forwardedSignal = s
                        for pid in running { kill(pid, s) }
                    }
                    lock.unlock()
                }
                usleep(50_000)
            }
        }
        monitor.start()
        group.wait()
        finished.value = true
        return shared.outcomes.map { $0! }
    }

    /// Does one run: looks at its directory, starts the child that it needs, waits for it.
    func perform(_ run: SweepRun) -> RunOutcome {
        let v = validated[run.index]
        let state = RunState.inspect(run.directory, identity: v.identity, steps: v.steps)
        let action: RunOutcome.Action
        switch state {
        case .done(let status):
            return RunOutcome(run: run, action: .skipped(status: status), exitCode: nil, output: "", seconds: 0)
        case .foreign(let file):
            return RunOutcome(run: run, action: .refused(file: file), exitCode: nil, output: "", seconds: 0)
        case .absent: action = .started
        case .resumable(let step): action = .resumed(step: step)
        case .replace(let reason): action = .replaced(reason: reason)
        }
        let start = Date()
        do {
            let result = try ChildProcess.run(
                executable, arguments(run, state)!, environment: environment,
                started: { pid in
                    lock.lock()
                    running.insert(pid)
                    // Stopped between this run's start and now: the monitor has passed already.
                    if forwardedSignal != 0 { kill(pid, forwardedSignal) }
                    lock.unlock()
                },
                reaping: { pid in
                    lock.lock()
                    running.remove(pid)
                    lock.unlock()
                })
            return RunOutcome(
                run: run, action: action, exitCode: result.exitCode, output: result.output,
                seconds: Date().timeIntervalSince(start))
        } catch {
            return RunOutcome(
                run: run, action: action, exitCode: 127, output: error.description,
                seconds: Date().timeIntervalSince(start))
        }
    }
}

/// The work list's cursor and results, shared by the workers under the executor's lock.
final class Shared: @unchecked Sendable {
    var next = 0
    var outcomes: [RunOutcome?]
    init(count: Int) { outcomes = Array(repeating: nil, count: count) }
}

/// A flag shared between threads.
final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool {
        get {
            lock.lock()
            defer { lock.unlock() }
            return flag
        }
        set {
            lock.lock()
            flag = newValue
            lock.unlock()
        }
    }
}
