import Communication
import Dispatch
import Foundation
import KernelSum

/// The median bandwidth of Liu & Wang's reference SVGD code: σ = √(½ med / log(N + 1)), med
/// the median of all N² squared distances (zero diagonal included; numpy's median, the mean of
/// the two middle values for an even count). σ = 1 when med = 0 (one particle, or all equal).
///
/// Exact, without storing the N(N−1)/2 distances, in one vectorised pass over the pairs: the
/// median's quantile is first bracketed by the same quantiles ± 5 standard deviations of a
/// sample of 65536 pairs; the pass counts the pairs below the bracket and keeps those inside
/// it (about 2 %), where quickselect finishes. When the bracket misses the median's ranks
/// (probability below 10⁻⁶, or a sample too small for the population's distances), the exact
/// two-pass method takes over: non-negative doubles order like their bit patterns, so one
/// pass histograms the top bits below the sign (16: exponent and five mantissa bits) to find
/// the bucket(s) holding the median ranks, and a second keeps only those buckets' distances.
/// Either way the value is the k-th smallest distance itself: σ does not depend on the path.
/// Rows are split into chunks of equal pair counts, one per thread; counts and the selected
/// values do not depend on the split. Buffers are kept between calls (no allocation per step).
///
/// The pass over pairs is O(N²): above `sampleSize` particles the median is taken over the
/// pairs of an evenly strided subsample of `sampleSize` particles (indices ⌊kN/S⌋, fixed, so
/// runs stay reproducible), still divided by log(N + 1) of the full N. With S = 5000 (12.5 M
/// pairs) the median's relative sampling error is about 1/√S ≈ 1.4 %, 0.7 % on σ.
///
/// Given the ranks of a job, each takes a block of rows of equal pair count: the histograms
/// are summed (exact counts) and the candidates gathered, so σ is one process's bit for bit
/// (the k-th smallest value does not depend on where the candidates came from).
public final class MedianBandwidth {
    /// S = 5000 (`median-sample`'s default): 12.5 M pairs per step.
    public static let defaultSampleSize = 5000
    /// S: above this many particles the median is taken over a subsample of S (at least 2).
    public let sampleSize: Int
    /// Pairs sampled to bracket the median (65536; at least 2): fewer make the bracket wider,
    /// or make it miss (then the exact two-pass method runs).
    public let bracketSampleSize: Int
    /// Calls whose bracket missed the median, so that the two-pass method ran.
    public private(set) var bracketMisses = 0
    var histograms: [[Int]] = []
    var candidates: [[Double]] = []
    var belowCounts: [Int] = []
    var subsample: [Double] = []
    var columns: [Double] = []
    var bracketSample: [Double] = []
    /// The ranks sharing the pairs (nil: one process).
    let communicator: (any Communicator)?

    /// A bandwidth rule subsampling above `sampleSize` particles.
    /// - Parameters:
    ///   - sampleSize: S.
    ///   - communicator: the ranks that share the pairs; every rank must then make the same calls.
    ///   - bracketSampleSize: pairs sampled to bracket the median (tests lower it to force a miss).
    public init(
        sampleSize: Int = MedianBandwidth.defaultSampleSize, communicator: (any Communicator)? = nil,
        bracketSampleSize: Int = 1 << 16
    ) {
        self.sampleSize = max(2, sampleSize)
        self.bracketSampleSize = max(2, bracketSampleSize)
        self.communicator = communicator.flatMap { $0.size > 1 ? $0 : nil }
    }

    /// σ for the points `x` (row-major, N × d).
    public func callAsFunction(_ x: [Double], dimension d: Int, threads: Int) -> Double {
        let full = x.count / d
        guard full >= 2 else { return 1 }
        guard full > sampleSize else { return bandwidth(x, dimension: d, threads: threads, logCount: full) }
        let s = sampleSize
        if subsample.count != s * d { subsample = [Double](repeating: 0, count: s * d) }
        for k in 0..<s {
            let i = k * full / s
            for a in 0..<d { subsample[k * d + a] = x[i * d + a] }
        }
        return bandwidth(subsample, dimension: d, threads: threads, logCount: full)
    }

    /// σ for particles the ranks hold apart (collective): `x` this rank's, `ids` their global
    /// indices, `total` N. The subsample's points (every particle when N ≤ S) are sent by the
    /// ranks that hold them, so σ is one process's bit for bit.
    public func callAsFunction(_ x: [Double], ids: [Int], total: Int, dimension d: Int, threads: Int) -> Double {
        guard let communicator else { preconditionFailure("MedianBandwidth: particles held apart need the ranks") }
        guard total >= 2 else { return 1 }
        let s = min(total, sampleSize)
        // The held particles of the subsample, by their place k in it (index ⌊kN/S⌋).
        var places: [Int] = []
        var rows: [Double] = []
        for (i, id) in ids.enumerated() {
            let k = total <= sampleSize ? id : (id * s + total - 1) / total
            guard k < s, k * total / s == id else { continue }
            places.append(k)
            rows.append(contentsOf: x[(i * d)..<(i * d + d)])
        }
        let sample = rows.withUnsafeBufferPointer { r in
            places.withUnsafeBufferPointer { communicator.gatherRows(r, width: d, ids: $0, total: s) }
        }
        return bandwidth(sample, dimension: d, threads: threads, logCount: total)
    }

