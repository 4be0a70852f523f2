/// A density whose log is a prior plus a sum over R data rows, log π(x) = log p(x) + Σ_r ℓ_r(x):
/// a minibatch B estimates it by log p(x) + Σ_{r ∈ B} c_r ℓ_r(x), with the batch's weights c_r
/// (R/|B| for i.i.d. and epoch batches), and its score and Hessian by the same rows and weights
/// (``MinibatchSchedule``). What the data and logistic-regression
/// targets share: they write the sums over given rows once, the estimates follow.
protocol RowSumDensity: HessianDensity {
    /// Which rows each step's estimate takes.
    var schedule: MinibatchSchedule { get }
    /// log p(x) + Σ_k weights[k] ℓ_{rows[k]}(x). (The rows are an array, not a generic
    /// collection: the estimate calls through this protocol, where a generic method would run
    /// unspecialised, its loop over the rows through witness tables.)
    func logDensity(_ x: UnsafePointer<Double>, batch rows: [Int], weights: [Double]) -> Double
    /// Its gradient in x, into `g[0..<d]`.
    func score(_ x: UnsafePointer<Double>, batch rows: [Int], weights: [Double], into g: UnsafeMutablePointer<Double>)
    /// Its Hessian in x times v, into `out[0..<d]`.
    func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, batch rows: [Int], weights: [Double],
        into out: UnsafeMutablePointer<Double>)
}

extension RowSumDensity {
    /// The density estimated from the minibatch of `step` drawn with `seed`; itself when the
    /// schedule takes every row.
    func estimate(step: Int, seed: UInt64) -> any HessianDensity {
        guard schedule.isMinibatched else { return self }
        let (rows, weights) = schedule.batch(step: step, seed: seed)
        return RowSumEstimate(base: self, rows: rows, weights: weights)
    }
}

/// log p(x) + Σ_k weights[k] ℓ_{rows[k]}(x) of a ``RowSumDensity``, with its score and Hessian.
struct RowSumEstimate<Base: RowSumDensity>: HessianDensity {
    let base: Base
    let rows: [Int]
    let weights: [Double]

    var dimension: Int { base.dimension }
    var isNormalised: Bool { false }
    var pointsPerChunk: Int { base.pointsPerChunk }
    func logDensity(_ x: UnsafePointer<Double>) -> Double { base.logDensity(x, batch: rows, weights: weights) }
    func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        base.score(x, batch: rows, weights: weights, into: g)
    }
    func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        base.hessianVectorProduct(x, v, batch: rows, weights: weights, into: out)
    }
}
