import CFFTW
import Communication
import Foundation

/// The far part of the sum on the grid, in FINUFFT's three steps: (1) spread the weights onto
/// the grid of spacing h/2 with the window φ, c_l = Σ_i w_i Π_a φ((l_a − u_{i,a})/(w/2)),
/// u = (x − origin)/(h/2); (2) convolve: FFT, multiply by the plan's multiplier
/// (``MeshPlan/multiplier(shape:threads:)``), inverse FFT; (3) interpolate with the same window,
/// s(y) = Σ_l c_l Π_a φ((l_a − u_a)/(w/2)), and its derivative for gradients.
///
/// Grids are held in three slots, unit ones first: the last slot is always a real, contiguous
/// axis, so the innermost loops run over w neighbouring grid values. Spreading runs over slabs
/// of rows of the first real slot, each slab fed the points in one fixed order (sources sorted
/// by the first row their window meets), so the grid, hence the output, does not depend on the
/// thread count. In the periodic box spreading and interpolation run on the FFT grid padded by
/// w points on each side, folded onto it and unfolded from it (``PeriodicGrid``).
///
/// Given a ``SharedGrid`` (a job's ranks), the problem holds every target: each rank spreads
/// onto, folds and transforms its slab of the grid only, receives the rows that its share of
/// the targets reads (equal blocks of the targets in the order of the row their window starts
/// in: ``targetShares``) from the ranks that own them, and interpolates those targets only.
struct MeshConvolution {
    let plan: MeshPlan
    let buffers: MeshBuffers
    let problem: KernelSumProblem
    let threads: Int
    /// Unit slots before the d real ones (3 − d).
    let lead: Int
    /// The padding of the periodic box, or nil in R^d.
    let periodic: PeriodicGrid?
    /// The spreading grid in three slots (padded in the periodic box).
    let shape: [Int]
    /// Window points per slot: 1 for the unit slots, w for the others.
    let widths: [Int]
    let factors: WindowFactors
    /// Sources and targets by the first row (of slot `lead`) their window meets, and where each
    /// row's points begin.
    let sourceRows: (order: [Int], start: [Int])
    let targetRows: (order: [Int], start: [Int])
    /// The rows along axis 0 that hold every window, of sources and of targets, in R^d: the
    /// rest is the zero padding of the aperiodic convolution, which the FFTs skip.
    let usedRows: Int?
    /// The ranks sharing the grid, or nil for one process.
    let share: SharedGrid?
    /// Each rank's rows of the spreading grid (lead slot) when the ranks share the grid
    /// (balanced by the sources spread from them), else empty.
    let spreadSlabs: [Range<Int>]
    /// Reusable buffers of the shared grid's exchanges.
    let exchange: (PaddedBuffer, PaddedBuffer)
    /// When the ranks share the grid: each rank's targets, a range of `targetRows.order` (equal
    /// blocks of the targets in the order of the rows their windows start in), else empty.
    let targetShares: [Range<Int>]
    /// The spreading grid's rows (lead slot) that each rank's targets read, else empty.
    let interpolatedRows: [Range<Int>]
    /// Σ_i w_ic per channel over every source of the sum (exact: ``ExactSum``).
    let weightTotals: [Double]
    /// Whether the problem holds this rank's own targets (and the sources it needs), every
    /// rank's together making the sum (``RankParticles``), rather than every target.
    let ownsTargets: Bool

    /// What a rank holding its own particles cannot see in its problem, worked out across the
    /// ranks (``MeshSum``'s sum over owned particles): the shared grid, each rank's spreading
    /// rows, the rows each rank's targets read, and the weights' totals over every rank's sources.
    struct RankParticles {
        let share: SharedGrid
        let spreadSlabs: [Range<Int>]
        let interpolatedRows: [Range<Int>]
        let weightTotals: [Double]
    }

