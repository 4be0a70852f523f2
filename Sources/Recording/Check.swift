import Flows

/// One expectation judged against a run's metrics.csv.
public struct ExpectationVerdict {
    public let expectation: Expectation
    public let passed: Bool
    public let detail: String

    public var line: String { "\(passed ? "pass" : "FAIL")  \(expectation.description): \(detail)" }
}

/// Judges `expectations` on the metrics table of a run.
public func judge(_ expectations: [Expectation], metrics: NumericTable) -> [ExpectationVerdict] {
    let steps = metrics.column("step") ?? []
    return expectations.map { e in
        guard let values = metrics.column(e.metric) else {
            return ExpectationVerdict(expectation: e, passed: false, detail: "metrics.csv has no column \(e.metric)")
        }
        // A step that is not an exact integer in Int's range (a damaged file) matches no by-step.
        let verdict = e.judge(zip(steps, values).compactMap { s, v in Int(exactly: s).map { ($0, v) } })
        return ExpectationVerdict(expectation: e, passed: verdict.passed, detail: verdict.detail)
    }
}
