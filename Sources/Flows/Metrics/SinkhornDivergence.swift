import Foundation
import KernelSum

/// The debiased Sinkhorn divergence (Genevay, Peyré & Cuturi 2018; Feydy et al. 2019) between
/// two weighted point sets for the cost c(x, y) = |x − y|²,
///
///     S_ε(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) − ½ OT_ε(β, β),
///     OT_ε(α, β) = min_π ⟨π, c⟩ + ε KL(π ‖ α ⊗ β) = ⟨α, f⟩ + ⟨β, g⟩,
///
/// f, g the optimal dual potentials. S_ε ≥ 0 with equality iff α = β; it tends to W₂² as
/// ε → 0 and to |mean(α) − mean(β)|² as ε → ∞. GeomLoss's `SamplesLoss("sinkhorn", p=2,
/// blur=σ)` uses the cost |x − y|²/2 and ε = σ²: it equals S_ε / 2 at ε = 2σ². (POT's
/// `empirical_sinkhorn_divergence` drops the entropic terms: a different quantity.)
///
/// The potentials solve the fixed points f = T_β(g), g = T_α(f) of the soft-min
///
///     T_β(g)(x) = −ε log Σ_j β_j exp((g_j − |x − y_j|²)/ε),
///
/// computed in the log domain (a log-sum-exp per row, stable for any ε), with the symmetric
/// (averaged) updates and ε-scaling of Feydy et al.: ε runs down from the squared diameter by
/// factors of 4 to the requested ε, then Sinkhorn's updates (over-relaxed once their rate is
/// steady) continue at ε until the potentials have converged: their extrapolated remaining
/// change below 10⁻¹³ of the squared diameter. Where they have not within
/// ``maximumIterations`` (Sinkhorn's rate tends to 1 as ε shrinks against the cost differences
/// the plan resolves: outlying points of a sample are enough), Newton's method on the
/// semi-dual takes over (`SinkhornNewton.swift`) and converges to rounding. Cost per Sinkhorn
/// iteration or Newton-CG product: 2NM + N² + M² exponentials (vectorised, rows in parallel);
/// memory O(N + M): the costs are recomputed, never stored.
public enum SinkhornDivergence {
    /// The largest N·M the metric accepts (an iteration then costs about 4·10⁸ exponentials).
    public static let maximumPairs = 100_000_000
    /// The Sinkhorn iterations at the final ε before Newton's method takes over.
    public static let maximumIterations = 1000

    /// A weighted point set: the points with positive weight (row-major), their coordinates by
    /// column (for the vectorised rows), and their log-weights, normalised to total 1.
    struct Measure {
        let points: [Double]
        let columns: [Double]
        let logWeights: [Double]
        let weights: [Double]
        var count: Int { weights.count }

        init(points x: [Double], weights w: [Double], dimension d: Int) {
            let total = w.reduce(0, +)
            let kept = w.indices.filter { w[$0] > 0 }
            points = kept.flatMap { i in x[(i * d)..<(i * d + d)] }
            weights = kept.map { w[$0] / total }
            logWeights = weights.map { log($0) }
            var columns = [Double](repeating: 0, count: kept.count * d)
            for (r, i) in kept.enumerated() { for c in 0..<d { columns[c * kept.count + r] = x[i * d + c] } }
            self.columns = columns
        }
    }

    /// S_ε between (x, a) and (y, b): points row-major (N × d, M × d), weights ≥ 0 with
    /// positive totals (normalised here), points finite. NaN when neither Sinkhorn's iterations
    /// nor Newton's ``maximumNewtonSteps`` converge (never a wrong finite value); +∞ when a squared distance
    /// overflows. Rows are independent: the same value for any thread count.
    public static func divergence(
        x: [Double], a: [Double], y: [Double], b: [Double], dimension d: Int, epsilon: Double, threads: Int
    ) -> Double {
        var work = Work()
        return divergence(x: x, a: a, y: y, b: b, dimension: d, epsilon: epsilon, threads: threads, work: &work)
    }

