import Communication
import Foundation
import KernelSum

/// The metrics of mean-field Langevin flows. Free energy F = U + I − λH with
/// U = ∫V dμ (`potential-energy`), I = ½∬W dμdμ over pairs i ≠ j (`interaction-energy`) and
/// H = −∫μ log μ the differential entropy (`entropy`, Kozachenko–Leonenko kNN estimate with
/// `entropy-neighbours` = k, 5 by default).
public final class LangevinMetric: Metric {
    /// Which quantity: F, U, I, H, or `kl` = KL(μ‖exp(−V/λ)/Z) = −H + U/λ + log Z.
    public enum Kind: String, CaseIterable, Sendable {
        case freeEnergy = "free-energy", potentialEnergy = "potential-energy", interactionEnergy = "interaction-energy"
        case entropy, kl
    }
    let kind: Kind
    let flow: LangevinFlow
    let neighbours: Int
    let logPartition: Double
    /// The ranks that share the entropy's neighbour queries.
    let communicator: any Communicator

    init(
        kind: Kind, flow: LangevinFlow, neighbours: Int, logPartition: Double = .nan,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.kind = kind
        self.flow = flow
        self.neighbours = neighbours
        self.logPartition = logPartition
        self.communicator = communicator
    }

    func entropy(_ p: Population) -> Double {
        knnEntropy(
            p.positions, dimension: p.dimension, neighbours: neighbours, domain: flow.domain, threads: flow.threads,
            communicator: communicator)
    }

    /// The quantity of `kind` for the first population.
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        switch kind {
        case .potentialEnergy: return flow.potentialEnergy(p)
        case .interactionEnergy: return flow.interactionEnergy(p)
        case .entropy: return entropy(p)
        case .freeEnergy:
            let h = flow.temperature > 0 ? entropy(p) : 0
            return flow.potentialEnergy(p) + flow.interactionEnergy(p) - flow.temperature * h
        case .kl:
            // KL(μ‖π), π = exp(−V/λ)/Z: −H(μ) + ∫V dμ/λ + log Z.
            return -entropy(p) + flow.potentialEnergy(p) / flow.temperature + logPartition
        }
    }

    static func langevin(_ s: Settings, _ ctx: MetricContext, _ name: String) throws -> LangevinFlow {
        guard let flow = ctx.flow as? LangevinFlow else { throw s.fail("metrics", "\(name) needs the langevin flow") }
        return flow
    }

    /// k of the kNN entropy: fewer than the N particles (each point's k-th neighbour is
    /// another particle). Memory: the spatial hash over the particles and a log per particle.
    static func neighbours(_ s: Settings, _ ctx: MetricContext) throws -> Int {
        let n = ctx.particleCount
        let k = try s.integer("entropy-neighbours", default: 5, .count)
        guard k < n else {
            throw s.fail(
                "entropy-neighbours",
                "\(k)\(s.contains("entropy-neighbours") ? "" : " (the default)") needs more than \(k) particles, "
                    + "and population.count is \(n) (allowed: 1 to N − 1\(n > 1 ? " = \(n - 1)" : ", so the entropy needs at least 2 particles"))"
            )
        }
        s.memory.add(
            s, "entropy-neighbours", "a kNN entropy of \(n) particle\(n == 1 ? "" : "s")",
            parts: "a spatial hash of the particles, the neighbours' distances",
            bytes: MemoryEstimate.spatialHash(count: n, dimension: ctx.dimension) + 8 * Double(n), transient: true,
            derived: true)
        return k
    }

    static let entries: [MetricEntry] = [
        MetricEntry(name: "free-energy", summary: "F = ∫V dμ + ½∬W dμdμ − λH(μ), H by the kNN estimator (langevin)") {
            s, ctx in
            let flow = try langevin(s, ctx, "free-energy")
            return LangevinMetric(
                kind: .freeEnergy, flow: flow, neighbours: flow.temperature > 0 ? try neighbours(s, ctx) : 1,
                communicator: ctx.communicator)
        },
        MetricEntry(name: "potential-energy", summary: "∫V dμ (langevin)") { s, ctx in
            LangevinMetric(kind: .potentialEnergy, flow: try langevin(s, ctx, "potential-energy"), neighbours: 1)
        },
        MetricEntry(name: "interaction-energy", summary: "½ Σ_{i≠j} w_i w_j W(x_i − x_j) (langevin)") { s, ctx in
            LangevinMetric(kind: .interactionEnergy, flow: try langevin(s, ctx, "interaction-energy"), neighbours: 1)
        },
        MetricEntry(
            name: "entropy", summary: "differential entropy −∫μ log μ, Kozachenko–Leonenko kNN estimate (langevin)"
        ) { s, ctx in
            LangevinMetric(
                kind: .entropy, flow: try langevin(s, ctx, "entropy"), neighbours: try neighbours(s, ctx),
                communicator: ctx.communicator)
        },
        MetricEntry(
            name: "kl", summary: "KL(μ‖Gibbs measure exp(−V/λ)/Z), kNN entropy; langevin with no interaction, λ > 0"
        ) { s, ctx in
            let flow = try langevin(s, ctx, "kl")
            guard flow.interactions.isEmpty, flow.domain == .free, flow.temperature > 0 else {
                throw s.fail(
                    "metrics", "kl needs a known Gibbs measure: langevin in R^d with no interaction and temperature > 0"
                )
            }
            guard let z = flow.potential?.logPartition(temperature: flow.temperature, dimension: ctx.dimension) else {
                throw s.fail(
                    "metrics", "kl needs a potential with a known normalising constant (quadratic, double-well)")
            }
            return LangevinMetric(
                kind: .kl, flow: flow, neighbours: try neighbours(s, ctx), logPartition: z,
                communicator: ctx.communicator)
        },
    ]
}

/// `mean`: |m̂|₂, the norm of the particle mean (e.g. the order parameter of symmetry breaking).
/// `variance`: tr(Ĉ)/d, the mean per-coordinate variance (unbiased, N − 1).
public final class SampleMomentMetric: Metric {
    let isMean: Bool
    init(isMean: Bool) { self.isMean = isMean }
    /// |m̂|₂ or tr(Ĉ)/d of the first population (unweighted).
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let d = p.dimension
        let m = p.positions.withUnsafeBufferPointer { sampleMoments($0, dimension: d) }
        if isMean { return m.mean.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        return (0..<d).reduce(0) { $0 + m.covariance[$1 * d + $1] } / Double(d)
    }

    static let entries: [MetricEntry] = [
        MetricEntry(name: "mean", summary: "|particle mean|₂") { s, ctx in
            s.memory.add(
                s, "metrics", "a \(ctx.dimension)×\(ctx.dimension) covariance for the mean metric",
                parts: "at each record",
                bytes: 8 * Double(ctx.dimension) * Double(ctx.dimension + 1), transient: true)
            return SampleMomentMetric(isMean: true)
        },
        MetricEntry(name: "variance", summary: "tr(particle covariance)/d, unbiased") { s, ctx in
            s.memory.add(
                s, "metrics", "a \(ctx.dimension)×\(ctx.dimension) covariance for the variance metric",
                parts: "at each record",
                bytes: 8 * Double(ctx.dimension) * Double(ctx.dimension + 1), transient: true)
            return SampleMomentMetric(isMean: false)
        },
    ]
}