    /// - Parameters:
    ///   - problem: the sources, and the targets to interpolate at.
    ///   - allTargets: every target of the sum (`problem`'s are a block of them when the ranks
    ///     share it): the grid's extent is the same on every rank.
    ///   - communicator: the ranks sharing the grid (every one makes this call).
    ///   - owned: given when the problem holds this rank's targets and the sources whose window
    ///     or near field reaches its rows or targets (R^d only; `allTargets` and `communicator`
    ///     are then not read).
    init(
        plan: MeshPlan, buffers: MeshBuffers, padded: PaddedBuffer, problem: KernelSumProblem,
        allTargets: UnsafeBufferPointer<Double>, threads: Int, communicator: (any Communicator)? = nil,
        owned: RankParticles? = nil
    ) {
        self.plan = plan
        self.buffers = buffers
        self.problem = problem
        self.threads = threads
        let d = plan.dimension
        let w = plan.spreadWidth
        let lead = 3 - d
        self.lead = lead
        let periodic = plan.box.map { _ in
            PeriodicGrid(grid: plan.grid, dimension: d, pad: w, channels: problem.channels, buffer: padded)
        }
        self.periodic = periodic
        let shape = [Int](repeating: 1, count: lead) + (periodic?.shape ?? plan.grid)[0..<d]
        self.shape = shape
        widths = (0..<3).map { $0 < lead ? 1 : w }
        let factors = MeshConvolution.windowFactors(plan)
        self.factors = factors
        let rows = shape[lead]
        func byFirstRow(_ points: UnsafeBufferPointer<Double>) -> (order: [Int], start: [Int]) {
            countingSort(points.count / d, buckets: rows) { i in
                min(rows - 1, max(0, factors.start(points[i * d], slot: lead)))
            }
        }
        let sourceStarts = byFirstRow(problem.sources)
        sourceRows = sourceStarts
        targetRows = byFirstRow(problem.targets)
        exchange = buffers.exchange
        ownsTargets = owned != nil
        if let owned {
            usedRows = owned.share.readRows
            share = owned.share
            spreadSlabs = owned.spreadSlabs
            targetShares = []
            interpolatedRows = owned.interpolatedRows
            weightTotals = owned.weightTotals
            return
        }
        let n = problem.sourceCount
        weightTotals = (0..<problem.channels).map { c in ExactSum(problem.weights[(c * n)..<(c * n + n)]).value }
        let lastSourceRow = sourceStarts.start.lastIndex { $0 < sourceStarts.start.last! } ?? 0
        let lastTargetRow = stride(from: 0, to: allTargets.count, by: d).reduce(0) { row, k in
            max(row, min(rows - 1, max(0, factors.start(allTargets[k], slot: lead))))
        }
        let used = periodic == nil ? min(rows, max(lastSourceRow, lastTargetRow) + w + 1) : nil
        usedRows = used
        let share = communicator.flatMap {
            SharedGrid(communicator: $0, transform: buffers.transform, usedRows: used)
        }
        self.share = share
        // The spreading shared by the sources whose window starts in each row, plus the rows
        // (in R^d only those the transforms read).
        spreadSlabs =
            share.map { share in
                MeshConvolution.spreadSlabs(
                    sourcesByRow: (0..<rows).map { sourceStarts.start[$0 + 1] - sourceStarts.start[$0] }, share: share,
                    shape: shape, lead: lead, periodic: periodic != nil, width: w)
            } ?? []
        // Equal blocks of the targets in row order; a block reads from its first target's row
        // to the last row its last target's window reaches.
        let targetStarts = targetRows.start
        func row(of q: Int) -> Int {
            var (low, high) = (0, rows - 1)  // the row r with start[r] ≤ q < start[r + 1]
            while low < high {
                let middle = (low + high + 1) / 2
                if targetStarts[middle] <= q { low = middle } else { high = middle - 1 }
            }
            return low
        }
        let blocks = BlockPartition(count: problem.targetCount, parts: share?.rows.count ?? 1)
        let shares = (0..<(share == nil ? 0 : blocks.parts)).map { r -> (targets: Range<Int>, rows: Range<Int>) in
            let targets = blocks.range(of: r)
            guard let last = targets.last else { return (targets, 0..<0) }
            return (targets, row(of: targets.lowerBound)..<min(rows, row(of: last) + w))
        }
        targetShares = shares.map(\.targets)
        interpolatedRows = shares.map(\.rows)
    }

    /// The window's factors on the plan's spreading grid, whose index 0 lies w cells below the
    /// box (in the periodic box at its corner, padded by w), so that no window reaches below 0
    /// or past the end.
    static func windowFactors(_ plan: MeshPlan) -> WindowFactors {
        let w = plan.spreadWidth
        let lead = 3 - plan.dimension
        let origin = (0..<3).map { $0 < lead ? 0 : plan.low[$0 - lead] - Double(w) * plan.gridSpacing }
        return WindowFactors(
            lead: lead, width: w, half: Double(w) / 2, spacing: plan.gridSpacing, origin: origin,
            window: ESWindow(beta: plan.spreadBeta))
    }

