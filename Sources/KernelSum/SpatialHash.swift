import Foundation

/// A spatial hash (cell list) over points in R^d: radius queries and k nearest neighbours.
///
/// Space is cut into cubic cells of side `cellSize`; each point goes to the bucket of its
/// cell's integer coordinates, hashed into a table of about 2N buckets, so memory is O(N)
/// whatever the spread of the points and the dimension. Points are stored bucket by bucket
/// (a stable counting sort), with their cell coordinates, so a query scans only its cells and
/// a bucket shared by two cells (a hash collision) is filtered by comparing coordinates.
/// A radius-r query visits the (2⌈r/h⌉ + 1)^d cells around the query — cheap for r ≈ h and
/// small d, which is how the mesh engine's near field and the entropy estimators use it.
///
/// Queries visit cells in a fixed order and, within a cell, points in input order: results
/// (and sums accumulated from them) do not depend on how queries are spread over threads.
///
/// In the periodic box [0, L)^d (a periodic ``Domain``) the box is cut into ⌊L/h⌋ cells per
/// axis (`cellSize` becomes L/⌊L/h⌋ ≥ h), cells wrap around, and every distance is
/// minimum-image (``Domain/minimumImage(_:)``), for points and queries alike (coordinates
/// outside the box are taken modulo L, ``Domain/wrap(_:)-(Double)``). An axis with fewer cells
/// than a query reaches is scanned once, whole: no point is reported twice.
public struct SpatialHash: @unchecked Sendable {
    /// d.
    public let dimension: Int
    /// h, the cells' side (L/⌊L/h⌋ in the box).
    public let cellSize: Double
    /// N, the points hashed.
    public let count: Int
    /// R^d, or the periodic box [0, L)^d.
    public let domain: Domain
    /// The cells per axis of the periodic box (0 in R^d).
    let perAxis: Int32
    /// Points in bucket order (row-major), their input indices and their cell coordinates.
    let points: [Double]
    let indices: [Int32]
    let cells: [Int32]
    /// Points of bucket b: `bucketStart[b] ..< bucketStart[b + 1]`.
    let bucketStart: [Int32]
    let mask: Int

    /// Builds the hash of `points` (row-major, N × d), in R^d or in the periodic box [0, L)^d.
    /// - Parameters:
    ///   - source: N·d coordinates, row-major.
    ///   - d: the dimension, at least 1.
    ///   - requested: the cells' side h, positive and finite (in the box the nearest L/k ≥ h).
    ///   - domain: R^d, or the periodic box [0, L)^d.
    public init(
        points source: UnsafeBufferPointer<Double>, dimension d: Int, cellSize requested: Double,
        domain: Domain = .free
    ) {
        guard d > 0, source.count % d == 0, requested > 0, requested.isFinite else {
            fatalError(
                "SpatialHash: \(source.count) coordinates in dimension \(d), cell size \(requested) "
                    + "(whole points of d ≥ 1 coordinates and a positive, finite cell size)")
        }
        dimension = d
        self.domain = domain
        let period = domain.period
        let boxCells = period.map { min(Double(1 << 30), max(1, ($0 / requested).rounded(.down))) } ?? 0
        perAxis = Int32(boxCells)
        let cellSize = period.map { $0 / boxCells } ?? requested
        self.cellSize = cellSize
        let n = source.count / d
        count = n
        var size = 16
        while size < 2 * n { size <<= 1 }
        mask = size - 1
        var cellOf = [Int32](repeating: 0, count: n * d)
        var bucketOf = [Int](repeating: 0, count: n)
        var starts = [Int32](repeating: 0, count: size + 1)
        let inverse = 1 / cellSize
        for i in 0..<n {
            for a in 0..<d {
                // Clamped so that far-away points share edge cells instead of overflowing.
                let c = (source[i * d + a] * inverse).rounded(.down)
                cellOf[i * d + a] =
                    period == nil
                    ? Int32(max(-1e9, min(1e9, c)))
                    : SpatialHash.periodicCell(source[i * d + a], domain, cellSize, perAxis)
            }
            let b = cellOf.withUnsafeBufferPointer { SpatialHash.hash($0.baseAddress! + i * d, d) } & mask
            bucketOf[i] = b
            starts[b + 1] += 1
        }
        for b in 0..<size { starts[b + 1] += starts[b] }
        var next = starts
        var sortedPoints = [Double](repeating: 0, count: n * d)
        var sortedIndices = [Int32](repeating: 0, count: n)
        var sortedCells = [Int32](repeating: 0, count: n * d)
        for i in 0..<n {
            let p = Int(next[bucketOf[i]])
            next[bucketOf[i]] += 1
            sortedIndices[p] = Int32(i)
            for a in 0..<d {
                sortedPoints[p * d + a] = source[i * d + a]
                sortedCells[p * d + a] = cellOf[i * d + a]
            }
        }
        points = sortedPoints
        indices = sortedIndices
        cells = sortedCells
        bucketStart = starts
    }

