import Foundation
import KernelSum

/// squared maximum mean discrepancy's V-statistic
///
///     T = Σ_ij w_i w_j k(z_i, z_j),   z = (x, y),  w_i = 1/N on x, −1/M on y,
///
/// compared with the same statistic under B random relabellings of the pooled points:
/// p = (1 + #{b : T_b ≥ T}) / (B + 1). Under H₀ the pooled points are exchangeable, so p is
/// exactly valid (P(p ≤ α) ≤ α) at any size, for any kernel chosen symmetrically in the pooled
/// points — the default Gaussian's σ is the median heuristic on the pooled sample
/// (σ² = the median of the (N+M)² squared distances, zero diagonal included).
///
/// - `permutation`: relabels the points; O((N + M)²(d + B)/2) time, the kernel matrix computed by
///   blocks of rows and never stored. Capped at N + M ≤ ``maximumPermutationSize``.
/// - `ctt`: Compress Then Test (Domingo-Enrich, Dwivedi & Mackey 2023). The points are cut into
///   s bins of equal size b (s_x of particles, s_y of samples, s_x/s_y ≈ N/M; points past the
///   last whole bin are left out), each bin is compressed independently to about 2^g·√b
///   points by Compress (Shetty, Dwivedi & Mackey 2022) with kernel halving (the self-balancing
///   walk of Dwivedi & Mackey's kernel thinning, with the test's kernel), and the bins are
///   relabelled instead of the points: T = wᵀHw with H_jk the mean kernel value between the
///   compressed bins j and k, w_j = 1/s_x or −1/s_y. Under H₀ the compressed bins are
///   exchangeable whatever the compression's quality (each bin's randomness is keyed by its
///   place, independent of the data), so p stays exactly valid; compression costs power,
///   not level. Time O(4^g (N + M) log(N + M) + s²·4^g·b): near-linear. The median bandwidth is
///   taken over the first points of every bin (at most 2048 in all), a symmetric choice.
public struct TwoSampleTest: Sendable {
    /// How the null distribution is sampled.
    public enum Method: String, Sendable {
        /// Relabel the points: O((N + M)²(d + B)/2).
        case permutation
        /// Compress Then Test: relabel independently compressed bins, near-linear.
        case ctt
    }
    /// The kernel, or the median heuristic on the pooled points.
    public enum KernelChoice: Sendable {
        /// This kernel.
        case fixed(any RadialKernel)
        /// A Gaussian with σ² the median squared distance of the pooled points.
        case median
    }
    /// The statistic, its p-value, and the kernel it used.
    public struct Result: Sendable {
        /// T, the MMD² V-statistic (`ctt`: between the compressed bins).
        public let statistic: Double
        /// (1 + #{b : T_b ≥ T}) / (B + 1).
        public let pValue: Double
        /// The kernel (with the median heuristic: the Gaussian it chose).
        public let kernel: any RadialKernel
    }

    /// B by default: p-values are multiples of 1/200.
    public static let defaultPermutations = 199
    /// The largest N + M of the permutation test: its time is O((N + M)²·B).
    public static let maximumPermutationSize = 8192
    /// Rows of the kernel matrix computed together (a fixed split: results do not depend on threads).
    static let rowBlock = 16
    /// Second keys of the test's random streams (`RandomStream(seed, .metricSample, step, key)`),
    /// far from the other metrics' (0 … 7919).
    static let sampleStream = 0x2_5A3E_0000
    static let permutationStream = 0x2_5A3E_0001
    static let binStream = 0x2_5A3E_0002

    /// Relabel the points, or compress the bins first.
    public let method: Method
    /// The kernel, or the median heuristic on the pooled points.
    public let kernel: KernelChoice
    /// B, the random relabellings.
    public let permutations: Int
    /// s, the bins of `ctt`.
    public let bins: Int
    /// g, `ctt`'s oversampling: each bin of b points compresses to about 2^g·√b.
    public let oversampling: Int
    /// d, the coordinates of a point.
    public let dimension: Int
    /// Worker threads (the results do not depend on them).
    public let threads: Int

    /// A test; see the properties.
    public init(
        method: Method, kernel: KernelChoice = .median, permutations: Int = 199, bins: Int = 32, oversampling: Int = 2,
        dimension: Int, threads: Int = 1
    ) {
        self.method = method
        self.kernel = kernel
        self.permutations = permutations
        self.bins = bins
        self.oversampling = oversampling
        self.dimension = dimension
        self.threads = threads
    }

