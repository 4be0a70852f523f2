import Foundation
import KernelSum

/// Stein variational gradient descent (Liu & Wang 2016):
///
///     φ(x_i) = Σ_j w_j [ k(x_j, x_i) ∇log π(x_j) + ∇_{x_j} k(x_j, x_i) ],   x ← x + h·P(φ)
///
/// with weights w_j = 1/N. As kernel sums: d channels weighted by w_j ∂_a log π(x_j), plus
/// one channel weighted by w_j whose gradient gives the repulsion
/// Σ_j w_j ∇_{x_j} k(x_j − x_i) = −∇_y Σ_j w_j k(y − x_j) at y = x_i.
///
/// `gaussian:sigma=median` is the reference code's bandwidth, recomputed every step:
/// σ² = ½ med / log(N + 1), med the median of all N² squared distances (zero diagonal
/// included, numpy's median: the mean of the two middle values for an even count).
/// When med = 0 (one particle, or all collapsed) σ = 1, where the reference code divides by 0.
public final class SteinVariationalGradientDescent: Flow {
    public enum Bandwidth { case fixed, median }
    public let density: any Density
    public private(set) var kernel: any RadialKernel
    public let bandwidth: Bandwidth
    var optimizer: Optimizer
    let engine: any KernelSumEngine
    let threads: Int
    // Work buffers, reused every step.
    var scores: [Double] = [], weights: [Double] = [], values: [Double] = [], gradients: [Double] = []
    var velocity: [Double] = [], pairwise: [Double] = []

    public init(density: any Density, kernel: any RadialKernel, bandwidth: Bandwidth,
                optimizer: Optimizer, engine: any KernelSumEngine, threads: Int) {
        self.density = density
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.optimizer = optimizer
        self.engine = engine
        self.threads = threads
    }

    /// φ at every particle of `population` (row-major), with the current kernel.
    public func direction(_ population: Population) -> [Double] {
        let d = population.dimension, n = population.count, c = d + 1
        if bandwidth == .median {
            kernel = GaussianKernel(sigma: Self.medianBandwidth(population.positions, dimension: d,
                                                                 buffer: &pairwise, threads: threads))
        }
        density.scores(population.positions, into: &scores, threads: threads)
        if weights.count != c * n { weights = [Double](repeating: 0, count: c * n) }
        for j in 0..<n {
            let w = population.weights[j]
            for a in 0..<d { weights[a * n + j] = w * scores[j * d + a] }
            weights[d * n + j] = w
        }
        engine.sum(kernel, dimension: d, sources: population.positions, weights: weights, channels: c,
                   targets: population.positions, gradientChannels: [d], values: &values, gradients: &gradients)
        if velocity.count != n * d { velocity = [Double](repeating: 0, count: n * d) }
        for i in 0..<n { for a in 0..<d { velocity[i * d + a] = values[i * c + a] - gradients[i * d + a] } }
        return velocity
    }

    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let v = direction(state.populations[0])
        optimizer.apply(v, to: &state.populations[0].positions, stepSize: h)
    }

    public var report: [String: String] {
        var r = optimizer.report
        r["kernel"] = bandwidth == .median ? "gaussian:sigma=median" : kernel.spec
        if bandwidth == .median, let g = kernel as? GaussianKernel { r["last-sigma"] = "\(g.sigma)" }
        r["summation"] = engine.name
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        return r
    }

    /// σ = √(½ med / log(N + 1)) with med the median of the N² squared distances.
    public static func medianBandwidth(_ x: [Double], dimension d: Int, buffer: inout [Double], threads: Int) -> Double {
        let n = x.count / d
        let pairs = n * (n - 1) / 2
        guard pairs > 0 else { return 1 }
        if buffer.count != pairs { buffer = [Double](repeating: 0, count: pairs) }
        x.withUnsafeBufferPointer { xp in
            buffer.withUnsafeMutableBufferPointer { bp in
                let src = SharedPointer(xp.baseAddress!), dst = SharedMutablePointer(bp.baseAddress!)
                // Row i holds pairs (i, j > i), starting at offset i·n − i(i+1)/2.
                Parallel.forEachChunk(n, threads: threads, minimumChunk: 8) { rows in
                    for i in rows {
                        var o = i * n - i * (i + 1) / 2
                        for j in (i + 1)..<n {
                            var s = 0.0
                            for a in 0..<d { let t = src[i * d + a] - src[j * d + a]; s += t * t }
                            dst[o] = s
                            o += 1
                        }
                    }
                }
            }
        }
        // Sorted multiset of N² values: N zeros, then each pair twice. Position p ≥ N is pair (p − N)/2.
        let total = n * n
        let positions = total % 2 == 1 ? [total / 2] : [total / 2 - 1, total / 2]
        let ranks = positions.map { $0 < n ? -1 : ($0 - n) / 2 }  // −1: one of the zeros
        let picked = buffer.withUnsafeMutableBufferPointer {
            selectNonNegative($0, max(0, ranks[0]), max(0, ranks[ranks.count - 1]))
        }
        let values = [ranks[0] < 0 ? 0 : picked.0, ranks[ranks.count - 1] < 0 ? 0 : picked.1]
        let median = positions.count == 1 ? values[1] : (values[0] + values[1]) / 2
        guard median > 0 else { return 1 }
        return (0.5 * median / log(Double(n) + 1)).squareRoot()
    }

    static let entry = FlowEntry(name: "svgd", summary: "Stein variational gradient descent (Liu & Wang 2016)") { s, ctx in
        guard let density = ctx.target.density else {
            throw s.fail("kind", "svgd needs a target with a score (gaussian, gaussian-mixture, banana), not samples")
        }
        let text = try s.string("kernel", default: "gaussian:sigma=median")
        var spec: KernelSpec
        do { spec = try KernelSpec(parsing: text) } catch let e as KernelSpecError { throw s.fail("kernel", e.message) }
        let median = spec.name == GaussianKernel.name && spec["sigma"] == "median"
        if median { spec["sigma"] = nil }
        let kernel: any RadialKernel
        do { kernel = try KernelRegistry.make(spec) } catch let e as KernelSpecError {
            throw s.fail("kernel", e.message + (spec.name == GaussianKernel.name ? " (or sigma=median)" : ""))
        }
        return SteinVariationalGradientDescent(
            density: density, kernel: kernel, bandwidth: median ? .median : .fixed,
            optimizer: try Optimizer.read(s, default: "adagrad"),
            engine: try readEngine(s, threads: ctx.threads), threads: ctx.threads)
    }
}

