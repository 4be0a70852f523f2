/// `mean-error`: |m̂ − m|₂, the Euclidean distance between the particle mean and the target's.
public final class MeanErrorMetric: Metric {
    let mean: [Double]
    /// Compares with the reference mean `mean` (d numbers).
    public init(mean: [Double]) { self.mean = mean }

    /// |m̂ − m|₂ for the first population (unweighted mean).
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let m = p.positions.withUnsafeBufferPointer { sampleMoments($0, dimension: p.dimension).mean }
        return zip(m, mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }

    static let entry = MetricEntry(name: "mean-error", summary: "|particle mean − target mean| (Euclidean)") { s, ctx in
        try reserveMoments(s, ctx, "mean-error")
        if ctx.target.isAbsent { return MeanErrorMetric(mean: try s.reals("reference-mean", count: ctx.dimension)) }
        guard let m = ctx.target.moments else { throw s.fail("metrics", "mean-error needs a target with a known mean") }
        return MeanErrorMetric(mean: m.mean)
    }
}

/// `cov-error`: ‖Ĉ − Σ‖_F / ‖Σ‖_F, with Ĉ the unbiased (n − 1) particle covariance, as the
/// reference SVGD experiments report it.
public final class CovarianceErrorMetric: Metric {
    let covariance: [Double]
    /// Compares with the reference covariance Σ (row-major d × d).
    public init(covariance: [Double]) { self.covariance = covariance }

    /// ‖Ĉ − Σ‖_F / ‖Σ‖_F for the first population (unweighted).
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let c = p.positions.withUnsafeBufferPointer { sampleMoments($0, dimension: p.dimension).covariance }
        let diff = zip(c, covariance).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return (diff / covariance.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    static let entry = MetricEntry(
        name: "cov-error", summary: "‖particle covariance − target covariance‖_F / ‖target covariance‖_F"
    ) { s, ctx in
        try reserveMoments(s, ctx, "cov-error")
        if ctx.target.isAbsent {
            return CovarianceErrorMetric(covariance: try readReferenceCovariance(s, dimension: ctx.dimension))
        }
        guard let m = ctx.target.moments else {
            throw s.fail("metrics", "cov-error needs a target with a known covariance")
        }
        return CovarianceErrorMetric(covariance: m.covariance)
    }
}

/// `energy`: the flow's objective (½ MMD² for the MMD flow).
public final class EnergyMetric: Metric {
    let flow: any Flow
    /// Reports `flow`'s ``Flow/energy(_:)``.
    public init(flow: any Flow) { self.flow = flow }
    /// The flow's objective at `state`.
    public func evaluate(_ state: SimulationState) -> Double { flow.energy(state) }

    static let entry = MetricEntry(
        name: "energy", summary: "the flow's objective where it has one (mmd: ½ MMD² with the flow kernel)"
    ) { s, ctx in
        guard ctx.flow.energyDescription != nil else {
            throw s.fail("metrics", "energy is not defined for this flow (svgd has no tractable objective; use ksd)")
        }
        return EnergyMetric(flow: ctx.flow)
    }
}

/// The memory of a moment metric: the target's d×d covariance, made as the metric is read
/// (checked at once), and the particles' covariance made at every evaluation.
func reserveMoments(_ s: Settings, _ ctx: MetricContext, _ name: String) throws {
    let d = Double(ctx.dimension)
    try s.memory.reserve(
        s, "metrics", "\(name)'s \(ctx.dimension)×\(ctx.dimension) covariances",
        parts: "the target's covariance, kept", bytes: 8 * d * d)
    s.memory.add(
        s, "metrics", "\(name)'s \(ctx.dimension)×\(ctx.dimension) covariances",
        parts: "the particles' covariance, at each record", bytes: 8 * d * (d + 1), transient: true)
}

/// Without a target, `cov-error` compares with a stated reference: `reference-covariance`
/// (d×d) or `reference-variance` (a number or d numbers: a diagonal covariance).
func readReferenceCovariance(_ s: Settings, dimension d: Int) throws -> [Double] {
    if s.contains("reference-covariance") {
        return try s.matrix("reference-covariance", rows: d, columns: d).flatMap { $0 }
    }
    let v = try s.realOrReals("reference-variance", count: d, .positive)
    var c = [Double](repeating: 0, count: d * d)
    for a in 0..<d { c[a * d + a] = v[a] }
    return c
}
