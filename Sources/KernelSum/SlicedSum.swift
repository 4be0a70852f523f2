import Dispatch
import Foundation

/// Sliced summation for the energy-distance kernel k(x) = −|x| (Riesz, r = 1), in any dimension
/// (Hertrich, Wald, Altekrüger & Hagemann 2023). With ξ uniform on the sphere,
///
///     |x| = c_d E_ξ |⟨ξ, x⟩|,   c_d = √π Γ((d+1)/2) / Γ(d/2),
///
/// so s(y) = −(c_d/P) Σ_p Σ_i w_i |⟨ξ_p, y⟩ − ⟨ξ_p, x_i⟩| and ∇s(y) = −(c_d/P) Σ_p ξ_p Σ_i w_i sign(…).
/// Each 1-D sum is exact by sorting and prefix sums: Σ_i w_i |t − s_i| = t(W_< − W_>) − (S_< − S_>),
/// with W, S the weights and weighted positions below and above t: O((N + M) log(N + M)) per
/// direction. Directions come in blocks of d orthonormal vectors (Gram–Schmidt on Gaussian
/// matrices), which beat independent directions at equal P; the error decays like √(d/P).
/// Directions are split into a fixed number of groups summed in order, so the result does not
/// depend on the thread count.
public struct SlicedSum: KernelSumEngine {
    public let directions: Int
    public let seed: UInt64
    public let threads: Int
    static let groups = 8

    public init(directions: Int, seed: UInt64, threads: Int) {
        self.directions = max(1, directions)
        self.seed = seed
        self.threads = max(1, threads)
    }

    public var name: String { "sliced" }
    public var parameters: [String: String] { ["directions": String(directions), "threads": String(threads)] }

    /// Why this engine cannot sum `kernel`, or nil.
    public static func unsupported(_ kernel: any RadialKernel) -> String? {
        (kernel as? RieszKernel)?.r == 1 ? nil
            : "the sliced engine sums riesz:r=1 (the energy distance) only, not \(kernel.spec) (use direct)"
    }

    /// c_d = √π Γ((d+1)/2) / Γ(d/2).
    public static func sliceConstant(dimension d: Int) -> Double {
        exp(0.5 * log(Double.pi) + lgamma(Double(d + 1) / 2) - lgamma(Double(d) / 2))
    }

    /// P unit vectors in R^d (row-major), in orthonormal blocks of d; P is rounded up to a
    /// multiple of d.
    public static func directions(_ count: Int, dimension d: Int, seed: UInt64) -> [Double] {
        let blocks = (count + d - 1) / d
        var out: [Double] = []
        out.reserveCapacity(blocks * d * d)
        for b in 0..<blocks {
            var rng = RandomStream(seed: seed, .slicing, b)
            var block: [[Double]] = []
            while block.count < d {
                var v = (0..<d).map { _ in rng.normal() }
                for u in block {
                    let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for a in 0..<d { v[a] -= dot * u[a] }
                }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 1e-8 else { continue }
                block.append(v.map { $0 / norm })
            }
            for v in block { out += v }
        }
        return out
    }

    public func sum(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
                    values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        precondition(SlicedSum.unsupported(kernel) == nil, SlicedSum.unsupported(kernel)!)
        let d = problem.dimension, n = problem.sourceCount, m = problem.targetCount
        let channels = problem.channels, gchannels = problem.gradientChannels, g = gchannels.count
        let xi = SlicedSum.directions(directions, dimension: d, seed: seed)
        let p = xi.count / d
        let scale = -SlicedSum.sliceConstant(dimension: d) / Double(p)
        let groups = min(SlicedSum.groups, p)
        let width = m * (channels + g * d)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: groups * width)
        partial.initialize(repeating: 0, count: groups * width)
        defer { partial.deallocate() }
        let out = SharedMutablePointer(partial)
        let x = SharedPointer(problem.sources.baseAddress!), y = SharedPointer(problem.targets.baseAddress!)
        let w = SharedPointer(problem.weights.baseAddress!)

