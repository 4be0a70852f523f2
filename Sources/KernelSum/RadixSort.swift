/// Sorts points on a line by position, with their indices: a stable LSD radix sort on the
/// order-preserving bit patterns of the doubles (6 passes of 11 bits), O(n) and branch-free,
/// several times faster than a comparison sort for the 10⁴–10⁶ projections of a slice.
/// Equal values keep their input order, so the result is fully deterministic.
public struct LineSorter {
    var keys: [UInt64] = [], keys2: [UInt64] = []
    var order2: [Int32] = []
    var counts = [Int](repeating: 0, count: 2048)
    /// Sorted positions (ascending) and the input index of each.
    public private(set) var values: [Double] = []
    public private(set) var order: [Int32] = []

    public init() {}

    /// Order-preserving map from doubles to unsigned integers (−0 and +0 adjacent, NaN last).
    @inline(__always) static func key(_ v: Double) -> UInt64 {
        let b = v.bitPattern
        return b >> 63 == 1 ? ~b : b | (1 << 63)
    }

    public mutating func sort(_ x: UnsafeBufferPointer<Double>) {
        let n = x.count
        if keys.count != n {
            keys = [UInt64](repeating: 0, count: n); keys2 = keys
            order = [Int32](repeating: 0, count: n); order2 = order
            values = [Double](repeating: 0, count: n)
        }
        for i in 0..<n { keys[i] = LineSorter.key(x[i]); order[i] = Int32(i) }
        var shift: UInt64 = 0
        while shift < 64 {
            for b in 0..<2048 { counts[b] = 0 }
            for i in 0..<n { counts[Int((keys[i] >> shift) & 2047)] += 1 }
            // Skip a pass whose digit is the same for every key.
            if counts.contains(n) { shift += 11; continue }
            var sum = 0
            for b in 0..<2048 { let c = counts[b]; counts[b] = sum; sum += c }
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
