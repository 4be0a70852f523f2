import Foundation

/// The Fisher–Rao (birth–death) part of a Wasserstein–Fisher–Rao flow on weighted particles
/// μ = Σ_i w_i δ_{x_i}: the weights follow ẇ_i = −α w_i (V_i − Σ_k w_k V_k), V = δF/δμ the first
/// variation of the objective at the particles. A step of size h is the multiplicative update
///
///     w_i ← w_i exp(−αh (V_i − Σ_k w_k V_k)) / Z,   Z making Σ_i w_i = 1,
///
/// the exact solution of the weights' equation over the step with V frozen (mirror descent on the
/// simplex with the entropy). The mean Σ_k w_k V_k is common to every i, so it cancels in the
/// normalisation: with a fixed V, n steps give w_i(nh) ∝ w_i(0) exp(−α nh V_i) exactly. Used by
/// the game's players (`GameFlow`) and by the single-population flows' `fisher-rao` key.
public enum FisherRaoWeights {
    /// w_i ← w_i exp(rate·(v_i − Σ_k w_k v_k)) / Z (rate −αh descends the objective, +αh ascends
    /// it, the game's max player). The exponents are shifted by their maximum before `exp`, so
    /// large rates underflow to zero weights rather than overflow.
    public static func update(weights w: [Double], values v: [Double], rate: Double) -> [Double] {
        var mean = 0.0
        for i in 0..<w.count { mean += w[i] * v[i] }
        var e = [Double](repeating: 0, count: w.count)
        var top = -Double.infinity
        for i in 0..<w.count {
            e[i] = rate * (v[i] - mean)
            top = max(top, e[i])
        }
        var z = 0.0
        for i in 0..<w.count {
            e[i] = w[i] * exp(e[i] - top)
            z += e[i]
        }
        for i in 0..<w.count { e[i] /= z }
        return e
    }
}