    /// The test of `x` (N × d, row-major) against `y` (M × d), its randomness drawn from the
    /// streams keyed by (`seed`, `step`).
    public func run(_ x: [Double], _ y: [Double], seed: UInt64, step: Int) -> Result {
        var rng = RandomStream(seed: seed, .metricSample, step, Self.permutationStream)
        switch method {
        case .permutation: return permutationTest(x, y, rng: &rng)
        case .ctt: return compressThenTest(x, y, seed: seed, step: step, rng: &rng)
        }
    }

    /// p = (1 + #{b ≥ 1 : T_b ≥ T₀}) / (B + 1), T₀ the observed statistic.
    static func pValue(_ t: [Double]) -> Double {
        var exceed = 0
        for b in 1..<t.count where t[b] >= t[0] { exceed += 1 }
        return Double(1 + exceed) / Double(t.count)
    }

    /// The label weights of B + 1 labellings of n = `first` + rest items, row-major n × (B + 1):
    /// column 0 the given order, the others uniform random permutations (Fisher–Yates), with
    /// 1/first on the items labelled first and −1/(n − first) on the rest.
    static func labelWeights(_ n: Int, first: Int, permutations: Int, rng: inout RandomStream) -> [Double] {
        let c = permutations + 1
        let (a, b) = (1 / Double(first), -1 / Double(n - first))
        var w = [Double](repeating: 0, count: n * c)
        var order = Array(0..<n)
        for col in 0..<c {
            if col > 0 {
                for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
            }
            for (k, i) in order.enumerated() { w[i * c + col] = k < first ? a : b }
        }
        return w
    }

    /// The kernel: the fixed one, or a Gaussian with σ² the median squared distance of `points`.
    func chooseKernel(_ points: [Double]) -> any RadialKernel {
        switch kernel {
        case .fixed(let k): return k
        case .median:
            let med = MedianBandwidth().medianSquaredDistance(points, dimension: dimension, threads: threads)
            return GaussianKernel(sigma: med > 0 ? med.squareRoot() : 1)
        }
    }

    func permutationTest(_ x: [Double], _ y: [Double], rng: inout RandomStream) -> Result {
        let d = dimension
        let z = x + y
        let (n, first) = (z.count / d, x.count / d)
        let k = chooseKernel(z)
        let c = permutations + 1
        let w = Self.labelWeights(n, first: first, permutations: permutations, rng: &rng)
        let t = Self.quadraticForms(z, dimension: d, kernel: k, weights: w, columns: c, threads: threads)
        return Result(statistic: t[0], pValue: Self.pValue(t), kernel: k)
    }

