import Communication
import Formula
import Foundation
import KernelSum

/// A posterior over parameters x = (x1 … xd) given a data file's rows y_r = (y1 … ye), each row's
/// log-likelihood a formula in x and y (`kind = "data"`):
///
///     log π(x) = log p(x) + Σ_r ℓ(x, y_r)   (up to a constant),
///
/// `log-prior` a formula in x (0 when absent). The score is the formulas' exact gradient in x
/// (reverse mode, 64 rows a formula pass), its Hessian-vector product the formulas' exact one
/// (forward over reverse). Flows that take minibatches (svgd, accelerated-svgd, langevin with the
/// `target` potential, ksd-descent) estimate the rows' part from each step's minibatch
/// (``MinibatchSchedule``); the density itself, what metrics use, is the full data's.
public struct DataTarget: Target, MinibatchHessianDensity, RowSumDensity {
    /// d, the parameters.
    public let dimension: Int
    /// ℓ(x, y), a formula in x1 … xd and y1 … ye.
    public let rowLogLikelihood: ScenarioFormula
    /// log p(x), a formula in x1 … xd, or nil (0).
    public let logPrior: ScenarioFormula?
    /// The rows, e values each, row-major.
    public let rows: [Double]
    /// e, the columns of a row.
    public let columns: Int
    /// Which rows each step's score is estimated from.
    public let schedule: MinibatchSchedule
    /// The stated `mean` and `covariance` of the posterior, if given (a conjugate model's).
    public let moments: (mean: [Double], covariance: [Double])?

    /// A target over `dimension` parameters; `rows` holds `schedule.rowCount` rows of `columns`.
    public init(
        dimension: Int, rowLogLikelihood: ScenarioFormula, logPrior: ScenarioFormula?, rows: [Double],
        columns: Int, schedule: MinibatchSchedule, moments: (mean: [Double], covariance: [Double])? = nil
    ) {
        self.moments = moments
        self.dimension = dimension
        self.rowLogLikelihood = rowLogLikelihood
        self.logPrior = logPrior
        self.rows = rows
        self.columns = columns
        self.schedule = schedule
    }

