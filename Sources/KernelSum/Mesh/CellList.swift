import Foundation

/// A dense cell list for d ≤ 3: the sources' bounding box cut into cubic cells, the points
/// stored cell by cell (a stable counting sort), so that the points of a run of neighbouring
/// cells along the last axis are one contiguous range. The mesh's near field queries it once
/// per target; unlike ``SpatialHash`` (any d, unbounded domains, k nearest) there is no hashing
/// or collision filtering, which matters at tens of millions of pairs per call.
final class CellList: @unchecked Sendable {
    let dimension: Int
    let cellSize: Double
    let lower: SIMD4<Double>
    /// Cells per axis, unit for axes ≥ d.
    let cells: SIMD4<Int>
    /// Points of cell c: start[c] ..< start[c + 1], in input order.
    let start: UnsafeMutablePointer<Int>
    let points: UnsafeMutablePointer<Double>
    let index: UnsafeMutablePointer<Int>

    init(points source: UnsafeBufferPointer<Double>, dimension d: Int, cellSize h: Double) {
        precondition((1...3).contains(d) && h > 0)
        dimension = d
        cellSize = h
        let n = source.count / d
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        for i in 0..<n { for a in 0..<d { lo[a] = min(lo[a], source[i * d + a]); hi[a] = max(hi[a], source[i * d + a]) } }
        if n == 0 { lo = [Double](repeating: 0, count: d); hi = lo }
        var lowerCorner = SIMD4<Double>(), counts = SIMD4<Int>(1, 1, 1, 1)
        for a in 0..<d {
            lowerCorner[a] = lo[a]
            counts[a] = max(1, Int(((hi[a] - lo[a]) / h).rounded(.down)) + 1)
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

    /// The indices of `targets` in cell order (stable): queries taken in this order find their
    /// neighbours in memory that the previous query just read.
    func cellOrder(of targets: UnsafeBufferPointer<Double>) -> [Int] {
        let d = dimension, m = targets.count / d, total = cells[0] * cells[1] * cells[2]
        var cellOf = [Int](repeating: 0, count: m), next = [Int](repeating: 0, count: total + 1)
        for j in 0..<m {
            var c = 0
            for a in 0..<3 {
                let k = a < d ? min(cells[a] - 1, max(0, Int(((targets[j * d + a] - lower[a]) / cellSize).rounded(.down)))) : 0
                c = c * cells[a] + k
            }
            cellOf[j] = c
            next[c + 1] += 1
        }
        for c in 0..<total { next[c + 1] += next[c] }
        var order = [Int](repeating: 0, count: m)
        for j in 0..<m { order[next[cellOf[j]]] = j; next[cellOf[j]] += 1 }
        return order
    }

    /// Calls `body(first, end)` for each run of stored positions (``points``, ``index``) whose
    /// cells meet the cube of half-width `radius` about `y`, in a fixed order: every point
    /// within `radius` of `y` lies in one of the runs.
    @inline(__always)
    func forEachRun(near y: UnsafePointer<Double>, within radius: Double, _ body: (Int, Int) -> Void) {
        let d = dimension, reach = Int((radius / cellSize).rounded(.up))
        var lo = SIMD4<Int>(), hi = SIMD4<Int>()   // no heap allocation per query
        for a in 0..<d {
            let c = Int(((y[a] - lower[a]) / cellSize).rounded(.down))
            lo[a] = max(0, c - reach)
            hi[a] = min(cells[a] - 1, c + reach)
            if lo[a] > hi[a] { return }
        }
        // Axes before the last real one are looped; the last real axis is one contiguous run.
        switch d {
        case 1:
            body(start[lo[0]], start[hi[0] + 1])
        case 2:
            for c0 in lo[0]...hi[0] { body(start[c0 * cells[1] + lo[1]], start[c0 * cells[1] + hi[1] + 1]) }
        default:
            for c0 in lo[0]...hi[0] {
                for c1 in lo[1]...hi[1] {
                    let row = (c0 * cells[1] + c1) * cells[2]
                    body(start[row + lo[2]], start[row + hi[2] + 1])
                }
            }
        }
    }
}
