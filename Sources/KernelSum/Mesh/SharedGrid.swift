import CFFTW
import Communication

/// The mesh's FFT grid shared by the ranks of a job, d = 2, 3 (a slab decomposition, as
/// FFTW-MPI and P3M codes cut a grid): rank r owns the slab ``rows``[r] of axis-0 indices (the
/// rows holding data shared evenly). The spreading is cut apart, by sources
/// (``spreadingCuts(sources:rowWork:overlap:parts:)``, to the row: the points are seldom spread
/// evenly over the rows), and the rows a rank spread for another's slab are sent to it
/// (``moveRows(_:rowLength:planes:planeStride:spread:needed:exchange:)``). Each rank runs its
/// slab's share of the transforms along the other axes, and the ranks transpose
/// (`allToAll`) so that each owns a set of columns along axis 0; there it
/// transforms along axis 0, multiplies, transforms back, and the ranks transpose back; each
/// finishes its slab's transforms. Per transform and rank: grid/K of work, and about 2·grid/K
/// of the in-band spectrum sent (the columns outside the kernel's band are never transformed
/// nor sent: their multiplier is 0). The rows next to a slab that its rank's interpolation
/// reads are then moved to it like the spread rows (``MeshConvolution``).
///
/// Every number is computed by the same FFTW plan, on the same addresses of a full-size
/// buffer, as by one process (``GridFFT``'s blocks are dealt out whole: slab cuts fall on
/// block boundaries), and the multiplier is applied element by element, so the grid, hence
/// every sum, is bit for bit the one process's whatever the rank count.
@_spi(MeshParts) public struct SharedGrid {
    let communicator: any Communicator
    /// n₀, the grid's length along axis 0.
    let length: Int
    /// Complex spectrum values per axis-0 index (the columns of the axis-0 pass).
    let columns: Int
    /// Real grid values per axis-0 index.
    let realRowLength: Int
    /// Each rank's slab of axis-0 indices (together 0 ..< n₀, in rank order).
    public let rows: [Range<Int>]
    /// The rows whose spectrum can be non-zero: from this one on, the forward transforms set
    /// it to exactly 0 (GridFFT's `leading`) without reading the grid, so nobody spreads them
    /// and a column's owner fills them itself.
    let spectrumRows: Int
    /// The rows that the interpolation reads (the rest is the aperiodic convolution's zero
    /// padding): only these travel back.
    let readRows: Int
    /// Per pass along the axes other than 0 (``GridFFT/passBlocks`` 0 ..< d − 1), each rank's
    /// blocks: those within its slab.
    public let slabBlocks: [[Range<Int>]]
    /// The axis-0 pass's blocks (first column, count), and each rank's share of them.
    public let columnPass: [(start: Int, count: Int)]
    public let columnBlocks: [Range<Int>]
    /// Columns in no axis-0 block: outside the band, multiplied (by 0) by each row's owner.
    public let uncovered: [Range<Int>]

    /// The work of one grid value of a spread row (setting it to 0, and carrying it to its
    /// slab) in units of one source spread: under a nanosecond against about 65 ns to spread a
    /// source with a 1e-6 window (measured with perf on this machine class, 2-D SVGD at
    /// N = 10⁶).
    public static let rowCost = 0.01

