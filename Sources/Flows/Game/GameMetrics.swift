import Foundation
import KernelSum

/// The best-response search of the `nash-gap` metric: maximises f over a player's domain,
/// f given with its gradient at any batch of points. d ≤ 2: exhaustive on a grid of `grid`
/// points per coordinate (default 512 in 1-D, 64 in 2-D), then gradient ascent from the
/// `starts` best grid points; d > 2: gradient ascent from `starts` points (uniform in the box,
/// drawn from the seed, and every ⌈N/starts⌉-th particle of the player). The ascent takes
/// `iterations` steps with a per-start step length adapted by acceptance (×2 on improvement,
/// ×¼ otherwise; steps leave the box clamped, or wrap in a periodic domain). Returns the largest
/// value seen (a lower bound of the supremum, exact up to the ascent's convergence).
public struct BestResponseSearch: Sendable {
    /// Grid points per coordinate for d ≤ 2; nil: 512 in 1-D, 64 in 2-D.
    public var grid: Int?
    /// The number of gradient-ascent starts.
    public var starts: Int
    /// Gradient-ascent steps per start.
    public var iterations: Int
    /// The box [low, high]^d searched in R^d; nil: the range of the particles' coordinates
    /// widened by half its width (at least ½) on each side, recomputed at every evaluation.
    public var box: (low: Double, high: Double)?
    /// Keys the uniform starts in d > 2.
    public var seed: UInt64

    /// A search; see the properties.
    public init(
        grid: Int? = nil, starts: Int = 16, iterations: Int = 40, box: (low: Double, high: Double)? = nil,
        seed: UInt64 = 1
    ) {
        self.grid = grid
        self.starts = starts
        self.iterations = iterations
        self.box = box
        self.seed = seed
    }

    func bounds(_ domain: Domain, _ points: [[Double]]) -> (Double, Double) {
        if let l = domain.period { return (0, l) }
        if let box { return box }
        var lo = Double.infinity
        var hi = -Double.infinity
        for p in points {
            for v in p {
                lo = min(lo, v)
                hi = max(hi, v)
            }
        }
        if !lo.isFinite { return (-1, 1) }
        let margin = max(hi - lo, 1) / 2
        return (lo - margin, hi + margin)
    }

    /// max f over the domain of dimension d. `particles`: the player's own positions (starts
    /// above 2-D) and the coordinates that set the default box.
    public func maximise(
        dimension d: Int, domain: Domain, particles: [Double], boxPoints: [[Double]],
        objective: ([Double]) -> (values: [Double], gradients: [Double])
    ) -> Double {
        let (lo, hi) = bounds(domain, boxPoints + [particles])
        let periodic = domain.period != nil
        var points: [Double] = []
        var best = -Double.infinity
        if d <= 2 {
            let g = grid ?? (d == 1 ? 512 : 64)
            let total = Int(pow(Double(g), Double(d)))
            points.reserveCapacity(total * d)
            let spacing = periodic ? (hi - lo) / Double(g) : (hi - lo) / Double(max(1, g - 1))
            for k in 0..<total {
                var r = k
                for _ in 0..<d {
                    points.append(lo + spacing * Double(r % g))
                    r /= g
                }
            }
            let f = objective(points)
            let order = (0..<total).sorted { f.values[$0] > f.values[$1] || (f.values[$0] == f.values[$1] && $0 < $1) }
            best = f.values[order[0]]
            var chosen: [Double] = []
            for k in order.prefix(starts) { chosen += points[(k * d)..<(k * d + d)] }
            points = chosen
        } else {
            for k in 0..<starts {
                var rng = RandomStream(seed: seed, .metricSample, 7919, k)
                for _ in 0..<d { points.append(lo + (hi - lo) * rng.uniform()) }
            }
            let n = particles.count / d
            if n > 0 {
                let stride = max(1, (n + starts - 1) / starts)
                for i in Swift.stride(from: 0, to: n, by: stride) { points += particles[(i * d)..<(i * d + d)] }
            }
        }
        let m = points.count / d
        guard m > 0 else { return best }
        var f = objective(points)
        for v in f.values { best = max(best, v) }
        var step = [Double](repeating: 0, count: m)
        for k in 0..<m {
            var g2 = 0.0
            for a in 0..<d { g2 += f.gradients[k * d + a] * f.gradients[k * d + a] }
            step[k] = g2 > 0 ? 0.02 * (hi - lo) / g2.squareRoot() : 0
        }
        for _ in 0..<iterations {
            var proposal = points
            for k in 0..<m {
                for a in 0..<d {
                    var y = points[k * d + a] + step[k] * f.gradients[k * d + a]
                    if periodic {
                        y = domain.wrap(y)
                    } else {
                        y = min(hi, max(lo, y))
                    }
                    proposal[k * d + a] = y
                }
            }
            let fp = objective(proposal)
            for k in 0..<m {
                if fp.values[k] > f.values[k] {
                    for a in 0..<d {
                        points[k * d + a] = proposal[k * d + a]
                        f.gradients[k * d + a] = fp.gradients[k * d + a]
                    }
                    f.values[k] = fp.values[k]
                    step[k] *= 2
                    best = max(best, fp.values[k])
                } else {
                    step[k] *= 0.25
                }
            }
        }
        return best
    }
}

