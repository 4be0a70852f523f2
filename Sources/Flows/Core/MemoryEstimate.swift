import Foundation
import KernelSum

/// The memory a scenario's run will need, estimated while the scenario is validated and checked
/// against what the machine allows (``MemoryLimit``), before anything proportional to the run
/// is allocated: an impossible size is refused with its estimate and the limit (exit 3), not
/// killed by the OOM killer or by a failed allocation. Release builds are compiled with
/// `-Ounchecked`, so every size that reaches unchecked code is bounded here first, in `Double`
/// arithmetic that cannot overflow.
///
/// This file is the one home of the estimate: the size bounds, the machine's limit, the byte
/// counts of every kind of buffer (each formula documented where it is defined) and the
/// message. Registry entries call it with the sizes they read; docs/scenarios.md ("Sizes
/// and memory") lists the same model.
///
/// The estimate is the program's baseline, plus every persistent item (populations with the
/// work buffers their flow keeps, target samples, data sets, grids kept between steps), plus the
/// largest transient item (a kernel sum's engine buffers, a metric's work, a trajectory
/// record's text), since those are allocated one at a time. Items are counted in doubles
/// (8 bytes); estimates are "about": within a factor of about 1.5 of the measured peak.
public final class MemoryEstimate {
    /// At most this many points in any set (particles, samples, directions, grid points per
    /// axis): point indices are 32-bit in the spatial hash and the sorters, and every product
    /// count × dimension then fits in an `Int`.
    public static let maximumCount = Int(Int32.max)
    /// At most this many coordinates per point: every vector and index product of a dimension
    /// stays small (a point is at most 512 KB), and formulas in x1…xd stay compilable. Matrices
    /// of d² entries (covariances) are counted by the estimate like everything else.
    public static let maximumDimension = 65_536
    /// The program itself: code, thread stacks and the allocator's arenas (0.3 GB of address
    /// space measured at the peak of a two-thread run of the quickstart).
    public static let baseline = 0.3e9

    /// One line of the estimate, located at the key that asked for it.
    public struct Item: Sendable {
        /// Where the key is: `file:line`, or the `--set` that gave it.
        public let location: String
        /// The dotted key whose value asks for the memory (`population.count`).
        public let key: String
        /// "1000000000 particles in d = 2"
        public let what: String
        /// "positions, weights, work buffers"
        public let parts: String
        /// The estimate, in bytes.
        public let bytes: Double
        /// Allocated for one operation and released (only the largest counts), not kept for the run.
        public let transient: Bool
        /// Work whose size follows from other items (kernel sums, a trajectory record): counted
        /// in the total, but a refusal is located at the largest item a key sets directly.
        public let derived: Bool
    }

    /// What the machine allows this process.
    public let limit: MemoryLimit
    /// Every item, in the order they were added.
    public private(set) var items: [Item] = []
    /// Populations by index (0: the scenario's, 1: a game's max player): their item grows as
    /// flows and metrics add the work buffers they keep per particle.
    var populations: [Int: (item: Int, count: Int, dimension: Int, columns: Int)] = [:]

    /// An empty estimate checked against `limit`.
    public init(limit: MemoryLimit = .current) { self.limit = limit }

    /// Baseline + persistent items + the largest transient item, in bytes.
    public var total: Double {
        MemoryEstimate.baseline + items.filter { !$0.transient }.reduce(0) { $0 + $1.bytes }
            + (items.filter(\.transient).map(\.bytes).max() ?? 0)
    }

    /// Adds an item located at `key` of `s`.
    public func add(
        _ s: Settings, _ key: String, _ what: String, parts: String, bytes: Double, transient: Bool = false,
        derived: Bool = false
    ) {
        let at = s.fail(key, "")
        items.append(
            Item(
                location: at.location, key: at.key, what: what, parts: parts, bytes: bytes, transient: transient,
                derived: derived))
    }

