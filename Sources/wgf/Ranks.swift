import ArgumentParser
import Communication
import Flows
import Foundation
import KernelSum
import MPICommunication

// How wgf runs as the ranks of an MPI job (`mpirun -np K wgf run ...`, or `srun`): every rank
// reads the scenario and holds the whole state; the flows share their kernel sums by target
// blocks (DistributedSum), so every rank steps the same state as one process would; rank 0
// alone prints and writes the run directory. Failures are agreed on where the ranks must part
// together, and rank 0 aborts the job when it fails alone mid-run (an output it cannot write).

/// The ranks of this job: Open MPI's world when an MPI launcher started wgf, one process
/// otherwise. Set once by ``WGF/main()`` before the command line is parsed; main thread only.
nonisolated(unsafe) var world: any Communicator = SerialCommunicator()

/// The message of the last failure this process reported (``fail(_:code:)``), which a
/// follower rank keeps to itself unless ``together(_:)`` finds that it failed alone.
nonisolated(unsafe) var lastFailure: String? = nil

/// Worker threads per process when `--threads` is not given: this machine's cores, shared by
/// the job's ranks on it.
var defaultThreads: Int { max(1, Parallel.defaultThreads / world.ranksOnThisNode) }

/// The exit code that `error` ends the process with.
func exitStatus(of error: any Error) -> Int32 {
    (error as? ExitCode)?.rawValue ?? WGF.exitCode(for: error).rawValue
}

/// Runs `body` on every rank, then agrees on the outcome: when any rank failed, every rank
/// ends with the exit code of the lowest failed rank, whose message is printed once (rank 0
/// prints its own; another rank that failed alone prints `wgf: rank R: ...`). No rank is left
/// waiting for one that has gone. One process: `body`, as is.
func together<T>(_ body: () throws -> T) throws -> T {
    guard world.size > 1 else { return try body() }
    let outcome: Result<T, any Error>
    do { outcome = .success(try body()) } catch { outcome = .failure(error) }
    let code: Int32
    switch outcome {
    case .success: code = 0
    case .failure(let error): code = exitStatus(of: error) == 0 ? Exit.usage : exitStatus(of: error)
    }
    let codes = world.allGather(UInt64(UInt32(bitPattern: code)))
    guard let first = codes.firstIndex(where: { $0 != 0 }) else { return try outcome.get() }
    if first == world.rank, first != 0 { printError("wgf: rank \(first): \(lastFailure ?? "failed (exit \(code))")") }
    throw ExitCode(Int32(bitPattern: UInt32(truncatingIfNeeded: codes[first])))
}

/// Asked by every rank before each step: whether any rank has been signalled. All ranks then
/// stop after the same step, under the largest signal number any of them received.
func agreedStop() -> Bool {
    guard world.size > 1 else { return stopSignal != 0 }
    stopSignal = sig_atomic_t(world.maximum(Int(stopSignal)))
    return stopSignal != 0
}

/// The recorder of a follower rank: rank 0 writes the run's files.
final class DiscardingRecorder: Recorder {
    func recordState(step: Int, time: Double, state: SimulationState) throws {}
    func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {}
    func synchronize() throws -> [String: Int] { [:] }
}

extension WGF {
    /// Starts MPI when a launcher started this process, then runs the command. Under MPI,
    /// commands other than `run` and `sweep` (which share their work) run on rank 0 alone, and
    /// only rank 0 prints an error (the others end with the same code).
    static func main() {
        if let mpi = MPICommunicator.startIfLaunched() { world = mpi }
        do {
            var command = try parseAsRoot()
            if world.size > 1, !world.isRoot, !(command is Run || command is Sweep) { return }
            try command.run()
        } catch {
            if world.isRoot { exit(withError: error) }
            Foundation.exit(exitStatus(of: error))
        }
    }
}