    func bandwidth(_ x: [Double], dimension d: Int, threads: Int, logCount: Int) -> Double {
        let median = medianSquaredDistance(x, dimension: d, threads: threads)
        guard median > 0 else { return 1 }
        return (0.5 * median / log(Double(logCount) + 1)).squareRoot()
    }

    /// The median of the N² squared distances of the points `x` (N ≥ 2 rows; zero diagonal
    /// included), exactly, over every pair (no subsample): with ranks, each takes its block.
    func medianSquaredDistance(_ x: [Double], dimension d: Int, threads: Int) -> Double {
        let n = x.count / d
        // Sorted multiset of N² values: N zeros, then each pair twice. Position p ≥ N is pair (p − N)/2.
        let total = n * n
        let positions = total % 2 == 1 ? [total / 2] : [total / 2 - 1, total / 2]
        let ranks = positions.map { $0 < n ? -1 : ($0 - n) / 2 }  // −1: one of the zeros
        let k1 = max(0, ranks[0])
        let k2 = max(0, ranks[ranks.count - 1])
        let pairs = n * (n - 1) / 2
        // 2^10 buckets for small N, where clearing a large histogram would cost more than the pairs.
        let bits = pairs < 1 << 14 ? 10 : 16
        let shift = UInt64(63 - bits)

        // This rank's rows, then chunks of them for the threads, of about equal pair counts.
        let rankCount = communicator?.size ?? 1
        let mine = MedianBandwidth.equalPairs(n, 0..<n, parts: rankCount)
        let (r0, r1) = (mine[communicator?.rank ?? 0], mine[(communicator?.rank ?? 0) + 1])
        let chunks = max(1, min(threads, (r1 - r0) / 16))
        let rows = MedianBandwidth.equalPairs(n, r0..<r1, parts: chunks)
        if histograms.count != chunks || histograms.first?.count != 1 << bits {
            histograms = [[Int]](repeating: [Int](repeating: 0, count: 1 << bits), count: chunks)
            candidates = [[Double]](repeating: [], count: chunks)
            belowCounts = [Int](repeating: 0, count: chunks)
        }
        func median(of pool: inout [Double], below: Int) -> Double {
            let picked = pool.withUnsafeMutableBufferPointer { c -> (Double, Double) in
                let a = select(c, k1 - below)
                return (a, k2 == k1 ? a : select(c, k2 - below))
            }
            let values = [ranks[0] < 0 ? 0 : picked.0, ranks[ranks.count - 1] < 0 ? 0 : picked.1]
            return positions.count == 1 ? values[1] : (values[0] + values[1]) / 2
        }
        // Every distance in one pass, where the pairs are many enough for the bracket to pay.
        if pairs >= 1 << 18 {
            let (lo, hi) = bracket(x, dimension: d, ranks: k1...k2, pairs: pairs)
            var (below, pool) = countAndKeep(x, dimension: d, rows: rows, between: lo...hi)
            if let communicator {
                below = Int(
                    communicator.allGather([Double(below)], counts: [Int](repeating: 1, count: rankCount)).reduce(0, +))
                let counts = communicator.allGather(UInt64(pool.count)).map { Int($0) }
                pool = communicator.allGather(pool, counts: counts)
            }
            if below <= k1 && k2 < below + pool.count { return median(of: &pool, below: below) }
            bracketMisses += 1
        }

        // Pass 1: histograms.
        x.withUnsafeBufferPointer { xp in
            let src = SharedPointer(xp.baseAddress!)
            let box = UnsafeSendableBox(self)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                box.value.histograms[c].withUnsafeMutableBufferPointer { h in
                    for b in 0..<h.count { h[b] = 0 }
                    forEachPair(src, d, n, rows[c]..<rows[c + 1]) { s in
                        h[Int(truncatingIfNeeded: s.bitPattern >> shift)] += 1
                    }
                }
            }
        }
        var histogram = (0..<(1 << bits)).map { b in histograms.reduce(0) { $0 + $1[b] } }
        if let communicator {
            // Every rank's counts, summed (exact: counts below 2⁵³ travel as doubles).
            let all = communicator.allGather(
                histogram.map(Double.init), counts: [Int](repeating: 1 << bits, count: rankCount))
            histogram = (0..<(1 << bits)).map { b in (0..<rankCount).reduce(0) { $0 + Int(all[$1 << bits + b]) } }
        }
        var below = 0
        var first = 0
        func count(_ b: Int) -> Int { histogram[b] }
        while below + count(first) <= k1 {
            below += count(first)
            first += 1
        }
        var last = first
        var through = below + count(first)
        while through <= k2 {
            last += 1
            through += count(last)
        }