    /// The cell of a coordinate in the periodic box: ⌊(t mod L)/h⌋ in 0 ..< cells.
    @inline(__always) static func periodicCell(_ t: Double, _ domain: Domain, _ h: Double, _ cells: Int32) -> Int32 {
        Int32(min(Double(cells - 1), max(0, (domain.wrap(t) / h).rounded(.down))))
    }

    @inline(__always) static func hash(_ c: UnsafePointer<Int32>, _ d: Int) -> Int {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for a in 0..<d {
            h = (h ^ UInt64(UInt32(bitPattern: c[a]))) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        return Int(truncatingIfNeeded: h >> 1)
    }

    /// Calls `body(index, squaredDistance)` for every point within `radius` of `query`
    /// (|x − q| < radius), in a fixed order.
    /// - Parameters:
    ///   - query: d coordinates.
    ///   - radius: the search radius.
    ///   - body: called with each neighbour's index and squared distance.
    @inlinable public func forEachNeighbour(
        of query: UnsafePointer<Double>, within radius: Double,
        _ body: (Int, Double) -> Void
    ) {
        let reach = Int((radius / cellSize).rounded(.up))
        forEachCell(around: query, reach: reach) { first, end in
            neighboursInRange(first, end, query, radius * radius, body)
        }
    }

    @usableFromInline func neighboursInRange(
        _ first: Int, _ end: Int, _ query: UnsafePointer<Double>,
        _ radius2: Double, _ body: (Int, Double) -> Void
    ) {
        let d = dimension
        let l = domain.period ?? 0
        let inverse = domain.inversePeriod
        points.withUnsafeBufferPointer { p in
            if l > 0 {
                for k in first..<end {
                    var r2 = 0.0
                    for a in 0..<d {
                        let t = Domain.minimumImage(p[k * d + a] - query[a], period: l, inverse: inverse)
                        r2 += t * t
                    }
                    if r2 < radius2 { body(Int(indices[k]), r2) }
                }
                return
            }
            for k in first..<end {
                var r2 = 0.0
                for a in 0..<d {
                    let t = p[k * d + a] - query[a]
                    r2 += t * t
                }
                if r2 < radius2 { body(Int(indices[k]), r2) }
            }
        }
    }

    /// For each cell within Chebyshev distance `reach` of the query's cell (in lexicographic
    /// order), the range of stored points belonging to exactly that cell, as (first, end) runs.
    @usableFromInline func forEachCell(
        around query: UnsafePointer<Double>, reach: Int,
        _ body: (Int, Int) -> Void
    ) {
        let d = dimension
        if domain.isPeriodic { return forEachPeriodicCell(around: query, reach: reach, body) }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * d) { buffer in
            let centre = buffer.baseAddress!
            let cell = centre + d
            for a in 0..<d {
                let c = (query[a] / cellSize).rounded(.down)
                centre[a] = Int32(max(-1e9, min(1e9, c)))
                cell[a] = centre[a] - Int32(reach)
            }
            while true {
                visitCell(cell, body)
                // Odometer over the (2·reach + 1)^d offsets.
                var a = d - 1
                while a >= 0 {
                    cell[a] += 1
                    if cell[a] <= centre[a] + Int32(reach) { break }
                    cell[a] = centre[a] - Int32(reach)
                    a -= 1
                }
                if a < 0 { break }
            }
        }
    }