    /// Adds an item that is allocated as soon as it is read (a covariance, a teacher network),
    /// and checks the estimate at once, so that an impossible one is refused before it exists.
    public func reserve(_ s: Settings, _ key: String, _ what: String, parts: String, bytes: Double) throws {
        add(s, key, what, parts: parts, bytes: bytes)
        try check()
    }

    /// Registers population `index`, N particles in R^d (positions and weights; velocities and
    /// the flow's buffers are added with ``addWork(population:doubles:_:columns:)``), and the text of
    /// one trajectory record of it (``trajectoryRecord(count:columns:)``) when it is written.
    public func population(_ index: Int, _ s: Settings, _ key: String, count: Int, dimension d: Int) {
        add(
            s, key, "\(count) particle\(count == 1 ? "" : "s") in d = \(d)", parts: "positions, weights",
            bytes: 8 * Double(count) * Double(d + 1))
        populations[index] = (items.count - 1, count, d, d)
    }

    /// Adds `doubles` kept for population `index` by its flow or a metric (velocities, scores,
    /// optimizer state, kernel-sum channels), named in the population's item; `columns` more
    /// are written per particle to trajectory.csv (velocities).
    public func addWork(population index: Int, doubles: Double, _ part: String = "work buffers", columns: Int = 0) {
        guard let p = populations[index] else { return }
        populations[index]!.columns += columns
        let old = items[p.item]
        let parts = old.parts.contains(part) ? old.parts : old.parts + ", " + part
        items[p.item] = Item(
            location: old.location, key: old.key, what: old.what, parts: parts,
            bytes: old.bytes + 8 * doubles, transient: false, derived: false)
    }

    /// The text of one trajectory record (``trajectoryRecord(count:columns:)``) of every
    /// population, as a transient item at `key`.
    public func addTrajectoryRecord(_ s: Settings, _ key: String) {
        let rows = populations.values.reduce(0) { $0 + $1.count }
        let columns = populations.values.map(\.columns).max() ?? 0
        add(
            s, key, "a trajectory record of \(rows) row\(rows == 1 ? "" : "s")", parts: "its CSV text, written at once",
            bytes: MemoryEstimate.trajectoryRecord(count: rows, columns: columns), transient: true, derived: true)
    }

    /// N and d of population `index` (0 if it was never registered).
    public func particles(_ index: Int) -> (count: Int, dimension: Int) {
        populations[index].map { ($0.count, $0.dimension) } ?? (0, 0)
    }

    /// Throws when the estimate exceeds the limit, located at the largest item set directly by
    /// a key (a count, a grid; the largest of all when only derived work is large), with the
    /// whole run's estimate when other items add to it.
    public func check() throws {
        let total = self.total
        let direct = items.filter { !$0.derived }
        guard total > limit.bytes, let worst = (direct.isEmpty ? items : direct).max(by: { $0.bytes < $1.bytes }) else {
            return
        }
        let singular = ["1 ", "a ", "an "].contains { worst.what.hasPrefix($0) }
        var message =
            "\(worst.what) need\(singular ? "s" : "") about \(MemoryEstimate.format(worst.bytes)) (\(worst.parts))"
        if total > 1.05 * worst.bytes {
            message += "; the whole run needs about \(MemoryEstimate.format(total))"
        }
        message += "; \(limit.description) (see \"Sizes and memory\" in docs/scenarios.md)"
        throw SettingsError(location: worst.location, key: worst.key, message: message)
    }

    /// "48.0 GB", "612 MB", "3.1 kB": three significant digits, decimal units.
    public static func format(_ bytes: Double) -> String {
        let units: [(Double, String)] = [
            (1e18, "EB"), (1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"),
        ]
        guard bytes.isFinite else { return "more than 1000 EB" }
        for (scale, unit) in units where bytes >= scale {
            let v = bytes / scale
            if v >= 1000 { return "more than 1000 \(unit)" }
            return
                (v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v))
                + " " + unit
        }
        return "\(Int(bytes)) bytes"
    }
}

// MARK: Byte counts of the buffers the code allocates

