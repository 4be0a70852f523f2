extension WeightStatisticMetric {
    /// `effective-sample-size`: 1/Σ_i w_i² of the first population's weights (N while they are
    /// uniform, down to 1 when a Fisher–Rao update, `fisher-rao`, has moved all the mass onto one
    /// particle); the game's `min-effective-count` under a name for single-population flows.
    static let effectiveSampleSizeEntry = MetricEntry(
        name: "effective-sample-size", summary: "1/Σw² of the particles' weights (N while uniform; fisher-rao flows)"
    ) { _, _ in WeightStatisticMetric(population: 0, statistic: .effectiveCount) }
}