    /// The periodic box: offsets −reach ... reach around the query's cell modulo the cells per
    /// axis, or every cell of an axis once when 2·reach + 1 covers it.
    func forEachPeriodicCell(around query: UnsafePointer<Double>, reach: Int, _ body: (Int, Int) -> Void) {
        let d = dimension
        let cells = Int(perAxis)
        let full = 2 * reach + 1 >= cells
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * d) { counters in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: d) { wrapped in
                let low = counters.baseAddress!
                let high = low + d
                let counter = low + 2 * d
                let cell = wrapped.baseAddress!
                for a in 0..<d {
                    let c = Int(SpatialHash.periodicCell(query[a], domain, cellSize, perAxis))
                    (low[a], high[a]) = full ? (0, cells - 1) : (c - reach, c + reach)
                    counter[a] = low[a]
                    cell[a] = Int32((counter[a] % cells + cells) % cells)
                }
                while true {
                    visitCell(UnsafePointer(cell), body)
                    var a = d - 1
                    while a >= 0 {
                        counter[a] += 1
                        if counter[a] <= high[a] {
                            cell[a] = Int32((counter[a] % cells + cells) % cells)
                            break
                        }
                        counter[a] = low[a]
                        cell[a] = Int32((counter[a] % cells + cells) % cells)
                        a -= 1
                    }
                    if a < 0 { break }
                }
            }
        }
    }

    /// Runs of the cell's bucket holding points of exactly this cell (collisions filtered).
    @inline(__always) func visitCell(_ cell: UnsafePointer<Int32>, _ body: (Int, Int) -> Void) {
        let d = dimension
        let b = SpatialHash.hash(cell, d) & mask
        let lo = Int(bucketStart[b])
        let hi = Int(bucketStart[b + 1])
        guard lo < hi else { return }
        cells.withUnsafeBufferPointer { cs in
            var runStart = -1
            for k in lo..<hi {
                var same = true
                for a in 0..<d where cs[k * d + a] != cell[a] {
                    same = false
                    break
                }
                if same {
                    if runStart < 0 { runStart = k }
                } else if runStart >= 0 {
                    body(runStart, k)
                    runStart = -1
                }
            }
            if runStart >= 0 { body(runStart, hi) }
        }
    }

    /// The `k` points nearest to `query` (ascending distance; ties by index), skipping the
    /// point with index `excluding` (the query itself when it is one of the points).
    /// - Parameters:
    ///   - k: how many (fewer when there are not that many points).
    ///   - query: d coordinates.
    ///   - excluding: an index to leave out, or nil.
    public func nearest(
        _ k: Int, to query: UnsafePointer<Double>, excluding: Int? = nil
    )
        -> [(index: Int, squaredDistance: Double)]
    {
        let available = count - (excluding == nil ? 0 : 1)
        let want = min(k, available)
        guard want > 0 else { return [] }
        var found: [(index: Int, squaredDistance: Double)] = []
        var reach = 0
        while true {
            // Once the shell holds more cells than there are points, a scan of all points is cheaper.
            if pow(Double(2 * reach + 1), Double(dimension)) > Double(count) {
                found.removeAll(keepingCapacity: true)
                neighboursInRange(0, count, query, .infinity) { i, r2 in
                    if i != excluding { found.append((i, r2)) }
                }
                found.sort {
                    $0.squaredDistance < $1.squaredDistance
                        || ($0.squaredDistance == $1.squaredDistance && $0.index < $1.index)
                }
                return Array(found.prefix(want))
            }
            // All points within the cells of Chebyshev ring ≤ reach; any point outside them is
            // farther than reach·h from the query.
            found.removeAll(keepingCapacity: true)
            forEachCell(around: query, reach: reach) { first, end in
                neighboursInRange(first, end, query, .infinity) { i, r2 in
                    if i != excluding { found.append((i, r2)) }
                }
            }
            if found.count >= want {
                found.sort {
                    $0.squaredDistance < $1.squaredDistance
                        || ($0.squaredDistance == $1.squaredDistance && $0.index < $1.index)
                }
                let bound = Double(reach) * cellSize
                if found[want - 1].squaredDistance <= bound * bound || found.count == available {
                    return Array(found.prefix(want))
                }
            }
            reach = reach == 0 ? 1 : reach * 2
        }
    }
}
