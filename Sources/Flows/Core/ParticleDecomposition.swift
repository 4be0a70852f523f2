import Communication
import KernelSum

/// Per-particle state that a flow keeps outside the populations (AdaGrad's history): d values
/// per particle of the first population. When the ranks hold the particles apart its rows move
/// with their particles, and a checkpoint gathers them by index (``savedState(rows:)``).
public protocol ParticleStatePart: StatefulPart, AnyObject {
    /// Whether there is state yet (the same on every rank).
    var holdsParticleState: Bool { get }
    /// The rows of the particles this process holds, in their order (d values each).
    var particleRows: [Double] { get set }
    /// What `StatefulPart.saveState()` returns when the rows are `rows` (every particle's, in
    /// index order).
    func savedState(rows: [Double]) -> PartState
}

/// The spatial domain decomposition of a run's particles over the ranks of a job, as LAMMPS
/// deals its atoms: rank r holds the particles whose first coordinate lies in its slab
/// [c_r, c_{r+1}) (c_0 = −∞, c_K = +∞), each with its global index (``ParticleShare``).
///
/// The cuts are the K-quantiles of x₁, found on histograms of ``bins`` bins (integer counts
/// summed over the ranks: every rank finds the same cuts; `slabCuts(_:)`), re-cut before
/// every move, so the slabs follow the particles; a slab then holds N/K particles to within a
/// bin's.
/// A move (``migrate(_:)``) sends every particle outside its rank's slab to its new owner with
/// its whole state (position, weight, velocity, the flow's ``ParticleStatePart`` rows) in one
/// `allToAll`; a rank keeps its particles in increasing global index.
///
/// A flow whose particles all interact alike (a network's neurons, through the data) deals
/// fixed blocks of indices instead (``Layout/blocks(of:)``): nothing moves.
///
/// Everything that reads the whole state (records, metrics, checkpoints) gathers it by index
/// (``gather(_:)``), so the files are one process's.
public struct ParticleDecomposition {
    /// How the particles are dealt: by slabs of space, or by fixed blocks of indices.
    public enum Layout: Sendable, Equatable {
        /// Rank r holds the particles of its slab of x₁, re-cut before every move (particles
        /// whose interactions are local in space: kernels, the mesh, the spatial hash).
        case slabs
        /// Rank r holds the r-th of K near-equal runs of whole blocks of `block` consecutive
        /// indices, for the whole run (particles that interact with all others alike, through
        /// data, as a network's neurons do: nothing to gain from space, and no move).
        case blocks(of: Int)
    }

    /// The ranks.
    public let communicator: any Communicator
    /// Slabs or fixed blocks of indices.
    public let layout: Layout
    /// The flow's per-particle state of the first population, moved with its particles.
    public let carried: [any ParticleStatePart]
    /// The histogram's bins from which the cuts are taken.
    public static let bins = 4096

    /// A decomposition over `communicator`'s ranks, moving `carried` with the particles.
    public init(communicator: any Communicator, carried: [any ParticleStatePart] = [], layout: Layout = .slabs) {
        self.communicator = communicator
        self.carried = carried
        self.layout = layout
    }

    /// Rank r's indices among `count` under ``Layout/blocks(of:)``: whole blocks of `block`
    /// (the last may be short), the blocks dealt out as evenly as they go (a rank may hold none).
    public static func blockShare(rank: Int, ranks: Int, count: Int, block: Int) -> Range<Int> {
        let deal = BlockPartition(count: (count + block - 1) / block, parts: ranks).range(of: rank)
        return min(count, deal.lowerBound * block)..<min(count, deal.upperBound * block)
    }

    /// The carried parts that hold state now.
    var holding: [any ParticleStatePart] { carried.filter(\.holdsParticleState) }

