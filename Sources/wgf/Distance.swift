import ArgumentParser
import Flows
import Foundation
import KernelSum
import Recording

/// `wgf distance`: one of the distance metrics between two point sets from files, the way a run
/// records it, to compare with POT or GeomLoss on the same points (scripts/compare-metrics-peer.py).
struct Distance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A Wasserstein or divergence metric between two point sets (CSV or .npy files).",
        discussion: """
            w2: exact W₂ (optimal transport, O((N+M)·N·M), N·M ≤ 10⁸); sliced-w2: sliced W₂ over \
            --directions random directions (or the columns of --projections, a d × P .npy array as POT \
            takes them); bures-w2: W₂ between the Gaussians with each set's weighted moments; \
            sinkhorn: the debiased Sinkhorn divergence S_ε for the cost |x − y|² (--epsilon; default 0.1 × \
            y's mean variance per coordinate); energy-distance: 2E|X−Y| − E|X−X'| − E|Y−Y'|; kl-knn: the k-nearest-neighbour estimate of \
            KL(x ‖ y) (Wang, Kulkarni & Verdú 2009; weights not used). Prints one JSON line: metric, \
            value, N, M, d, seconds (sinkhorn also: epsilon, and the solver's Sinkhorn iterations and \
            Newton steps).
            """)

    @Option(help: "w2, sliced-w2, bures-w2, sinkhorn, energy-distance or kl-knn.")
    var metric: String

    @Option(help: "The first point set: CSV (x1,...,xd[,w]) or .npy (N × d).")
    var x: String

    @Option(help: "The second point set: CSV (x1,...,xd[,w]) or .npy (M × d).")
    var y: String

    @Option(
        name: .customLong("x-weights"),
        help: "Weights of x: .npy (N) or CSV (header w); default: x's w column, else uniform.")
    var xWeights: String?

    @Option(
        name: .customLong("y-weights"),
        help: "Weights of y: .npy (M) or CSV (header w); default: y's w column, else uniform.")
    var yWeights: String?

    @Option(help: "sliced-w2: the number of random directions.")
    var directions: Int = 100

    @Option(help: "sliced-w2: the seed of the directions.")
    var seed: Int = 0

    @Option(help: "sliced-w2: the directions as the columns of a d × P .npy array (POT's `projections`).")
    var projections: String?

    @Option(help: "sinkhorn: the entropic regularisation ε (> 0).")
    var epsilon: Double?

    @Option(help: "kl-knn: the neighbour k (below N, at most M).")
    var neighbours: Int = 5

    @Option(name: [.customShort("j"), .long], help: "Threads (default: all cores).")
    var threads: Int?

    func run() throws {
        let metrics = ["w2", "sliced-w2", "bures-w2", "sinkhorn", "energy-distance", "kl-knn"]
        guard metrics.contains(metric) else {
            throw fail("--metric \(metric): unknown (allowed: \(metrics.joined(separator: ", ")))", code: Exit.badInput)
        }
        guard directions >= 1, directions <= MemoryEstimate.maximumCount, seed >= 0 else {
            throw fail("--directions must be at least 1 and --seed at least 0", code: Exit.badInput)
        }
        let (first, second, wx, wy) = try reporting {
            (
                try readPoints(path: x, allowWeights: true), try readPoints(path: y, allowWeights: true),
                try xWeights.map { try readValues(path: $0, name: "w") },
                try yWeights.map { try readValues(path: $0, name: "w") }
            )
        }
        guard first.dimension == second.dimension else {
            throw fail("\(y): \(second.dimension) coordinates but \(x) has \(first.dimension)", code: Exit.badInput)
        }
        let d = first.dimension
        let n = first.points.count / d
        let m = second.points.count / d
        func weights(_ given: [Double]?, _ column: [Double]?, count: Int, path: String) throws -> [Double] {
            let w = given ?? column ?? [Double](repeating: 1, count: count)
            guard w.count == count else {
                throw fail("\(path): \(w.count) weights for \(count) points", code: Exit.badInput)
            }
            guard w.allSatisfy({ $0 >= 0 }), w.reduce(0, +) > 0 else {
                throw fail("\(path): weights must be ≥ 0 with a positive total", code: Exit.badInput)
            }
            return w
        }
        let a = try weights(wx, first.weights, count: n, path: xWeights ?? x)
        let b = try weights(wy, second.weights, count: m, path: yWeights ?? y)
        let clock = ContinuousClock()
        let start = clock.now
        let value: Double
        var solver: [String: Any] = [:]
        switch metric {
        case "w2":
            guard Double(n) * Double(m) <= Double(ExactTransport.maximumPairs) else {
                throw fail(
                    "w2 between \(n) and \(m) points: the exact solver takes N·M ≤ \(ExactTransport.maximumPairs)",
                    code: Exit.badInput)
            }
            value = ExactTransport.squaredW2(x: first.points, a: a, y: second.points, b: b, dimension: d).squareRoot()
        case "sliced-w2":
            var thetas = SlicedW2Metric.directions(count: directions, dimension: d, seed: UInt64(seed))
            if let projections {
                // POT's layout: d × P, the directions as columns.
                let p = try reporting { try readNPY(path: projections) }
                guard p.shape.count == 2, p.shape[0] == d, p.shape[1] >= 1 else {
                    throw fail("\(projections): shape \(p.shape), expected (d, P) with d = \(d)", code: Exit.badInput)
                }
                let count = p.shape[1]
                thetas = [Double](repeating: 0, count: count * d)
                for k in 0..<count { for c in 0..<d { thetas[k * d + c] = p.values[c * count + k] } }
            }
            value = SlicedW2Metric.sliced(
                x: first.points, a: a, y: second.points, b: b, directions: thetas, dimension: d)
        case "bures-w2":
            let (m1, c1) = BuresW2Metric.weightedMoments(first.points, a, dimension: d)
            let (m2, c2) = BuresW2Metric.weightedMoments(second.points, b, dimension: d)
            value = BuresW2Metric.distance(
                mean: m1, covariance: c1, toMean: m2, covariance: c2, root: symmetricSquareRoot(c2, size: d))
        case "sinkhorn":
            guard epsilon.map({ $0 > 0 && $0.isFinite }) ?? true else {
                throw fail("--epsilon must be a finite number > 0", code: Exit.badInput)
            }
            let pairs = Double(n) * Double(n) + Double(n) * Double(m) + Double(m) * Double(m)
            guard pairs <= 3 * Double(SinkhornDivergence.maximumPairs) else {
                throw fail(
                    "sinkhorn between \(n) and \(m) points: the log-domain solver takes N² + NM + M² ≤ "
                        + "\(3 * SinkhornDivergence.maximumPairs)", code: Exit.badInput)
            }
            let eps = epsilon ?? 0.1 * SinkhornMetric.meanVariance(second.points, dimension: d)
            var work = SinkhornDivergence.Work()
            value = SinkhornDivergence.divergence(
                x: first.points, a: a, y: second.points, b: b, dimension: d, epsilon: eps,
                threads: threads ?? Parallel.defaultThreads, work: &work)
            solver = ["epsilon": eps, "iterations": work.iterations, "newton-steps": work.newtonSteps]
            guard !value.isNaN else {
                throw fail(
                    "sinkhorn at ε = \(eps): neither \(SinkhornDivergence.maximumIterations) Sinkhorn iterations "
                        + "nor \(SinkhornDivergence.maximumNewtonSteps) Newton steps converged (they slow down as ε "
                        + "shrinks against the points' spread); set a larger --epsilon", code: Exit.diverged)
            }
        case "kl-knn":
            guard neighbours >= 1, neighbours < n, neighbours <= m else {
                throw fail(
                    "--neighbours \(neighbours): kl-knn needs 1 ≤ k < N = \(n) and k ≤ M = \(m)", code: Exit.badInput)
            }
            value = KNNDivergenceMetric.divergence(
                first.points, second.points, dimension: d, neighbours: neighbours,
                threads: threads ?? Parallel.defaultThreads)
        default:
            value = energyDistance(first.points, a, second.points, b, dimension: d)
        }
        // +∞ where a squared distance overflows (coordinates beyond about 10¹⁵⁴): JSON has no
        // infinity, and a number that big is no distance anyway.
        guard value.isFinite else {
            throw fail(
                "\(metric) between \(x) and \(y) is \(value): the points lie so far apart that a squared distance "
                    + "overflows; rescale them", code: Exit.badInput)
        }
        let e = start.duration(to: clock.now).components
        let report: [String: Any] = solver.merging([
            "metric": metric, "value": value, "N": n, "M": m, "d": d,
            "seconds": Double(e.seconds) + Double(e.attoseconds) * 1e-18,
        ]) { $1 }
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// The energy distance between two weighted sets: the MMD² of the Riesz kernel −|x| by
    /// exact sums.
    func energyDistance(_ x: [Double], _ a: [Double], _ y: [Double], _ b: [Double], dimension d: Int) -> Double {
        let engine = DirectSum(threads: threads ?? Parallel.defaultThreads)
        let kernel = RieszKernel(r: 1)
        let ta = a.reduce(0, +)
        let tb = b.reduce(0, +)
        func mean(
            _ sources: [Double], _ w: [Double], _ tw: Double, _ targets: [Double], _ v: [Double], _ tv: Double
        )
            -> Double
        {
            var values: [Double] = []
            var gradients: [Double] = []
            engine.sum(
                kernel, dimension: d, sources: sources, weights: w.map { $0 / tw }, channels: 1, targets: targets,
                gradientChannels: [], values: &values, gradients: &gradients)
            return zip(values, v).reduce(0) { $0 + $1.0 * $1.1 } / tv
        }
        // k = −|·|: E = −E|X−X'| + 2E|X−Y| − E|Y−Y'| = Σaa k − 2 Σab k + Σbb k.
        return max(0, mean(x, a, ta, x, a, ta) - 2 * mean(y, b, tb, x, a, ta) + mean(y, b, tb, y, b, tb))
    }
}
