import Foundation
import KernelSum

/// `sinkhorn`: the debiased Sinkhorn divergence S_ε (``SinkhornDivergence``, cost |x − y|²)
/// between the first population (with its weights) and M samples of the target drawn once (the
/// `w2` metric's samples, so that the two compare), at `sinkhorn-epsilon` = ε (default: 0.1 ×
/// the target sample's mean variance per coordinate, tr Cov / d: scale-free). A W₂²-like
/// quantity: S_ε → W₂² as ε → 0. OT_ε of the samples with themselves is solved once.
public final class SinkhornMetric: Metric {
    /// The samples as a measure, their OT_ε with themselves, and ε.
    let target: Deferred<(measure: SinkhornDivergence.Measure, own: SinkhornDivergence.Solution, epsilon: Double)>
    let dimension: Int
    let threads: Int

    init(samples: Deferred<[Double]>, epsilon: Double?, dimension d: Int, threads: Int) {
        self.dimension = d
        self.threads = threads
        target = Deferred {
            let y = samples.value
            let m = y.count / d
            let beta = SinkhornDivergence.Measure(points: y, weights: [Double](repeating: 1, count: m), dimension: d)
            let eps = epsilon ?? 0.1 * Self.meanVariance(y, dimension: d)
            var work = SinkhornDivergence.Work()
            let own =
                SinkhornDivergence.selfTransport(beta, dimension: d, epsilon: eps, threads: threads, work: &work)
                ?? SinkhornDivergence.Solution(value: .nan, f: [], g: [])
            return (beta, own, eps)
        }
    }

    /// tr Cov / d of the rows of `y` (the positive smallest normal when they coincide).
    public static func meanVariance(_ y: [Double], dimension d: Int) -> Double {
        let m = y.count / d
        var total = 0.0
        for c in 0..<d {
            var mean = 0.0
            for j in 0..<m { mean += y[j * d + c] }
            mean /= Double(m)
            for j in 0..<m { total += (y[j * d + c] - mean) * (y[j * d + c] - mean) }
        }
        return max(total / Double(m * d), Double.leastNormalMagnitude)
    }

    /// S_ε between the first population and the samples.
    public func evaluate(_ state: SimulationState) -> Double {
        let (beta, own, eps) = target.value
        let p = state.populations[0]
        let alpha = SinkhornDivergence.Measure(points: p.positions, weights: p.weights, dimension: dimension)
        var work = SinkhornDivergence.Work()
        return SinkhornDivergence.divergence(
            alpha, beta, targetSelf: own, dimension: dimension, epsilon: eps, threads: threads, work: &work)
    }

    static let entry = MetricEntry(
        name: "sinkhorn",
        summary:
            "debiased Sinkhorn divergence S_ε (cost |x−y|²) to a fixed target sample (sinkhorn-epsilon, sinkhorn-samples)"
    ) { s, ctx in
        try requireTargetSamples(s, ctx, "sinkhorn")
        let n = ctx.particleCount
        let m = try s.integer("sinkhorn-samples", default: ctx.target.naturalSampleCount ?? min(n, 1000), .count)
        let epsilon = try s.optionalReal("sinkhorn-epsilon", .positive)
        let pairs = Double(n) * Double(n) + Double(n) * Double(m) + Double(m) * Double(m)
        guard pairs <= 3 * Double(SinkhornDivergence.maximumPairs) else {
            throw s.fail(
                "metrics",
                "sinkhorn between \(n) particles and \(m) samples: the log-domain solver takes N² + NM + M² ≤ "
                    + "\(3 * SinkhornDivergence.maximumPairs) (each iteration costs that many exponentials); "
                    + "record sliced-w2, or set record.sinkhorn-samples lower")
        }
        let d = ctx.dimension
        s.memory.add(
            s, "sinkhorn-samples", "\(m) sample\(m == 1 ? "" : "s") of the sinkhorn metric in d = \(d)",
            parts: "the samples (twice: by rows and by columns), their weights and potentials",
            bytes: 8 * Double(m) * Double(2 * d + 4))
        s.memory.add(
            s, "sinkhorn-samples", "the Sinkhorn potentials of \(n) particles",
            parts: "a copy of the particles by rows and by columns, weights, potentials",
            bytes: 8 * Double(n) * Double(2 * d + 6), transient: true, derived: true)
        return SinkhornMetric(
            samples: W2Metric.samples(of: ctx.target, count: m, seed: ctx.seed), epsilon: epsilon, dimension: d,
            threads: ctx.threads)
    }
}