        let work: @Sendable (Int) -> Void = { group in
            let acc = out.base + group * width
            // Projections with their indices, sorted by value (ties keep a deterministic order:
            // the sort sees the same input whatever the thread count).
            var sp = [Double](repeating: 0, count: n), tp = [Double](repeating: 0, count: m)
            var sSorter = LineSorter(), tSorter = LineSorter()
            var below = [Double](repeating: 0, count: 2 * channels), total = [Double](repeating: 0, count: 2 * channels)
            var tieW = [Double](repeating: 0, count: channels), tieS = [Double](repeating: 0, count: channels)
            for c in 0..<channels { for i in 0..<n { total[2 * c] += w[c * n + i] } }
            var direction = stride(from: group, to: p, by: groups).makeIterator()
            while let q = direction.next() {
                let e = Array(xi[(q * d)..<(q * d + d)])
                for i in 0..<n { var v = 0.0; for a in 0..<d { v += e[a] * x[i * d + a] }; sp[i] = v }
                for j in 0..<m { var v = 0.0; for a in 0..<d { v += e[a] * y[j * d + a] }; tp[j] = v }
                sp.withUnsafeBufferPointer { sSorter.sort($0) }
                tp.withUnsafeBufferPointer { tSorter.sort($0) }
                let s = sSorter.values, si = sSorter.order
                // S totals of this direction, per channel.
                for c in 0..<channels {
                    var ws = 0.0
                    for k in 0..<n { ws += w[c * n + Int(si[k])] * s[k] }
                    total[2 * c + 1] = ws
                    below[2 * c] = 0
                    below[2 * c + 1] = 0
                }
                // Sweep targets in increasing t; `k` sources lie strictly below, `k..<k2` tie.
                var k = 0
                for r in 0..<m {
                    let tj = tSorter.values[r], j = Int(tSorter.order[r])
                    while k < n && s[k] < tj {
                        let v = s[k], i = Int(si[k])
                        for c in 0..<channels { below[2 * c] += w[c * n + i]; below[2 * c + 1] += w[c * n + i] * v }
                        k += 1
                    }
                    var k2 = k
                    for c in 0..<channels { tieW[c] = 0; tieS[c] = 0 }
                    while k2 < n && s[k2] == tj {
                        for c in 0..<channels { tieW[c] += w[c * n + Int(si[k2])]; tieS[c] += w[c * n + Int(si[k2])] * tj }
                        k2 += 1
                    }
                    let row = acc + j * (channels + g * d)
                    for c in 0..<channels {
                        let wb = below[2 * c], sb = below[2 * c + 1]
                        let wa = total[2 * c] - wb - tieW[c]
                        let sa = total[2 * c + 1] - sb - tieS[c]
                        row[c] += scale * (tj * (wb - wa) - (sb - sa))
                    }
                    for (gi, c) in gchannels.enumerated() {
                        let wb = below[2 * c]
                        let wa = total[2 * c] - wb - tieW[c]
                        let slope = scale * (wb - wa)
                        for a in 0..<d { row[channels + gi * d + a] += slope * e[a] }
                    }
                }
            }
        }
        if threads == 1 {
            for group in 0..<groups { work(group) }
        } else {
            DispatchQueue.concurrentPerform(iterations: groups, execute: work)
        }
        // Groups added in order: identical for any thread count.
        for j in 0..<m {
            for c in 0..<channels {
                var v = 0.0
                for group in 0..<groups { v += partial[group * width + j * (channels + g * d) + c] }
                values[j * channels + c] = v
            }
            for t in 0..<(g * d) {
                var v = 0.0
                for group in 0..<groups { v += partial[group * width + j * (channels + g * d) + channels + t] }
                gradients[j * g * d + t] = v
            }
        }
    }
}