    /// This rank's share of `whole` (which every rank holds): the particles of its slab or its
    /// blocks of indices.
    public func share(of whole: SimulationState) -> SimulationState {
        // Contiguous blocks of indices first, then (slabs) each particle to its slab.
        var state = whole
        for (k, p) in whole.populations.enumerated() {
            let mine: Range<Int>
            switch layout {
            case .slabs: mine = BlockPartition(count: p.count, parts: communicator.size).range(of: communicator.rank)
            case .blocks(let b):
                mine = Self.blockShare(rank: communicator.rank, ranks: communicator.size, count: p.count, block: b)
            }
            state.populations[k] = p.rows(Array(mine))
            state.populations[k].share = ParticleShare(ids: Array(mine), total: p.count)
            if k == 0 {
                let d = p.dimension
                for part in holding {
                    part.particleRows = Array(part.particleRows[(mine.lowerBound * d)..<(mine.upperBound * d)])
                }
            }
        }
        migrate(&state)
        return state
    }

    /// The carried parts' rows of every particle of the first population, in index order, on
    /// every rank (collective, exact), for a checkpoint: each part with its rows.
    public func gatherCarried(_ state: SimulationState) -> [(part: any ParticleStatePart, rows: [Double])] {
        guard let p = state.populations.first, let share = p.share else { return [] }
        return holding.map { part in
            let rows = part.particleRows.withUnsafeBufferPointer { r in
                share.ids.withUnsafeBufferPointer {
                    communicator.gatherRows(r, width: p.dimension, ids: $0, total: share.total)
                }
            }
            return (part, rows)
        }
    }

    /// The whole state on every rank, each population in global index order (collective, exact).
    public func gather(_ state: SimulationState) -> SimulationState {
        var whole = state
        for (k, p) in state.populations.enumerated() {
            guard let share = p.share else { continue }
            let d = p.dimension
            let width = p.recordWidth
            let rows = p.records(withID: false)
            let all = rows.withUnsafeBufferPointer { r in
                share.ids.withUnsafeBufferPointer {
                    communicator.gatherRows(r, width: width, ids: $0, total: share.total)
                }
            }
            var q = Population(name: p.name, dimension: d, positions: [])
            q.read(records: all, count: share.total, velocities: p.velocities != nil, withID: false)
            whole.populations[k] = q
        }
        return whole
    }

    /// Re-cuts the slabs and moves every particle to the rank of its slab (collective). The
    /// positions must be finite. Fixed blocks of indices do not move.
    public func migrate(_ state: inout SimulationState) {
        guard layout == .slabs else { return }
        for k in state.populations.indices {
            guard let share = state.populations[k].share else { continue }
            let p = state.populations[k]
            let d = p.dimension
            let cuts = slabCuts(p)
            let owner = { (x: Double) in cuts.firstIndex { x < $0 } ?? (cuts.count) }
            // The record: index, position, weight, velocity, then the carried parts' rows.
            let parts = k == 0 ? holding : []
            let own = p.recordWidth + 1
            let width = own + parts.count * d
            let records = p.records(withID: true)
            let rows = parts.map(\.particleRows)
            var outgoing = [[Double]](repeating: [], count: communicator.size)
            for i in 0..<p.count {
                let q = owner(p.positions[i * d])
                outgoing[q].append(contentsOf: records[(i * own)..<((i + 1) * own)])
                for r in rows { outgoing[q].append(contentsOf: r[(i * d)..<((i + 1) * d)]) }
            }
            let received = communicator.exchange(outgoing)
            let count = received.count / width
            let order = (0..<count).sorted { received[$0 * width] < received[$1 * width] }
            let sorted = order.flatMap { received[($0 * width)..<($0 * width + own)] }
            for (j, part) in parts.enumerated() {
                let at = own + j * d
                part.particleRows = order.flatMap { received[($0 * width + at)..<($0 * width + at + d)] }
            }
            var q = Population(name: p.name, dimension: d, positions: [])
            q.read(records: sorted, count: count, velocities: p.velocities != nil, withID: true)
            q.share = ParticleShare(ids: order.map { Int(received[$0 * width]) }, total: share.total)
            state.populations[k] = q
        }
    }

