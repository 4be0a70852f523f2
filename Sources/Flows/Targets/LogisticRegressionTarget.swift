import Foundation
import KernelSum

/// The posterior of Bayesian logistic regression on a data set (Liu & Wang 2016, §5.2): rows
/// (x_r, t_r), t_r ∈ {0, 1}, features x_r with a constant 1 appended (the intercept),
///
///     log π(w) = log p(w) + Σ_r [t_r z_r − log(1 + e^{z_r})],   z_r = x_r·w   (up to a constant),
///
/// score ∇log p(w) + Σ_r (t_r − σ(z_r)) x_r. Priors: `gaussian` (w ~ N(0, s²I)) or Liu & Wang's
/// `hierarchical` (w ~ N(0, α⁻¹I), α ~ Gamma(1, rate 0.01), with u = log α the last coordinate:
/// log p(w, u) = (q/2 + 1)u − e^u(|w|²/2 + 0.01) + const).
///
/// With a `batch-size` the flows that take minibatches estimate the likelihood's part of the
/// score from the rows of each step's minibatch (``MinibatchSchedule``), scaled by R/|batch|. The
/// density (``score(_:into:)``, which metrics use) is always the full data's, and so is its
/// Hessian (``hessianVectorProduct(_:_:into:)``); KSD descent estimates both the score and the
/// Hessian from each step's minibatch (``minibatch(step:seed:)``).
public struct LogisticRegressionTarget: Target, MinibatchHessianDensity, RowSumDensity {
    /// The prior on the weights.
    public enum Prior: Sendable, Equatable {
        /// w ~ N(0, s²I).
        case gaussian(std: Double)
        /// w ~ N(0, α⁻¹I), α ~ Gamma(shape, rate), u = log α the last coordinate.
        case hierarchical(shape: Double, rate: Double)
    }
    /// Training rows: q = features + 1 values each (the last the intercept's 1), row-major.
    public let features: [Double]
    /// Their labels, 0 or 1.
    public let labels: [Double]
    /// q, the weights' count.
    public let weightCount: Int
    /// The prior.
    public let prior: Prior
    /// Which rows each step's score is estimated from.
    public let schedule: MinibatchSchedule
    /// Held-out rows (features with the intercept's 1, and labels) for the predictive metrics.
    public let test: (features: [Double], labels: [Double])?

    /// A target; `features` holds `labels.count` rows of q values.
    public init(
        features: [Double], labels: [Double], weightCount q: Int, prior: Prior, batchSize: Int = 0,
        batches: MinibatchSchedule.Batches = .iid, test: (features: [Double], labels: [Double])? = nil
    ) {
        self.features = features
        self.labels = labels
        weightCount = q
        self.prior = prior
        // A DPP's kernel sees whole rows: the features and the label.
        var rows: [Double] = []
        if batches == .dpp {
            rows.reserveCapacity(labels.count * (q + 1))
            for r in 0..<labels.count { rows += features[(r * q)..<((r + 1) * q)] + [labels[r]] }
        }
        schedule = MinibatchSchedule(
            rowCount: labels.count, batchSize: batchSize, batches: batches, data: rows, columns: q + 1)
        self.test = test
    }