func gameFlow(_ ctx: MetricContext, _ s: Settings, _ name: String) throws -> GameFlow {
    guard let flow = ctx.flow as? GameFlow else { throw s.fail("metrics", "\(name) needs the game flow") }
    return flow
}

/// `nash-gap`: exploitability max_φ ∫ℓ(·, φ) dμ − min_θ ∫ℓ(θ, ·) dν (≥ 0, 0 exactly at a Nash
/// equilibrium), both best responses found by ``BestResponseSearch``.
public final class NashGapMetric: Metric {
    /// The game, for its payoff and the players' domains.
    public let flow: GameFlow
    /// How each best response is searched.
    public let search: BestResponseSearch
    /// The gap of `flow`'s game, best responses by `search`.
    public init(flow: GameFlow, search: BestResponseSearch) {
        self.flow = flow
        self.search = search
    }

    /// (max_φ U(φ), min_θ V(θ)).
    public func bestResponses(_ state: SimulationState) -> (maxValue: Double, minValue: Double) {
        let theta = state.populations[0]
        let phi = state.populations[1]
        let boxPoints = [theta.positions, phi.positions]
        let up = search.maximise(
            dimension: phi.dimension, domain: flow.maxPlayer.domain, particles: phi.positions,
            boxPoints: boxPoints
        ) { self.flow.maxField(at: $0, theta: theta) }
        let down = search.maximise(
            dimension: theta.dimension, domain: flow.minPlayer.domain, particles: theta.positions,
            boxPoints: boxPoints
        ) { x in
            let f = self.flow.minField(at: x, phi: phi)
            return (f.values.map { -$0 }, f.gradients.map { -$0 })
        }
        return (up, -down)
    }

    /// max_φ U(φ) − min_θ V(θ) at `state`.
    public func evaluate(_ state: SimulationState) -> Double {
        let b = bestResponses(state)
        return b.maxValue - b.minValue
    }

