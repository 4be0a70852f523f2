import KernelSum

/// N particles in R^d with weights: positions row-major (`positions[i*d + a]`).
public struct Population: Sendable, Equatable {
    /// The name in outputs (trajectory.csv's `population` column, the H5MD group).
    public var name: String
    /// d.
    public let dimension: Int
    /// N × d coordinates, row-major.
    public var positions: [Double]
    /// Weights summing to 1 (uniform unless a flow changes them); for `sparse-deconvolution` the
    /// measure's masses, whose sum is free.
    public var weights: [Double]
    /// Velocities (row-major like positions) for flows whose state has them (underdamped
    /// Langevin); nil otherwise. trajectory.csv gets columns v1..vd when they are present.
    public var velocities: [Double]? = nil
    /// When the ranks hold the particles apart (``ParticleDecomposition``): which particles
    /// these are (their global indices) and how many there are in all; nil when the population
    /// holds every particle, in index order.
    public var share: ParticleShare? = nil

    /// `positions` holds whole points (a remainder is ignored); no dimension divides by zero.
    public init(name: String, dimension: Int, positions: [Double]) {
        self.name = name
        self.dimension = dimension
        self.positions = positions
        let n = dimension > 0 ? positions.count / dimension : 0
        self.weights = [Double](repeating: 1 / Double(max(1, n)), count: n)
    }

    /// N (0 for dimension 0).
    public var count: Int { dimension > 0 ? positions.count / dimension : 0 }

    /// The first problem found in the positions: a NaN, an infinity or a coordinate beyond
    /// `limit` (an overflow on its way), as (particle, description); nil if all are fine.
    public func firstInvalidPosition(limit: Double = NumericRange.coordinate) -> (particle: Int, cause: String)? {
        for (k, v) in positions.enumerated() where !(abs(v) <= limit) {
            let cause = v.isNaN ? "NaN" : v.isInfinite ? "infinite coordinate" : "coordinate \(v) beyond \(limit)"
            return (k / dimension, cause)
        }
        for (k, v) in (velocities ?? []).enumerated() where !(abs(v) <= limit) {
            let cause = v.isNaN ? "NaN velocity" : v.isInfinite ? "infinite velocity" : "velocity \(v) beyond \(limit)"
            return (k / dimension, cause)
        }
        return nil
    }
}

/// The particles of a population that one rank holds: their global indices (which key their
/// noise and order every sum as in one process) and the population's size.
public struct ParticleShare: Sendable, Equatable {
    /// The global index of each particle held, in the order of the rows.
    public var ids: [Int]
    /// N, the particles of the whole population.
    public var total: Int
    /// A share; see the properties.
    public init(ids: [Int], total: Int) {
        self.ids = ids
        self.total = total
    }
}

/// Everything a flow evolves: one or more populations (games will have two).
public struct SimulationState: Sendable, Equatable {
    /// The populations: one, or a game's two players (min first).
    public var populations: [Population]
    /// A state of these populations.
    public init(populations: [Population]) { self.populations = populations }
}
