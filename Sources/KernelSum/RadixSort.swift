/// Sorts points on a line by position, with their indices: a stable LSD radix sort on the
/// order-preserving bit patterns of the doubles (6 passes of 11 bits), O(n) and branch-free,
/// several times faster than a comparison sort for the 10⁴–10⁶ projections of a slice.
/// Equal values keep their input order, so the result is fully deterministic.
struct LineSorter {
    var keys: [UInt64] = [], keys2: [UInt64] = []
    var order2: [Int32] = []
    var counts = [Int](repeating: 0, count: 2048)
    /// Sorted positions (ascending) and the input index of each.
    private(set) var values: [Double] = []
    private(set) var order: [Int32] = []

    init() {}

    /// Order-preserving map from doubles to unsigned integers (−0 and +0 adjacent, NaN last).
    @inline(__always) static func key(_ v: Double) -> UInt64 {
        let b = v.bitPattern
        return b >> 63 == 1 ? ~b : b | (1 << 63)
    }

    mutating func sort(_ x: UnsafeBufferPointer<Double>) {
        let n = x.count
        if keys.count != n {
            keys = [UInt64](repeating: 0, count: n)
            keys2 = keys
            order = [Int32](repeating: 0, count: n)
            order2 = order
            values = [Double](repeating: 0, count: n)
        }
        for i in 0..<n {
            keys[i] = LineSorter.key(x[i])
            order[i] = Int32(i)
        }
        var shift: UInt64 = 0
        while shift < 64 {
            for b in 0..<2048 { counts[b] = 0 }
            for i in 0..<n { counts[Int((keys[i] >> shift) & 2047)] += 1 }
            // Skip a pass whose digit is the same for every key.
            if counts.contains(n) {
                shift += 11
                continue
            }
            var sum = 0
            for b in 0..<2048 {
                let c = counts[b]
                counts[b] = sum
                sum += c
            }
            for i in 0..<n {
                let b = Int((keys[i] >> shift) & 2047)
                let p = counts[b]
                counts[b] = p + 1
                keys2[p] = keys[i]
                order2[p] = order[i]
            }
            swap(&keys, &keys2)
            swap(&order, &order2)
            shift += 11
        }
        for i in 0..<n { values[i] = x[Int(order[i])] }
    }
}

/// Sorts the projections of one slice, sources and targets together, for ``SlicedSum``: the
/// positions are mapped to 24-bit fixed-point keys over their range (a monotone map), sorted
/// by a two-pass LSD radix sort (12-bit digits) with the input index as payload, and the rare
/// runs of equal keys are then ordered exactly by their doubles. The result is the exact order
/// of the doubles, equal values by increasing index, whatever the data (many equal keys, e.g.
/// with far outliers, only cost a comparison sort of those runs).
/// Buffers are allocated once, for up to `capacity` points; call ``deallocate()``.
struct SliceSorter: @unchecked Sendable {
    static let digitBits = 12
    static let keyBits = 2 * digitBits
    static let indexMask: UInt64 = 0xffff_ffff
    let capacity: Int
    /// After ``sort(_:count:)``: `items[r] & indexMask` is the index of the r-th smallest value.
    let items: UnsafeMutablePointer<UInt64>
    let scratch: UnsafeMutablePointer<UInt64>
    let counts: UnsafeMutablePointer<Int>
    /// Work space for the caller: positions and weights in sorted order.
    let values: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>

    init(capacity: Int) {
        // Indices are packed into 32 bits: more points would overwrite one another's.
        guard capacity < 1 << 32 else { fatalError("SlicedSum: \(capacity) points in one slice (at most 2^32 − 1)") }
        self.capacity = max(1, capacity)
        items = .allocate(capacity: self.capacity)
        scratch = .allocate(capacity: self.capacity)
        counts = .allocate(capacity: 2 << SliceSorter.digitBits)
        values = .allocate(capacity: self.capacity)
        weights = .allocate(capacity: self.capacity)
    }

    func deallocate() {
        items.deallocate()
        scratch.deallocate()
        counts.deallocate()
        values.deallocate()
        weights.deallocate()
    }

    /// Total order on the doubles: by value (−0 = +0, NaN last), then by index.
    @inline(__always) static func less(_ a: UInt64, _ b: UInt64, _ v: UnsafePointer<Double>) -> Bool {
        let ka = LineSorter.key(v[Int(a & indexMask)] + 0)
        let kb = LineSorter.key(v[Int(b & indexMask)] + 0)
        return ka != kb ? ka < kb : (a & indexMask) < (b & indexMask)
    }

    /// Sorts `v[0..<n]`; `lo` and `hi` are the smallest and largest values (any bounds
    /// work, tighter ones are faster).
    func sort(_ v: UnsafePointer<Double>, count n: Int, lo: Double, hi: Double) {
        assert(n <= capacity, "more points than the sorter was made for")
        let radix = 1 << SliceSorter.digitBits
        let mask = UInt64(radix - 1)
        let shift = UInt64(32 + SliceSorter.digitBits)
        let top = Double((1 << SliceSorter.keyBits) - 1)
        let range = hi - lo
        let sk = range > 0 && range.isFinite ? top / range : 0
        let c0 = counts
        let c1 = counts + radix
        c0.initialize(repeating: 0, count: 2 * radix)
        for i in 0..<n {
            let u = (v[i] - lo) * sk
            let key = UInt64(Int(u > 0 ? (u < top ? u : top) : 0))
            let it = key << 32 | UInt64(i)
            items[i] = it
            c0[Int(key & mask)] += 1
            c1[Int(key >> UInt64(SliceSorter.digitBits))] += 1
        }
        var from = items
        var to = scratch
        for (c, s) in [(c0, UInt64(32)), (c1, shift)] {
            // Skip a pass whose digit is the same for every key.
            var skip = false
            var sum = 0
            for b in 0..<radix {
                let k = c[b]
                if k == n { skip = true }
                c[b] = sum
                sum += k
            }
            if skip { continue }
            for i in 0..<n {
                let it = from[i]
                let b = Int((it >> s) & mask)
                let p = c[b]
                c[b] = p + 1
                to[p] = it
            }
            swap(&from, &to)
        }
        if from != items { items.update(from: from, count: n) }
        // Runs of equal keys: order exactly (LSD radix is stable, so a run is in index order).
        var start = 0
        while start < n {
            let key = items[start] >> 32
            var end = start + 1
            while end < n && items[end] >> 32 == key { end += 1 }
            let length = end - start
            if length > 1 {
                if length <= 16 {
                    for r in (start + 1)..<end {
                        let it = items[r]
                        var q = r
                        while q > start && SliceSorter.less(it, items[q - 1], v) {
                            items[q] = items[q - 1]
                            q -= 1
                        }
                        items[q] = it
                    }
                } else {
                    var run = UnsafeMutableBufferPointer(start: items + start, count: length)
                    run.sort { SliceSorter.less($0, $1, v) }
                }
            }
            start = end
        }
    }
}