extension MemoryEstimate {
    /// One kernel sum of N sources and M targets in R^d with C weight channels and G gradient
    /// channels, outputs (M·C values, M·G·d gradients) included: (transient, persistent) bytes.
    /// - direct: the sources transposed and padded to eight, with their weights: (N + 8)(d + C).
    /// - mesh: a grid of about 20, 300 and 5000 grid points per point in 1, 2 and 3-D (the
    ///   near-field kernels' grids for max(N, M) points of N(0, I) at 1e-6, measured from 10³
    ///   to 10⁵ points; a Gaussian's grid is often far smaller), never more than 2²⁷
    ///   (MeshOptions.maximumGridLog2), kept between calls: C real channels, the complex spectrum and the
    ///   multiplier (C + 1.5 per grid point; twice the real channels in the periodic box, which
    ///   pads and folds); per call the cell list of the near field, N(d + 1 + C), and the orders
    ///   of sources and targets.
    /// - sliced: a group of max(16, d) directions (d each); d·T coordinates, 16 projections and
    ///   16·(C + G) sweep outputs per point, T = N + M; five arrays of T per sorting worker; per
    ///   target 3(C + G·d) block sums, their sums and squares (and a pilot's for at most 1024
    ///   targets with a tolerance).
    /// - auto: the engine `AutoSum` picks for this shape.
    public static func kernelSum(
        _ engine: any KernelSumEngine, kernel: any RadialKernel, dimension d: Int,
        sources n: Int, targets m: Int, channels c: Int, gradients g: Int,
        threads: Int
    ) -> (transient: Double, persistent: Double) {
        let (n, m, dd, cc, gg) = (Double(n), Double(m), Double(d), Double(c), Double(g))
        let outputs = 8 * m * (cc + gg * dd)
        switch engine {
        case let auto as AutoSum:
            return kernelSum(
                auto.choice(kernel, dimension: d, sources: Int(n), targets: Int(m)), kernel: kernel,
                dimension: d, sources: Int(n), targets: Int(m), channels: c, gradients: g, threads: threads)
        case let mesh as MeshSum:
            let perPoint = [20.0, 300, 5000][min(max(d, 1), 3) - 1]
            let grid = min(Double(mesh.options.maximumGridPoints), perPoint * max(n, m))
            let channelsKept = mesh.domain.isPeriodic ? 2 * cc : cc
            return (outputs + 8 * (n * (dd + 1 + cc) + 2 * (n + m)), 8 * grid * (channelsKept + 1.5))
        case let shared as DistributedSum:
            // Each rank: the whole problem's buffers and outputs; where the engine shares a mesh's
            // grid (d = 2, 3: ``SharedGrid``; auto by its choice) only the pages it writes stay
            // resident: its slab and the rows its targets read, its columns of the spectrum on
            // every row and of the multiplier (the last slab also the padding's rows), at most
            // about 2/K of the grid; beside its share's results, every rank's gathered.
            let each = kernelSum(
                shared.inner, kernel: kernel, dimension: d, sources: Int(n), targets: Int(m), channels: c,
                gradients: g, threads: threads)
            let k = Double(max(1, shared.communicator.size))
            let chosen =
                (shared.inner as? AutoSum)?.choice(kernel, dimension: d, sources: Int(n), targets: Int(m))
                ?? shared.inner
            guard let mesh = chosen as? MeshSum, mesh.communicator != nil, (2...3).contains(d) else { return each }
            return (each.transient + outputs * (1 + 1 / k) + 8 * m / k * dd, each.persistent * min(1, 2 / k))
        case let sliced as SlicedSum:
            let t = n + m
            let p = max(Double(SlicedSum.chunk), dd) + dd
            let workers = Double(min(threads, SlicedSum.chunk))
            let blockSums =
                3 * (min(m, sliced.tolerance == nil ? 0 : Double(SlicedSum.pilotTargets)) + m) * (cc + gg * dd)
            return (
                outputs + 8 * (p * dd + t * (dd + 16 + cc) + 16 * (cc + gg) * (m + 1) + 5 * workers * t + blockSums), 0
            )
        default:
            return (outputs + 8 * (n + 8) * (dd + cc), 0)
        }
    }