    static let entry = MetricEntry(name: "nash-gap", summary: "exploitability max_φ ∫ℓ dμ − min_θ ∫ℓ dν (game)") {
        s, ctx in
        let flow = try gameFlow(ctx, s, "nash-gap")
        var search = BestResponseSearch(seed: ctx.seed)
        if s.contains("nash-gap-grid") { search.grid = try s.integer("nash-gap-grid", .count) }
        search.starts = try s.integer("nash-gap-starts", default: 16, .count)
        search.iterations = try s.integer("nash-gap-iterations", default: 40, .nonNegativeInteger)
        // Memory, per player of dimension p, at each record: the candidates (the grid's g^p
        // points in p ≤ 2, else the starts and the player's particles) with their values,
        // gradients and order, and the payoff's sum over them.
        for (k, p) in [(0, flow.payoff.minDimension), (1, flow.payoff.maxDimension)] {
            let own = s.memory.particles(k).count
            let other = s.memory.particles(1 - k).count
            let candidates =
                p <= 2
                ? pow(Double(search.grid ?? (p == 1 ? 512 : 64)), Double(p))
                : Double(search.starts) + Double(own)
            let key = p <= 2 && s.contains("nash-gap-grid") ? "nash-gap-grid" : "metrics"
            guard candidates <= Double(MemoryEstimate.maximumCount) else {
                throw s.fail(
                    key,
                    (p <= 2
                        ? "\(search.grid ?? 0) points per coordinate in dimension \(p)"
                        : "\(search.starts) starts and \(own) particles")
                        + " make \(formatNumber(candidates)) candidates, more than the \(MemoryEstimate.maximumCount) allowed"
                )
            }
            s.memory.add(
                s, key,
                "a nash-gap search over \(formatNumber(candidates)) candidate\(candidates == 1 ? "" : "s") in dimension \(p)",
                parts: "points, values, gradients, order, proposals", bytes: 8 * candidates * Double(4 * p + 4),
                transient: true)
            if let kernelPayoff = flow.payoff as? KernelPayoff {
                s.memory.addKernelSum(
                    s, key, kernelPayoff.engine, kernel: kernelPayoff.kernel, dimension: p, sources: other,
                    targets: Int(candidates), channels: 1, gradients: 1, threads: ctx.threads)
            }
        }
        if s.contains("nash-gap-box") {
            let b = try s.reals("nash-gap-box", count: 2)
            guard b[1] > b[0] else { throw s.fail("nash-gap-box", "expected [low, high] with high > low") }
            search.box = (b[0], b[1])
        }
        return NashGapMetric(flow: flow, search: search)
    }
}

/// `value`: L(μ, ν) = Σ_ij a_i b_j ℓ(θ_i, φ_j).
public final class GameValueMetric: Metric {
    let flow: GameFlow
    /// The value of `flow`'s game.
    public init(flow: GameFlow) { self.flow = flow }
    /// L(μ, ν) at `state`.
    public func evaluate(_ state: SimulationState) -> Double { flow.value(state) }
    static let entry = MetricEntry(name: "value", summary: "the game's value L(μ, ν) = ∬ℓ dμ dν (game)") { s, ctx in
        GameValueMetric(flow: try gameFlow(ctx, s, "value"))
    }
}

/// Weight statistics of one player: entropy −Σ w log w (log N for uniform weights) or the
/// effective particle count 1/Σ w² (N for uniform weights).
public final class WeightStatisticMetric: Metric {
    /// −Σ w log w, or 1/Σ w².
    public enum Statistic: Sendable { case entropy, effectiveCount }
    let population: Int
    let statistic: Statistic
    /// The statistic of population `population`'s weights (0: min player, 1: max).
    public init(population: Int, statistic: Statistic) {
        self.population = population
        self.statistic = statistic
    }

    /// −Σ w log w (zero weights contribute 0).
    public static func entropy(_ w: [Double]) -> Double { -w.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) } }
    /// 1/Σ w².
    public static func effectiveCount(_ w: [Double]) -> Double { 1 / w.reduce(0) { $0 + $1 * $1 } }

    /// The statistic at `state`.
    public func evaluate(_ state: SimulationState) -> Double {
        let w = state.populations[population].weights
        return statistic == .entropy ? Self.entropy(w) : Self.effectiveCount(w)
    }

    static let entries: [MetricEntry] = [("min", 0), ("max", 1)].flatMap { tag, k in
        [
            MetricEntry(name: "\(tag)-weight-entropy", summary: "−Σ w log w of the \(tag) player's weights (game)") {
                s, ctx in
                _ = try gameFlow(ctx, s, "\(tag)-weight-entropy")
                return WeightStatisticMetric(population: k, statistic: .entropy)
            },
            MetricEntry(name: "\(tag)-effective-count", summary: "1/Σ w² of the \(tag) player's weights (game)") {
                s, ctx in
                _ = try gameFlow(ctx, s, "\(tag)-effective-count")
                return WeightStatisticMetric(population: k, statistic: .effectiveCount)
            },
        ]
    }
}