    /// ``divergence(x:a:y:b:dimension:epsilon:threads:)``, adding what the solver did to `work`.
    public static func divergence(
        x: [Double], a: [Double], y: [Double], b: [Double], dimension d: Int, epsilon: Double, threads: Int,
        work: inout Work
    ) -> Double {
        let alpha = Measure(points: x, weights: a, dimension: d)
        let beta = Measure(points: y, weights: b, dimension: d)
        guard let own = selfTransport(beta, dimension: d, epsilon: epsilon, threads: threads, work: &work) else {
            return .nan
        }
        return divergence(alpha, beta, targetSelf: own, dimension: d, epsilon: epsilon, threads: threads, work: &work)
    }

    /// OT_ε at its potentials f (on α's points) and g (on β's).
    struct Solution {
        let value: Double
        let f: [Double]
        let g: [Double]
    }

    /// What the solver did, over the three problems of S_ε: Sinkhorn iterations at the final ε
    /// and Newton steps (0 when Sinkhorn converged on its own).
    public struct Work: Sendable, Equatable {
        public var iterations = 0
        public var newtonSteps = 0
        public init() {}
    }

    /// S_ε with β's own problem solved (a metric solves it once for its fixed target sample).
    /// The cross problem starts from the self potentials (f_αα, g_ββ) when they are the better
    /// start (a higher dual value): as α approaches β its potentials approach theirs, and
    /// Sinkhorn's slowest modes (smooth shifts of f against g) then start small.
    static func divergence(
        _ alpha: Measure, _ beta: Measure, targetSelf: Solution, dimension d: Int, epsilon: Double, threads: Int,
        work: inout Work
    ) -> Double {
        let diameter2 = squaredDiameter([alpha, beta], dimension: d)
        guard diameter2.isFinite, targetSelf.value.isFinite else { return targetSelf.value.isNaN ? .nan : .infinity }
        guard
            let own = solve(
                alpha, alpha, dimension: d, epsilon: epsilon, squaredDiameter: diameter2, threads: threads,
                work: &work),
            let cross = solve(
                alpha, beta, dimension: d, epsilon: epsilon, squaredDiameter: diameter2, threads: threads,
                work: &work, start: (own.f, targetSelf.g))
        else { return .nan }
        return cross.value - 0.5 * own.value - 0.5 * targetSelf.value
    }

    /// OT_ε(β, β) with its potential, or nil when it does not converge.
    static func selfTransport(
        _ beta: Measure, dimension d: Int, epsilon: Double, threads: Int, work: inout Work
    ) -> Solution? {
        let diameter2 = squaredDiameter([beta], dimension: d)
        guard diameter2.isFinite else { return Solution(value: .infinity, f: [], g: []) }
        return solve(
            beta, beta, dimension: d, epsilon: epsilon, squaredDiameter: diameter2, threads: threads, work: &work)
    }

    /// The squared diagonal of the sets' common bounding box (the largest cost), at least the
    /// smallest normal number so that ε-scaling starts somewhere.
    static func squaredDiameter(_ sets: [Measure], dimension d: Int) -> Double {
        var total = 0.0
        for c in 0..<d {
            var lo = Double.infinity
            var hi = -Double.infinity
            for s in sets {
                for i in 0..<s.count {
                    lo = min(lo, s.points[i * d + c])
                    hi = max(hi, s.points[i * d + c])
                }
            }
            let span = hi - lo
            total += span * span
        }
        return max(total, Double.leastNormalMagnitude)
    }

