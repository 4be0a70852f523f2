import Flows

/// One expectation judged against a run's metrics.csv.
public struct ExpectationVerdict {
    /// The expectation judged.
    public let expectation: Expectation
    /// Whether the metric met its bound by its step.
    public let passed: Bool
    /// The values that decided it, or why it could not be judged.
    public let detail: String
    /// The record judged (the last at or before the expectation's step); nil when none could be.
    public let record: (step: Int, value: Double)?

    /// `pass  EXPECTATION: DETAIL` (or `FAIL ...`), as `wgf check` prints it.
    public var line: String { "\(passed ? "pass" : "FAIL")  \(expectation.description): \(detail)" }
}

/// Judges `expectations` on the metrics table of a run (its `step` column and one column per
/// metric); a metric without a column fails.
///
/// - Returns: One verdict per expectation, in order.
public func judge(_ expectations: [Expectation], metrics: NumericTable) -> [ExpectationVerdict] {
    let steps = metrics.column("step") ?? []
    return expectations.map { e in
        guard let values = metrics.column(e.metric) else {
            return ExpectationVerdict(
                expectation: e, passed: false, detail: "metrics.csv has no column \(e.metric)", record: nil)
        }
        // A step that is not an exact integer in Int's range (a damaged file) matches no by-step.
        let verdict = e.judge(zip(steps, values).compactMap { s, v in Int(exactly: s).map { ($0, v) } })
        return ExpectationVerdict(
            expectation: e, passed: verdict.passed, detail: verdict.detail, record: verdict.record)
    }
}
