import KernelSum

/// How well a `sparse-deconvolution` run recovers its ground truth μ* = Σ_s m*_s δ_{θ*_s}.
///
/// Every particle belongs to the Voronoi cell of its nearest true spike on the torus (ties to
/// the lower index); cell s holds the cluster mass M_s = Σ_{i ∈ s} m_i and the mass-weighted
/// mean displacement c_s = Σ_{i ∈ s} m_i mi(θ_i − θ*_s) / M_s (mi: the minimum image, so the
/// centroid of the cluster is θ*_s + c_s on the torus). Then
/// - `spike-position-error` = max_s |c_s|, the largest distance from a true spike to its
///   cluster's centroid (√d/2, the torus's largest distance, for a cell without mass);
/// - `spike-mass-error` = max_s |M_s − m*_s|.
/// Spurious mass far from the spikes counts in both: in its cell's mass, and in its centroid
/// by its mass times its distance.
public struct SpikeRecovery: Sendable, Equatable {
    /// max_s |c_s|.
    public var positionError: Double
    /// max_s |M_s − m*_s|.
    public var massError: Double

    /// The recovery of `spikes` (row-major, d per spike) with `masses` by the particles of `p`.
    public init(_ p: Population, spikes: [Double], masses: [Double]) {
        let d = p.dimension
        let torus = Domain.periodic(length: 1)
        let count = masses.count
        var mass = [Double](repeating: 0, count: count)
        var moment = [Double](repeating: 0, count: count * d)
        var displacement = [Double](repeating: 0, count: d)
        for i in 0..<p.count {
            var best = 0
            var bestR2 = Double.infinity
            for s in 0..<count {
                var r2 = 0.0
                for a in 0..<d {
                    let u = torus.minimumImage(p.positions[i * d + a] - spikes[s * d + a])
                    r2 += u * u
                }
                if r2 < bestR2 {
                    bestR2 = r2
                    best = s
                }
            }
            for a in 0..<d { displacement[a] = torus.minimumImage(p.positions[i * d + a] - spikes[best * d + a]) }
            mass[best] += p.weights[i]
            for a in 0..<d { moment[best * d + a] += p.weights[i] * displacement[a] }
        }
        positionError = 0
        massError = 0
        for s in 0..<count {
            var r2 = 0.0
            for a in 0..<d { r2 += moment[s * d + a] * moment[s * d + a] }
            let distance = mass[s] > 0 ? r2.squareRoot() / mass[s] : Double(d).squareRoot() / 2
            positionError = max(positionError, distance)
            massError = max(massError, abs(mass[s] - masses[s]))
        }
    }

    static let entries: [MetricEntry] = [
        MetricEntry(
            name: "spike-position-error",
            summary: "max over true spikes of the distance to their Voronoi cluster's centroid (sparse-deconvolution)"
        ) { s, ctx in
            let flow = try deconvolution(s, ctx, "spike-position-error")
            return SpikeRecoveryMetric(flow: flow) { $0.positionError }
        },
        MetricEntry(
            name: "spike-mass-error",
            summary: "max over true spikes of |cluster mass − true mass| (sparse-deconvolution)"
        ) { s, ctx in
            let flow = try deconvolution(s, ctx, "spike-mass-error")
            return SpikeRecoveryMetric(flow: flow) { $0.massError }
        },
    ]

    static func deconvolution(_ s: Settings, _ ctx: MetricContext, _ name: String) throws -> SparseDeconvolutionFlow {
        guard let flow = ctx.flow as? SparseDeconvolutionFlow else {
            throw s.fail("metrics", "\(name) needs the sparse-deconvolution flow (its ground truth)")
        }
        return flow
    }
}

final class SpikeRecoveryMetric: Metric {
    let flow: SparseDeconvolutionFlow
    let value: (SpikeRecovery) -> Double
    init(flow: SparseDeconvolutionFlow, value: @escaping (SpikeRecovery) -> Double) {
        self.flow = flow
        self.value = value
    }
    func evaluate(_ state: SimulationState) -> Double {
        value(SpikeRecovery(state.populations[0], spikes: flow.spikes, masses: flow.masses))
    }
}