    /// The decomposition of `transform`'s grid over `communicator`'s ranks, or nil for one
    /// rank or a 1-D grid (one row: nothing to share).
    /// - Parameters:
    ///   - transform: the grid's transforms (their blocks are dealt out).
    ///   - usedRows: the axis-0 indices holding data (the rest is the zero padding of the
    ///     aperiodic convolution, which the last slab takes).
    public init?(communicator: any Communicator, transform: GridFFT, usedRows: Int?) {
        let d = transform.dimension
        let k = communicator.size
        guard k > 1, d > 1 else { return nil }
        self.communicator = communicator
        let n0 = transform.shape[0]
        length = n0
        columns = transform.complexCount / n0
        realRowLength = transform.shape.reduce(1, *) / n0
        let passes = transform.passBlocks
        // The last axis's transforms per axis-0 index, and the cut unit that keeps its blocks
        // (of GridFFT.block rows, from row 0) whole.
        let lastRows = transform.complexCount / (transform.shape[d - 1] / 2 + 1) / n0
        var (a, b) = (GridFFT.block, lastRows)
        while b != 0 { (a, b) = (b, a % b) }
        let unit = GridFFT.block / a
        // GridFFT skips the last-axis blocks that start at row index ≥ used × lastRows.
        let used = min(n0, usedRows ?? n0)
        let blockEnd = min(n0 * lastRows, (used * lastRows + GridFFT.block - 1) / GridFFT.block * GridFFT.block)
        spectrumRows = min(n0, (blockEnd + lastRows - 1) / lastRows)
        readRows = used
        // The rows holding data, evenly in whole units; the padding goes to the last slab.
        var cuts = SharedGrid.balancedCuts([Double](repeating: 1, count: used), parts: k, unit: unit)
        cuts[k] = n0
        rows = (0..<k).map { cuts[$0]..<cuts[$0 + 1] }
        let owner = { (i0: Int) in cuts.lastIndex { $0 <= i0 && i0 < n0 }! }
        let columns = self.columns
        slabBlocks = (0..<(d - 1)).map { p in
            let first = passes[p].map { block in owner(p == 0 ? block.start / lastRows : block.start / columns) }
            // Blocks run in axis-0 order, so each rank's are consecutive.
            return (0..<k).map { r in
                let mine = first.indices.filter { first[$0] == r }
                return (mine.first ?? 0)..<((mine.last ?? -1) + 1)
            }
        }
        columnPass = passes[d - 1]
        columnBlocks = (0..<k).map { SharedGrid.columnBlocks(of: transform, rank: $0, ranks: k) }
        var gaps: [Range<Int>] = []
        var next = 0
        for block in columnPass {
            if block.start > next { gaps.append(next..<block.start) }
            next = block.start + block.count
        }
        if next < columns { gaps.append(next..<columns) }
        uncovered = gaps
    }

    /// The axis-0 indices this rank transforms.
    public var mine: Range<Int> { rows[communicator.rank] }

    /// Rank `rank`'s blocks of `transform`'s axis-0 pass (of ``GridFFT/passBlocks``' last): an
    /// even share, in order.
    public static func columnBlocks(of transform: GridFFT, rank: Int, ranks: Int) -> Range<Int> {
        BlockPartition(count: transform.passBlocks[transform.dimension - 1].count, parts: ranks).range(of: rank)
    }

    /// Rank `rank`'s columns (first complex element, count) of the axis-0 pass: where it
    /// multiplies every row by the multiplier, which it needs there only (``MeshBuffers``).
    public static func columns(of transform: GridFFT, rank: Int, ranks: Int) -> [(start: Int, count: Int)] {
        Array(transform.passBlocks[transform.dimension - 1][columnBlocks(of: transform, rank: rank, ranks: ranks)])
    }

    /// Cuts 0 = c₀ ≤ c₁ ≤ … ≤ c_parts = work.count of the items 0 ..< work.count into `parts`
    /// blocks of about equal work, each cut on a multiple of `unit` (but the last), nearest to
    /// where the running total reaches r/parts of it.
    public static func balancedCuts(_ work: [Double], parts: Int, unit: Int) -> [Int] {
        let n = work.count
        let units = (n + unit - 1) / unit
        var unitWork = [Double](repeating: 0, count: units)
        for (i, w) in work.enumerated() { unitWork[i / unit] += w }
        let total = unitWork.reduce(0, +)
        var cuts = [0]
        var sum = 0.0
        for (u, w) in unitWork.enumerated() where cuts.count < parts {
            let before = sum
            sum += w
            while cuts.count < parts && sum >= total * Double(cuts.count) / Double(parts) {
                let target = total * Double(cuts.count) / Double(parts)
                cuts.append(min(n, (target - before < sum - target ? u : u + 1) * unit))
            }
        }
        while cuts.count < parts { cuts.append(n) }
        return cuts + [n]
    }

