import Dispatch
import Foundation

/// The quartic control variate of the sliced engine. For ξ uniform on S^{d−1} and any z,
///
///     E_ξ ⟨ξ, z⟩⁴ = 3|z|⁴ / (d(d+2)),    E_ξ ξ·4⟨ξ, z⟩³ = 12|z|² z / (d(d+2)),
///
/// so per target y the control q(y) = Σ_i w_i ⟨ξ, y − x_i⟩⁴ of a direction (and its slope along
/// ξ) has a mean known in closed form: Σ_i w_i |y − x_i|⁴ and its gradient, sums of moments of
/// the sources (``moments(_:channel:centre:)``, O(N d²) per channel, then O(d²) per target).
/// Each block of d orthonormal directions sums f(⟨ξ, y − x_i⟩) and q alike; regressing the
/// block sums on the controls' deviations from their means (per output, over the blocks) and
/// subtracting the fitted part removes the error the t⁴ part of the profile makes. The t² part
/// is exact already in an orthonormal block (Σ_k ⟨ξ_k, z⟩² = |z|²); in high dimension ⟨ξ, z⟩
/// ranges over a few |z|/√d, where f is nearly a quartic in t, so the fit removes most of the
/// error (×8–12 smaller at d = 20–50 for Gaussian data, docs/performance.md).
struct SliceQuarticControl {
    /// The blocks needed before the control is fitted: with fewer, the fitted slope's own
    /// noise outweighs what it removes (the plain block mean is used).
    static let minimumBlocks = 4

    /// Moments of one channel's weighted sources about `centre`: W = Σw, m = Σ w x̃, b = Σ w|x̃|²,
    /// v = Σ w|x̃|² x̃, A = Σ w x̃x̃ᵀ, q = Σ w|x̃|⁴, with x̃ = x − centre.
    struct Moments {
        var total = 0.0
        var mean: [Double]
        var square = 0.0
        var squareWeighted: [Double]
        var second: [Double]
        var fourth = 0.0
    }

    /// The moments of channel `c` of `problem`'s sources about `centre`, summed in source order.
    static func moments(_ problem: KernelSumProblem, channel c: Int, centre: [Double]) -> Moments {
        let d = problem.dimension
        let n = problem.sourceCount
        var m = Moments(
            mean: .init(repeating: 0, count: d), squareWeighted: .init(repeating: 0, count: d),
            second: .init(repeating: 0, count: d * d))
        var x = [Double](repeating: 0, count: d)
        m.second.withUnsafeMutableBufferPointer { a in
            for i in 0..<n {
                let w = problem.weights[c * n + i]
                guard w != 0 else { continue }
                var b = 0.0
                for k in 0..<d {
                    x[k] = problem.sources[i * d + k] - centre[k]
                    b += x[k] * x[k]
                }
                m.total += w
                m.square += w * b
                m.fourth += w * b * b
                for k in 0..<d {
                    m.mean[k] += w * x[k]
                    m.squareWeighted[k] += w * b * x[k]
                    let wx = w * x[k]
                    for l in k..<d { a[k * d + l] += wx * x[l] }
                }
            }
            for k in 0..<d { for l in 0..<k { a[k * d + l] = a[l * d + k] } }
        }
        return m
    }

    /// Σ_i w_i |y − x_i|⁴ = a²W + q + 4ỹᵀAỹ + 2ab − 4a⟨ỹ, m⟩ − 4⟨ỹ, v⟩ (a = |ỹ|², ỹ = y − centre) and,
    /// into `gradient` if given, Σ_i w_i |y − x_i|²(y − x_i) = (aW + b − 2⟨ỹ, m⟩)ỹ − a m − v + 2Aỹ.
    /// `scratch` holds 2d values (ỹ, then Aỹ), the caller's, so that the per-target loop does
    /// not allocate.
    static func exact(
        _ m: Moments, at y: UnsafePointer<Double>, centre: [Double], dimension d: Int,
        scratch: UnsafeMutablePointer<Double>, gradient: UnsafeMutablePointer<Double>?
    ) -> Double {
        let yt = scratch
        let ay = scratch + d
        var a = 0.0
        var ym = 0.0
        var yv = 0.0
        for k in 0..<d {
            yt[k] = y[k] - centre[k]
            a += yt[k] * yt[k]
            ym += yt[k] * m.mean[k]
            yv += yt[k] * m.squareWeighted[k]
        }
        var quadratic = 0.0
        for k in 0..<d {
            var s = 0.0
            for l in 0..<d { s += m.second[k * d + l] * yt[l] }
            ay[k] = s
            quadratic += yt[k] * s
        }
        if let gradient {
            let f = a * m.total + m.square - 2 * ym
            for k in 0..<d { gradient[k] = f * yt[k] - a * m.mean[k] - m.squareWeighted[k] + 2 * ay[k] }
        }
        return a * a * m.total + m.fourth + 4 * quadratic + 2 * a * m.square - 4 * a * ym - 4 * yv
    }

    /// Per target of `problem`, the mean of a block's control sums (M·W, the accumulator's
    /// layout): d·E_ξ q = 3/(d+2)·Σ_i w_ic |y − x_i|⁴ per value channel c, and
    /// d·E_ξ ξ q′ = 12/(d+2)·Σ_i w_ig |y − x_i|²(y − x_i) per gradient channel g.
    static func blockMeans(
        _ problem: KernelSumProblem, centre: [Double], threads: Int, into out: UnsafeMutablePointer<Double>
    ) {
        let d = problem.dimension
        let c = problem.channels
        let gch = problem.gradientChannels
        let width = c + gch.count * d
        let sOut = SharedMutablePointer(out)
        // Each channel's moments summed by one worker in source order: any thread count agrees.
        let workers = max(1, min(threads, c))
        let moments = ChannelMoments(count: c)
        let shared = SharedProblem(problem)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for k in Swift.stride(from: worker, to: c, by: workers) {
                moments.set(k, SliceQuarticControl.moments(shared.problem, channel: k, centre: centre))
            }
        }
        let all = moments.values.map { $0! }
        let dd = Double(d)
        let y = problem.targets.baseAddress!
        let sY = SharedPointer(y)
        Parallel.forEachChunk(problem.targetCount, threads: threads, minimumChunk: 64) { range in
            // The gradient (d), then `exact`'s scratch (2d): one allocation per chunk.
            let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 3 * d)
            buffer.initialize(repeating: 0, count: 3 * d)
            defer { buffer.deallocate() }
            let g = buffer
            for j in range {
                let row = sOut.base + j * width
                for k in 0..<c {
                    let v = SliceQuarticControl.exact(
                        all[k], at: sY.base + j * d, centre: centre, dimension: d, scratch: buffer + d,
                        gradient: gch.contains(k) ? g : nil)
                    row[k] = 3 / (dd + 2) * v
                    for (gi, gc) in gch.enumerated() where gc == k {
                        for a in 0..<d { row[c + gi * d + a] = 12 / (dd + 2) * g[a] }
                    }
                }
            }
        }
    }
}

/// The channels' moments, filled by concurrent workers (one slot each).
private final class ChannelMoments: @unchecked Sendable {
    private(set) var values: [SliceQuarticControl.Moments?]
    private let lock = NSLock()
    init(count: Int) { values = .init(repeating: nil, count: count) }
    func set(_ k: Int, _ m: SliceQuarticControl.Moments) {
        lock.lock()
        values[k] = m
        lock.unlock()
    }
}

/// A problem read by concurrent workers.
private struct SharedProblem: @unchecked Sendable {
    let problem: KernelSumProblem
    init(_ problem: KernelSumProblem) { self.problem = problem }
}
