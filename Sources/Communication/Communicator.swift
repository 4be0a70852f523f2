#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The processes of one job and the few exchanges wgf needs between them, as MPI provides
/// them: every rank calls each collective in the same order with consistent sizes.
///
/// One process is ``SerialCommunicator`` (no MPI linked); under `mpirun` or `srun` the wgf
/// executable uses the Open MPI implementation (module `MPICommunication`). Nothing else in
/// wgf imports MPI: engines and commands see only this protocol.
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< ``size``.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// The processes of the job on this machine (this one included): they share its cores.
    var ranksOnThisNode: Int { get }
    /// Concatenates every rank's `local` block, in rank order, into `result` on every rank.
    /// - Parameters:
    ///   - local: this rank's block; its length must be `counts[rank]`.
    ///   - counts: every rank's block length (the same array on every rank).
    ///   - result: room for the sum of `counts`.
    /// Exact (no arithmetic), so the result does not depend on the rank count.
    func allGather(_ local: UnsafeBufferPointer<Double>, counts: [Int], into result: UnsafeMutableBufferPointer<Double>)
    /// Every rank's `value`, in rank order.
    func allGather(_ value: UInt64) -> [UInt64]
    /// Sends `sendCounts[q]` doubles to each rank q (consecutive blocks of `send`, in rank
    /// order) and receives `receiveCounts[r]` from each rank r into consecutive blocks of
    /// `result`, in rank order: the transpose of a distributed grid. The counts must match
    /// (what r sends to q is what q expects from r). Exact, like ``allGather(_:counts:into:)``.
    func allToAll(
        _ send: UnsafeBufferPointer<Double>, sendCounts: [Int],
        into result: UnsafeMutableBufferPointer<Double>, receiveCounts: [Int])
    /// The bytes this rank has sent to the others through the collectives so far (what a
    /// network would carry: its block to each of the K − 1 others in a gather, its blocks for
    /// the others in an all-to-all), for run.json and docs/scaling.md.
    var bytesSent: Int { get }
    /// Waits until every rank has called it.
    func barrier()
    /// Ends every process of the job with exit status `code`: for a failure that the other
    /// ranks may not share (they would otherwise wait forever in the next collective).
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// Whether this is rank 0, the rank that prints and writes files.
    public var isRoot: Bool { rank == 0 }

    /// The largest of every rank's `value` (used to agree on a stop: any rank's signal stops all).
    public func maximum(_ value: Int) -> Int {
        Int(allGather(UInt64(bitPattern: Int64(value))).map { Int64(bitPattern: $0) }.max()!)
    }

    /// Rows shared by blocks: every rank has filled its block `blocks.range(of: rank)` of the
    /// rows of `array` (row-major, `width` values a row, `blocks.count` rows), and ends with
    /// every rank's, as if it had filled them all (one ``allGather(_:counts:into:)``, exact).
    public func gatherBlocks(of array: inout [Double], width: Int, blocks: BlockPartition) {
        gatherBlocks(of: &array, width: width, rows: (0..<blocks.parts).map(blocks.range(of:)))
    }

    /// ``gatherBlocks(of:width:blocks:)`` for blocks given as every rank's rows (consecutive
    /// ranges covering the array's rows, in rank order).
    public func gatherBlocks(of array: inout [Double], width: Int, rows: [Range<Int>]) {
        guard size > 1 else { return }
        precondition(
            rows.count == size && rows.first?.lowerBound == 0 && array.count == (rows.last?.upperBound ?? 0) * width
                && zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound },
            "gatherBlocks: shapes")
        let mine = rows[rank]
        let local = Array(array[(mine.lowerBound * width)..<(mine.upperBound * width)])
        local.withUnsafeBufferPointer { l in
            array.withUnsafeMutableBufferPointer { allGather(l, counts: rows.map { $0.count * width }, into: $0) }
        }
    }

    /// Every rank's `values` added element by element (the same length on every rank; each
    /// sum within ±2^53, as counts are): exact, so the same on every rank for any rank count.
    /// One ``allGather(_:counts:into:)`` of K·n values: meant for short arrays (histograms).
    public func allSum(_ values: [Int]) -> [Int] {
        guard size > 1 else { return values }
        let all = allGather(values.map(Double.init), counts: [Int](repeating: values.count, count: size))
        var total = [Int](repeating: 0, count: values.count)
        for r in 0..<size { for k in 0..<values.count { total[k] += Int(all[r * values.count + k]) } }
        return total
    }

    /// Every rank's `values` reduced element by element with `combine` (min or max: exact, any
    /// order gives the same), the same length on every rank.
    public func allReduce(_ values: [Double], _ combine: (Double, Double) -> Double) -> [Double] {
        guard size > 1 else { return values }
        let all = allGather(values, counts: [Int](repeating: values.count, count: size))
        return (0..<values.count).map { k in (1..<size).reduce(all[k]) { combine($0, all[$1 * values.count + k]) } }
    }

    /// Every rank's count, in rank order.
    public func allCounts(_ count: Int) -> [Int] { allGather(UInt64(count)).map { Int($0) } }

    /// Rows that the ranks hold by global index, on every rank in index order: this rank holds
    /// the rows `ids` (`width` values each, row-major in `rows`), and every index of 0 ..< `total`
    /// is held by exactly one rank (collective; exact). The rows travel in rounds of at most
    /// 2^30 values in all, within what one MPI call can count (Int32).
    public func gatherRows(
        _ rows: UnsafeBufferPointer<Double>, width: Int, ids: UnsafeBufferPointer<Int>, total: Int
    )
        -> [Double]
    {
        precondition(rows.count == ids.count * width, "gatherRows: \(ids.count) ids for \(rows.count) values")
        let counts = allCounts(ids.count)
        precondition(counts.reduce(0, +) == total, "gatherRows: the ranks hold \(counts.reduce(0, +)) rows of \(total)")
        var result = [Double](repeating: 0, count: total * width)
        let perRound = max(1, (1 << 30) / max(1, (width + 1) * size))
        let rounds = (counts.max()! + perRound - 1) / perRound
        for round in 0..<rounds {
            let start = round * perRound
            let sent = counts.map { max(0, min(perRound, $0 - start)) }
            let mine = start..<(start + sent[rank])
            let allIDs = allGather(ids[mine].map(Double.init), counts: sent)
            let allRows = allGather(
                Array(rows[(mine.lowerBound * width)..<(mine.upperBound * width)]), counts: sent.map { $0 * width })
            for (k, id) in allIDs.enumerated() {
                let i = Int(id)
                for a in 0..<width { result[i * width + a] = allRows[k * width + a] }
            }
        }
        return result
    }

    /// Sends `outgoing[q]` to each rank q and returns what every rank sent this one, in rank
    /// order (the counts travel first, then one ``allToAll(_:sendCounts:into:receiveCounts:)``).
    public func exchange(_ outgoing: [[Double]]) -> [Double] {
        precondition(outgoing.count == size, "exchange: \(outgoing.count) blocks for \(size) ranks")
        let sendCounts = outgoing.map(\.count)
        let matrix = allGather(sendCounts.map(Double.init), counts: [Int](repeating: size, count: size))
        let receiveCounts = (0..<size).map { Int(matrix[$0 * size + rank]) }
        var received = [Double](repeating: 0, count: receiveCounts.reduce(0, +))
        outgoing.flatMap { $0 }.withUnsafeBufferPointer { s in
            received.withUnsafeMutableBufferPointer {
                allToAll(s, sendCounts: sendCounts, into: $0, receiveCounts: receiveCounts)
            }
        }
        return received
    }

    /// Every rank's `text`, in rank order (UTF-8 bytes carried as doubles: exact).
    public func allGather(_ text: String) -> [String] {
        guard size > 1 else { return [text] }
        let bytes = Array(text.utf8)
        let counts = allCounts(bytes.count)
        let all = allGather(bytes.map(Double.init), counts: counts)
        var start = 0
        return counts.map { count in
            defer { start += count }
            return String(decoding: all[start..<(start + count)].map { UInt8($0) }, as: UTF8.self)
        }
    }

    /// Array front-end of ``allGather(_:counts:into:)``.
    public func allGather(_ local: [Double], counts: [Int]) -> [Double] {
        var result = [Double](repeating: 0, count: counts.reduce(0, +))
        local.withUnsafeBufferPointer { l in
            result.withUnsafeMutableBufferPointer { allGather(l, counts: counts, into: $0) }
        }
        return result
    }
}