    /// Each rank's rows of the spreading grid (`shape`'s slot `lead`), balanced by the sources
    /// whose window starts in each row (`sourcesByRow`) and the rows' own work; in R^d only the
    /// rows the transforms read are spread.
    static func spreadSlabs(
        sourcesByRow: [Int], share: SharedGrid, shape: [Int], lead: Int, periodic: Bool, width w: Int
    ) -> [Range<Int>] {
        let rows = shape[lead]
        let rowWork = SharedGrid.rowCost * Double(shape.reduce(1, *) / rows)
        let spreadRows = periodic ? rows : min(rows, share.spectrumRows)
        let cuts = SharedGrid.spreadingCuts(
            sources: Array(sourcesByRow[0..<spreadRows]), rowWork: rowWork, overlap: w - 1, parts: share.rows.count)
        return (0..<share.rows.count).map { cuts[$0]..<cuts[$0 + 1] }
    }

    /// The rows of the FFT grid (axis 0) that rank r's interpolation reads, from the spreading
    /// grid's rows: the same in R^d, their images modulo the grid in the periodic box.
    func gridRowsRead(by r: Int) -> [Range<Int>] {
        guard let periodic else { return [interpolatedRows[r].clamped(to: 0..<plan.grid[0])] }
        return periodic.gridRows(readBy: interpolatedRows[r])
    }

    /// Writes the far part of every value (plus the plan's offset times the weights) and
    /// gradient; when the ranks share the grid, of this rank's targets (``targetShares``) only,
    /// in `targetRows.order`.
    func run(values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        let grid = buffers.real
        let spreadGrid = periodic?.buffer ?? grid
        if let share {
            // This rank's share of the spreading, then the rows of its slab (or those that fold
            // onto it) from the ranks that spread them, then its transforms.
            let slab = share.mine
            spread(into: spreadGrid, rows: spreadSlabs[share.communicator.rank])
            let rowLength = shape.reduce(1, *) / shape[lead]
            share.moveRows(
                spreadGrid, rowLength: rowLength, planes: problem.channels, planeStride: shape.reduce(1, *),
                spread: spreadSlabs,
                needed: share.rows.map { periodic?.rowsFolding(onto: $0) ?? [$0.clamped(to: 0..<share.spectrumRows)] },
                exchange: exchange)
            periodic?.fold(into: grid, channels: problem.channels, threads: threads, rows: slab)
            let total = plan.grid[0..<plan.dimension].reduce(1, *)
            for c in 0..<problem.channels {
                share.convolve(
                    grid + c * total, buffers: buffers, exchange: exchange, threads: threads, leading: usedRows)
            }
            // The rows next to its slab that its targets read, from their owners.
            let rank = share.communicator.rank
            share.moveRows(
                grid, rowLength: share.realRowLength, planes: problem.channels, planeStride: total,
                spread: share.rows.map { $0.clamped(to: 0..<share.readRows) },
                needed: share.rows.indices.map(gridRowsRead), exchange: exchange)
            periodic?.unfold(from: grid, channels: problem.channels, threads: threads, rows: interpolatedRows[rank])
            interpolate(
                spreadGrid, at: ownsTargets ? targetRows.order[...] : targetRows.order[targetShares[rank]],
                compact: !ownsTargets, values: values, gradients: gradients)
        } else {
            spread(into: spreadGrid, rows: 0..<shape[lead])
            periodic?.fold(into: grid, channels: problem.channels, threads: threads)
            convolve(grid)
            periodic?.unfold(from: grid, channels: problem.channels, threads: threads)
            interpolate(spreadGrid, at: targetRows.order[...], compact: false, values: values, gradients: gradients)
        }
    }

