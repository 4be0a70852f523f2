import Communication
import Foundation

/// A job of `size` ranks in one process, one thread per rank, whose collectives really
/// exchange (through shared memory and a barrier): distributed code runs as under `mpirun`,
/// inside a unit test. ``run(_:)`` starts the ranks and returns each rank's result.
package final class ThreadJob: @unchecked Sendable {
    package let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    /// Each rank's posted buffer and counts for the collective in progress.
    private var posted: [(base: UnsafePointer<Double>?, counts: [Int])]
    private var values: [UInt64]

    package init(size: Int) {
        self.size = size
        posted = Array(repeating: (nil, []), count: size)
        values = Array(repeating: 0, count: size)
    }

    /// Runs `body` on every rank at once (each on its own thread) and returns the results in
    /// rank order.
    package func run<T>(_ body: @escaping @Sendable (any Communicator) -> T) -> [T] {
        let results = UnsafeMutablePointer<T?>.allocate(capacity: size)
        results.initialize(repeating: nil, count: size)
        defer {
            results.deinitialize(count: size)
            results.deallocate()
        }
        let box = SharedResults(results)
        let group = DispatchGroup()
        for r in 0..<size {
            let rank = Rank(job: self, rank: r)
            let thread = Thread {
                box.base[r] = body(rank)
                group.leave()
            }
            thread.stackSize = 8 << 20
            group.enter()
            thread.start()
        }
        // A rank that skipped a collective leaves the others waiting: fail, do not hang.
        if group.wait(timeout: .now() + 300) == .timedOut {
            fatalError("ThreadJob: the ranks did not all finish within 300 s (a rank skipped a collective?)")
        }
        return (0..<size).map { results[$0]! }
    }

    /// Waits until every rank has arrived.
    fileprivate func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    fileprivate func post(_ rank: Int, _ base: UnsafePointer<Double>?, _ counts: [Int]) {
        condition.lock()
        posted[rank] = (base, counts)
        condition.unlock()
    }

    fileprivate func peek(_ rank: Int) -> (base: UnsafePointer<Double>?, counts: [Int]) {
        condition.lock()
        defer { condition.unlock() }
        return posted[rank]
    }

    fileprivate func postValue(_ rank: Int, _ value: UInt64) {
        condition.lock()
        values[rank] = value
        condition.unlock()
    }

    fileprivate func allValues() -> [UInt64] {
        condition.lock()
        defer { condition.unlock() }
        return values
    }

    private struct SharedResults<T>: @unchecked Sendable {
        let base: UnsafeMutablePointer<T?>
        init(_ base: UnsafeMutablePointer<T?>) { self.base = base }
    }

    /// One rank's view of the job.
    private final class Rank: Communicator, @unchecked Sendable {
        let job: ThreadJob
        let rank: Int
        var size: Int { job.size }
        var ranksOnThisNode: Int { job.size }

        init(job: ThreadJob, rank: Int) {
            self.job = job
            self.rank = rank
        }

        func allGather(
            _ local: UnsafeBufferPointer<Double>, counts: [Int], into result: UnsafeMutableBufferPointer<Double>
        ) {
            precondition(counts.count == size && counts[rank] == local.count && result.count == counts.reduce(0, +))
            bytesSent += 8 * local.count * (size - 1)
            job.post(rank, local.baseAddress, counts)
            job.barrier()
            var k = 0
            for r in 0..<size {
                let (base, theirs) = job.peek(r)
                precondition(theirs == counts, "ranks disagree on the gather's counts")
                for i in 0..<counts[r] { result[k + i] = base![i] }
                k += counts[r]
            }
            job.barrier()
        }

        func allToAll(
            _ send: UnsafeBufferPointer<Double>, sendCounts: [Int],
            into result: UnsafeMutableBufferPointer<Double>, receiveCounts: [Int]
        ) {
            precondition(sendCounts.count == size && receiveCounts.count == size)
            precondition(send.count == sendCounts.reduce(0, +) && result.count == receiveCounts.reduce(0, +))
            bytesSent += 8 * (send.count - sendCounts[rank])
            job.post(rank, send.baseAddress, sendCounts)
            job.barrier()
            var k = 0
            for r in 0..<size {
                let (base, theirs) = job.peek(r)
                precondition(
                    theirs[rank] == receiveCounts[r],
                    "rank \(r) sends \(theirs[rank]), \(rank) expects \(receiveCounts[r])")
                let offset = theirs[..<rank].reduce(0, +)
                for i in 0..<receiveCounts[r] { result[k + i] = base![offset + i] }
                k += receiveCounts[r]
            }
            job.barrier()
        }

        func allGather(_ value: UInt64) -> [UInt64] {
            bytesSent += 8 * (size - 1)
            job.postValue(rank, value)
            job.barrier()
            let all = job.allValues()
            job.barrier()
            return all
        }

        /// Counted as MPICommunicator counts them.
        private(set) var bytesSent = 0
        func barrier() { job.barrier() }
        func abort(code: Int32) -> Never { fatalError("ThreadJob rank \(rank) aborted with \(code)") }
    }
}
