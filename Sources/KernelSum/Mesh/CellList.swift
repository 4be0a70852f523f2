import Foundation

/// A dense cell list for d ≤ 3: the sources' bounding box cut into cubic cells, the points
/// stored cell by cell (a stable counting sort), so that the points of a run of neighbouring
/// cells along the last axis are one contiguous range. The mesh's near field queries it once
/// per target; unlike ``SpatialHash`` (any d, unbounded domains, k nearest) there is no hashing
/// or collision filtering, which matters at tens of millions of pairs per call.
///
/// In the periodic box [0, L)^d (a periodic ``Domain``) the points lie in the box, which is cut
/// into ⌊L/h⌋ cells per axis (of side L/⌊L/h⌋ ≥ h), the cells wrap around and distances are
/// minimum-image; an axis with too few cells for the query's reach is scanned whole, so no
/// cell is visited twice.
@_spi(MeshParts) public final class CellList: @unchecked Sendable {
    /// d, 1 to 3.
    public let dimension: Int
    /// The cells' side h (L/⌊L/h⌋ in the box).
    public let cellSize: Double
    /// R^d, or the periodic box [0, L)^d.
    public let domain: Domain
    let lower: SIMD4<Double>
    /// Cells per axis, unit for axes ≥ d.
    let cells: SIMD4<Int>
    /// Points of cell c: start[c] ..< start[c + 1], in input order.
    let start: UnsafeMutablePointer<Int>
    /// The points in cell order (d coordinates each), so that a run of stored positions is a
    /// run of memory.
    public let points: UnsafeMutablePointer<Double>
    /// index[p]: the input index of the point at stored position p.
    public let index: UnsafeMutablePointer<Int>

    /// - Parameters:
    ///   - source: N points of d coordinates, row-major (in [0, L)^d in the periodic box).
    ///   - d: the dimension, 1 to 3.
    ///   - requested: the cells' side h (> 0); in the box the nearest side L/k ≥ h.
    ///   - domain: R^d, or the periodic box [0, L)^d.
    ///   - frame: in R^d, the box [lower, upper] to cut into cells instead of the points'
    ///     bounding box (it must hold them): a rank holding part of the points then has the cells
    ///     of one process holding them all.
    public init(
        points source: UnsafeBufferPointer<Double>, dimension d: Int, cellSize requested: Double,
        domain: Domain = .free, frame: (lower: [Double], upper: [Double])? = nil
    ) {
        guard (1...3).contains(d), requested > 0 else {
            fatalError("CellList: dimension \(d) and cell size \(requested) (d is 1 to 3, the cell size positive)")
        }
        let period = domain.period
        dimension = d
        self.domain = domain
        let perAxis = period.map { max(1, Int(($0 / requested).rounded(.down))) }
        let h = period.map { $0 / Double(perAxis!) } ?? requested
        cellSize = h
        let n = source.count / d
        var lo = [Double](repeating: .infinity, count: d)
        var hi = [Double](repeating: -.infinity, count: d)
        for i in 0..<n {
            for a in 0..<d {
                lo[a] = min(lo[a], source[i * d + a])
                hi[a] = max(hi[a], source[i * d + a])
            }
        }
        if n == 0 || period != nil {
            lo = [Double](repeating: 0, count: d)
            hi = lo
        }
        if let frame, period == nil { (lo, hi) = frame }
        var lowerCorner = SIMD4<Double>()
        var counts = SIMD4<Int>(1, 1, 1, 1)
        for a in 0..<d {
            lowerCorner[a] = lo[a]
            counts[a] = perAxis ?? max(1, Int(((hi[a] - lo[a]) / h).rounded(.down)) + 1)
        }
        lower = lowerCorner
        cells = counts
        let total = cells[0] * cells[1] * cells[2]
        start = .allocate(capacity: total + 1)
        points = .allocate(capacity: max(1, n * d))
        index = .allocate(capacity: max(1, n))
        let (lower, size, cells) = (lower, cellSize, cells)
        let (order, starts) = countingSort(n, buckets: total) { i in
            CellList.cell(of: source.baseAddress! + i * d, dimension: d, lower: lower, size: size, cells: cells)
        }
        start.initialize(from: starts, count: total + 1)
        for (p, i) in order.enumerated() {
            index[p] = i
            for a in 0..<d { points[p * d + a] = source[i * d + a] }
        }
    }

    /// The cell of point x (clamped to the grid of cells).
    @inline(__always)
    static func cell(
        of x: UnsafePointer<Double>, dimension d: Int, lower: SIMD4<Double>, size: Double,
        cells: SIMD4<Int>
    ) -> Int {
        var c = 0
        for a in 0..<3 {
            let k = a < d ? min(cells[a] - 1, max(0, Int(((x[a] - lower[a]) / size).rounded(.down)))) : 0
            c = c * cells[a] + k
        }
        return c
    }

