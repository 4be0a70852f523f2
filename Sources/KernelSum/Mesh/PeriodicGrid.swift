import Foundation

/// The spreading grid of the periodic box: the FFT grid G_a (2n_a points of spacing h/2 over
/// one period) padded by w points on each side, so that the non-periodic spreading and
/// interpolation loops run unchanged on it (every window of a point in [0, L) fits). After
/// spreading, ``fold(into:channels:threads:)`` adds every padded point onto its image modulo
/// G_a; before interpolating, ``unfold(from:channels:threads:)`` copies the periodic grid back
/// onto the padded one. Both are per output point, in a fixed order: the result does not
/// depend on the thread count (a window wider than the grid wraps several times, which the
/// modular images handle).
@_spi(MeshParts) public struct PeriodicGrid {
    /// d, 1 to 3.
    public let dimension: Int
    /// w, the padding on each side.
    public let pad: Int
    /// The FFT grid, 1 for axes ≥ d.
    public let grid: [Int]
    /// The padded grid, G_a + 2w for a < d, 1 beyond.
    public let shape: [Int]
    /// The padded grid, channel after channel (held by the ``PaddedBuffer`` given).
    public let buffer: UnsafeMutablePointer<Double>

    /// - Parameters:
    ///   - grid: G_a per axis, three entries (1 beyond d).
    ///   - d: the dimension.
    ///   - w: the padding on each side (the window's width).
    ///   - channels: padded grids held side by side in ``buffer``.
    ///   - padded: the allocation to hold them, reused between calls.
    public init(grid: [Int], dimension d: Int, pad w: Int, channels: Int, buffer padded: PaddedBuffer) {
        dimension = d
        pad = w
        self.grid = grid
        shape = (0..<3).map { $0 < d ? grid[$0] + 2 * w : 1 }
        buffer = padded.reserve(shape.reduce(1, *) * channels)
    }

    /// The padded indices e ≡ p + w (mod G) of each grid index p, per axis, ascending.
    public func images(_ a: Int) -> [[Int]] {
        guard a < dimension else { return [[0]] }
        let g = grid[a]
        return (0..<g).map { p in stride(from: (p + pad) % g, to: g + 2 * pad, by: g).map { $0 } }
    }

    /// The padded rows (axis 0) whose images fold onto the grid rows `slab`, as ascending ranges.
    public func rowsFolding(onto slab: Range<Int>) -> [Range<Int>] {
        let image = images(0)
        let needed = Set(slab.flatMap { image[$0] }).sorted()
        var ranges: [Range<Int>] = []
        for e in needed {
            if let last = ranges.last, last.upperBound == e {
                ranges[ranges.count - 1] = last.lowerBound..<(e + 1)
            } else {
                ranges.append(e..<(e + 1))
            }
        }
        return ranges
    }

    /// The grid rows (axis 0) that the padded rows `padded` copy (e ↦ (e − w) mod G), as
    /// ascending ranges.
    public func gridRows(readBy padded: Range<Int>) -> [Range<Int>] {
        let g = grid[0]
        guard padded.count < g else { return padded.isEmpty ? [] : [0..<g] }
        let first = ((padded.lowerBound - pad) % g + g) % g
        let end = first + padded.count
        return end <= g ? [first..<end] : [0..<(end - g), first..<g]
    }

    /// grid[p] = Σ_{e ≡ p + w} padded[e], channel by channel, for the grid rows `rows` (axis 0;
    /// all by default).
    public func fold(into out: UnsafeMutablePointer<Double>, channels: Int, threads: Int, rows: Range<Int>? = nil) {
        let rows = rows ?? 0..<grid[0]
        let im = (0..<3).map { images($0) }
        let (g0, g1, g2) = (grid[0], dimension > 1 ? grid[1] : 1, dimension > 2 ? grid[2] : 1)
        let (e1, e2) = (shape[1], shape[2])
        let total = g0 * g1 * g2
        let paddedTotal = shape.reduce(1, *)
        let source = SharedPointer(UnsafePointer(buffer))
        let target = SharedMutablePointer(out)
        for c in 0..<channels {
            Parallel.forEachChunk(rows.count, threads: threads, minimumChunk: 4) { range in
                for p0 in (rows.lowerBound + range.lowerBound)..<(rows.lowerBound + range.upperBound) {
                    for p1 in 0..<g1 {
                        for p2 in 0..<g2 {
                            var s = 0.0
                            for q0 in im[0][p0] {
                                for q1 in im[1][p1] {
                                    let row = source.base + c * paddedTotal + (q0 * e1 + q1) * e2
                                    for q2 in im[2][p2] { s += row[q2] }
                                }
                            }
                            target[c * total + (p0 * g1 + p1) * g2 + p2] = s
                        }
                    }
                }
            }
        }
    }

    /// padded[e] = grid[(e − w) mod G], channel by channel, for the padded rows `rows` (axis 0;
    /// all by default).
    public func unfold(from grid: UnsafeMutablePointer<Double>, channels: Int, threads: Int, rows: Range<Int>? = nil) {
        let d = dimension
        let w = pad
        let g = (0..<3).map { $0 < d ? self.grid[$0] : 1 }
        let (e0, e1, e2) = (shape[0], shape[1], shape[2])
        let total = g[0] * g[1] * g[2]
        let paddedTotal = e0 * e1 * e2
        let wrap = (0..<3).map { a in (0..<shape[a]).map { a < d ? (($0 - w) % g[a] + g[a]) % g[a] : 0 } }
        let source = SharedPointer(UnsafePointer(grid))
        let target = SharedMutablePointer(buffer)
        let rows = rows ?? 0..<e0
        for c in 0..<channels {
            Parallel.forEachChunk(rows.count, threads: threads, minimumChunk: 4) { range in
                for q0 in (rows.lowerBound + range.lowerBound)..<(rows.lowerBound + range.upperBound) {
                    for q1 in 0..<e1 {
                        let row = source.base + c * total + (wrap[0][q0] * g[1] + wrap[1][q1]) * g[2]
                        let out = target.base + c * paddedTotal + (q0 * e1 + q1) * e2
                        for q2 in 0..<e2 { out[q2] = row[wrap[2][q2]] }
                    }
                }
            }
        }
    }
}

extension Domain {
    /// Copies of the sources and targets wrapped into [0, L)^d (``wrap(_:)-(Double)``), or nil
    /// when they all are inside (or in R^d): the mesh's grids hold one period.
    /// - Parameter problem: the sum's points.
    @_spi(MeshParts) public func wrapped(_ problem: KernelSumProblem) -> (sources: [Double], targets: [Double])? {
        guard let l = period else { return nil }
        let inside = { (b: UnsafeBufferPointer<Double>) in b.allSatisfy { $0 >= 0 && $0 < l } }
        if inside(problem.sources) && inside(problem.targets) { return nil }
        return (problem.sources.map(wrap), problem.targets.map(wrap))
    }
}

/// A reusable allocation (the padded periodic grid), freed with its owner.
@_spi(MeshParts) public final class PaddedBuffer {
    private var pointer: UnsafeMutablePointer<Double>? = nil
    private var capacity = 0

    /// No allocation until ``reserve(_:)``.
    public init() {}

    /// At least `count` doubles, the same allocation while it is large enough.
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Double> {
        if let p = pointer, capacity >= count { return p }
        pointer?.deallocate()
        pointer = .allocate(capacity: max(1, count))
        capacity = max(1, count)
        return pointer!
    }

    deinit { pointer?.deallocate() }
}
