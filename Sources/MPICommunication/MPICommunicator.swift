import CMPI
import Communication
import Foundation

/// `MPI_COMM_WORLD` of Open MPI behind `Communicator`. Only the main thread calls MPI
/// (`MPI_THREAD_FUNNELED`): worker threads compute, the main thread exchanges.
public final class MPICommunicator: Communicator {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The ranks of `MPI_COMM_WORLD`.
    public let size: Int
    /// The ranks that share this node's memory (`MPI_Comm_split_type`, shared).
    public let ranksOnThisNode: Int
    /// Counted by every collective before it is called.
    public private(set) var bytesSent = 0
    private let world: MPI_Comm

    /// Starts MPI when this process was started by an MPI launcher (`MPILaunch.isLaunched`),
    /// and returns nil otherwise: a plain `wgf run` never initialises MPI, so it needs no
    /// launcher daemon and starts as fast as before. Call once, from the main thread.
    public static func startIfLaunched(
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> MPICommunicator?
    {
        guard MPILaunch.isLaunched(environment) else { return nil }
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided) == MPI_SUCCESS else {
            FileHandle.standardError.write(Data("wgf: MPI_Init_thread failed\n".utf8))
            exit(70)
        }
        // Every exit path (normal end, ArgumentParser's exit with a code) finalizes MPI.
        atexit {
            var done: Int32 = 0
            MPI_Finalized(&done)
            if done == 0 { MPI_Finalize() }
        }
        return MPICommunicator(world: wgf_mpi_comm_world())
    }

    private init(world: MPI_Comm) {
        self.world = world
        var r: Int32 = 0
        var s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
        // The ranks that share this node's memory (MPI-3), whatever the launcher.
        var node: MPI_Comm? = nil
        var local: Int32 = 1
        if MPI_Comm_split_type(world, Int32(MPI_COMM_TYPE_SHARED), r, wgf_mpi_info_null(), &node) == MPI_SUCCESS {
            MPI_Comm_size(node, &local)
            MPI_Comm_free(&node)
        }
        ranksOnThisNode = Int(local)
    }

    /// `MPI_Allgatherv` of every rank's block, in rank order (sizes checked first).
    public func allGather(
        _ local: UnsafeBufferPointer<Double>, counts: [Int], into result: UnsafeMutableBufferPointer<Double>
    ) {
        guard counts.count == size, counts[rank] == local.count, result.count == counts.reduce(0, +),
            counts.allSatisfy({ $0 <= Int(Int32.max) }), result.count <= Int(Int32.max)
        else {
            fatalError("MPICommunicator.allGather: counts \(counts) for a block of \(local.count) into \(result.count)")
        }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { displacements[r] = displacements[r - 1] + Int32(counts[r - 1]) }
        let counts32 = counts.map { Int32($0) }
        bytesSent += 8 * local.count * (size - 1)
        check(
            MPI_Allgatherv(
                local.baseAddress, Int32(local.count), wgf_mpi_double(),
                result.baseAddress, counts32, displacements, wgf_mpi_double(), world), "MPI_Allgatherv")
    }

    /// `MPI_Alltoallv` of consecutive blocks (sizes checked first).
    public func allToAll(
        _ send: UnsafeBufferPointer<Double>, sendCounts: [Int],
        into result: UnsafeMutableBufferPointer<Double>, receiveCounts: [Int]
    ) {
        guard sendCounts.count == size, receiveCounts.count == size,
            send.count == sendCounts.reduce(0, +), result.count == receiveCounts.reduce(0, +),
            send.count <= Int(Int32.max), result.count <= Int(Int32.max)
        else {
            fatalError(
                "MPICommunicator.allToAll: sends \(sendCounts) of \(send.count), receives \(receiveCounts) into \(result.count)"
            )
        }
        bytesSent += 8 * (send.count - sendCounts[rank])
        func displacements(_ counts: [Int]) -> [Int32] {
            var out = [Int32](repeating: 0, count: counts.count)
            for r in 1..<max(counts.count, 1) { out[r] = out[r - 1] + Int32(counts[r - 1]) }
            return out
        }
        check(
            MPI_Alltoallv(
                send.baseAddress, sendCounts.map { Int32($0) }, displacements(sendCounts), wgf_mpi_double(),
                result.baseAddress, receiveCounts.map { Int32($0) }, displacements(receiveCounts), wgf_mpi_double(),
                world), "MPI_Alltoallv")
    }

    /// `MPI_Allgather` of one value per rank.
    public func allGather(_ value: UInt64) -> [UInt64] {
        var mine = value
        bytesSent += 8 * (size - 1)
        var all = [UInt64](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, wgf_mpi_int64(), &all, 1, wgf_mpi_int64(), world), "MPI_Allgather")
        return all
    }

    /// A barrier that sleeps while it waits (MPI_Barrier would spin a core at 100 %, taken
    /// from the ranks still working on this machine, e.g. a sweep's runs).
    public func barrier() {
        var request: MPI_Request? = nil
        check(MPI_Ibarrier(world, &request), "MPI_Ibarrier")
        var done: Int32 = 0
        while true {
            check(MPI_Test(&request, &done, nil), "MPI_Test")
            if done != 0 { return }
            usleep(20_000)
        }
    }

    /// `MPI_Abort`: mpirun ends every rank of the job.
    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    /// MPI's default handler aborts the job on an error; a code that still comes back is a bug.
    private func check(_ code: Int32, _ what: String) {
        if code != MPI_SUCCESS { fatalError("\(what) failed with MPI error \(code) on rank \(rank)") }
    }
}