/// The k1-th and k2-th smallest (0-based, k1 ≤ k2) of non-negative doubles, by one radix
/// pass: non-negative doubles order like their bit patterns, so a histogram of the top 16
/// bits below the sign (exponent and 5 mantissa bits) finds the buckets holding the ranks;
/// only those candidates (a few per cent) go through quickselect. Reorders `b`.
func selectNonNegative(_ b: UnsafeMutableBufferPointer<Double>, _ k1: Int, _ k2: Int) -> (Double, Double) {
    precondition(k1 <= k2 && k2 < b.count)
    var histogram = [Int](repeating: 0, count: 1 << 16)
    histogram.withUnsafeMutableBufferPointer { h in
        for v in b { h[Int(truncatingIfNeeded: (v.bitPattern >> 47) & 0xFFFF)] += 1 }
    }
    var below = 0, bucket = 0
    while below + histogram[bucket] <= k1 { below += histogram[bucket]; bucket += 1 }
    var last = bucket, through = below + histogram[bucket]
    while through <= k2 { last += 1; through += histogram[last] }
    var candidates: [Double] = []
    candidates.reserveCapacity(through - below)
    for v in b {
        let key = Int(truncatingIfNeeded: (v.bitPattern >> 47) & 0xFFFF)
        if key >= bucket && key <= last { candidates.append(v) }
    }
    return candidates.withUnsafeMutableBufferPointer { c in
        let first = select(c, k1 - below)
        return (first, k2 == k1 ? first : select(c, k2 - below))
    }
}

/// The k-th smallest element (0-based) of `b`, partially reordering it (Hoare quickselect
/// with a median-of-three pivot). Deterministic.
func select(_ b: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
    var lo = 0, hi = b.count - 1
    while lo < hi {
        let mid = lo + (hi - lo) / 2
        if b[mid] < b[lo] { b.swapAt(mid, lo) }
        if b[hi] < b[lo] { b.swapAt(hi, lo) }
        if b[hi] < b[mid] { b.swapAt(hi, mid) }
        let pivot = b[mid]
        var i = lo, j = hi
        while i <= j {
            while b[i] < pivot { i += 1 }
            while b[j] > pivot { j -= 1 }
            if i <= j { b.swapAt(i, j); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return b[k] }
    }
    return b[k]
}
