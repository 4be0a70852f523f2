import ArgumentParser
import Flows
import Foundation
import KernelSum
import Recording
import Scenarios

/// Process exit codes (documented in the README).
enum Exit {
    static let expectationFailed: Int32 = 1
    static let badInput: Int32 = 3
    static let diverged: Int32 = 4
    static let ioFailure: Int32 = 5
    /// Bad command line, or a run directory `wgf run` will not write into.
    static let usage: Int32 = 64
    /// Stopped by a signal: 128 + its number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
    static let interrupted: Int32 = 130
}

let wgfVersion = "0.1.0"

@main
struct WGF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wgf",
        abstract: "Wasserstein gradient flows with interacting particles.",
        discussion: """
            Exit codes: 0 success; 1 an expectation failed (check); 3 invalid scenario or input file; \
            4 the run diverged; 5 I/O failure; 64 bad command line or a run directory in use; \
            128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM), with a checkpoint to resume from; \
            70 MPI could not start under an MPI launcher.
            """,
        version: wgfVersion,
        subcommands: [
            Run.self, Validate.self, Check.self, List.self, Sum.self, Distance.self, Plot.self, Compare.self,
            Export.self,
            Sweep.self,
        ])
}

/// Prints `message` to stderr prefixed with `wgf: ` and exits with `code`. A follower rank of
/// an MPI job keeps the message (``lastFailure``): rank 0 prints the job's errors.
func fail(_ message: String, code: Int32) -> ExitCode {
    lastFailure = message
    if world.isRoot { writeStandardError("wgf: \(message)\n") }
    return ExitCode(code)
}

func printError(_ message: String) { writeStandardError("\(message)\n") }

/// The reader of `wgf run`'s and `wgf sweep`'s output going away (`| head`, a closed
/// terminal) must not end a computation whose product is on disk: SIGPIPE is ignored, and the
/// lines that can no longer be printed are dropped (print and ``writeStandardError(_:)``
/// ignore the failed write). Ctrl-C still stops the run with a checkpoint.
func keepRunningWithoutReader() { signal(SIGPIPE, SIG_IGN) }
