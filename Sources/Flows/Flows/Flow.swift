import KernelSum

/// A particle flow: how one step moves the state.
public protocol Flow: AnyObject {
    /// Advances `state` by one step of size `h`; `step` counts from 1.
    func advance(_ state: inout SimulationState, step: Int, stepSize h: Double)
    /// The flow's objective (the `energy` metric), or nil where the flow has none.
    var energyDescription: String? { get }
    func energy(_ state: SimulationState) -> Double
    /// What the flow chose (engine, bandwidth rule, ...), recorded in run.json.
    var report: [String: String] { get }
    /// Completes the initial state before step 0 is recorded (e.g. initial velocities,
    /// positions wrapped into a periodic box). The default does nothing.
    func prepare(_ state: inout SimulationState)
    /// Where population `index` lives: the periodic box [0, L)^d or R^d (recorded with the
    /// trajectory). The default is R^d.
    func domain(ofPopulation index: Int) -> Domain
}

extension Flow {
    public var energyDescription: String? { nil }
    public func energy(_ state: SimulationState) -> Double { .nan }
    public func prepare(_ state: inout SimulationState) {}
    public func domain(ofPopulation index: Int) -> Domain { .free }
}

/// What a flow may use while it is built.
public struct FlowContext {
    public let target: any Target
    public let dimension: Int
    public let particleCount: Int
    public let seed: UInt64
    public let threads: Int
    public init(target: any Target, dimension: Int, particleCount: Int, seed: UInt64, threads: Int) {
        self.target = target
        self.dimension = dimension
        self.particleCount = particleCount
        self.seed = seed
        self.threads = threads
    }
}

public struct FlowEntry: Sendable {
    public let name: String
    public let summary: String
    public let make: @Sendable (Settings, FlowContext) throws -> any Flow
    /// Whether the flow needs a `[target]` (SVGD, MMD); flows that do not (Langevin) run
    /// without one, and the dimension then comes from `particleDimension` or `population.dimension`.
    public var needsTarget: Bool = true
    /// The dimension of a particle when the flow fixes it from its settings (a neuron of a
    /// two-layer network in d inputs has d + 2 coordinates); nil otherwise.
    public var particleDimension: (@Sendable (Settings) throws -> Int)? = nil
}

public enum FlowRegistry {
    /// Every flow. A new flow adds one line here.
    public static let entries: [FlowEntry] = [
        SteinVariationalGradientDescent.entry,
        MMDFlow.entry,
        LangevinFlow.entry,
        TwoLayerNetworkFlow.entry,
        GameFlow.entry,
    ]
    public static var names: [String] { entries.map(\.name) }
}

/// Reads `kernel` (a spec such as `gaussian:sigma=0.5`) from a flow or metric table.
func readKernel(_ s: Settings, _ key: String, default spec: String) throws -> any RadialKernel {
    try readKernelSpec(try s.string(key, default: spec), s, key)
}

/// Reads `summation` and `tolerance` (and, for `sliced`, `directions`), and makes the
/// kernel-sum engine they ask for; a method that cannot sum `kernel` is an error at `summation`.
/// With a `period` the engine sums over the periodic box (minimum image) and `summation`
/// defaults to `direct`.
func readEngine(_ s: Settings, kernel: any RadialKernel, dimension: Int, threads: Int, seed: UInt64,
                period: Double? = nil) throws -> any KernelSumEngine {
    let method = SummationMethod(rawValue: try s.string("summation", default: period == nil ? "auto" : "direct",
                                                        oneOf: SummationMethod.allCases.map(\.rawValue)))!
    let tolerance = try s.real("tolerance", default: 1e-6, .tolerance)
    let directions = method == .sliced ? try s.integer("directions", default: 256, .count) : 256
    do {
        let engine = try KernelSumEngines.make(method, kernel: kernel, dimension: dimension, tolerance: tolerance,
                                               threads: threads, directions: directions, seed: seed, period: period)
        if let part = engine as? any StatefulPart { s.register(part, as: "summation") }
        return engine
    } catch let e as SummationError {
        throw s.fail("summation", e.message)
    }
}