    /// Cuts 0 = c₀ ≤ … ≤ c_parts = sources.count of the spreading grid's rows, minimising the
    /// largest part's work: a part [a, b) evaluates the window of every source whose window
    /// meets it, those starting in [a − overlap, b) (`overlap` = w − 1: the sources just below
    /// a cut are evaluated by both parts), and sets `rowWork` per row.
    public static func spreadingCuts(sources: [Int], rowWork: Double, overlap: Int, parts: Int) -> [Int] {
        let n = sources.count
        var prefix = [0.0]
        for s in sources { prefix.append(prefix.last! + Double(s)) }
        let work = { (a: Int, b: Int) in prefix[b] - prefix[max(0, a - overlap)] + rowWork * Double(b - a) }
        // Greedy parts no heavier than `limit`; nil when they do not cover the rows.
        func cuts(_ limit: Double) -> [Int]? {
            var out = [0]
            for _ in 0..<parts {
                let a = out.last!
                var b = a
                while b < n && work(a, b + 1) <= limit { b += 1 }
                out.append(b)
            }
            return out.last == n ? out : nil
        }
        var (low, high) = (0.0, work(0, n))
        for _ in 0..<60 where high - low > 1e-9 * high {
            let middle = (low + high) / 2
            if cuts(middle) == nil { low = middle } else { high = middle }
        }
        return cuts(high) ?? ([0] + [Int](repeating: n, count: parts))
    }

    /// Sends the rows each rank spread (`spread`[q], of the spreading grid's lead slot) to the
    /// ranks that need them (`needed`[r]: the rows that fold onto r's slab), and receives into
    /// `grid` the rows this rank needs but another spread. A row is `rowLength` values in each
    /// of `planes` planes (channels) `planeStride` apart.
    func moveRows(
        _ grid: UnsafeMutablePointer<Double>, rowLength: Int, planes: Int, planeStride: Int,
        spread: [Range<Int>], needed: [[Range<Int>]], exchange: (PaddedBuffer, PaddedBuffer)
    ) {
        let me = communicator.rank
        // The rows q spread that r needs (none to itself: they are in place), plane by plane.
        func rows(from q: Int, to r: Int, _ visit: (Int, Int) -> Void) {
            guard q != r else { return }
            let ranges = needed[r].map { $0.clamped(to: spread[q]) }.filter { !$0.isEmpty }
            for plane in 0..<planes {
                for range in ranges {
                    visit(plane * planeStride + range.lowerBound * rowLength, range.count * rowLength)
                }
            }
        }
        movePieces(
            grid, through: exchange, outgoing: { rows(from: me, to: $0, $1) }, incoming: { rows(from: $0, to: me, $1) })
    }

    /// One `allToAll` of pieces of `base`: `outgoing(q, visit)` visits the pieces (offset, count
    /// in doubles) sent to rank q, in order; `incoming(r, visit)` the pieces that receive what
    /// rank r sends, in the order r sends them.
    private func movePieces(
        _ base: UnsafeMutablePointer<Double>, through buffers: (PaddedBuffer, PaddedBuffer),
        outgoing: (Int, (Int, Int) -> Void) -> Void, incoming: (Int, (Int, Int) -> Void) -> Void
    ) {
        let k = communicator.size
        func size(_ pieces: (Int, (Int, Int) -> Void) -> Void, _ r: Int) -> Int {
            var total = 0
            pieces(r) { _, count in total += count }
            return total
        }
        let sendCounts = (0..<k).map { size(outgoing, $0) }
        let receiveCounts = (0..<k).map { size(incoming, $0) }
        let send = buffers.0.reserve(sendCounts.reduce(0, +))
        let receive = buffers.1.reserve(receiveCounts.reduce(0, +))
        var at = 0
        for q in 0..<k {
            outgoing(q) { offset, count in
                (send + at).update(from: base + offset, count: count)
                at += count
            }
        }
        communicator.allToAll(
            UnsafeBufferPointer(start: send, count: at), sendCounts: sendCounts,
            into: UnsafeMutableBufferPointer(start: receive, count: receiveCounts.reduce(0, +)),
            receiveCounts: receiveCounts)
        at = 0
        for r in 0..<k {
            incoming(r) { offset, count in
                (base + offset).update(from: receive + at, count: count)
                at += count
            }
        }
    }