    deinit {
        start.deallocate()
        points.deallocate()
        index.deallocate()
    }

    /// The indices of `targets` in cell order (stable): queries taken in this order find their
    /// neighbours in memory that the previous query just read.
    public func cellOrder(of targets: UnsafeBufferPointer<Double>) -> [Int] {
        let d = dimension
        return countingSort(targets.count / d, buckets: cells[0] * cells[1] * cells[2]) { j in
            CellList.cell(of: targets.baseAddress! + j * d, dimension: d, lower: lower, size: cellSize, cells: cells)
        }.order
    }

    /// The most runs ``runs(near:within:into:)`` writes for a query radius.
    public func maximumRuns(within radius: Double) -> Int {
        let reach = Int((radius / cellSize).rounded(.up))
        return 2 * Int(pow(Double(2 * reach + 1), Double(dimension - 1)))
    }

    /// Writes (first, end) for each run of stored positions (``points``, ``index``) whose cells
    /// meet the cube of half-width `radius` about `y` into `runs`, in a fixed order, and returns
    /// their count: every point within `radius` (by minimum image in the box) of `y` lies in
    /// one of the runs, and no point in two. In the box the cells c − reach ... c + reach wrap
    /// modulo the count (all of them, once, when 2·reach + 1 reaches it), which splits a run
    /// along the last axis in two. (A buffer rather than a callback: the caller's pair loop
    /// then keeps its counters in registers.)
    @inline(__always)
    public func runs(
        near y: UnsafePointer<Double>, within radius: Double,
        into runs: UnsafeMutablePointer<Int>
    ) -> Int {
        var written = 0
        @inline(__always) func body(_ first: Int, _ end: Int) {
            runs[2 * written] = first
            runs[2 * written + 1] = end
            written += 1
        }
        let d = dimension
        let reach = Int((radius / cellSize).rounded(.up))
        let periodic = domain.isPeriodic
        var lo = SIMD4<Int>()
        var hi = SIMD4<Int>()  // no heap allocation per query
        for a in 0..<d {
            let c = Int(((y[a] - lower[a]) / cellSize).rounded(.down))
            if periodic {
                let centre = min(cells[a] - 1, max(0, c))
                (lo[a], hi[a]) = 2 * reach + 1 >= cells[a] ? (0, cells[a] - 1) : (centre - reach, centre + reach)
            } else {
                lo[a] = max(0, c - reach)
                hi[a] = min(cells[a] - 1, c + reach)
                if lo[a] > hi[a] { return 0 }
            }
        }
        // The last axis: cells a0 ... b0, then a1 ... b1 (empty unless the range wraps).
        let last = d - 1
        let count = cells[last]
        let (a0, b0, a1, b1) =
            lo[last] < 0
            ? (lo[last] + count, count - 1, 0, hi[last])
            : hi[last] >= count ? (lo[last], count - 1, 0, hi[last] - count) : (lo[last], hi[last], 0, -1)
        @inline(__always) func row(_ row: Int) {
            body(start[row + a0], start[row + b0 + 1])
            if a1 <= b1 { body(start[row + a1], start[row + b1 + 1]) }
        }
        @inline(__always) func wrapped(_ c: Int, _ a: Int) -> Int {
            c < 0 ? c + cells[a] : (c >= cells[a] ? c - cells[a] : c)
        }
        switch d {
        case 1:
            row(0)
        case 2:
            for c0 in lo[0]...hi[0] { row(wrapped(c0, 0) * cells[1]) }
        default:
            for c0 in lo[0]...hi[0] {
                for c1 in lo[1]...hi[1] { row((wrapped(c0, 0) * cells[1] + wrapped(c1, 1)) * cells[2]) }
            }
        }
        return written
    }
}

/// A stable counting sort of the indices 0 ..< count by integer keys in 0 ..< buckets: `order`
/// lists them bucket by bucket, in input order within a bucket, and bucket b's indices are
/// order[start[b] ..< start[b + 1]].
func countingSort(_ count: Int, buckets: Int, key: (Int) -> Int) -> (order: [Int], start: [Int]) {
    let keys = (0..<count).map(key)
    var start = [Int](repeating: 0, count: buckets + 1)
    for k in keys { start[k + 1] += 1 }
    for b in 0..<buckets { start[b + 1] += start[b] }
    var next = start
    var order = [Int](repeating: 0, count: count)
    for (i, k) in keys.enumerated() {
        order[next[k]] = i
        next[k] += 1
    }
    return (order, start)
}
