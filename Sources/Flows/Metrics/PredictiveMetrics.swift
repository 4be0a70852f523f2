/// `test-accuracy` and `test-log-likelihood`: the particles' model average on a data target's
/// held-out rows (`target.test-data`), p_r = (1/N) Σ_i p(t = 1 | x_r, w_i): the fraction of rows
/// it classifies right (p_r > ½), and the mean log-probability of their labels (Liu & Wang
/// 2016, §5.2, report both).
final class PredictiveMetric: Metric {
    let target: LogisticRegressionTarget
    let accuracy: Bool

    init(target: LogisticRegressionTarget, accuracy: Bool) {
        self.target = target
        self.accuracy = accuracy
    }

    func evaluate(_ state: SimulationState) -> Double {
        guard let p = target.predictive(state.populations[0].positions) else { return .nan }
        return accuracy ? p.accuracy : p.logLikelihood
    }

    static func entry(_ name: String, accuracy: Bool, _ summary: String) -> MetricEntry {
        MetricEntry(name: name, summary: summary) { s, ctx in
            guard let target = ctx.target as? LogisticRegressionTarget, target.test != nil else {
                throw s.fail(
                    "metrics", "\(name) needs a logistic-regression target with test-data (its held-out rows)")
            }
            return PredictiveMetric(target: target, accuracy: accuracy)
        }
    }

    static let entries = [
        entry(
            "test-accuracy", accuracy: true, "fraction of held-out rows the particles' model average classifies right"),
        entry(
            "test-log-likelihood", accuracy: false,
            "mean log p(label | row) of the held-out rows under the model average"),
    ]
}
