import Foundation

/// The cusp of a slicing profile that has a kink at 0 (the Laplace kernel's): f = g + c e^{−a|t|}.
/// f̂ then falls like ρ^{−2}, too slowly for the cosine series (its slopes' series diverges);
/// c e^{−a|t|} (spectrum 2ca/(a² + ρ²)) is chosen to match f̂'s first two terms at large ρ, so
/// that the remainder g is smooth (ĝ = O(ρ^{−6})) and goes through the series, while the
/// exponential is summed exactly along each direction by sorting and two exponential
/// recursions (`sweep`).
public struct SliceCusp: Sendable {
    /// c.
    public let weight: Double
    /// a > 0.
    public let rate: Double
    /// ĝ(ρ) = f̂(ρ) − 2ca/(a² + ρ²) for ρ ≥ 0, or nil when f is the exponential alone (1-D).
    public let remainderSpectrum: (@Sendable (Double) -> Double)?

    /// - Parameters:
    ///   - weight: c.
    ///   - rate: a > 0.
    ///   - remainderSpectrum: ĝ(ρ), ρ ≥ 0, or nil when g = 0.
    public init(weight: Double, rate: Double, remainderSpectrum: (@Sendable (Double) -> Double)?) {
        self.weight = weight
        self.rate = rate
        self.remainderSpectrum = remainderSpectrum
    }

    /// c e^{−a|t|} and its derivative (0 at t = 0, the kernels' convention at a cusp).
    /// - Parameter t: t.
    public func value(_ t: Double) -> (value: Double, derivative: Double) {
        let e = weight * exp(-rate * abs(t))
        return (e, t > 0 ? -rate * e : t < 0 ? rate * e : 0)
    }

    /// One direction: adds c Σ_i w_ic e^{−a|t_j − s_i|} to `out[c·stride + j]` and its slope
    /// −ac Σ_i w_ic sign(t_j − s_i) e^{−a|t_j − s_i|} to `slopes[gi·stride + j]` (row `m` is a
    /// sink for sources), with the projections `v` (sources `0..<n`, then `m` targets) and
    /// weights `wt[c·(n+m) + i]` (only the sources' read) of `SliceProfile.sweep`.
    /// In increasing order (sources before targets of equal value), L_j = Σ_{s_i ≤ t_j} w_i
    /// e^{−a(t_j − s_i)} by L ← e^{−aΔ} L + w, then R_j = Σ_{s_i > t_j} by the same recursion
    /// backwards: every factor is at most 1, so neither can overflow. The slope leaves out the
    /// sources equal to the target (sign 0), whose weights the forward pass keeps apart.
    func sweep(
        projections v: UnsafePointer<Double>, n: Int, m: Int, channels: Int,
        gradientChannels gch: UnsafePointer<Int>, g: Int, weights wt: UnsafePointer<Double>,
        sorter: SliceSorter, out: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>,
        stride: Int
    ) {
        let total = n + m
        guard total > 0 else { return }
        var lo = Double.infinity
        var hi = -Double.infinity
        for i in 0..<total {
            lo = min(lo, v[i])
            hi = max(hi, v[i])
        }
        sorter.sort(v, count: total, lo: lo, hi: hi)
        let items = sorter.items
        // Per rank r: decay[r] = e^{−a(t_r − t_{r−1})} and tie[r] = [t_r = t_{r−1}], shared by
        // both passes and every channel.
        let decay = sorter.values
        let tie = sorter.weights
        var previous = v[Int(items[0] & SliceSorter.indexMask)]
        for r in 0..<total {
            let t = v[Int(items[r] & SliceSorter.indexMask)]
            decay[r] = exp(-rate * (t - previous))
            tie[r] = r > 0 && t == previous ? 1 : 0
            previous = t
        }
        let (c, a) = (weight, rate)
        for channel in 0..<channels {
            let w = wt + channel * total
            let value = out + channel * stride
            // This channel's slope row, if its gradient is asked for (else a sink row of scratch
            // is not needed: the slope is simply not written).
            let slopeRow = (0..<g).first { gch[$0] == channel }.map { slopes + $0 * stride }
            // Forward: L over s_i ≤ t, and the weight of the sources equal to the current value.
            var l = 0.0
            var tied = 0.0
            for r in 0..<total {
                let i = Int(items[r] & SliceSorter.indexMask)
                let (j, wi) = i >= n ? (i - n, 0.0) : (m, w[i])
                l = l * decay[r] + wi
                tied = tie[r] * tied + wi
                value[j] += c * l
                if let slopeRow { slopeRow[j] -= a * c * (l - tied) }
            }
            // Backward: R over s_i > t (the sources equal to a target precede it, so they are
            // added after it here).
            var rr = 0.0
            for r in Swift.stride(from: total - 1, through: 0, by: -1) {
                let i = Int(items[r] & SliceSorter.indexMask)
                let (j, wi) = i >= n ? (i - n, 0.0) : (m, w[i])
                value[j] += c * rr
                if let slopeRow { slopeRow[j] += a * c * rr }
                rr = (rr + wi) * decay[r]
            }
        }
    }
}