        // Pass 2: the distances in buckets first...last.
        let (lo, hi) = (first, last)
        x.withUnsafeBufferPointer { xp in
            let src = SharedPointer(xp.baseAddress!)
            let box = UnsafeSendableBox(self)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                box.value.candidates[c].removeAll(keepingCapacity: true)
                forEachPair(src, d, n, rows[c]..<rows[c + 1]) { s in
                    let k = Int(truncatingIfNeeded: s.bitPattern >> shift)
                    if k >= lo && k <= hi { box.value.candidates[c].append(s) }
                }
            }
        }
        var pool = candidates.flatMap { $0 }
        if let communicator {
            let counts = communicator.allGather(UInt64(pool.count)).map { Int($0) }
            pool = communicator.allGather(pool, counts: counts)
        }
        return median(of: &pool, below: below)
    }

    /// Squared distances lo ≤ hi that bracket the pairs' order statistics `ranks` (of `pairs`)
    /// with high probability: the same quantiles of `bracketSampleSize` pairs drawn (keyed by
    /// N, so every rank draws the same) ± 5 binomial standard deviations of a sample rank.
    func bracket(_ x: [Double], dimension d: Int, ranks: ClosedRange<Int>, pairs: Int) -> (Double, Double) {
        let n = x.count / d
        let m = bracketSampleSize
        if bracketSample.count != m { bracketSample = [Double](repeating: 0, count: m) }
        var rng = RandomStream(seed: 0x6d65_6469_616e, .flow, n)
        for t in 0..<m {
            let i = rng.index(below: n)
            var j = rng.index(below: n - 1)
            if j >= i { j += 1 }
            var s = 0.0
            for a in 0..<d {
                let u = x[i * d + a] - x[j * d + a]
                s += u * u
            }
            bracketSample[t] = s
        }
        func sampleRank(_ k: Int, _ side: Double) -> Int {
            let q = (Double(k) + 0.5) / Double(pairs)
            let r = q * Double(m) + side * (5 * (Double(m) * q * (1 - q)).squareRoot() + 1)
            return min(m - 1, max(0, Int(r.rounded(side < 0 ? .down : .up))))
        }
        return bracketSample.withUnsafeMutableBufferPointer { b in
            (select(b, sampleRank(ranks.lowerBound, -1)), select(b, sampleRank(ranks.upperBound, 1)))
        }
    }

    /// Over the pairs i < j with i in this rank's `rows` (chunked per thread): how many squared
    /// distances lie below `range`, and those inside it. Eight pairs at a time from a
    /// column-major copy of the points; the distances are summed over the coordinates in the
    /// same order as elsewhere, so they are the same doubles.
    func countAndKeep(
        _ x: [Double], dimension d: Int, rows: [Int], between range: ClosedRange<Double>
    ) -> (
        Int, [Double]
    ) {
        let n = x.count / d
        if columns.count != n * d { columns = [Double](repeating: 0, count: n * d) }
        for j in 0..<n { for a in 0..<d { columns[a * n + j] = x[j * d + a] } }
        let chunks = rows.count - 1
        columns.withUnsafeBufferPointer { cp in
            let col = SharedPointer(cp.baseAddress!)
            let box = UnsafeSendableBox(self)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var kept = box.value.candidates[c]
                box.value.candidates[c] = []
                kept.removeAll(keepingCapacity: true)
                box.value.belowCounts[c] = countAndKeepRows(
                    col, d, n, rows[c]..<rows[c + 1], range.lowerBound, range.upperBound, &kept)
                box.value.candidates[c] = kept
            }
        }
        return (belowCounts.reduce(0, +), candidates.flatMap { $0 })
    }
}

