import Foundation
import KernelSum

/// The Dirichlet law Dir(α₁, …, α_K) on the simplex, in the reduced coordinates
/// θ = (θ₁, …, θ_{K−1}) with θ_a > 0 and θ_K = 1 − Σ_a θ_a > 0 (d = K − 1):
///
///     log π(θ) = log Γ(α₀) − Σ_i log Γ(α_i) + Σ_{i ≤ K} (α_i − 1) log θ_i,   α₀ = Σ α_i,
///
/// score (α_a − 1)/θ_a − (α_K − 1)/θ_K. Under the entropic mirror map ψ(θ) = Σ_{i ≤ K} θ_i log θ_i
/// (η_a = log(θ_a/θ_K)) the density of η has the score α_a − α₀θ_a (``dualScore(_:into:)``):
/// bounded, with no θ in a denominator, which is what mirrored SVGD moves the particles by.
/// Mean α_a/α₀, covariance (α₀ α_a δ_ab − α_a α_b)/(α₀²(α₀ + 1)).
public struct DirichletTarget: Target, SimplexDensity {
    /// α₁ … α_K, K ≥ 2.
    public let alpha: [Double]
    /// α₀ = Σ α_i.
    public let total: Double
    let logNormaliser: Double

    /// Dir(alpha), each α_i > 0, K ≥ 2.
    public init(alpha: [Double]) {
        guard alpha.count >= 2, alpha.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            fatalError("DirichletTarget: α needs at least two positive entries, got \(alpha)")
        }
        self.alpha = alpha
        total = alpha.reduce(0, +)
        logNormaliser = lgamma(total) - alpha.reduce(0) { $0 + lgamma($1) }
    }

    /// d = K − 1.
    public var dimension: Int { alpha.count - 1 }

    /// α_a/α₀ and (α₀ α_a δ_ab − α_a α_b)/(α₀²(α₀ + 1)).
    public var moments: (mean: [Double], covariance: [Double])? {
        let d = dimension
        let a0 = total
        let mean = (0..<d).map { alpha[$0] / a0 }
        var cov = [Double](repeating: 0, count: d * d)
        for a in 0..<d {
            for b in 0..<d {
                cov[a * d + b] = ((a == b ? a0 * alpha[a] : 0) - alpha[a] * alpha[b]) / (a0 * a0 * (a0 + 1))
            }
        }
        return (mean, cov)
    }

    /// θ_K = 1 − Σθ_a, or nil outside the open simplex.
    @inline(__always) func lastCoordinate(_ x: UnsafePointer<Double>) -> Double? {
        var sum = 0.0
        for a in 0..<dimension {
            guard x[a] > 0 else { return nil }
            sum += x[a]
        }
        let last = 1 - sum
        return last > 0 ? last : nil
    }

    /// log π(θ); −∞ outside the open simplex.
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        guard let last = lastCoordinate(x) else { return -.infinity }
        var l = logNormaliser + (alpha[dimension] - 1) * log(last)
        for a in 0..<dimension { l += (alpha[a] - 1) * log(x[a]) }
        return l
    }

    /// (α_a − 1)/θ_a − (α_K − 1)/θ_K; NaN outside the open simplex.
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        guard let last = lastCoordinate(x) else {
            for a in 0..<dimension { g[a] = .nan }
            return
        }
        let tail = (alpha[dimension] - 1) / last
        for a in 0..<dimension { g[a] = (alpha[a] - 1) / x[a] - tail }
    }

    /// α_a − α₀ θ_a: the score of η = ∇ψ(θ) (exact, also where θ_a underflows).
    public func dualScore(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        for a in 0..<dimension { g[a] = alpha[a] - total * x[a] }
    }

    /// Normalised Gamma(α_i) variates, drawn and normalised in logarithms so that tiny α_i
    /// (sparse laws) do not underflow to 0; coordinates below the smallest normal number are
    /// raised to it (the particle then stays inside the open simplex).
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count * dimension)
        var logs = [Double](repeating: 0, count: alpha.count)
        for _ in 0..<count {
            for i in 0..<alpha.count { logs[i] = DirichletTarget.logGamma(alpha[i], using: &rng) }
            let top = logs.max()!
            let lse = top + log(logs.reduce(0) { $0 + exp($1 - top) })
            for a in 0..<dimension { out.append(max(exp(logs[a] - lse), Double.leastNormalMagnitude)) }
        }
        return out
    }

    /// log of a Gamma(α, 1) variate: Marsaglia & Tsang (2000) for α ≥ 1; for α < 1,
    /// G_α = G_{α+1} U^{1/α}, taken in logarithms.
    static func logGamma(_ shape: Double, using rng: inout RandomStream) -> Double {
        if shape < 1 { return logGamma(shape + 1, using: &rng) + log(rng.openUniform()) / shape }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = rng.normal()
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = rng.openUniform()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return log(d * v) }
        }
    }

    /// Reads `alpha` (K ≥ 2 numbers from 0.01 to 10⁸; K = d + 1 when d is known, and then all 1s,
    /// the uniform law, by default). Shared by the target and the `dirichlet` initialisation.
    static func read(_ s: Settings, dimension: Int? = nil) throws -> DirichletTarget {
        let alpha = try s.reals(
            "alpha", count: dimension.map { $0 + 1 }, default: dimension.map { [Double](repeating: 1, count: $0 + 1) },
            .closed(0.01, 1e8))
        guard alpha.count >= 2 else { throw s.fail("alpha", "needs at least 2 entries (K ≥ 2: d = K − 1 ≥ 1)") }
        try s.checkDimension(alpha.count - 1, at: "alpha")
        return DirichletTarget(alpha: alpha)
    }

    static let entry = TargetEntry(
        name: "dirichlet", summary: "Dir(α₁ … α_K) on the simplex, in the coordinates θ₁ … θ_{K−1}"
    ) { try read($0) }
}

/// A density on the open simplex {θ ∈ R^d : θ_a > 0, Σθ_a < 1}, the domain of mirrored SVGD
/// with the entropic mirror map.
public protocol SimplexDensity: Density {
    /// The score of η = ∇ψ(θ), η_a = log(θ_a/θ_K), at θ: ∇²ψ(θ)⁻¹ ∇log π(θ) + 1 − Kθ, with
    /// ∇²ψ(θ)⁻¹ = diag(θ) − θθᵀ and 1 − Kθ = ∇_η log det ∇²ψ*(η).
    func dualScore(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>)
}
