import Foundation

/// A dense cell list for d ≤ 3: the sources' bounding box cut into cubic cells, the points
/// stored cell by cell (a stable counting sort), so that the points of a run of neighbouring
/// cells along the last axis are one contiguous range. The mesh's near field queries it once
/// per target; unlike ``SpatialHash`` (any d, unbounded domains, k nearest) there is no hashing
/// or collision filtering, which matters at tens of millions of pairs per call.
///
/// With a period L the points lie in [0, L)^d, the box is cut into ⌊L/h⌋ cells per axis (of
/// side L/⌊L/h⌋ ≥ h), the cells wrap around and distances are minimum-image; an axis with too
/// few cells for the query's reach is scanned whole, so no cell is visited twice.
final class CellList: @unchecked Sendable {
    let dimension: Int
    let cellSize: Double
    /// L of the periodic box, 0 for R^d.
    let box: Double
    let lower: SIMD4<Double>
    /// Cells per axis, unit for axes ≥ d.
    let cells: SIMD4<Int>
    /// Points of cell c: start[c] ..< start[c + 1], in input order.
    let start: UnsafeMutablePointer<Int>
    let points: UnsafeMutablePointer<Double>
    let index: UnsafeMutablePointer<Int>

    init(points source: UnsafeBufferPointer<Double>, dimension d: Int, cellSize requested: Double, period: Double? = nil) {
        precondition((1...3).contains(d) && requested > 0)
        dimension = d
        box = period ?? 0
        let perAxis = period.map { max(1, Int(($0 / requested).rounded(.down))) }
        let h = period.map { $0 / Double(perAxis!) } ?? requested
        cellSize = h
        let n = source.count / d
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        for i in 0..<n { for a in 0..<d { lo[a] = min(lo[a], source[i * d + a]); hi[a] = max(hi[a], source[i * d + a]) } }
        if n == 0 || period != nil { lo = [Double](repeating: 0, count: d); hi = lo }
        var lowerCorner = SIMD4<Double>(), counts = SIMD4<Int>(1, 1, 1, 1)
        for a in 0..<d {
            lowerCorner[a] = lo[a]
            counts[a] = perAxis ?? max(1, Int(((hi[a] - lo[a]) / h).rounded(.down)) + 1)
        }
        lower = lowerCorner
        cells = counts
        let total = cells[0] * cells[1] * cells[2]
        start = .allocate(capacity: total + 1)
        start.initialize(repeating: 0, count: total + 1)
        points = .allocate(capacity: max(1, n * d))
        index = .allocate(capacity: max(1, n))
        var cellOf = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var c = 0
            for a in 0..<3 {
                let k = a < d ? min(cells[a] - 1, max(0, Int((source[i * d + a] - lo[a]) / h))) : 0
                c = c * cells[a] + k
            }
            cellOf[i] = c
            start[c + 1] += 1
        }
        for c in 0..<total { start[c + 1] += start[c] }
        var next = Array(UnsafeBufferPointer(start: start, count: total))
        for i in 0..<n {
            let p = next[cellOf[i]]
            next[cellOf[i]] += 1
            index[p] = i
            for a in 0..<d { points[p * d + a] = source[i * d + a] }
        }
    }

    deinit {
        start.deallocate()
        points.deallocate()
        index.deallocate()
    }

    /// Calls `body(i, r²)` for every point within `radius` of `y`, cell rows in a fixed order.
    @inline(__always)
    func forEachNeighbour(of y: UnsafePointer<Double>, within radius: Double, _ body: (Int, Double) -> Void) {
        if box > 0 { return forEachPeriodicNeighbour(of: y, within: radius, body) }
        let d = dimension, reach = Int((radius / cellSize).rounded(.up)), r2max = radius * radius
        var lo = SIMD4<Int>(), hi = SIMD4<Int>()   // no heap allocation per query
        for a in 0..<d {
            let c = Int(((y[a] - lower[a]) / cellSize).rounded(.down))
            lo[a] = max(0, c - reach)
            hi[a] = min(cells[a] - 1, c + reach)
            if lo[a] > hi[a] { return }
        }
        // Axes before the last real one are looped; the last real axis is one contiguous run.
        let last = d - 1
        var c0 = lo[0]
        while c0 <= (last == 0 ? lo[0] : hi[0]) {
            var c1 = lo[1]
            while c1 <= (last <= 1 ? lo[1] : hi[1]) {
                let first: Int, end: Int
                switch last {
                case 0: (first, end) = (start[lo[0]], start[hi[0] + 1])
                case 1: (first, end) = (start[c0 * cells[1] + lo[1]], start[c0 * cells[1] + hi[1] + 1])
                default:
                    let row = (c0 * cells[1] + c1) * cells[2]
                    (first, end) = (start[row + lo[2]], start[row + hi[2] + 1])
                }
                var k = first
                while k < end {
                    var r2 = 0.0
                    for a in 0..<d { let t = points[k * d + a] - y[a]; r2 += t * t }
                    if r2 < r2max { body(index[k], r2) }
                    k += 1
                }
                c1 += 1
            }
            c0 += 1
        }
    }

    /// The periodic query: per axis the cells c − reach ... c + reach modulo the count (all of
    /// them, once, when 2·reach + 1 reaches the count); along the last axis as at most two
    /// contiguous runs; differences by minimum image (points and query in [0, L)).
    @inline(__always)
    func forEachPeriodicNeighbour(of y: UnsafePointer<Double>, within radius: Double, _ body: (Int, Double) -> Void) {
        let d = dimension, reach = Int((radius / cellSize).rounded(.up)), r2max = radius * radius
        let l = box, half = box / 2
        var lo = SIMD4<Int>(), hi = SIMD4<Int>()
        for a in 0..<d {
            let c = min(cells[a] - 1, max(0, Int((y[a] / cellSize).rounded(.down))))
            if 2 * reach + 1 >= cells[a] {
                (lo[a], hi[a]) = (0, cells[a] - 1)
            } else {
                (lo[a], hi[a]) = (c - reach, c + reach)
            }
        }
        let last = d - 1
        @inline(__always) func scan(_ first: Int, _ end: Int) {
            var k = first
            while k < end {
                var r2 = 0.0
                for a in 0..<d {
                    var t = points[k * d + a] - y[a]
                    if t > half { t -= l } else if t < -half { t += l }
                    r2 += t * t
                }
                if r2 < r2max { body(index[k], r2) }
                k += 1
            }
        }
        // The last axis's range [lo, hi] as runs of cells in 0 ..< count.
        let count = cells[last]
        let runs: (Int, Int, Int, Int)   // (a0, b0, a1, b1): cells a0 ... b0, then a1 ... b1 (empty if a1 > b1)
        if lo[last] < 0 {
            runs = (lo[last] + count, count - 1, 0, hi[last])
        } else if hi[last] >= count {
            runs = (lo[last], count - 1, 0, hi[last] - count)
        } else {
            runs = (lo[last], hi[last], 0, -1)
        }
        var c0 = lo[0]
        while c0 <= (last == 0 ? lo[0] : hi[0]) {
            let w0 = (c0 % cells[0] + cells[0]) % cells[0]
            var c1 = lo[1]
            while c1 <= (last <= 1 ? lo[1] : hi[1]) {
                let w1 = (c1 % cells[1] + cells[1]) % cells[1]
                let row: Int
                switch last {
                case 0: row = 0
                case 1: row = w0 * cells[1]
                default: row = (w0 * cells[1] + w1) * cells[2]
                }
                scan(start[row + runs.0], start[row + runs.1 + 1])
                if runs.2 <= runs.3 { scan(start[row + runs.2], start[row + runs.3 + 1]) }
                c1 += 1
            }
            c0 += 1
        }
    }
}
