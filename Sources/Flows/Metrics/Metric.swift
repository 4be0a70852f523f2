import Communication
import KernelSum

/// A named scalar of the state, recorded in metrics.csv.
public protocol Metric: AnyObject {
    /// The metric's value at `state`; NaN or ±inf stops the run as diverged.
    func evaluate(_ state: SimulationState) -> Double
    /// The metric's value at `state`, recorded at `step`: what the run calls. Metrics that draw
    /// fresh randomness at every record (`two-sample`) key it by the step, so that a resumed run
    /// and any thread count record the same values; the default ignores the step.
    func evaluate(_ state: SimulationState, step: Int) -> Double
}

extension Metric {
    /// ``evaluate(_:)``: the value does not depend on the step.
    public func evaluate(_ state: SimulationState, step: Int) -> Double { evaluate(state) }
}

/// What a metric may use while it is built.
public struct MetricContext {
    /// The scenario's target (``NoTarget`` without `[target]`).
    public let target: any Target
    /// The flow, for metrics that ask it (`energy`, game metrics).
    public let flow: any Flow
    /// d, the coordinates of a particle.
    public let dimension: Int
    /// N, the particles of the (first) population.
    public let particleCount: Int
    /// The scenario's seed, for the metric's own samples.
    public let seed: UInt64
    /// Worker threads the metric may use.
    public let threads: Int
    /// The ranks that evaluate every metric together (each holds the whole state): an O(N²)
    /// metric shares its rows among them, with one process's value bit for bit.
    public let communicator: any Communicator
    /// A context; see the properties.
    public init(
        target: any Target, flow: any Flow, dimension: Int, particleCount: Int, seed: UInt64, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.target = target
        self.flow = flow
        self.dimension = dimension
        self.particleCount = particleCount
        self.seed = seed
        self.threads = threads
        self.communicator = communicator
    }
}

/// One metric of the registry. Its parameters are keys of the scenario's `[record]` table
/// prefixed by its name (e.g. `mmd-kernel`); `make` throws, located at `metrics`, when the
/// scenario cannot provide what the metric needs (a score, known moments, an objective).
public typealias MetricEntry = RegistryEntry<MetricContext, any Metric>

/// The metrics `record.metrics` may name.
public enum MetricRegistry {
    /// Every metric. A new metric adds one line here.
    public static let entries: [MetricEntry] =
        [
            MMDMetric.entry,
            KSDMetric.entry,
            MeanErrorMetric.entry,
            CovarianceErrorMetric.entry,
            EnergyMetric.entry,
            W2Metric.entry,
            SlicedW2Metric.entry,
            BuresW2Metric.entry,
            EnergyDistanceMetric.entry,
            KNNDivergenceMetric.entry,
            SinkhornMetric.entry,
            TwoSampleMetric.entry,
            WeightStatisticMetric.effectiveSampleSizeEntry,
        ] + LangevinMetric.entries + SampleMomentMetric.entries + TwoLayerNetworkFlow.metricEntries
        + GameMetrics.entries + PredictiveMetric.entries + SpikeRecovery.entries
    /// The names, in registry order.
    public static var names: [String] { entries.map(\.name) }
}

/// Throws, located at `metrics`, unless the scenario has a target that can be sampled: what
/// the metrics against a target sample (`mmd`, `w2`, `sliced-w2`, `sinkhorn`, `energy-distance`, `kl-knn`)
/// need.
func requireTargetSamples(_ s: Settings, _ ctx: MetricContext, _ name: String) throws {
    guard !ctx.target.isAbsent else {
        throw s.fail("metrics", "\(name) needs a [target] to sample (this scenario has none)")
    }
    guard ctx.target.canSample else {
        throw s.fail("metrics", "\(name) needs samples of the target, and a formula target has none (use ksd)")
    }
}