    /// The K − 1 inner cuts c_1 ≤ … ≤ c_{K−1} at the K-quantiles of x₁ over every rank's
    /// particles (collective): each cut is narrowed to the bin holding its quantile on a
    /// histogram of ``bins`` bins, three times over (integer counts summed over the ranks), so
    /// a far outlier does not put the bulk of the particles in one slab; the cut is that bin's
    /// upper edge.
    func slabCuts(_ p: Population) -> [Double] {
        let d = p.dimension
        let size = communicator.size
        var low = Double.infinity
        var high = -Double.infinity
        for i in 0..<p.count {
            low = min(low, p.positions[i * d])
            high = max(high, p.positions[i * d])
        }
        low = communicator.allReduce([low], min)[0]
        high = communicator.allReduce([high], max)[0]
        guard low < high else { return [Double](repeating: .infinity, count: size - 1) }
        let bins = ParticleDecomposition.bins
        let total = communicator.allSum([p.count])[0]
        // Per cut: the interval [a, b] holding its quantile and the particles below a.
        var intervals = [(a: Double, b: Double, below: Int)](repeating: (low, high, 0), count: size - 1)
        for _ in 0..<3 {
            var counts = [Int](repeating: 0, count: intervals.count * bins)
            for (r, interval) in intervals.enumerated() where interval.a < interval.b {
                let (a, b) = (interval.a, interval.b)
                for i in 0..<p.count {
                    let x = p.positions[i * d]
                    // [a, b) for the inner intervals, [a, b] for the last one of the whole range.
                    guard x >= a, x < b || (x == b && b == high) else { continue }
                    // (x − a)/(b − a) ∈ [0, 1]: finite even where b − a is subnormal.
                    counts[r * bins + min(bins - 1, Int(Double(bins) * ((x - a) / (b - a))))] += 1
                }
            }
            counts = communicator.allSum(counts)
            for r in intervals.indices where intervals[r].a < intervals[r].b {
                let (a, b, below) = intervals[r]
                // The bin holding the (r + 1)·N/K-th particle: the first bin with at least that many below its upper edge.
                let wanted = ((r + 1) * total + size - 1) / size
                var count = below
                var bin = 0
                while bin < bins - 1 && count + counts[r * bins + bin] < wanted {
                    count += counts[r * bins + bin]
                    bin += 1
                }
                let edge = { (j: Int) in j == bins ? b : a + (b - a) * (Double(j) / Double(bins)) }
                intervals[r] = (edge(bin), edge(bin + 1), count)
            }
        }
        return intervals.map(\.b)
    }
}

extension Population {
    /// The values a particle carries from rank to rank: its coordinates, weight and velocity.
    var recordWidth: Int { dimension * (velocities == nil ? 1 : 2) + 1 }

    /// Every particle's record (preceded by its global index when `withID`), row by row.
    func records(withID: Bool) -> [Double] {
        let d = dimension
        var out: [Double] = []
        out.reserveCapacity(count * (recordWidth + (withID ? 1 : 0)))
        for i in 0..<count {
            if withID { out.append(Double(share?.ids[i] ?? i)) }
            out.append(contentsOf: positions[(i * d)..<(i * d + d)])
            out.append(weights[i])
            if let v = velocities { out.append(contentsOf: v[(i * d)..<(i * d + d)]) }
        }
        return out
    }

    /// Takes positions, weights and velocities from `count` records (``records(withID:)``).
    mutating func read(records: [Double], count: Int, velocities hasVelocities: Bool, withID: Bool) {
        let d = dimension
        let width = d * (hasVelocities ? 2 : 1) + 1 + (withID ? 1 : 0)
        let first = withID ? 1 : 0
        positions = [Double](repeating: 0, count: count * d)
        weights = [Double](repeating: 0, count: count)
        var v = hasVelocities ? [Double](repeating: 0, count: count * d) : nil
        for i in 0..<count {
            let r = i * width + first
            for a in 0..<d { positions[i * d + a] = records[r + a] }
            weights[i] = records[r + d]
            if hasVelocities { for a in 0..<d { v![i * d + a] = records[r + d + 1 + a] } }
        }
        velocities = v
    }

    /// The particles `rows` (local indices) of this population, with their state.
    func rows(_ rows: [Int]) -> Population {
        let d = dimension
        var q = self
        q.positions = rows.flatMap { positions[($0 * d)..<($0 * d + d)] }
        q.weights = rows.map { weights[$0] }
        q.velocities = velocities.map { v in rows.flatMap { v[($0 * d)..<($0 * d + d)] } }
        return q
    }
}