    /// Adds a kernel sum (see ``kernelSum(_:kernel:dimension:sources:targets:channels:gradients:threads:)``)
    /// located at `key`: its transient buffers as one transient item, the grid a mesh keeps as a
    /// persistent one.
    public func addKernelSum(
        _ s: Settings, _ key: String, _ engine: any KernelSumEngine, kernel: any RadialKernel,
        dimension d: Int, sources n: Int, targets m: Int, channels c: Int, gradients g: Int,
        threads: Int
    ) {
        let (transient, persistent) = MemoryEstimate.kernelSum(
            engine, kernel: kernel, dimension: d, sources: n, targets: m,
            channels: c, gradients: g, threads: threads)
        let what = "a kernel sum over \(n) source\(n == 1 ? "" : "s") and \(m) target\(m == 1 ? "" : "s")"
        add(s, key, what, parts: "engine buffers and outputs", bytes: transient, transient: true, derived: true)
        if persistent > 0 {
            add(s, key, what, parts: "the mesh's grid, kept between steps", bytes: persistent, derived: true)
        }
        // The directions of an explicit sliced engine are a size of their own.
        if let sliced = engine as? SlicedSum, sliced.tolerance == nil, s.contains("directions") {
            add(
                s, "directions", "\(sliced.directions) directions in d = \(d)",
                parts: "the directions, and one sort of the points per direction chunk",
                bytes: 8 * Double(min(sliced.directions, max(SlicedSum.chunk, d))) * Double(d), transient: true)
        }
    }

    /// The exact median of the pairwise squared distances of S points (MedianBandwidth): a
    /// histogram of 2¹⁶ buckets per thread, and the pairs of the median's buckets, up to about
    /// a tenth of the S(S − 1)/2 pairs (high dimensions concentrate the distances), held in
    /// growing per-thread arrays and once more flattened: about 0.3 doubles per pair.
    public static func medianBandwidth(points s: Int, dimension d: Int, threads: Int) -> Double {
        let pairs = Double(s) * Double(s - 1) / 2
        return 8 * (0.3 * pairs + Double(s) * Double(d) + Double(max(1, min(threads, s / 16))) * 65_536)
    }

    /// The text of one trajectory record, held until it is written at once (LineWriter):
    /// per particle the step, time, population, index and weight (about 60 characters) and 21
    /// characters per coordinate (and velocity), with up to twice that for the buffer's growth.
    public static func trajectoryRecord(count n: Int, columns: Int) -> Double {
        2 * Double(n) * (60 + 21 * Double(columns))
    }

    /// The spatial hash of the kNN entropy over N points in R^d: the points sorted by bucket,
    /// their cells (32-bit) and indices, buckets and starts: about N(2d + 4) doubles.
    public static func spatialHash(count n: Int, dimension d: Int) -> Double {
        8 * Double(n) * (2 * Double(d) + 4)
    }
}

// MARK: The machine's limit

/// What this process may use: the smallest of the physical memory (`MemTotal` of
/// /proc/meminfo, or sysconf where there is none), the address-space limit (RLIMIT_AS,
/// `ulimit -v`) and the cgroup's memory limit (memory.max of cgroup v2, memory.limit_in_bytes
/// of v1), with what it is for the message.
public struct MemoryLimit: Sendable, Equatable {
    /// The limit in bytes (infinity for none).
    public let bytes: Double
    /// "this machine has 25.3 GB", "the address-space limit (ulimit -v) is 4.29 GB", …
    public let description: String

    /// A limit of `bytes`, described for messages.
    public init(bytes: Double, description: String) {
        self.bytes = bytes
        self.description = description
    }

    /// No limit (settings read outside a scenario).
    public static let unlimited = MemoryLimit(bytes: .infinity, description: "no limit")

    /// The limit of this process, read once (alone on its machine: `forProcess(of:)` with 1).
    public static let current = forProcess(of: 1)