    /// R, the training rows.
    public var rowCount: Int { labels.count }
    /// q, plus 1 for log α under the hierarchical prior.
    public var dimension: Int {
        if case .hierarchical = prior { return weightCount + 1 }
        return weightCount
    }
    /// Known up to its normalising constant.
    public var isNormalised: Bool { false }
    /// Unknown.
    public var moments: (mean: [Double], covariance: [Double])? { nil }
    /// A posterior is not sampled.
    public var canSample: Bool { false }
    /// Never called (`canSample` is false).
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] { [] }
    /// Whether flows estimate the score from minibatches.
    public var isMinibatched: Bool { schedule.isMinibatched }
    /// 4: a point's score runs over every row.
    public var pointsPerChunk: Int { 4 }

    /// log(1 + e^z) without overflow.
    @inline(__always) static func softplus(_ z: Double) -> Double { z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)) }
    /// 1/(1 + e^{−z}).
    @inline(__always) static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }

    /// z_r = x_r·w.
    @inline(__always) func linear(_ row: Int, _ w: UnsafePointer<Double>) -> Double {
        var z = 0.0
        let x = row * weightCount
        for a in 0..<weightCount { z += features[x + a] * w[a] }
        return z
    }

    /// log p(w) + Σ_k c_k [t_r z_r − log(1 + e^{z_r})] over the rows r = rows[k], c_k = weights[k]
    /// (1 when nil) (the prior up to its constant).
    func logDensity<Rows: Collection<Int>>(_ w: UnsafePointer<Double>, rows: Rows, weights: [Double]?) -> Double {
        var l = logPrior(w)
        for (k, r) in rows.enumerated() {
            let z = linear(r, w)
            l += (weights?[k] ?? 1) * (labels[r] * z - LogisticRegressionTarget.softplus(z))
        }
        return l
    }

    /// log p(w) + Σ_r [t_r z_r − log(1 + e^{z_r})] (the prior up to its constant).
    public func logDensity(_ w: UnsafePointer<Double>) -> Double { logDensity(w, rows: 0..<rowCount, weights: nil) }

    func logPrior(_ w: UnsafePointer<Double>) -> Double {
        let q = weightCount
        var norm = 0.0
        for a in 0..<q { norm += w[a] * w[a] }
        switch prior {
        case .gaussian(let s): return -0.5 * norm / (s * s)
        case .hierarchical(let shape, let rate):
            let u = w[q]
            return (0.5 * Double(q) + shape) * u - exp(u) * (0.5 * norm + rate)
        }
    }

    /// Adds ∇log p(w) to `g` (all coordinates).
    func addPriorScore(_ w: UnsafePointer<Double>, _ g: UnsafeMutablePointer<Double>) {
        let q = weightCount
        switch prior {
        case .gaussian(let s):
            for a in 0..<q { g[a] -= w[a] / (s * s) }
        case .hierarchical(let shape, let rate):
            let alpha = exp(w[q])
            var norm = 0.0
            for a in 0..<q {
                norm += w[a] * w[a]
                g[a] -= alpha * w[a]
            }
            g[q] += 0.5 * Double(q) + shape - alpha * (0.5 * norm + rate)
        }
    }

    /// Σ_k c_k (t_r − σ(z_r)) x_r over the rows r = rows[k], c_k = weights[k] (1 when nil), added
    /// to the weights' part of `g`.
    func addLikelihoodScore<Rows: Collection<Int>>(
        _ w: UnsafePointer<Double>, rows: Rows, weights: [Double]?, _ g: UnsafeMutablePointer<Double>
    ) {
        for (k, r) in rows.enumerated() {
            let e = (weights?[k] ?? 1) * (labels[r] - LogisticRegressionTarget.sigmoid(linear(r, w)))
            let x = r * weightCount
            for a in 0..<weightCount { g[a] += e * features[x + a] }
        }
    }

    /// ∇log p(w) + Σ_k c_k (t_r − σ(z_r)) x_r over the rows r = rows[k].
    func score<Rows: Collection<Int>>(
        _ w: UnsafePointer<Double>, rows: Rows, weights: [Double]?, into g: UnsafeMutablePointer<Double>
    ) {
        for a in 0..<dimension { g[a] = 0 }
        addLikelihoodScore(w, rows: rows, weights: weights, g)
        addPriorScore(w, g)
    }

    /// The full data's score.
    public func score(_ w: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        score(w, rows: 0..<rowCount, weights: nil, into: g)
    }

    /// −Σ_k c_k σ_r(1 − σ_r)(x_r·v) x_r over the rows r = rows[k] plus the prior's Hessian times v (−v/s²;
    /// hierarchical, with α = e^u: −α(v_w + v_u w) for w and −α(w·v_w + (|w|²/2 + b)v_u) for u).
    func hessianVectorProduct<Rows: Collection<Int>>(
        _ w: UnsafePointer<Double>, _ v: UnsafePointer<Double>, rows: Rows, weights: [Double]?,
        into out: UnsafeMutablePointer<Double>
    ) {
        let q = weightCount
        for a in 0..<dimension { out[a] = 0 }
        for (k, r) in rows.enumerated() {
            let p = LogisticRegressionTarget.sigmoid(linear(r, w))
            let x = r * q
            var xv = 0.0
            for a in 0..<q { xv += features[x + a] * v[a] }
            let c = -(weights?[k] ?? 1) * p * (1 - p) * xv
            for a in 0..<q { out[a] += c * features[x + a] }
        }
        switch prior {
        case .gaussian(let s):
            for a in 0..<q { out[a] -= v[a] / (s * s) }
        case .hierarchical(_, let rate):
            let alpha = exp(w[q])
            var norm = 0.0
            var wv = 0.0
            for a in 0..<q {
                norm += w[a] * w[a]
                wv += w[a] * v[a]
                out[a] -= alpha * (v[a] + v[q] * w[a])
            }
            out[q] -= alpha * (wv + (0.5 * norm + rate) * v[q])
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

    /// ∇²log π(w) v on the full data, for KSD descent.
    public func hessianVectorProduct(
        _ w: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        hessianVectorProduct(w, v, rows: 0..<rowCount, weights: nil, into: out)
    }

    /// The rows of the minibatch of `step` (from 1) (``MinibatchSchedule/rows(step:seed:)``).
    public func batch(step: Int, seed: UInt64) -> [Int] { schedule.rows(step: step, seed: seed) }

    /// The density the minibatch of `step` estimates: the prior in full, the likelihood from the
    /// batch's rows, each times its weight (``MinibatchSchedule/batch(step:seed:)``), for the
    /// score and the Hessian alike.
    public func minibatch(step: Int, seed: UInt64) -> any HessianDensity { estimate(step: step, seed: seed) }

    /// The score estimated from the minibatch of `step`: the prior's in full, the likelihood's
    /// from the batch's rows scaled by R/|batch|; the full score when not minibatched.
    public func minibatchScores(
        _ points: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>, threads: Int,
        step: Int, seed: UInt64
    ) {
        minibatch(step: step, seed: seed).scores(points, count: n, into: out, threads: threads)
    }

    /// The particles' model average on the held-out rows: p_r = (1/N) Σ_i σ(x_r·w_i), then the
    /// fraction of rows with (p_r > ½) = t_r and the mean log p(t_r | x_r); nil without test rows.
    public func predictive(_ particles: [Double]) -> (accuracy: Double, logLikelihood: Double)? {
        guard let test else { return nil }
        let d = dimension
        let n = particles.count / d
        let q = weightCount
        let rows = test.labels.count
        var correct = 0
        var total = 0.0
        for r in 0..<rows {
            var p = 0.0
            for i in 0..<n {
                var z = 0.0
                for a in 0..<q { z += test.features[r * q + a] * particles[i * d + a] }
                p += LogisticRegressionTarget.sigmoid(z)
            }
            p /= Double(n)
            let t = test.labels[r]
            if (p > 0.5 ? 1.0 : 0.0) == t { correct += 1 }
            total += log(t == 1 ? p : 1 - p)
        }
        return (Double(correct) / Double(rows), total / Double(rows))
    }

    /// A data file's rows split into features (with the intercept's 1 appended) and 0/1 labels
    /// (the last column; ±1 is read as 0/1).
    static func read(
        _ s: Settings, _ key: String, columns: Int? = nil
    ) throws -> (
        features: [Double], labels: [Double], columns: Int
    ) {
        let file = try s.points(key)
        guard file.dimension >= 2 else {
            throw s.fail(key, "needs at least one feature column and the label column (the last)")
        }
        if let columns, file.dimension != columns {
            throw s.fail(key, "has \(file.dimension) columns, the training data \(columns)")
        }
        let p = file.dimension - 1
        let rows = file.values.count / file.dimension
        var features: [Double] = []
        features.reserveCapacity(rows * (p + 1))
        var labels: [Double] = []
        for r in 0..<rows {
            let row = file.values[(r * file.dimension)..<((r + 1) * file.dimension)]
            features.append(contentsOf: row.dropLast())
            features.append(1)
            let t = row.last!
            guard t == 0 || t == 1 || t == -1 else {
                throw s.fail(
                    key, "row \(r + 1): the label (last column) is \(formatNumber(t)), not 0 or 1 (or −1 or 1)")
            }
            labels.append(t == 1 ? 1 : 0)
        }
        return (features, labels, file.dimension)
    }

    static let entry = TargetEntry(
        name: "logistic-regression",
        summary: "Bayesian logistic regression on a data file (Liu & Wang 2016), full or minibatch scores"
    ) { s in
        let train = try read(s, "data")
        let test = try s.contains("test-data") ? read(s, "test-data", columns: train.columns) : nil
        let q = train.columns
        let prior: Prior
        switch try s.string("prior", default: "hierarchical", oneOf: ["hierarchical", "gaussian"]) {
        case "gaussian": prior = .gaussian(std: try s.real("prior-std", default: 1, .standardDeviation))
        default: prior = .hierarchical(shape: 1, rate: 0.01)
        }
        let schedule = try MinibatchSchedule.read(s, rows: train.labels.count)
        try s.checkDimension(q + 1, at: "data")
        return LogisticRegressionTarget(
            features: train.features, labels: train.labels, weightCount: q, prior: prior,
            batchSize: schedule.batchSize, batches: schedule.batches, test: test.map { ($0.features, $0.labels) })
    }
}

/// A density whose score flows may estimate from minibatches of its data, keyed by the step.
public protocol MinibatchDensity: Density {
    /// Whether the estimate differs from the full score (a batch smaller than the data).
    var isMinibatched: Bool { get }
    /// Scores of `count` points (row-major) into `out`, estimated from the minibatch of `step`
    /// (from 1) drawn with `seed`.
    func minibatchScores(
        _ points: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Double>, threads: Int,
        step: Int, seed: UInt64)
}