/// `equilibrium-distance`: with a stated Gaussian (or mean-only) equilibrium per player,
/// √(Σ_players [|m̂ − m|² + Σ_a (ŝ_a − s_a)²]), m̂ and ŝ_a² the weighted mean and per-coordinate
/// variance of the player's particles (the 2-Wasserstein distance between diagonal Gaussians;
/// the variance part only where a variance is stated).
public final class EquilibriumDistanceMetric: Metric {
    /// A player's stated equilibrium: its mean, and its per-coordinate variance if stated.
    public struct Reference: Sendable {
        /// m, the equilibrium mean.
        public var mean: [Double]
        /// s_a², the per-coordinate variances; nil: compare the means only.
        public var variance: [Double]?
        /// A reference; see the properties.
        public init(mean: [Double], variance: [Double]?) {
            self.mean = mean
            self.variance = variance
        }
    }
    /// (population index, its stated equilibrium).
    let references: [(Int, Reference)]
    /// Both players (`equilibrium-distance`).
    public init(min: Reference, max: Reference) { references = [(0, min), (1, max)] }
    /// One player only (`min-equilibrium-distance`, `max-equilibrium-distance`).
    public init(player: Int, reference: Reference) { references = [(player, reference)] }

    /// Weighted mean and per-coordinate variance.
    public static func moments(_ p: Population) -> (mean: [Double], variance: [Double]) {
        let d = p.dimension
        var m = [Double](repeating: 0, count: d)
        var v = [Double](repeating: 0, count: d)
        for i in 0..<p.count { for a in 0..<d { m[a] += p.weights[i] * p.positions[i * d + a] } }
        for i in 0..<p.count {
            for a in 0..<d {
                let t = p.positions[i * d + a] - m[a]
                v[a] += p.weights[i] * t * t
            }
        }
        return (m, v)
    }

    /// The distance at `state`, over the players given.
    public func evaluate(_ state: SimulationState) -> Double {
        var s = 0.0
        for (k, r) in references {
            let (m, v) = Self.moments(state.populations[k])
            for a in 0..<m.count { s += (m[a] - r.mean[a]) * (m[a] - r.mean[a]) }
            if let rv = r.variance {
                for a in 0..<v.count {
                    let t = v[a].squareRoot() - rv[a].squareRoot()
                    s += t * t
                }
            }
        }
        return s.squareRoot()
    }

    static func read(_ s: Settings, _ tag: String, _ d: Int) throws -> Reference {
        let mean = try s.reals("equilibrium-\(tag)-mean", count: d)
        let variance =
            s.contains("equilibrium-\(tag)-variance")
            ? try s.realOrReals("equilibrium-\(tag)-variance", count: d, .nonNegative) : nil
        return Reference(mean: mean, variance: variance)
    }

    static let entries: [MetricEntry] = [
        MetricEntry(
            name: "equilibrium-distance",
            summary: "distance of both players' means (and variances) to a stated equilibrium (game)"
        ) { s, ctx in
            let flow = try gameFlow(ctx, s, "equilibrium-distance")
            return EquilibriumDistanceMetric(
                min: try read(s, "min", flow.payoff.minDimension),
                max: try read(s, "max", flow.payoff.maxDimension))
        },
        MetricEntry(
            name: "min-equilibrium-distance", summary: "distance of the min player to its stated equilibrium (game)"
        ) { s, ctx in
            let flow = try gameFlow(ctx, s, "min-equilibrium-distance")
            return EquilibriumDistanceMetric(player: 0, reference: try read(s, "min", flow.payoff.minDimension))
        },
        MetricEntry(
            name: "max-equilibrium-distance", summary: "distance of the max player to its stated equilibrium (game)"
        ) { s, ctx in
            let flow = try gameFlow(ctx, s, "max-equilibrium-distance")
            return EquilibriumDistanceMetric(player: 1, reference: try read(s, "max", flow.payoff.maxDimension))
        },
    ]
}

/// The game metrics, for ``MetricRegistry/entries``.
enum GameMetrics {
    static let entries: [MetricEntry] =
        [NashGapMetric.entry, GameValueMetric.entry]
        + WeightStatisticMetric.entries + EquilibriumDistanceMetric.entries
}
