import Foundation
import KernelSum

/// Compress with kernel halving: the distribution compression of Compress Then Test.
public enum KernelCompression {
    /// Compress (Shetty, Dwivedi & Mackey 2022) of the n points `x` (row-major): with n ≤ 4^g
    /// the points themselves; else the four consecutive quarters compressed recursively, their
    /// union halved by ``halve(_:of:dimension:kernel:rng:)``. About 2^g·√n points come out, in
    /// O(4^g n log n) kernel evaluations. Returns the rows kept.
    public static func compress(
        _ x: [Double], dimension d: Int, kernel: any RadialKernel, oversampling g: Int, rng: inout RandomStream
    ) -> [Int] {
        let leaf = 1 << (2 * g)
        func recurse(_ lo: Int, _ hi: Int) -> [Int] {
            let n = hi - lo
            if n <= leaf { return Array(lo..<hi) }
            var union: [Int] = []
            for q in 0..<4 { union += recurse(lo + q * n / 4, lo + (q + 1) * n / 4) }
            return halve(union, of: x, dimension: d, kernel: kernel, rng: &rng)
        }
        return recurse(0, x.count / d)
    }

    /// Kernel halving (Dwivedi & Mackey's KT-SPLIT with one round, the target kernel): the rows
    /// `rows` in consecutive pairs (x, x′) (an odd last row is dropped), one of each pair kept
    /// by the self-balancing walk ψ ← ψ + η (k(x, ·) − k(x′, ·)), η = +1 (keep x′) with
    /// probability ½(1 − ⟨ψ, k(x, ·) − k(x′, ·)⟩ / a), a = max(b σ √(2 log(2/δ)), b²),
    /// b² = ‖k(x, ·) − k(x′, ·)‖², σ² the walk's variance bound, δ = 1/(2·pairs). ψ stays the
    /// (small) difference between the kernel sums of the rows left out and kept.
    public static func halve(
        _ rows: [Int], of x: [Double], dimension d: Int, kernel: any RadialKernel, rng: inout RandomStream
    ) -> [Int] {
        func k(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for a in 0..<d {
                let t = x[i * d + a] - x[j * d + a]
                s += t * t
            }
            return kernel.value(squaredDistance: s)
        }
        let pairs = rows.count / 2
        let k0 = kernel.value(squaredDistance: 0)
        let log2OverDelta = log(4 * Double(max(1, pairs)))
        var kept: [Int] = []
        kept.reserveCapacity(pairs)
        var walk: [(row: Int, sign: Double)] = []
        walk.reserveCapacity(2 * pairs)
        var sigma2 = 0.0
        for p in 0..<pairs {
            let (u, v) = (rows[2 * p], rows[2 * p + 1])
            let b2 = max(0, 2 * k0 - 2 * k(u, v))
            var alpha = 0.0
            for (row, sign) in walk { alpha += sign * (k(row, u) - k(row, v)) }
            let a = max((2 * b2 * sigma2 * log2OverDelta).squareRoot(), b2)
            var plus = 0.5
            if a > 0 {
                sigma2 += b2 * max(0, 1 + (b2 - 2 * a) * sigma2 / (a * a))
                plus = min(1, max(0, 0.5 * (1 - alpha / a)))
            }
            let eta: Double = rng.uniform() < plus ? 1 : -1
            walk.append((u, eta))
            walk.append((v, -eta))
            kept.append(eta > 0 ? v : u)
        }
        return kept
    }

    /// The mean of k(a_i, b_j) over the rows of `a` and `b`.
    static func meanKernel(_ a: [Double], _ b: [Double], dimension d: Int, kernel: any RadialKernel) -> Double {
        let (na, nb) = (a.count / d, b.count / d)
        var total = 0.0
        for i in 0..<na {
            for j in 0..<nb {
                var s = 0.0
                for c in 0..<d {
                    let t = a[i * d + c] - b[j * d + c]
                    s += t * t
                }
                total += kernel.value(squaredDistance: s)
            }
        }
        return total / Double(na * nb)
    }
}
