import Flows
import Foundation

/// wgf's trajectory file in H5MD 1.1 (https://nongnu.org/h5md/), as ``H5MDRecorder`` writes it
/// and ``H5MDTrajectoryFile`` reads it:
///
///     h5md/                      version = [1, 1]
///         author/                name
///         creator/               name = "wgf", version
///     particles/<population>/    one group per population, in the state's order
///         box/                   dimension, boundary = "none" | "periodic" per axis, edges (dataset, periodic only)
///         position/              step [R] int64, time [R] float64, value [R × N × d] float64
///         velocity/              the same, underdamped Langevin only
///         weight/                step, time, value [R × N]: weights Σ w_i = 1 (or masses, see below)
///     observables/<metric>/      step, time, value [R]: the metrics of metrics.csv, and `wall`
///     parameters/scenario        the resolved scenario (TOML text)
///
/// The weights are not H5MD's `mass`: they are the empirical measure's probability weights
/// (constant 1/N in most flows, moved by Fisher–Rao terms in games; in a sparse deconvolution the
/// measure's unnormalised masses), not an inertia, and an H5MD reader that took them for masses
/// would compute wrong kinetic quantities.
public enum H5MD {
    /// The file's name in a run directory.
    public static let fileName = "trajectory.h5"
    static let version: [Int32] = [1, 1]
    static let particles = "particles", observables = "observables", parameters = "parameters"
    /// The run's wall clock (seconds since the start), recorded beside the metrics.
    static let wall = "wall"
    static let scenario = "scenario"

    /// The time-dependent elements of a population.
    public enum Element: String, CaseIterable, Sendable {
        case position, velocity, weight
    }

    /// Records per chunk of the one-dimensional series (step, time, observables): 8 KB.
    static let seriesChunk = 1024
    /// At most this many values (1 GiB of float64) in one chunk of a particle element: a
    /// record is one chunk unless N·d exceeds it, when it is split along the particles (HDF5
    /// chunks must stay under 4 GB).
    static let maxChunkValues = 1 << 27
}

/// What an H5MD trajectory holds, fixed when the file is created: the populations (name,
/// particle count, dimension, whether velocities are recorded, the periodic box's side), the
/// metric names, and the text and provenance stored beside them.
public struct H5MDLayout: Sendable {
    /// One population's group under `particles/`.
    public struct Population: Sendable, Equatable {
        /// The group's name: the population's.
        public var name: String
        /// N, the particles per record.
        public var count: Int
        /// d, the coordinates per particle.
        public var dimension: Int
        /// Whether a `velocity` element is recorded (underdamped Langevin).
        public var velocities: Bool
        /// The side L of the periodic box [0, L)^d, nil in R^d.
        public var period: Double?
        /// A population's layout; see the properties.
        public init(name: String, count: Int, dimension: Int, velocities: Bool, period: Double?) {
            self.name = name
            self.count = count
            self.dimension = dimension
            self.velocities = velocities
            self.period = period
        }

        /// The elements recorded for this population.
        var elements: [H5MD.Element] { velocities ? [.position, .velocity, .weight] : [.position, .weight] }

        /// The shape of one record of `element`: N × d, or N for the weights.
        func rowShape(_ element: H5MD.Element) -> [Int] { element == .weight ? [count] : [count, dimension] }
    }

    /// The groups under `particles/`, in the state's order.
    public var populations: [Population]
    /// The observables besides `wall`, in metrics.csv's order.
    public var metricNames: [String]
    /// The resolved scenario, stored as `parameters/scenario`.
    public var scenario: String
    /// `h5md/creator/version`.
    public var creatorVersion: String
    /// `h5md/author/name`: by default the user running the process.
    public var author: String

    /// A layout; see the properties.
    public init(
        populations: [Population], metricNames: [String], scenario: String, creatorVersion: String,
        author: String = H5MDLayout.currentUser
    ) {
        self.populations = populations
        self.metricNames = metricNames
        self.scenario = scenario
        self.creatorVersion = creatorVersion
        self.author = author
    }

    /// The layout of a state's populations; `period(k)` is population k's box side (nil in R^d).
    public init(
        state: SimulationState, period: (Int) -> Double?, metricNames: [String], scenario: String,
        creatorVersion: String
    ) {
        let populations = state.populations.enumerated().map { k, p in
            Population(
                name: p.name, count: p.count, dimension: p.dimension, velocities: p.velocities != nil, period: period(k)
            )
        }
        self.init(
            populations: populations, metricNames: metricNames, scenario: scenario, creatorVersion: creatorVersion)
    }

    /// The login name of the process's user, else `$USER`, else "unknown".
    public static var currentUser: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }
}