    /// OT_ε(α, β) = ⟨α, f⟩ + ⟨β, g⟩ at the converged potentials; nil when they do not converge.
    /// Equal sets solve the symmetric problem with one potential. `start`: potentials to start
    /// the final ε from instead of ε-scaling's, if their dual value is higher.
    static func solve(
        _ alpha: Measure, _ beta: Measure, dimension d: Int, epsilon: Double, squaredDiameter diameter2: Double,
        threads: Int, work: inout Work, start: (f: [Double], g: [Double])? = nil
    ) -> Solution? {
        let symmetric = alpha.points == beta.points && alpha.weights == beta.weights
        // ε₀ = the squared diameter, then by factors of 4 down to ε.
        var schedule: [Double] = []
        var e = max(diameter2, epsilon)
        while e > epsilon {
            schedule.append(e)
            e /= 4
        }
        schedule.append(epsilon)
        // Potentials at ε₀ from zero: f = T_β(0), g = T_α(0).
        var f = softmin(
            epsilon: schedule[0], targets: alpha, sources: beta, potential: nil, dimension: d, threads: threads)
        var g =
            symmetric
            ? f
            : softmin(
                epsilon: schedule[0], targets: beta, sources: alpha, potential: nil, dimension: d, threads: threads)
        var next = [Double]()
        var nextG = [Double]()
        /// One averaged update at `eps`: f ← ½(f + T_β(g)), g ← ½(g + T_α(f)).
        func update(_ eps: Double) {
            next = softmin(epsilon: eps, targets: alpha, sources: beta, potential: g, dimension: d, threads: threads)
            if !symmetric {
                nextG = softmin(
                    epsilon: eps, targets: beta, sources: alpha, potential: f, dimension: d, threads: threads)
            }
            for i in f.indices { f[i] = 0.5 * (f[i] + next[i]) }
            if symmetric {
                g = f
            } else {
                for j in g.indices { g[j] = 0.5 * (g[j] + nextG[j]) }
            }
        }
        for eps in schedule.dropLast() { update(eps) }
        /// The dual value ⟨α, f⟩ + ⟨β, T_α(f)⟩ and T_α(f).
        func dual(_ f: [Double]) -> (value: Double, g: [Double]) {
            let g = softmin(
                epsilon: epsilon, targets: beta, sources: alpha, potential: f, dimension: d, threads: threads)
            return (dot(alpha.weights, f) + dot(beta.weights, g), g)
        }
        if let start, !symmetric {
            let (scaled, proposed) = (dual(f), dual(start.f))
            (f, g) = proposed.value > scaled.value ? (start.f, proposed.g) : (f, scaled.g)
        }
        // At ε: Sinkhorn's alternating updates (f = T_β(g), then g = T_α(f); the averaged
        // ones for the symmetric problem), until the potentials' remaining change, extrapolated
        // from their geometric decay (Aitken: Δ_k ρ/(1 − ρ), ρ the larger of the last two ratios
        // Δ_k/Δ_(k−1), Δ the largest change of f), is below 10⁻¹³ of the squared diameter, or
        // Δ is at the potentials' rounding level (a few ulps of diam² + ε log(NM), the size of
        // the log-sum-exp's terms). The value ⟨α, f⟩ + ⟨β, g⟩ moves by at most twice the
        // potentials' change.
        let tolerance = 1e-13 * diameter2
        let roundoff = 4e-15 * (diameter2 + epsilon * max(1, log(Double(alpha.count) * Double(beta.count))))
        // Over-relaxation (Thibault, Chizat, Dossal & Papadakis 2021; Lehmann et al. 2022): once
        // plain Sinkhorn has settled into its asymptotic rate θ² (the ratio of successive
        // changes, steady to 1 %), f ← (1 − ω) f + ω T_β(g) and likewise g, with the optimal
        // ω = 2/(1 + √(1 − θ²)): locally convergent for any ω < 2, at the rate ω − 1 instead of
        // θ² (0.98 instead of 0.9999 where ε is small against the diameter). Should the changes
        // grow tenfold it falls back to ω = 1 for good.
        var omega = 1.0
        var changeAtRelaxation = Double.infinity
        var recentRates = [Double](repeating: 1, count: 4)
        var previousChange = Double.infinity
        for iteration in 0..<maximumIterations {
            work.iterations += 1
            let old = f
            if symmetric {
                update(epsilon)
            } else {
                let newF = softmin(
                    epsilon: epsilon, targets: alpha, sources: beta, potential: g, dimension: d, threads: threads)
                for i in f.indices { f[i] = omega == 1 ? newF[i] : (1 - omega) * f[i] + omega * newF[i] }
                let newG = softmin(
                    epsilon: epsilon, targets: beta, sources: alpha, potential: f, dimension: d, threads: threads)
                for j in g.indices { g[j] = omega == 1 ? newG[j] : (1 - omega) * g[j] + omega * newG[j] }
            }
            var change = 0.0
            for i in f.indices { change = max(change, abs(f[i] - old[i])) }
            guard change.isFinite else { return nil }
            let rate = change / previousChange
            recentRates[iteration % recentRates.count] = rate
            let slowest = recentRates.max()!
            if change <= roundoff || (slowest < 1 && change * slowest / (1 - slowest) <= tolerance) {
                // A last plain update of g makes ⟨α, f⟩ + ⟨β, g⟩ the dual value at f.
                if omega != 1 {
                    g = softmin(
                        epsilon: epsilon, targets: beta, sources: alpha, potential: f, dimension: d, threads: threads)
                }
                return Solution(value: dot(alpha.weights, f) + dot(beta.weights, g), f: f, g: g)
            }
            if !symmetric && omega == 1 && changeAtRelaxation.isInfinite && iteration >= 8 && rate < 1
                && recentRates.allSatisfy({ abs($0 - rate) <= 0.01 * (1 - rate) })
            {
                omega = 2 / (1 + (1 - rate).squareRoot())
                changeAtRelaxation = change
            } else if omega != 1 && change > 10 * changeAtRelaxation {
                omega = 1
            }
            previousChange = change
        }
        return newton(
            alpha, beta, g: g, dimension: d, epsilon: epsilon, squaredDiameter: diameter2, threads: threads,
            steps: &work.newtonSteps)
    }