    /// Known up to its normalising constant.
    public var isNormalised: Bool { false }
    /// A posterior is not sampled.
    public var canSample: Bool { false }
    /// NaN samples (never called: ``canSample`` is false).
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        [Double](repeating: .nan, count: count * dimension)
    }
    /// Whether flows estimate the score from minibatches.
    public var isMinibatched: Bool { schedule.isMinibatched }

    /// Calls `body(inputs, k)` with the inputs (x, y_r) of up to 64 of the `selected` rows of
    /// `data` (`columns` values a row) at a time, in their order: what one formula pass takes.
    /// (`accumulate` keeps its own loop: through this closure the
    /// score, svgd's hot path, ran 15 % slower.)
    @inline(__always)
    static func forEachBlock<Rows: Collection<Int>>(
        _ x: UnsafePointer<Double>, dimension d: Int, data: [Double], columns e: Int, rows selected: Rows,
        _ body: (UnsafePointer<Double>, Int) -> Void
    ) {
        let width = d + e
        data.withUnsafeBufferPointer { data in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 64 * width) { buffer in
                let inputs = buffer.baseAddress!
                var pending = 0
                for r in selected {
                    let slot = inputs + pending * width
                    for a in 0..<d { slot[a] = x[a] }
                    for c in 0..<e { slot[d + c] = data[r * e + c] }
                    pending += 1
                    if pending == 64 {
                        body(inputs, pending)
                        pending = 0
                    }
                }
                if pending > 0 { body(inputs, pending) }
            }
        }
    }

    /// log p(x) + Σ_k c_k ℓ(x, y_{rows[k]}) into `value`, c_k = weights[k] (1 when nil), and its
    /// gradient in x into `g` (when given); rows in the given order, 64 a formula pass.
    func accumulate<Rows: Collection<Int>>(
        _ x: UnsafePointer<Double>, rows selected: Rows, weights: [Double]?, value: inout Double,
        gradient g: UnsafeMutablePointer<Double>?
    ) {
        let d = dimension
        let width = d + columns
        for a in 0..<d where g != nil { g![a] = 0 }
        value = 0
        if let logPrior {
            var workspace = logPrior.makeWorkspace(batch: 1)
            logPrior.evaluate(inputs: x, count: 1, values: &value, gradients: g, workspace: &workspace)
        }
        var workspace = rowLogLikelihood.makeWorkspace()
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64 * (2 * width + 2)) { buffer in
            let inputs = buffer.baseAddress!
            let gradients = inputs + 64 * width
            let values = gradients + 64 * width
            let scales = values + 64
            var pending = 0
            func flush() {
                rowLogLikelihood.evaluate(
                    inputs: inputs, count: pending, values: values, gradients: g == nil ? nil : gradients,
                    workspace: &workspace)
                for k in 0..<pending {
                    value += scales[k] * values[k]
                    if let g { for a in 0..<d { g[a] += scales[k] * gradients[k * width + a] } }
                }
                pending = 0
            }
            for (k, r) in selected.enumerated() {
                let slot = inputs + pending * width
                for a in 0..<d { slot[a] = x[a] }
                for c in 0..<columns { slot[d + c] = rows[r * columns + c] }
                scales[pending] = weights?[k] ?? 1
                pending += 1
                if pending == 64 { flush() }
            }
            if pending > 0 { flush() }
        }
    }

    /// log p(x) + Σ_k c_k ℓ(x, y_{rows[k]}), c_k = weights[k] (1 when nil).
    func logDensity<Rows: Collection<Int>>(_ x: UnsafePointer<Double>, rows: Rows, weights: [Double]?) -> Double {
        var v = 0.0
        accumulate(x, rows: rows, weights: weights, value: &v, gradient: nil)
        return v
    }

    /// ∇log p(x) + Σ_k c_k ∇_x ℓ(x, y_{rows[k]}).
    func score<Rows: Collection<Int>>(
        _ x: UnsafePointer<Double>, rows: Rows, weights: [Double]?, into g: UnsafeMutablePointer<Double>
    ) {
        var v = 0.0
        accumulate(x, rows: rows, weights: weights, value: &v, gradient: g)
    }

    /// ∇²log p(x) v + Σ_k c_k ∇²_x ℓ(x, y_{rows[k]}) v: the formulas' exact Hessian-vector
    /// products in x (the rows held), 64 rows a formula pass.
    func hessianVectorProduct<Rows: Collection<Int>>(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, rows: Rows, weights: [Double]?,
        into out: UnsafeMutablePointer<Double>
    ) {
        let d = dimension
        for a in 0..<d { out[a] = 0 }
        if let logPrior {
            var workspace = logPrior.makeWorkspace(batch: 1)
            logPrior.hessianVectorProducts(
                inputs: x, directions: v, count: 1, varying: d, products: out, workspace: &workspace)
        }
        var workspace = rowLogLikelihood.makeWorkspace()
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * 64 * d) { buffer in
            let directions = buffer.baseAddress!
            let products = directions + 64 * d
            for k in 0..<64 { for a in 0..<d { directions[k * d + a] = v[a] } }
            var done = 0
            Self.forEachBlock(x, dimension: d, data: self.rows, columns: columns, rows: rows) { inputs, count in
                rowLogLikelihood.hessianVectorProducts(
                    inputs: inputs, directions: directions, count: count, varying: d, products: products,
                    workspace: &workspace)
                for k in 0..<count {
                    let c = weights?[done + k] ?? 1
                    for a in 0..<d { out[a] += c * products[k * d + a] }
                }
                done += count
            }
        }
    }

    /// ``logDensity(_:rows:weights:)`` on a minibatch's rows (for ``RowSumDensity``).
    func logDensity(_ x: UnsafePointer<Double>, batch rows: [Int], weights: [Double]) -> Double {
        logDensity(x, rows: rows, weights: weights)
    }

    /// ``score(_:rows:weights:into:)`` on a minibatch's rows (for ``RowSumDensity``).
    func score(
        _ x: UnsafePointer<Double>, batch rows: [Int], weights: [Double], into g: UnsafeMutablePointer<Double>
    ) {
        score(x, rows: rows, weights: weights, into: g)
    }

    /// ``hessianVectorProduct(_:_:rows:weights:into:)`` on a minibatch's rows (for ``RowSumDensity``).
    func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, batch rows: [Int], weights: [Double],
        into out: UnsafeMutablePointer<Double>
    ) {
        hessianVectorProduct(x, v, rows: rows, weights: weights, into: out)
    }

    /// log p(x) + Σ_r ℓ(x, y_r).
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        logDensity(x, rows: 0..<schedule.rowCount, weights: nil)
    }

    /// The full data's score.
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        score(x, rows: 0..<schedule.rowCount, weights: nil, into: g)
    }

    /// The full data's Hessian times v, exact (the formulas' forward-over-reverse products).
    public func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        hessianVectorProduct(x, v, rows: 0..<schedule.rowCount, weights: nil, into: out)
    }

    /// The density the minibatch of `step` estimates: the rows' part from the batch, each row's
    /// term times its weight (``MinibatchSchedule/batch(step:seed:)``), for the score and the
    /// Hessian alike.
    public func minibatch(step: Int, seed: UInt64) -> any HessianDensity { estimate(step: step, seed: seed) }

    /// The score from the minibatch of `step`, each row's term times its weight: the rows and
    /// weights of ``minibatch(step:seed:)``, summed here directly (the hot path of svgd and langevin).
    public func minibatchScores(
        _ points: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>, threads: Int,
        step: Int, seed: UInt64
    ) {
        guard isMinibatched else { return scores(points, count: n, into: out, threads: threads) }
        let (selected, weights) = schedule.batch(step: step, seed: seed)
        let d = dimension
        let src = SharedPointer(points)
        let dst = SharedMutablePointer(out)
        Parallel.forEachChunk(n, threads: threads, minimumChunk: 4) { range in
            for i in range {
                var v = 0.0
                self.accumulate(
                    src.base + i * d, rows: selected, weights: weights, value: &v, gradient: dst.base + i * d)
            }
        }
    }

    /// 4: a point's score runs over every row.
    public var pointsPerChunk: Int { 4 }

    static let entry = TargetEntry(
        name: "data", summary: "a posterior: log-prior(x) + Σ over a data file's rows of a formula in x and the row y"
    ) { s in
        let d = try s.integer("dimension", .dimension)
        let file = try s.points("data")
        try s.checkDimension(d + file.dimension, at: "data")
        let row = try readFormula(
            s, "row-log-likelihood", variables: .payoff(dimension: d, secondDimension: file.dimension))
        let prior = try s.contains("log-prior") ? readFormula(s, "log-prior", variables: .position(dimension: d)) : nil
        let rows = file.values.count / file.dimension
        let (batchSize, batches) = try MinibatchSchedule.read(s, rows: rows)
        let schedule = MinibatchSchedule(
            rowCount: rows, batchSize: batchSize, batches: batches, data: file.values, columns: file.dimension)
        return DataTarget(
            dimension: d, rowLogLikelihood: row, logPrior: prior, rows: file.values, columns: file.dimension,
            schedule: schedule, moments: try readStatedMoments(s, dimension: d))
    }
}
