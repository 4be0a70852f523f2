import Communication
import KernelSum

/// A particle flow: how one step moves the state.
public protocol Flow: AnyObject {
    /// Advances `state` by one step of size `h`; `step` counts from 1.
    func advance(_ state: inout SimulationState, step: Int, stepSize h: Double)
    /// The flow's objective (the `energy` metric), or nil where the flow has none.
    var energyDescription: String? { get }
    /// The objective at `state` (recorded by the `energy` metric); NaN where there is none.
    func energy(_ state: SimulationState) -> Double
    /// What the flow chose (engine, bandwidth rule, ...), recorded in run.json.
    var report: [String: String] { get }
    /// Completes the initial state before step 0 is recorded (e.g. initial velocities,
    /// positions wrapped into a periodic box). The default does nothing.
    func prepare(_ state: inout SimulationState)
    /// Where population `index` lives: the periodic box [0, L)^d or R^d (recorded with the
    /// trajectory). The default is R^d.
    func domain(ofPopulation index: Int) -> Domain
    /// Whether, on several ranks, each may hold only its share of the particles
    /// (``ParticleDecomposition``): ``advance(_:step:stepSize:)`` then receives populations with
    /// a ``Population/share`` and moves those particles only, every rank calling the same
    /// collectives; ``energy(_:)`` and the metrics still see the whole state. The default is
    /// false: every rank holds and steps the whole state.
    var distributesParticles: Bool { get }
    /// How the ranks deal the particles when the flow ``distributesParticles``. The default:
    /// slabs of space.
    var particleLayout: ParticleDecomposition.Layout { get }
    /// The flow's per-particle state of the first population kept outside it (AdaGrad's
    /// history), moved with the particles when the ranks hold them apart. The default: none.
    var particleState: [any ParticleStatePart] { get }
    /// Why the initial state cannot be stepped (e.g. a particle outside the flow's domain), or
    /// nil: the run then stops at step 0 with this cause. The default accepts any state.
    func invalidStart(_ state: SimulationState) -> String?
}

extension Flow {
    /// No objective.
    public var energyDescription: String? { nil }
    /// NaN: no objective.
    public func energy(_ state: SimulationState) -> Double { .nan }
    /// Nothing to complete.
    public func prepare(_ state: inout SimulationState) {}
    /// R^d.
    public func domain(ofPopulation index: Int) -> Domain { .free }
    /// Every rank holds the whole state.
    public var distributesParticles: Bool { false }
    /// Slabs of space.
    public var particleLayout: ParticleDecomposition.Layout { .slabs }
    /// None.
    public var particleState: [any ParticleStatePart] { [] }
    /// Any state can start.
    public func invalidStart(_ state: SimulationState) -> String? { nil }
}

/// What a flow may use while it is built.
public struct FlowContext {
    /// The scenario's target (``NoTarget`` without `[target]`).
    public let target: any Target
    /// d, the coordinates of a particle.
    public let dimension: Int
    /// N, the particles of the scenario's population.
    public let particleCount: Int
    /// The scenario's seed, for the flow's random streams.
    public let seed: UInt64
    /// Worker threads the flow may use.
    public let threads: Int
    /// The ranks that share the run (one process: `SerialCommunicator`). Every rank holds
    /// the whole state and steps it identically, the flow's kernel sums shared by target blocks
    /// (`DistributedSum`), unless the flow ``Flow/distributesParticles``.
    public let communicator: any Communicator
    /// A context; see the properties.
    public init(
        target: any Target, dimension: Int, particleCount: Int, seed: UInt64, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.target = target
        self.dimension = dimension
        self.particleCount = particleCount
        self.seed = seed
        self.threads = threads
        self.communicator = communicator
    }
}

