import Formula
import Foundation
import KernelSum

/// A target given by its log-density as a formula in x (or x1 … xd), up to an additive
/// constant: `kind = "formula"`, `dimension = d`, `log-density = "…"`. The score is the
/// formula's exact gradient (reverse-mode, see docs/formulas.md). It has no sampler, so flows
/// and metrics that need target samples (mmd) refuse it when the scenario is validated.
/// Optional `mean` and `covariance` state the target's moments (for `mean-error`, `cov-error`).
/// Its Hessian is the formula's, exact (forward over reverse on the tape), for KSD descent.
public struct FormulaTarget: Target, HessianDensity {
    /// d.
    public let dimension: Int
    /// log π up to a constant, a formula in x1 … xd.
    public let logDensityFormula: ScenarioFormula

    /// The stated `mean` and `covariance`, if given.
    public let moments: (mean: [Double], covariance: [Double])?

    /// A target of density ∝ exp(`logDensity`), with the moments stated for it.
    public init(dimension: Int, logDensity: ScenarioFormula, moments: (mean: [Double], covariance: [Double])? = nil) {
        self.dimension = dimension
        logDensityFormula = logDensity
        self.moments = moments
    }
    /// False: the formula is log π up to a constant.
    public var isNormalised: Bool { false }
    /// False: nothing draws from a formula's density.
    public var canSample: Bool { false }

    /// NaN samples: a formula target cannot be sampled (callers check ``canSample``, and
    /// scenarios that would need samples are refused); NaN makes a run that got here anyway
    /// stop as diverged rather than read memory that is not there.
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        [Double](repeating: .nan, count: count * dimension)
    }

    /// The formula's value at `x` (unnormalised).
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        var workspace = logDensityFormula.makeWorkspace(batch: 1)
        var v = 0.0
        logDensityFormula.evaluate(inputs: x, count: 1, values: &v, gradients: nil, workspace: &workspace)
        return v
    }

    /// The formula's exact gradient at `x`.
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        var workspace = logDensityFormula.makeWorkspace(batch: 1)
        var v = 0.0
        logDensityFormula.evaluate(inputs: x, count: 1, values: &v, gradients: g, workspace: &workspace)
    }

    /// ∇²log π(x) v: the formula's exact Hessian-vector product.
    public func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        var workspace = logDensityFormula.makeWorkspace(batch: 1)
        logDensityFormula.hessianVectorProducts(
            inputs: x, directions: v, count: 1, varying: dimension, products: out, workspace: &workspace)
    }

    /// Batched: one workspace per chunk of points, 64 points per formula pass.
    public func scores(
        _ points: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>, threads: Int
    ) {
        let d = dimension
        let formula = logDensityFormula
        let src = SharedPointer(points)
        let dst = SharedMutablePointer(out)
        Parallel.forEachChunk(n, threads: threads, minimumChunk: 256) { range in
            var workspace = formula.makeWorkspace()
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { values in
                var i = range.lowerBound
                while i < range.upperBound {
                    let k = min(64, range.upperBound - i)
                    formula.evaluate(
                        inputs: src.base + i * d, count: k, values: values.baseAddress!,
                        gradients: dst.base + i * d, workspace: &workspace)
                    i += k
                }
            }
        }
    }

    static let entry = TargetEntry(
        name: "formula",
        summary: "log-density given as a formula in x (up to a constant; score by exact differentiation)"
    ) { s in
        let d = try s.integer("dimension", .dimension)
        let formula = try readFormula(s, "log-density", variables: .position(dimension: d))
        return FormulaTarget(dimension: d, logDensity: formula, moments: try readStatedMoments(s, dimension: d))
    }
}

/// Optional `mean` (d numbers) and `covariance` (d×d), given together: the moments a target
/// known by a formula states for `mean-error` and `cov-error`.
func readStatedMoments(_ s: Settings, dimension d: Int) throws -> (mean: [Double], covariance: [Double])? {
    switch (s.contains("mean"), s.contains("covariance")) {
    case (true, true):
        return (try s.reals("mean", count: d), try s.matrix("covariance", rows: d, columns: d).flatMap { $0 })
    case (false, false): return nil
    case (true, false):
        throw s.fail("mean", "give the covariance too (the stated moments are mean and covariance together)")
    case (false, true):
        throw s.fail("covariance", "give the mean too (the stated moments are mean and covariance together)")
    }
}
