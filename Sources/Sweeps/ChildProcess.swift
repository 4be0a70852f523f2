import Communication
import Foundation

/// A child process started with `posix_spawn`, its standard output and error captured
/// together, waited for on the calling thread.
///
/// The child stays in the sweep's process group (a Ctrl-C at the terminal reaches it as
/// well), with the default action for every signal and no signal blocked, and with the
/// sweep's environment minus the variables of MPI launchers (``childEnvironment(_:)``).
public enum ChildProcess {
    /// How a child ended.
    public struct Result: Sendable, Equatable {
        /// Its exit status, or 128 + N when signal N killed it (as a shell reports it).
        public let exitCode: Int32
        /// What it wrote on stdout and stderr, interleaved (the last 64 KiB).
        public let output: String
    }

    /// Held from a pipe's creation until its ends are marked close-on-exec and the child is spawned.
    static let spawnLock = NSLock()

    /// The most output kept per child.
    static let outputLimit = 1 << 16

    /// `environment` without the MPI launchers' variables (`MPILaunch.plainEnvironment`: a
    /// child with them would take itself for an MPI rank), as `NAME=VALUE` strings, sorted.
    public static func childEnvironment(_ environment: [String: String]) -> [String] {
        MPILaunch.plainEnvironment(environment).map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Runs `executable` with `arguments` in the current directory, with ``childEnvironment(_:)``
    /// of `environment`. `started` gets the child's pid as soon as it runs, `reaping` just
    /// before it is reaped (between the two, a signal sent to the pid reaches this child: the
    /// pid cannot be reused by another process until it is reaped).
    ///
    /// - Throws: ``SweepError`` (`.io`) when the child cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        started: (pid_t) -> Void = { _ in }, reaping: (pid_t) -> Void = { _ in }
    ) throws(SweepError) -> Result {
        // Both ends close on exec: another job's child must not inherit this pipe (the reader
        // would wait for that child's end too). The flags are set under a lock that every
        // spawn takes, so that no spawn falls between pipe() and fcntl(). The child's own
        // stdout and stderr are dup2 copies, which stay open across exec.
        spawnLock.lock()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            spawnLock.unlock()
            throw SweepError(.io, "cannot create a pipe (\(String(cString: strerror(errno))))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = childEnvironment(environment).map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(writeEnd)
        spawnLock.unlock()
        guard rc == 0 else {
            close(readEnd)
            throw SweepError(.io, "\(executable): cannot start (\(String(cString: strerror(rc))))")
        }
        started(pid)

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
            if output.count > 2 * outputLimit { output.removeFirst(output.count - outputLimit) }
        }
        close(readEnd)
        if output.count > outputLimit { output.removeFirst(output.count - outputLimit) }

        reaping(pid)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7f
        let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return Result(exitCode: code, output: String(decoding: output, as: UTF8.self))
    }
}