/// One flow kind of the registry: its `kind` name, a summary for `wgf list`, and how it reads
/// its `[flow]` table.
public struct FlowEntry: Sendable {
    /// The `kind` in scenario files (`svgd`, `mmd`, ...).
    public let name: String
    /// One line for `wgf list`.
    public let summary: String
    /// Reads the `[flow]` table and builds the flow; throws a located ``SettingsError``.
    public let make: @Sendable (Settings, FlowContext) throws -> any Flow
    /// Whether the flow needs a `[target]` (SVGD, MMD); flows that do not (Langevin) run
    /// without one, and the dimension then comes from `particleDimension` or `population.dimension`.
    public var needsTarget: Bool = true
    /// The dimension of a particle when the flow fixes it from its settings (a neuron of a
    /// two-layer network in d inputs has d + 2 coordinates); nil otherwise.
    public var particleDimension: (@Sendable (Settings) throws -> Int)? = nil
}

/// The flow kinds a scenario may name.
public enum FlowRegistry {
    /// Every flow. A new flow adds one line here.
    public static let entries: [FlowEntry] = [
        SteinVariationalGradientDescent.entry,
        AcceleratedSVGD.entry,
        MirroredSVGD.entry,
        SteinVariationalMirrorDescent.entry,
        KSDDescent.entry,
        MMDFlow.entry,
        UnderdampedMMDFlow.entry,
        LangevinFlow.entry,
        TwoLayerNetworkFlow.entry,
        EntropicFictitiousPlay.entry,
        GameFlow.entry,
        SparseDeconvolutionFlow.entry,
    ]
    /// The kinds, in registry order.
    public static var names: [String] { entries.map(\.name) }
}

/// Reads `kernel` (a spec such as `gaussian:sigma=0.5`) from a flow or metric table.
func readKernel(_ s: Settings, _ key: String, default spec: String) throws -> any RadialKernel {
    try readKernelSpec(try s.string(key, default: spec), s, key)
}

/// Reads `summation` and `tolerance` (and, for `sliced`, `directions`: a fixed count, or
/// none, and then an explicit `tolerance` chooses them per call), and makes the kernel-sum
/// engine they ask for; a method that cannot sum `kernel` is an error at `summation`.
/// In the periodic box (a periodic `domain`) the engine sums by minimum image and `summation`
/// defaults to `direct`. With more than one rank in `communicator`, the ranks share every sum
/// by target blocks (`DistributedSum`) and the mesh's grid by slabs, with one process's results
/// bit for bit.
func readEngine(
    _ s: Settings, kernel: any RadialKernel, dimension: Int, threads: Int, seed: UInt64,
    domain: Domain = .free, communicator: any Communicator
) throws -> any KernelSumEngine {
    let method = SummationMethod(
        rawValue: try s.string(
            "summation", default: domain.isPeriodic ? "direct" : "auto",
            oneOf: SummationMethod.allCases.map(\.rawValue)))!
    var tolerance = 1e-6
    var directions: Int? = 256
    if method == .sliced {
        if s.contains("tolerance") && s.contains("directions") {
            throw s.fail(
                "directions",
                "give either directions (a fixed count) or tolerance (sliced then adds directions until its estimated error meets it), not both"
            )
        }
        // Only the one in force is resolved: a resolved scenario holding both would not read back.
        let most = SlicedSum.defaultMaximumDirections
        if s.contains("tolerance") {
            tolerance = try s.real("tolerance", .tolerance)
            directions = nil
        } else {
            directions = try s.integer(
                "directions", default: 256, Allowed("an integer from 1 to \(most)") { (1...most).contains($0) })
        }
    } else {
        tolerance = try s.real("tolerance", default: 1e-6, .tolerance)
    }
    do {
        let engine = try KernelSumEngines.make(
            method, kernel: kernel, dimension: dimension, tolerance: tolerance,
            threads: threads, directions: directions, seed: seed, domain: domain, communicator: communicator)
        if let part = engine as? any StatefulPart { s.register(part, as: "summation") }
        // Several ranks share each sum by target blocks, with the same results as one process.
        return communicator.size > 1 ? DistributedSum(engine, communicator: communicator) : engine
    } catch let e as SummationError {
        throw s.fail("summation", e.message)
    }
}