/// One process: every collective is the identity.
public final class SerialCommunicator: Communicator {
    /// The one-process communicator.
    public init() {}
    /// 0: the only rank.
    public var rank: Int { 0 }
    /// 1.
    public var size: Int { 1 }
    /// 1.
    public var ranksOnThisNode: Int { 1 }
    /// Copies `local` into `result` (`counts` must be `[local.count]`).
    public func allGather(
        _ local: UnsafeBufferPointer<Double>, counts: [Int], into result: UnsafeMutableBufferPointer<Double>
    ) {
        guard counts == [local.count], result.count == local.count else {
            fatalError(
                "SerialCommunicator.allGather: counts \(counts) for a block of \(local.count) into \(result.count)")
        }
        for k in 0..<local.count { result[k] = local[k] }
    }
    /// `[value]`.
    public func allGather(_ value: UInt64) -> [UInt64] { [value] }
    /// Copies `send` into `result` (both counts must be `[send.count]`).
    public func allToAll(
        _ send: UnsafeBufferPointer<Double>, sendCounts: [Int],
        into result: UnsafeMutableBufferPointer<Double>, receiveCounts: [Int]
    ) {
        guard receiveCounts == sendCounts else {
            fatalError("SerialCommunicator.allToAll: sends \(sendCounts) but receives \(receiveCounts)")
        }
        allGather(send, counts: sendCounts, into: result)
    }
    /// 0: nothing leaves the process.
    public var bytesSent: Int { 0 }
    /// Returns at once.
    public func barrier() {}
    /// Exits with `code`.
    public func abort(code: Int32) -> Never { exit(code) }
}