/// The pairs i < j, i in `rows`, of the points in `col` (column-major, d × n): the count of
/// squared distances below `lo`, and those in [lo, hi] appended to `kept`. Specialised for
/// d = 1, 2, 3 (the coordinates of point i held in registers across its row).
func countAndKeepRows(
    _ col: SharedPointer<Double>, _ d: Int, _ n: Int, _ rows: Range<Int>, _ lo: Double, _ hi: Double,
    _ kept: inout [Double]
) -> Int {
    typealias V = SIMD8<Double>
    let raw = UnsafeRawPointer(col.base)
    @inline(__always) func load(_ a: Int, _ j: Int) -> V {
        raw.loadUnaligned(fromByteOffset: (a * n + j) * 8, as: V.self)
    }
    var below = 0
    for i in rows {
        let (x0, x1, x2) = (
            V(repeating: col[i]), V(repeating: d > 1 ? col[n + i] : 0), V(repeating: d > 2 ? col[2 * n + i] : 0)
        )
        switch d {
        case 1:
            below += scanRow(from: i + 1, n, lo, hi, &kept, col, d, i) { j in
                let u = load(0, j) - x0
                return u * u
            }
        case 2:
            below += scanRow(from: i + 1, n, lo, hi, &kept, col, d, i) { j in
                let u = load(0, j) - x0
                let v = load(1, j) - x1
                return u * u + v * v
            }
        case 3:
            below += scanRow(from: i + 1, n, lo, hi, &kept, col, d, i) { j in
                let u = load(0, j) - x0
                let v = load(1, j) - x1
                let w = load(2, j) - x2
                return u * u + v * v + w * w
            }
        default:
            below += scanRow(from: i + 1, n, lo, hi, &kept, col, d, i) { j in
                var s = V()
                for a in 0..<d {
                    let u = load(a, j) - V(repeating: col[a * n + i])
                    s += u * u
                }
                return s
            }
        }
    }
    return below
}

/// Row i from column `from`: eight squared distances at a time from `distances(j)` (the same
/// sums as the scalar tail's, coordinate by coordinate from 0), then the scalar tail.
/// Below `lo` is counted by the sign bit of s − lo (exact for s, lo ≥ 0): integer lanes, no
/// mask; the rare blocks with a value in [lo, hi] are looked at lane by lane.
@inline(__always)
func scanRow(
    from start: Int, _ n: Int, _ lo: Double, _ hi: Double, _ kept: inout [Double], _ col: SharedPointer<Double>,
    _ d: Int, _ i: Int, _ distances: (Int) -> SIMD8<Double>
) -> Int {
    typealias V = SIMD8<Double>
    let loV = V(repeating: lo)
    let hiV = V(repeating: hi)
    var belowV = SIMD8<UInt64>()
    var j = start
    while j + 8 <= n {
        let s = distances(j)
        belowV &+= unsafeBitCast(s - loV, to: SIMD8<UInt64>.self) &>> 63
        if any((s .>= loV) .& (s .<= hiV)) {
            for lane in 0..<8 where s[lane] >= lo && s[lane] <= hi { kept.append(s[lane]) }
        }
        j += 8
    }
    var below = Int(belowV.wrappedSum())
    while j < n {
        var s = 0.0
        for a in 0..<d {
            let u = col[a * n + j] - col[a * n + i]
            s += u * u
        }
        if s < lo { below += 1 } else if s <= hi { kept.append(s) }
        j += 1
    }
    return below
}

extension MedianBandwidth {
    /// Bounds b₀ = lower … b_parts = upper cutting the rows `range` into `parts` blocks of about
    /// equal pair counts (row i has n − 1 − i pairs i < j).
    static func equalPairs(_ n: Int, _ range: Range<Int>, parts: Int) -> [Int] {
        let pairs = range.reduce(0) { $0 + n - 1 - $1 }
        var bounds = [range.lowerBound]
        var done = 0
        for i in range {
            done += n - 1 - i
            if bounds.count < parts && done * parts >= pairs * bounds.count { bounds.append(i + 1) }
        }
        while bounds.count <= parts { bounds.append(range.upperBound) }
        return bounds
    }
}

/// Calls `body` with |x_i − x_j|² for every pair i < j with i in `rows`.
@inline(__always)
func forEachPair(_ x: SharedPointer<Double>, _ d: Int, _ n: Int, _ rows: Range<Int>, _ body: (Double) -> Void) {
    for i in rows {
        for j in (i + 1)..<n {
            var s = 0.0
            for a in 0..<d {
                let t = x[i * d + a] - x[j * d + a]
                s += t * t
            }
            body(s)
        }
    }
}

/// Lets concurrent chunks reach an object whose parts they write disjointly (chunk c touches
/// only element c of the workspace arrays).
struct UnsafeSendableBox<T: AnyObject>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The k-th smallest element (0-based) of `b`, partially reordering it (Hoare quickselect
/// with a median-of-three pivot). Deterministic.
func select(_ b: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
    var lo = 0
    var hi = b.count - 1
    while lo < hi {
        let mid = lo + (hi - lo) / 2
        if b[mid] < b[lo] { b.swapAt(mid, lo) }
        if b[hi] < b[lo] { b.swapAt(hi, lo) }
        if b[hi] < b[mid] { b.swapAt(hi, mid) }
        let pivot = b[mid]
        var i = lo
        var j = hi
        while i <= j {
            while b[i] < pivot { i += 1 }
            while b[j] > pivot { j -= 1 }
            if i <= j {
                b.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return b[k] }
    }
    return b[k]
}
