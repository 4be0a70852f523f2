import Communication
import Foundation
import KernelSum

/// W(z) = κ|z|²/2 (κ the term's weight; κ > 0 attracts), exact in O(N) through the moments:
/// with S = Σ_j w_j and m = Σ_j w_j x_j / S,
///
///     Σ_j w_j ∇W(x_i − x_j) = κ S (x_i − m),     ½ Σ_ij w_i w_j W(x_i − x_j) = (κ/2) S Σ_i w_i |x_i − m|²
///
/// (from Σ_ij w_i w_j |x_i − x_j|² = 2S Σ_i w_i |x_i − m|²; the diagonal terms are 0), and the
/// first variation Σ_j w_j W(x_i − x_j) = (κ/2)(S |x_i − m|² + Σ_j w_j |x_j − m|²) (the cross
/// term −2(x_i − m)·Σ_j w_j (x_j − m) is 0).
/// R^d only: the periodic box has no mean.
public final class QuadraticInteraction: Interaction {
    /// κ (> 0 attracts).
    public let kappa: Double
    /// W(z) = κ|z|²/2.
    public init(kappa: Double) { self.kappa = kappa }

    /// `quadratic:kappa=κ`.
    public var spec: String { "quadratic:kappa=\(formatNumber(kappa))" }
    /// Summed exactly through the moments.
    public var report: [String: String] { ["summation": "moments (exact, O(N))"] }

    /// S and m, their sums exact (``ExactSum``): the same whatever the order of the particles
    /// and however the ranks hold them (`communicator`: the sums are over every rank's).
    func moments(
        _ x: [Double], _ w: [Double], _ d: Int, communicator: (any Communicator)? = nil
    ) -> (
        total: Double, mean: [Double]
    ) {
        var sums = [ExactSum](repeating: ExactSum(), count: d + 1)
        for i in 0..<w.count {
            sums[d].add(w[i])
            for a in 0..<d { sums[a].add(w[i] * x[i * d + a]) }
        }
        if let communicator { sums = ExactSum.acrossRanks(sums, communicator) }
        let s = sums[d].value
        return (s, (0..<d).map { s > 0 ? sums[$0].value / s : sums[$0].value })
    }

    /// Adds κ S (x_i − m) for every i.
    public func addGradients(_ positions: [Double], weights: [Double], dimension d: Int, into gradients: inout [Double])
    {
        add(moments(positions, weights, d), positions, count: weights.count, d, into: &gradients)
    }

    /// At this rank's share of the particles: the moments summed over the ranks (exact), the rest
    /// per particle.
    public func addGradients(atShare p: Population, communicator: any Communicator, into gradients: inout [Double]) {
        let d = p.dimension
        let moments = moments(p.positions, p.weights, d, communicator: p.share == nil ? nil : communicator)
        add(moments, p.positions, count: p.count, d, into: &gradients)
    }

    private func add(
        _ moments: (total: Double, mean: [Double]), _ positions: [Double], count n: Int, _ d: Int,
        into gradients: inout [Double]
    ) {
        let c = kappa * moments.total
        let m = moments.mean
        for i in 0..<n { for a in 0..<d { gradients[i * d + a] += c * (positions[i * d + a] - m[a]) } }
    }

    /// Adds (κ/2)(S |x_i − m|² + Σ_j w_j |x_j − m|²) for every i.
    public func addValues(_ positions: [Double], weights: [Double], dimension d: Int, into values: inout [Double]) {
        let (s, m) = moments(positions, weights, d)
        let n = weights.count
        var squares = [Double](repeating: 0, count: n)
        var spread = ExactSum()
        for i in 0..<n {
            for a in 0..<d {
                let t = positions[i * d + a] - m[a]
                squares[i] += t * t
            }
            spread.add(weights[i] * squares[i])
        }
        let c = spread.value
        for i in 0..<n { values[i] += 0.5 * kappa * (s * squares[i] + c) }
    }

    /// (κ/2) S Σ_i w_i |x_i − m|².
    public func energy(_ positions: [Double], weights: [Double], dimension d: Int) -> Double {
        let (s, m) = moments(positions, weights, d)
        var v = 0.0
        for i in 0..<weights.count {
            var r2 = 0.0
            for a in 0..<d {
                let t = positions[i * d + a] - m[a]
                r2 += t * t
            }
            v += weights[i] * r2
        }
        return 0.5 * kappa * s * v
    }

    static let entry = InteractionEntry(
        name: "quadratic", summary: "weight·|x − y|²/2, exact through the mean in O(N) (R^d only)"
    ) { s, ctx in
        guard ctx.domain == .free else {
            throw s.fail("kind", "the quadratic interaction needs R^d (no period): the periodic box has no mean")
        }
        return QuadraticInteraction(kappa: ctx.weight)
    }
}
