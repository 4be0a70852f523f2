import Communication
import Foundation
import KernelSum

/// V = −log π for the scenario's target: the Langevin flow at temperature λ = 1 then samples π
/// (unadjusted Langevin; with a ``MinibatchDensity`` target, stochastic gradient Langevin
/// dynamics, Welling & Teh 2011: each step's drift from its minibatch, the noise unchanged).
public struct TargetPotential: Potential {
    /// π, with its score.
    public let density: any Density

    /// V = −log `density`.
    public init(density: any Density) { self.density = density }

    /// `target` (V = −log π of the scenario's `[target]`).
    public var spec: String { "target" }

    /// −log π and −∇log π at each point.
    public func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension d: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?
    ) {
        for i in 0..<count {
            values?[i] = -density.logDensity(x + i * d)
            if let g = gradients?.advanced(by: i * d) {
                density.score(x + i * d, into: g)
                for a in 0..<d { g[a] = -g[a] }
            }
        }
    }

    /// 0 at λ = 1 for a normalised π (Z = ∫π = 1); otherwise unknown.
    public func logPartition(temperature lambda: Double, dimension d: Int) -> Double? {
        lambda == 1 && density.isNormalised ? 0 : nil
    }

    /// Whether the drift is estimated from minibatches.
    public var isMinibatched: Bool { (density as? any MinibatchDensity)?.isMinibatched ?? false }

    /// −∇log π at every point (row-major), from the minibatch of `step` (seed `seed`); on the
    /// ranks of `communicator` each takes its block of the points.
    public func minibatchGradients(
        _ points: [Double], into out: inout [Double], threads: Int, communicator: any Communicator, step: Int,
        seed: UInt64
    ) {
        density.scores(points, into: &out, threads: threads, communicator: communicator, minibatch: (step, seed))
        for k in 0..<out.count { out[k] = -out[k] }
    }

    static let entry = PotentialEntry(
        name: "target", summary: "−log π of the scenario's [target] (λ = 1 samples it; minibatches: SGLD)"
    ) { s, ctx in
        guard let density = ctx.target?.density else {
            throw s.fail(
                "kind", "a target potential needs a [target] with a score (gaussian, formula, logistic-regression, …)")
        }
        return TargetPotential(density: density)
    }
}