    /// wᵀ_b K w_b for every column b of the n × C weights `w`, K_ij = k(z_i, z_j): the upper
    /// triangle of K by blocks of ``rowBlock`` rows (never stored whole), each block's share
    /// summed in row order and the blocks' shares in block order (the same for any thread count).
    /// O(n²(d + C)/2) time.
    static func quadraticForms(
        _ z: [Double], dimension d: Int, kernel: any RadialKernel, weights w: [Double], columns c: Int, threads: Int
    ) -> [Double] {
        let n = z.count / d
        let r = rowBlock
        let blocks = (n + r - 1) / r
        var shares = [Double](repeating: 0, count: blocks * c)
        z.withUnsafeBufferPointer { zb in
            w.withUnsafeBufferPointer { wb in
                shares.withUnsafeMutableBufferPointer { sb in
                    let (zp, wp, sp) = (
                        SharedPointer(zb.baseAddress!), SharedPointer(wb.baseAddress!),
                        SharedMutablePointer(sb.baseAddress!)
                    )
                    Parallel.forEachChunk(blocks, threads: threads, minimumChunk: 1) { range in
                        var rows = [Double](repeating: 0, count: r * n)
                        var acc = [Double](repeating: 0, count: r * c)
                        for block in range {
                            let i0 = block * r
                            let i1 = min(n, i0 + r)
                            // The upper triangle j ≥ i only, off-diagonal terms doubled (K is symmetric).
                            for i in i0..<i1 {
                                for j in i0..<n {
                                    var s = 0.0
                                    for a in 0..<d {
                                        let t = zp[i * d + a] - zp[j * d + a]
                                        s += t * t
                                    }
                                    let factor: Double = j > i ? 2 : j == i ? 1 : 0
                                    rows[(i - i0) * n + j] = factor * kernel.value(squaredDistance: s)
                                }
                            }
                            rows.withUnsafeBufferPointer { kr in
                                acc.withUnsafeMutableBufferPointer { ac in
                                    for q in 0..<(r * c) { ac[q] = 0 }
                                    for j in i0..<n {
                                        let wj = wp.base + j * c
                                        for q in 0..<(i1 - i0) {
                                            let kij = kr[q * n + j]
                                            let out = ac.baseAddress! + q * c
                                            for b in 0..<c { out[b] += kij * wj[b] }
                                        }
                                    }
                                    let share = sp.base + block * c
                                    for q in 0..<(i1 - i0) {
                                        let wi = wp.base + (i0 + q) * c
                                        for b in 0..<c { share[b] += wi[b] * ac[q * c + b] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var t = [Double](repeating: 0, count: c)
        for block in 0..<blocks {
            for b in 0..<c { t[b] += shares[block * c + b] }
        }
        return t
    }
}

extension TwoSampleTest {
    /// The bins of `ctt` for N particles and M samples: s_x bins of particles and s_y of
    /// samples (s_x/s_y ≈ N/M, s_x + s_y = `bins`), all of `size` points; nil when a side would
    /// get no bin or a bin no point.
    public static func binLayout(_ n: Int, _ m: Int, bins: Int) -> (x: Int, y: Int, size: Int)? {
        let sx = min(bins - 1, max(1, Int((Double(bins) * Double(n) / Double(n + m)).rounded())))
        let sy = bins - sx
        guard sx >= 1, sy >= 1 else { return nil }
        let size = min(n / sx, m / sy)
        return size >= 1 ? (sx, sy, size) : nil
    }

    func compressThenTest(_ x: [Double], _ y: [Double], seed: UInt64, step: Int, rng: inout RandomStream) -> Result {
        let d = dimension
        guard let (sx, sy, b) = Self.binLayout(x.count / d, y.count / d, bins: bins) else {
            preconditionFailure("TwoSampleTest: \(bins) bins do not fit the samples")
        }
        let s = sx + sy
        // Bin j: rows j·b ..< (j+1)·b of x for j < s_x, of y after.
        let binPoints: [[Double]] = (0..<s).map { j in
            j < sx ? Array(x[(j * b * d)..<((j + 1) * b * d)]) : Array(y[((j - sx) * b * d)..<((j - sx + 1) * b * d)])
        }
        // The median heuristic on the first r points of every bin: the same multiset under any
        // relabelling of the bins.
        let r = max(1, min(b, 2048 / s))
        let k = chooseKernel(binPoints.flatMap { $0[0..<(r * d)] })
        // Each bin compressed with its own stream (keyed by its place), in parallel.
        var compressed = [[Double]](repeating: [], count: s)
        compressed.withUnsafeMutableBufferPointer { cb in
            let out = SharedMutablePointer(cb.baseAddress!)
            let g = oversampling
            Parallel.forEachChunk(s, threads: threads, minimumChunk: 1) { range in
                for j in range {
                    var bin = RandomStream(seed: seed, .metricSample, step, Self.binStream + j)
                    let kept = KernelCompression.compress(
                        binPoints[j], dimension: d, kernel: k, oversampling: g, rng: &bin)
                    out[j] = kept.flatMap { binPoints[j][($0 * d)..<($0 * d + d)] }
                }
            }
        }
        // H_jk: the mean kernel value between the compressed bins j and k.
        let points = compressed
        var h = [Double](repeating: 0, count: s * s)
        h.withUnsafeMutableBufferPointer { hb in
            let hp = SharedMutablePointer(hb.baseAddress!)
            Parallel.forEachChunk(s, threads: threads, minimumChunk: 1) { range in
                for j in range {
                    for l in j..<s {
                        let v = KernelCompression.meanKernel(points[j], points[l], dimension: d, kernel: k)
                        hp[j * s + l] = v
                        hp[l * s + j] = v
                    }
                }
            }
        }
        let c = permutations + 1
        let w = Self.labelWeights(s, first: sx, permutations: permutations, rng: &rng)
        var t = [Double](repeating: 0, count: c)
        for j in 0..<s {
            for l in 0..<s {
                for col in 0..<c { t[col] += w[j * c + col] * h[j * s + l] * w[l * c + col] }
            }
        }
        return Result(statistic: t[0], pValue: Self.pValue(t), kernel: k)
    }
}
