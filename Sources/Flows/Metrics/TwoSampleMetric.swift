import Foundation
import KernelSum

/// `two-sample`: the p-value of a kernel two-sample test between the first population's N
/// particles (as a sample: their weights are not used) and a fresh sample of M target points
/// drawn at every record (`two-sample-samples`, default N). A small p-value says that the
/// particles are distinguishable from the target; under the null (the particles an exact
/// sample of the target) the p-value is uniform on its grid, so `p ≥ α` fails a regression
/// test with probability at most α whatever the sizes (``TwoSampleTest``).
///
/// The sample and the permutations are drawn from streams keyed by the step
/// (`RandomStream(seed, .metricSample, step, …)`): fresh at each record, yet the same values
/// on a resumed run and for any thread count. Every rank of a job computes the whole test.
public final class TwoSampleMetric: Metric {
    let test: TwoSampleTest
    let target: any Target
    let sampleCount: Int
    let seed: UInt64

    /// The test `test` against `sampleCount` fresh samples of `target` per evaluation.
    init(test: TwoSampleTest, target: any Target, sampleCount: Int, seed: UInt64) {
        self.test = test
        self.target = target
        self.sampleCount = sampleCount
        self.seed = seed
    }

    /// The p-value as recorded at step 0.
    public func evaluate(_ state: SimulationState) -> Double { evaluate(state, step: 0) }

    /// The p-value at `step`: the target sample and the test's randomness are keyed by it.
    public func evaluate(_ state: SimulationState, step: Int) -> Double {
        var rng = RandomStream(seed: seed, .metricSample, step, TwoSampleTest.sampleStream)
        let y = target.sample(count: sampleCount, using: &rng)
        return test.run(state.populations[0].positions, y, seed: seed, step: step).pValue
    }

    static let entry = MetricEntry(
        name: "two-sample",
        summary:
            "p-value of a kernel two-sample test against a fresh target sample (permutation MMD or compress then test)"
    ) { s, ctx in
        try requireTargetSamples(s, ctx, "two-sample")
        let (n, d) = (ctx.particleCount, ctx.dimension)
        let m = try s.integer("two-sample-samples", default: n, .count)
        let method = try s.string("two-sample-method", default: "auto", oneOf: ["auto", "permutation", "ctt"])
        let cap = TwoSampleTest.maximumPermutationSize
        if method == "permutation" && n + m > cap {
            throw s.fail(
                "two-sample-method",
                "the permutation test takes N + M ≤ \(cap) points (O((N + M)² B) time), not \(n) + \(m): "
                    + "use two-sample-method = \"ctt\" (compress then test, near-linear), or lower two-sample-samples")
        }
        let ctt = method == "ctt" || (method == "auto" && n + m > cap)
        let text = try s.string("two-sample-kernel", default: "gaussian:sigma=median")
        let kernel: TwoSampleTest.KernelChoice =
            (try? KernelSpec(parsing: text)).map { $0.name == GaussianKernel.name && $0["sigma"] == "median" } == true
            ? .median : .fixed(try readKernelSpec(text, s, "two-sample-kernel"))
        let permutations = try s.integer(
            "two-sample-permutations", default: TwoSampleTest.defaultPermutations,
            Allowed("an integer from 19 to 100000 (p-values are multiples of 1/(B + 1))") { $0 >= 19 && $0 <= 100_000 })
        var bins = 0
        var oversampling = 0
        if ctt {
            bins = try s.integer(
                "two-sample-bins", default: 32,
                Allowed("an integer from 8 to N + M (16 or more resolve p < 0.05)") { $0 >= 8 && $0 <= n + m })
            guard TwoSampleTest.binLayout(n, m, bins: bins) != nil else {
                throw s.fail(
                    "two-sample-bins",
                    "\(bins) bins of equal size cannot be cut from \(n) particles and \(m) samples (too few points per side)"
                )
            }
            oversampling = try s.integer(
                "two-sample-oversampling", default: 2,
                Allowed("an integer from 0 to 8 (each bin compresses to 2^g·√size points)") { $0 >= 0 && $0 <= 8 })
        }
        let test = TwoSampleTest(
            method: ctt ? .ctt : .permutation, kernel: kernel, permutations: permutations, bins: bins,
            oversampling: oversampling, dimension: d, threads: ctx.threads)
        // Memory: the fresh sample and the pooled copy; the permutations' label weights and
        // their products with the kernel matrix (rows in blocks: the matrix is never stored).
        s.memory.add(
            s, "two-sample-samples", "\(m) fresh sample\(m == 1 ? "" : "s") of the two-sample metric in d = \(d)",
            parts: "the samples, the pooled points", bytes: 8 * (Double(m) * Double(d) + Double(n + m) * Double(d)),
            transient: true)
        if !ctt {
            s.memory.add(
                s, "two-sample-permutations",
                "the permutation test's \(permutations + 1) labellings of \(n + m) points",
                parts: "label weights; per thread, a block of kernel rows and its products",
                bytes: 8 * Double(n + m) * Double(permutations + 1)
                    + 8 * Double(ctx.threads * TwoSampleTest.rowBlock) * Double(n + m + permutations + 1),
                transient: true, derived: true)
        }
        return TwoSampleMetric(test: test, target: ctx.target, sampleCount: m, seed: ctx.seed)
    }
}