    /// (1) Every channel's weights onto the `rows` (of the lead slot) of `spreadGrid`
    /// (overwritten). Each slab of rows takes, in the sources' row order, the points whose window
    /// meets it, and clips the window to it: a row's values do not depend on the slabs.
    func spread(into spreadGrid: UnsafeMutablePointer<Double>, rows wanted: Range<Int>) {
        let d = plan.dimension
        let n = problem.sourceCount
        let channels = problem.channels
        let w = plan.spreadWidth
        let lead = lead
        let widths = widths
        let factors = factors
        let (n1, n2) = (shape[1], shape[2])
        let spreadTotal = shape[0] * n1 * n2
        let rows = shape[lead]
        let rowSize = spreadTotal / rows
        let (order, rowStart) = sourceRows
        let pieces = threads == 1 ? 1 : min(wanted.count, 4 * threads)
        let slabList = (0..<pieces).map { p in
            (wanted.lowerBound + p * wanted.count / pieces, wanted.lowerBound + (p + 1) * wanted.count / pieces)
        }
        let sources = SharedPointer(problem.sources.baseAddress!)
        let weights = SharedPointer(problem.weights.baseAddress!)
        let gridShared = SharedMutablePointer(spreadGrid)
        Parallel.forEachChunk(slabList.count, threads: threads, minimumChunk: 1) { slabRange in
            for slab in slabRange {
                let (r0, r1) = slabList[slab]
                for c in 0..<channels {
                    let slabStart = gridShared.base + c * spreadTotal + r0 * rowSize
                    slabStart.initialize(repeating: 0, count: (r1 - r0) * rowSize)
                }
                let first = rowStart[max(0, r0 - w + 1)]
                let last = rowStart[r1]
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * WindowFactors.capacity) { fb in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                        let f = fb.baseAddress!
                        let start = sb.baseAddress!
                        let f1 = f + WindowFactors.capacity
                        let f2 = f + 2 * WindowFactors.capacity
                        for k in first..<last {
                            let i = order[k]
                            factors.values(sources.base + i * d, f, start)
                            // The slab clips the lead slot's range.
                            var klo = (0, 0, 0)
                            var khi = (widths[0], widths[1], widths[2])
                            let clipLo = max(0, r0 - start[lead])
                            let clipHi = min(w, r1 - start[lead])
                            if clipLo >= clipHi { continue }
                            switch lead {
                            case 0: (klo.0, khi.0) = (clipLo, clipHi)
                            case 1: (klo.1, khi.1) = (clipLo, clipHi)
                            default: (klo.2, khi.2) = (clipLo, clipHi)
                            }
                            for c in 0..<channels {
                                let wi = weights[c * n + i]
                                if wi == 0 { continue }
                                let base = gridShared.base + c * spreadTotal
                                for k0 in klo.0..<khi.0 {
                                    let f0 = wi * f[k0]
                                    for k1 in klo.1..<khi.1 {
                                        let f01 = f0 * f1[k1]
                                        let row = base + ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                        for k2 in klo.2..<khi.2 { row[k2] += f01 * f2[k2] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// (2) Each channel of `grid` (the FFT grid): r2c, multiply, c2r (unnormalised: the
    /// multiplier holds the normalisation).
    func convolve(_ grid: UnsafeMutablePointer<Double>) {
        let total = plan.grid[0..<plan.dimension].reduce(1, *)
        let complexCount = buffers.complexCount
        let multiplier = buffers.multiplier
        for c in 0..<problem.channels {
            buffers.transform.forward(grid + c * total, buffers.spectrum, threads: threads, leading: usedRows)
            let spectrum = SharedMutablePointer(buffers.spectrum)
            multiplier.withUnsafeBufferPointer { mp in
                let factor = SharedPointer(mp.baseAddress!)
                Parallel.forEachChunk(complexCount, threads: threads, minimumChunk: 1 << 14) { range in
                    for k in range {
                        spectrum[k].0 *= factor[k]
                        spectrum[k].1 *= factor[k]
                    }
                }
            }
            buffers.transform.backward(buffers.spectrum, grid + c * total, threads: threads, leading: usedRows)
        }
    }

    /// (3) Values and gradients at the targets `order` (in that order: by their first row, so
    /// that consecutive ones read the same rows) from `spreadGrid`, separably: innermost axis
    /// first. The outputs are indexed by target, or by position in `order` when `compact`.
    func interpolate(
        _ spreadGrid: UnsafeMutablePointer<Double>, at order: ArraySlice<Int>, compact: Bool,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let d = plan.dimension
        let m = order.count
        guard m > 0 else { return }
        let channels = problem.channels
        let gch = problem.gradientChannels
        let g = gch.count
        let widths = widths
        let factors = factors
        let first = order.startIndex
        let (n1, n2) = (shape[1], shape[2])
        let spreadTotal = shape[0] * n1 * n2
        let gridPointer = SharedPointer(UnsafePointer(spreadGrid))
        let targets = SharedPointer(problem.targets.baseAddress!)
        let out = SharedMutablePointer(values.baseAddress!)
        let gout = SharedMutablePointer(gradients.baseAddress ?? values.baseAddress!)
        // offset · Σ_i w_ic per channel, added to every value (``MeshPlan/offset``).
        let added = weightTotals.map { $0 * plan.offset }
        var gradientIndex = [Int](repeating: -1, count: channels)
        for (gi, c) in gch.enumerated() { gradientIndex[c] = gi }
        let gradientIndexCopy = gradientIndex
        let capacity = WindowFactors.capacity
        Parallel.forEachChunk(m, threads: threads, minimumChunk: 64) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 6 * capacity) { fb in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                    let f = fb.baseAddress!
                    let df = f + 3 * capacity
                    let start = sb.baseAddress!
                    for q in range {
                        let j = order[first + q]
                        let o = compact ? q : j
                        let y = targets.base + j * d
                        factors.values(y, f, start, derivatives: df)
                        let f0 = f
                        let f1 = f + capacity
                        let f2 = f + 2 * capacity
                        let d0 = df
                        let d1 = df + capacity
                        let d2 = df + 2 * capacity
                        for c in 0..<channels {
                            let grid = gridPointer.base + c * spreadTotal
                            let gi = gradientIndexCopy[c]
                            var value = 0.0
                            var g0 = 0.0
                            var g1 = 0.0
                            var g2 = 0.0
                            for k0 in 0..<widths[0] {
                                var rv = 0.0
                                var r1 = 0.0
                                var r2 = 0.0
                                for k1 in 0..<widths[1] {
                                    let row = grid + ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                    var iv = 0.0
                                    var i2 = 0.0
                                    for k2 in 0..<widths[2] {
                                        iv += f2[k2] * row[k2]
                                        i2 += d2[k2] * row[k2]
                                    }
                                    rv += f1[k1] * iv
                                    r1 += d1[k1] * iv
                                    r2 += f1[k1] * i2
                                }
                                value += f0[k0] * rv
                                g0 += d0[k0] * rv
                                g1 += f0[k0] * r1
                                g2 += f0[k0] * r2
                            }
                            out[o * channels + c] = value + added[c]
                            if gi >= 0 {
                                let gj = gout.base + (o * g + gi) * d
                                // Slot s holds axis s − lead.
                                switch d {
                                case 1: gj[0] = g2
                                case 2:
                                    gj[0] = g1
                                    gj[1] = g2
                                default:
                                    gj[0] = g0
                                    gj[1] = g1
                                    gj[2] = g2
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The window's factors along each axis for one point: w values φ((l − u)/(w/2)) at the grid
/// indices l = start ..< start + w around u = (x − origin)/h, in three slots of ``capacity``;
/// the first `lead` slots are unit axes (a single 1), slot s ≥ lead holds axis s − lead.
struct WindowFactors: Sendable {
    /// Factors per slot: the widest window (``MeshPlan`` never chooses a wider one).
    static let capacity = 16
    let lead: Int
    let width: Int
    /// w/2, the window's half-width in grid steps.
    let half: Double
    /// h/2, the spreading grid's spacing.
    let spacing: Double
    /// The grid's index 0 per slot.
    let origin: [Double]
    let window: ESWindow

    /// The first grid index ⌈u − w/2⌉ of the window about coordinate x in slot a.
    @inline(__always) func start(_ x: Double, slot a: Int) -> Int {
        let u = (x - origin[a]) / spacing
        return Int((u - half).rounded(.up))
    }

    /// Fills f[capacity · a + k] (and, if asked, the derivatives d/dx of each factor) and
    /// start[a], eight factors at a time (vectorised exp).
    @inline(__always) func values(
        _ p: UnsafePointer<Double>, _ f: UnsafeMutablePointer<Double>,
        _ start: UnsafeMutablePointer<Int>,
        derivatives df: UnsafeMutablePointer<Double>? = nil
    ) {
        typealias V = SIMD8<Double>
        let inverseHalf = 1 / half
        let beta = V(repeating: window.beta)
        let lanes = V(0, 1, 2, 3, 4, 5, 6, 7)
        let capacity = WindowFactors.capacity
        for a in 0..<3 {
            let fa = f + capacity * a
            guard a >= lead else {
                start[a] = 0
                fa[0] = 1
                df?[capacity * a] = 0
                continue
            }
            let u = (p[a - lead] - origin[a]) / spacing
            let s = Int((u - half).rounded(.up))
            start[a] = s
            let t0 = (Double(s) - u) * inverseHalf
            var k = 0
            while k < width {
                let t = V(repeating: t0) + (lanes + V(repeating: Double(k))) * V(repeating: inverseHalf)
                var q = V(repeating: 1) - t * t
                q.replace(with: V(repeating: 0), where: q .< V(repeating: 0))
                let root = q.squareRoot()
                let e = VectorMath.exp(beta * (root - V(repeating: 1)))
                let value = q * e
                for l in 0..<min(8, width - k) { fa[k + l] = value[l] }
                if let df = df {
                    // d/dx φ((l − u)/(w/2)) = −φ'(t)/((w/2) h), φ'(t) = −t (2 + β√(1 − t²)) e.
                    var dv = t * (V(repeating: 2) + beta * root) * e * V(repeating: inverseHalf / spacing)
                    dv.replace(with: V(repeating: 0), where: q .<= V(repeating: 0))
                    for l in 0..<min(8, width - k) { df[capacity * a + k + l] = dv[l] }
                }
                k += 8
            }
        }
    }
}