    /// Σ_i u_i v_i, as ⟨α, f⟩ in the dual value ⟨α, f⟩ + ⟨β, g⟩.
    static func dot(_ u: [Double], _ v: [Double]) -> Double {
        var s = 0.0
        for i in u.indices { s += u[i] * v[i] }
        return s
    }

    /// T(h)_i = −ε log Σ_j w_j exp((h_j − |x_i − y_j|²)/ε) for every target point x_i, with the
    /// sources' weights w and potential h (nil: 0): per row, the exponents' maximum, then the
    /// shifted exponentials eight at a time.
    static func softmin(
        epsilon: Double, targets: Measure, sources: Measure, potential: [Double]?, dimension d: Int, threads: Int
    ) -> [Double] {
        let m = sources.count
        var exponents = sources.logWeights
        if let potential { for j in 0..<m { exponents[j] += potential[j] / epsilon } }
        return rowsOfExponents(
            targets: targets, sources: sources, exponents: exponents, epsilon: epsilon, dimension: d, threads: threads
        ) { t, _ in
            var largest = -Double.infinity
            for j in 0..<m { largest = max(largest, t[j]) }
            let shift = VectorMath.V(repeating: largest)
            var lanes = VectorMath.V(repeating: 0)
            var j = 0
            while j + 8 <= m {
                lanes += VectorMath.exp(UnsafeRawPointer(t + j).loadUnaligned(as: VectorMath.V.self) - shift)
                j += 8
            }
            var sum = lanes.sum()
            while j < m {
                sum += Foundation.exp(t[j] - largest)
                j += 1
            }
            return -epsilon * (largest + Foundation.log(sum))
        }
    }

    /// For every target point x_i (rows in parallel), the exponents t_j = h_j − |x_i − y_j|²/ε
    /// over the sources y_j, reduced by `row(t, i)` to the row's output. The costs are
    /// recomputed, never stored; the same output for any thread count.
    static func rowsOfExponents(
        targets: Measure, sources: Measure, exponents: [Double], epsilon: Double, dimension d: Int, threads: Int,
        _ row: @Sendable (UnsafeMutablePointer<Double>, Int) -> Double
    ) -> [Double] {
        let n = targets.count
        let m = sources.count
        let inverse = 1 / epsilon
        var out = [Double](repeating: 0, count: n)
        exponents.withUnsafeBufferPointer { hp in
            sources.columns.withUnsafeBufferPointer { yp in
                targets.points.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { op in
                        let h = SharedPointer(hp.baseAddress!)
                        let columns = SharedPointer(yp.baseAddress!)
                        let x = SharedPointer(xp.baseAddress!)
                        let o = SharedMutablePointer(op.baseAddress!)
                        Parallel.forEachChunk(n, threads: threads, minimumChunk: max(1, 4096 / max(m, 1))) { rows in
                            let t = UnsafeMutablePointer<Double>.allocate(capacity: m)
                            defer { t.deallocate() }
                            for i in rows {
                                t.update(from: h.base, count: m)
                                for c in 0..<d {
                                    let xc = x[i * d + c]
                                    let column = columns.base + c * m
                                    for j in 0..<m {
                                        let u = xc - column[j]
                                        t[j] -= u * u * inverse
                                    }
                                }
                                o[i] = row(t, i)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
