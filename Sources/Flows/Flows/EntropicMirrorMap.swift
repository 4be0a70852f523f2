import Foundation
import KernelSum

/// The entropic mirror map of the open simplex {θ ∈ R^d : θ_a > 0, Σθ_a < 1}, shared by the
/// mirrored flows (``MirroredSVGD``, ``SteinVariationalMirrorDescent``):
/// ψ(θ) = Σ_{i ≤ K} θ_i log θ_i with θ_K = 1 − Σθ_a, K = d + 1; the dual coordinates
/// η = ∇ψ(θ), η_a = log(θ_a/θ_K); back by θ = ∇ψ*(η), a softmax; the Hessian
/// ∇²ψ(θ) = diag(1/θ) + 11ᵀ/θ_K and its inverse diag(θ) − θθᵀ.
enum EntropicMirrorMap {
    /// The floor under θ where ∇²ψ(θ) divides by it (the reference code's 10⁻³²): the
    /// preconditioned directions, and AdaGrad's squares of them, stay finite for coordinates
    /// that the softmax took down to the smallest normal number.
    static let hessianFloor = 1e-32

    /// η_a = log θ_a − log θ_K for each particle, or nil when one is not inside the open simplex.
    static func dualCoordinates(_ theta: [Double], dimension d: Int) -> [Double]? {
        var eta = [Double](repeating: 0, count: theta.count)
        for i in 0..<(theta.count / d) {
            var sum = 0.0
            for a in 0..<d {
                let t = theta[i * d + a]
                guard t > 0 else { return nil }
                sum += t
            }
            let last = 1 - sum
            guard last > 0 else { return nil }
            let logLast = log(last)
            for a in 0..<d { eta[i * d + a] = log(theta[i * d + a]) - logLast }
        }
        return eta
    }

    /// θ = ∇ψ*(η): θ_a = e^{η_a}/(1 + Σ_b e^{η_b}), formed in logarithms; a coordinate below the
    /// smallest normal number is raised to it, and when θ_K is below the rounding of 1 (Σθ_a,
    /// summed in index order, reaching 1) the coordinates are scaled down until it is not: the
    /// particle stays inside, θ_K then about 10⁻¹⁵.
    static func primalCoordinates(_ eta: [Double], into theta: inout [Double], dimension d: Int) {
        for i in 0..<(eta.count / d) {
            var top = 0.0
            for a in 0..<d { top = max(top, eta[i * d + a]) }
            var total = exp(-top)
            for a in 0..<d { total += exp(eta[i * d + a] - top) }
            let lse = top + log(total)
            var sum = 0.0
            for a in 0..<d {
                theta[i * d + a] = max(exp(eta[i * d + a] - lse), Double.leastNormalMagnitude)
                sum += theta[i * d + a]
            }
            while !(sum < 1) {
                let shrink = (1 - Double(d + 1) * Double.ulpOfOne) / sum
                sum = 0
                for a in 0..<d {
                    theta[i * d + a] = max(theta[i * d + a] * shrink, Double.leastNormalMagnitude)
                    sum += theta[i * d + a]
                }
            }
        }
    }

    /// ∇_η log p_η at each particle: the density's own when it is a ``SimplexDensity``, else
    /// (diag θ − θθᵀ)∇log π + 1 − Kθ from its score (`scores` is scratch space).
    static func dualScores(
        _ density: any Density, _ theta: [Double], dimension d: Int, threads: Int, scratch scores: inout [Double]
    ) -> [Double] {
        var out = [Double](repeating: 0, count: theta.count)
        let n = theta.count / d
        if let simplex = density as? any SimplexDensity {
            theta.withUnsafeBufferPointer { t in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n { simplex.dualScore(t.baseAddress! + i * d, into: o.baseAddress! + i * d) }
                }
            }
            return out
        }
        density.scores(theta, into: &scores, threads: threads)
        let k = Double(d + 1)
        for i in 0..<n {
            var dot = 0.0
            for a in 0..<d { dot += theta[i * d + a] * scores[i * d + a] }
            for a in 0..<d {
                let t = theta[i * d + a]
                out[i * d + a] = t * (scores[i * d + a] - dot) + 1 - k * t
            }
        }
        return out
    }

    /// ∇²ψ(θ)v = v/θ + (Σv)/θ_K for one particle (θ floored at ``hessianFloor``), in place.
    static func applyHessian(_ theta: UnsafePointer<Double>, to v: UnsafeMutablePointer<Double>, dimension d: Int) {
        var sum = 0.0
        var total = 0.0
        for a in 0..<d {
            sum += theta[a]
            total += v[a]
        }
        let tail = total / max(1 - sum, hessianFloor)
        for a in 0..<d { v[a] = v[a] / max(theta[a], hessianFloor) + tail }
    }

    /// Why a state cannot start a mirrored flow named `flow`: its first particle outside the
    /// open simplex, or nil.
    static func invalidStart(_ state: SimulationState, flow: String) -> String? {
        let p = state.populations[0]
        let d = p.dimension
        for i in 0..<p.count {
            let row = p.positions[(i * d)..<((i + 1) * d)]
            if row.contains(where: { !($0 > 0) }) || !(row.reduce(0, +) < 1) {
                return "particle \(i) is not inside the open simplex (θ_a > 0, Σθ_a < 1), where \(flow) "
                    + "moves its particles: start them there, e.g. init = { kind = \"dirichlet\", alpha = [...] }"
            }
        }
        return nil
    }
}