    /// The limit of each of `processes` processes of one job on this machine (MPI ranks, or a
    /// sweep's runs at once), each needing its own memory: the machine's memory and the cgroup's
    /// limit are shared, `processes` ways; the address-space limit (RLIMIT_AS) is each
    /// process's own. The smallest of them.
    /// - Parameters:
    ///   - processes: the processes of the job on this machine.
    ///   - machine: the limits they share (default: this machine's, ``machineLimits``).
    ///   - process: each one's own limits (default: this process's, ``processLimits``).
    public static func forProcess(
        of processes: Int, machine: [MemoryLimit] = machineLimits, process: [MemoryLimit] = processLimits
    ) -> MemoryLimit {
        let k = max(1, processes)
        let shared = { (limit: MemoryLimit) -> MemoryLimit in
            k == 1
                ? limit
                : MemoryLimit(
                    bytes: limit.bytes / Double(k),
                    description:
                        "\(limit.description), shared by the \(k) processes of this job on it (\(MemoryEstimate.format(limit.bytes / Double(k))) each)"
                )
        }
        return (machine.map(shared) + process).min { $0.bytes < $1.bytes } ?? .unlimited
    }

    /// The physical memory (`MemTotal` of /proc/meminfo, or sysconf) and the cgroup's memory
    /// limits (memory.max of cgroup v2, memory.limit_in_bytes of v1): shared by the processes
    /// on the machine. Read once.
    public static let machineLimits: [MemoryLimit] = {
        var candidates: [MemoryLimit] = []
        let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        if let total = meminfo.flatMap(memTotal) {
            candidates.append(
                MemoryLimit(bytes: total, description: "this machine has \(MemoryEstimate.format(total))"))
        } else {
            let pages = Double(sysconf(Int32(_SC_PHYS_PAGES)))
            let size = Double(sysconf(Int32(_SC_PAGESIZE)))
            if pages > 0 && size > 0 {
                candidates.append(
                    MemoryLimit(
                        bytes: pages * size, description: "this machine has \(MemoryEstimate.format(pages * size))"))
            }
        }
        let groups = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        for file in cgroupLimitFiles(groups) {
            if let b = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap(cgroupLimit) {
                candidates.append(
                    MemoryLimit(
                        bytes: b, description: "the cgroup memory limit (\(file)) is \(MemoryEstimate.format(b))"))
            }
        }
        return candidates
    }()

    /// The address-space limit (RLIMIT_AS, `ulimit -v`): each process's own. Read once.
    public static let processLimits: [MemoryLimit] = {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_AS.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max else { return [] }
        let b = Double(rl.rlim_cur)
        return [
            MemoryLimit(
                bytes: b, description: "the address-space limit (RLIMIT_AS, ulimit -v) is \(MemoryEstimate.format(b))")
        ]
    }()

    /// `MemTotal` of /proc/meminfo, in bytes.
    public static func memTotal(_ meminfo: String) -> Double? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kb = Double(fields[1]) else { return nil }
            return kb * (fields.count >= 3 && fields[2] == "kB" ? 1024 : 1)
        }
        return nil
    }

    /// The limit in a cgroup file: a number of bytes, or none ("max", or the 2⁶³-ish "no limit"
    /// of cgroup v1).
    public static func cgroupLimit(_ text: String) -> Double? {
        guard let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0, v < 1e18 else { return nil }
        return v
    }

    /// The files that may hold this process's cgroup memory limit, from /proc/self/cgroup:
    /// v2 (`0::PATH`) and v1 (`N:memory:PATH`), at the mount root (a container's own cgroup)
    /// and at the process's path.
    public static func cgroupLimitFiles(_ groups: String) -> [String] {
        var files = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        for line in groups.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].count > 1 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { files.append("/sys/fs/cgroup\(parts[2])/memory.max") }
            if parts[1].split(separator: ",").contains("memory") {
                files.append("/sys/fs/cgroup/memory\(parts[2])/memory.limit_in_bytes")
            }
        }
        return files
    }
}
