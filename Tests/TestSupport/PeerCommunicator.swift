import Communication

/// One rank of a pretend job of `size` ranks, in one process: what the other ranks would send
/// is `fill` (a value no engine computes), and every exchange is counted, so that a test sees
/// which part of a sum this rank computed and that the flows exchange at all.
package final class PeerCommunicator: Communicator {
    package let rank: Int
    package let size: Int
    package var ranksOnThisNode: Int { size }
    /// What the other ranks' blocks are filled with.
    package let fill: Double
    /// The number of ``allGather(_:counts:into:)`` calls so far.
    package private(set) var gathers = 0
    /// Every ``allGather(_:counts:into:)`` call's counts, in order.
    package private(set) var gatherCounts: [[Int]] = []
    /// The number of ``allToAll(_:sendCounts:into:receiveCounts:)`` calls so far.
    package private(set) var exchanges = 0

    package init(rank: Int, of size: Int, fill: Double = -7777) {
        self.rank = rank
        self.size = size
        self.fill = fill
    }

    package func allGather(
        _ local: UnsafeBufferPointer<Double>, counts: [Int], into result: UnsafeMutableBufferPointer<Double>
    ) {
        precondition(counts.count == size && counts[rank] == local.count && result.count == counts.reduce(0, +))
        gathers += 1
        gatherCounts.append(counts)
        var k = 0
        for r in 0..<size {
            for i in 0..<counts[r] {
                result[k] = r == rank ? local[i] : fill
                k += 1
            }
        }
    }

    /// What this rank sends itself is received; the other ranks' blocks are `fill`.
    package func allToAll(
        _ send: UnsafeBufferPointer<Double>, sendCounts: [Int],
        into result: UnsafeMutableBufferPointer<Double>, receiveCounts: [Int]
    ) {
        precondition(sendCounts.count == size && receiveCounts.count == size)
        precondition(send.count == sendCounts.reduce(0, +) && result.count == receiveCounts.reduce(0, +))
        precondition(sendCounts[rank] == receiveCounts[rank])
        exchanges += 1
        let own = sendCounts[..<rank].reduce(0, +)
        var k = 0
        for r in 0..<size {
            for i in 0..<receiveCounts[r] {
                result[k] = r == rank ? send[own + i] : fill
                k += 1
            }
        }
    }

    package func allGather(_ value: UInt64) -> [UInt64] { [UInt64](repeating: value, count: size) }
    package var bytesSent: Int { 0 }
    package func barrier() {}
    package func abort(code: Int32) -> Never { fatalError("PeerCommunicator.abort(\(code))") }
}
