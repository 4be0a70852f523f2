import Foundation
import KernelSum

/// A convergence requirement: "metric ≤ (or ≥) threshold at step `byStep`", judged on the
/// value recorded at the last record at or before `byStep`. A two-sample expectation
/// (`kind = "two-sample"`) is the bound p ≥ α on the `two-sample` metric's p-value: the test
/// does not tell the particles from the target at level α.
public struct Expectation: Sendable, Equatable {
    /// The threshold and its side: `at-most` or `at-least` in the scenario.
    public enum Bound: Sendable, Equatable {
        case atMost(Double)
        case atLeast(Double)
    }
    /// What the scenario asked for: a threshold on a metric, or a two-sample test.
    public enum Kind: String, Sendable, Equatable {
        case threshold
        case twoSample = "two-sample"
    }
    /// The metric that `kind = "two-sample"` judges.
    public static let twoSampleMetric = "two-sample"
    /// A threshold, or the two-sample test's p ≥ α.
    public let kind: Kind
    /// The metric's name in `record.metrics`.
    public let metric: String
    /// The threshold the value must meet.
    public let bound: Bound
    /// The step by which it must hold.
    public let byStep: Int
    /// `fraction`: over the seeds of a sweep (`wgf check SWEEP_DIR`), the share of runs in
    /// which it must hold, in (0, 1]; 1 (the default) means every seed. A single run's check
    /// ignores it: the run must meet the bound.
    public let fraction: Double

    /// An expectation; see the properties.
    public init(metric: String, bound: Bound, byStep: Int, fraction: Double = 1) {
        self.init(kind: .threshold, metric: metric, bound: bound, byStep: byStep, fraction: fraction)
    }

    init(kind: Kind, metric: String, bound: Bound, byStep: Int, fraction: Double) {
        self.kind = kind
        self.metric = metric
        self.bound = bound
        self.byStep = byStep
        self.fraction = fraction
    }

    /// The two-sample test does not reject at level `alpha` by `byStep`: the `two-sample`
    /// metric's p-value p ≥ α (rejection is p < α, which a valid test does with probability at
    /// most α when the particles are an exact sample of the target).
    public static func twoSample(alpha: Double, byStep: Int, fraction: Double = 1) -> Expectation {
        Expectation(
            kind: .twoSample, metric: twoSampleMetric, bound: .atLeast(alpha), byStep: byStep, fraction: fraction)
    }

    /// Whether `value` meets the bound (NaN never does).
    public func holds(_ value: Double) -> Bool {
        switch bound {
        case .atMost(let t): return value <= t
        case .atLeast(let t): return value >= t
        }
    }

    /// "mmd ≤ 0.05 by step 500"; "two-sample test (two-sample) does not reject at α = 0.05 by step 500".
    public var description: String {
        if kind == .twoSample, case .atLeast(let alpha) = bound {
            return "two-sample test (\(metric)) does not reject at α = \(formatNumber(alpha)) by step \(byStep)"
        }
        switch bound {
        case .atMost(let t): return "\(metric) ≤ \(formatNumber(t)) by step \(byStep)"
        case .atLeast(let t): return "\(metric) ≥ \(formatNumber(t)) by step \(byStep)"
        }
    }

    /// The verdict on a metric series (step, value), recorded in increasing step order, and the
    /// record it was judged on (nil when there is none to judge).
    public func judge(
        _ series: [(step: Int, value: Double)]
    ) -> (passed: Bool, detail: String, record: (step: Int, value: Double)?) {
        guard let last = series.last(where: { $0.step <= byStep }) else {
            return (false, "no record of \(metric) at or before step \(byStep)", nil)
        }
        let lastStep = series.last?.step ?? 0
        if last.step < byStep && lastStep < byStep {
            return (false, "the run ended at step \(lastStep), before step \(byStep)", nil)
        }
        let ok = holds(last.value)
        let name = kind == .twoSample ? "p" : metric
        return (ok, "\(name) = \(formatSignificant(last.value)) at step \(last.step)", last)
    }
}

/// Six significant digits, for messages.
public func formatSignificant(_ v: Double) -> String {
    if v == 0 || v.isNaN || v.isInfinite { return "\(v)" }
    let m = abs(v)
    if m >= 1e-3 && m < 1e6 {
        var s = String(format: "%.6g", v)
        if s.contains("e") { s = "\(v)" }
        return s
    }
    return String(format: "%.4e", v)
}