    /// One channel's convolution (``MeshConvolution/convolve(_:)``'s, shared): `grid` holds
    /// this rank's slab on entry and on return (convolved; its rows up to ``readRows``).
    func convolve(
        _ grid: UnsafeMutablePointer<Double>, buffers: MeshBuffers, exchange: (PaddedBuffer, PaddedBuffer),
        threads: Int, leading: Int?
    ) {
        let d = buffers.transform.dimension
        let rank = communicator.rank
        let transform = buffers.transform
        let spectrum = buffers.spectrum
        for p in 0..<(d - 1) {
            transform.run(
                pass: p, blocks: slabBlocks[p][rank], forward: true, real: grid, spectrum: spectrum,
                threads: threads, leading: leading)
        }
        transpose(spectrum, toColumns: true, exchange: exchange)
        transform.run(
            pass: d - 1, blocks: columnBlocks[rank], forward: true, real: grid, spectrum: spectrum,
            threads: threads, leading: leading)
        multiply(spectrum, by: buffers.multiplier, threads: threads)
        transform.run(
            pass: d - 1, blocks: columnBlocks[rank], forward: false, real: grid, spectrum: spectrum,
            threads: threads, leading: leading)
        transpose(spectrum, toColumns: false, exchange: exchange)
        for p in (0..<(d - 1)).reversed() {
            transform.run(
                pass: p, blocks: slabBlocks[p][rank], forward: false, real: grid, spectrum: spectrum,
                threads: threads, leading: leading)
        }
    }

    /// The spectrum of this rank's slab to its columns' owners (`toColumns`), or back.
    private func transpose(
        _ spectrum: UnsafeMutablePointer<fftw_complex>, toColumns: Bool, exchange: (PaddedBuffer, PaddedBuffer)
    ) {
        let me = communicator.rank
        let z = UnsafeMutableRawPointer(spectrum).assumingMemoryBound(to: Double.self)
        // Rank r's rows (those that carry data this way) × rank q's columns, row by row, block
        // by block, in doubles.
        let carried = toColumns ? 0..<spectrumRows : 0..<readRows
        func pieces(rows r: Int, columnsOf q: Int, _ visit: (Int, Int) -> Void) {
            for i0 in rows[r].clamped(to: carried) {
                for (start, count) in columnPass[columnBlocks[q]] { visit(2 * (i0 * columns + start), 2 * count) }
            }
        }
        if toColumns {
            movePieces(
                z, through: exchange, outgoing: { pieces(rows: me, columnsOf: $0, $1) },
                incoming: { pieces(rows: $0, columnsOf: me, $1) })
        } else {
            movePieces(
                z, through: exchange, outgoing: { pieces(rows: $0, columnsOf: me, $1) },
                incoming: { pieces(rows: me, columnsOf: $0, $1) })
        }
        // The rows past the data are 0 on their owner: as they would arrive.
        guard toColumns else { return }
        for i0 in spectrumRows..<length {
            for (start, count) in columnPass[columnBlocks[me]] {
                (spectrum + i0 * columns + start).update(repeating: (0, 0), count: count)
            }
        }
    }

    /// The multiplier on this rank's columns (every row) and, outside every column block, on
    /// its rows: each spectrum value is multiplied once, by its owner, as by one process.
    /// `multiplier` holds this rank's columns only, row after row (``MeshBuffers``); outside
    /// every column block it is 0 (beyond the band), and that 0 multiplies as one process's.
    private func multiply(_ spectrum: UnsafeMutablePointer<fftw_complex>, by multiplier: [Double], threads: Int) {
        let s = SharedMutablePointer(spectrum)
        let mine = columnPass[columnBlocks[communicator.rank]]
        let ownColumns = mine.reduce(0) { $0 + $1.count }
        let slab = self.mine
        let columns = self.columns
        let uncovered = self.uncovered
        precondition(multiplier.count == length * ownColumns, "SharedGrid: a multiplier of this rank's columns")
        // (A rank without columns reads none: one placeholder keeps the pointer valid.)
        (multiplier.isEmpty ? [0] : multiplier).withUnsafeBufferPointer { mp in
            let factor = SharedPointer(mp.baseAddress!)
            Parallel.forEachChunk(length, threads: threads, minimumChunk: 16) { range in
                for i0 in range {
                    let row = i0 * columns
                    var k = i0 * ownColumns
                    for (start, count) in mine {
                        for j in (row + start)..<(row + start + count) {
                            s[j].0 *= factor[k]
                            s[j].1 *= factor[k]
                            k += 1
                        }
                    }
                    guard slab.contains(i0) else { continue }
                    for gap in uncovered {
                        for j in (row + gap.lowerBound)..<(row + gap.upperBound) {
                            s[j].0 *= 0
                            s[j].1 *= 0
                        }
                    }
                }
            }
        }
    }
}
