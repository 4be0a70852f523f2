import Communication
import Foundation

/// The mesh sum over particles that the ranks hold apart (each its own share, by global index):
/// the domain decomposition's sum. No rank holds every source.
///
/// Every choice of the plan comes from exact reductions (the box by min and max, the counts and
/// the density histogram in integers: ``MeshPlan/Inputs``), so every rank plans the grid one
/// process would. Rank r spreads the rows of its slab of the spreading grid (cut by the sources
/// starting in each row, summed over the ranks) and receives from the others the sources whose
/// window meets those rows; in R^d one process spreads a grid point's sources in the order
/// (first row of the window, index), and the rank takes them in that order too (its sources
/// sorted by global index, then by row, stably), so every grid value is the same sum in the same
/// order. The transforms are ``SharedGrid``'s. Its targets read the rows from the first one's
/// window to the last one's, moved to it by their owners; the near field takes, besides its own
/// sources, those of every cell its targets' queries visit, in a cell list cut from the box of
/// every source (``CellList``'s `frame`), so each target visits the same points in the same
/// order as in one process. Values and gradients are therefore bit for bit one process's.
///
/// Memory per rank: its particles and the sources sent to it (those whose window starts up to
/// w − 1 rows below its slab, and those within the near radius of its targets), the grid's slab
/// and its rows in transit; traffic: those sources, the grid's transposes and the rows read
/// across a cut (``SharedGrid``).
extension MeshSum {
    /// Fills `values` and `gradients` at this rank's targets (``KernelSumEngine``'s layout) with
    /// the sums over the sources of every rank: `problem` holds this rank's sources, weights and
    /// targets, `sourceIDs` its sources' global indices (every index once across the ranks; they
    /// fix the order sums are formed in, as one process's source order). Collective. Returns
    /// false, having done nothing, where the mesh does not share a grid this way (one rank,
    /// d ≠ 2, 3, the periodic box, a kernel the mesh cannot sum, a plan that falls back to the
    /// direct sum): the answer is the same on every rank.
    public func sumOverRankParticles(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, sourceIDs: UnsafeBufferPointer<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool {
        guard let communicator, (2...3).contains(problem.dimension), !domain.isPeriodic,
            MeshSum.unsupported(kernel, dimension: problem.dimension) == nil
        else { return false }
        precondition(
            problem.fits(values: values, gradients: gradients) && sourceIDs.count == problem.sourceCount,
            "MeshSum.sumOverRankParticles: shapes")
        let inputs = MeshPlan.Inputs(problem, period: nil, options: options, communicator: communicator)
        guard inputs.sourceCount > 0 else {
            for k in 0..<values.count { values[k] = 0 }
            for k in 0..<gradients.count { gradients[k] = 0 }
            return true
        }
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        let plan = currentPlan(kernel, inputs, ws)
        guard plan.fallback == nil else { return false }
        let buffers = ws.prepare(
            plan, channels: problem.channels, threads: threads, share: (communicator.rank, communicator.size))
        ws.report = plan.report
        let layout = RankLayout(
            plan: plan, problem: problem, buffers: buffers, options: options, communicator: communicator)
        layout.withSourcesNeeded(problem, ids: sourceIDs) { sources in
            let convolution = MeshConvolution(
                plan: plan, buffers: buffers, padded: ws.padded, problem: sources, allTargets: problem.targets,
                threads: threads, owned: layout.particles)
            convolution.run(values: values, gradients: gradients)
            guard plan.split.radius > 0 else { return }
            var near = NearField(split: plan.split, problem: sources, threads: threads, domain: domain)
            near.cellsPerRadius = options.nearCellsPerRadius
            near.frame = layout.sourceBox
            near.add(values: values, gradients: gradients)
        }
        return true
    }
}

/// How the ranks holding their own particles share one mesh sum: the slabs they spread, the
/// rows their targets read, the cells their near fields visit, and so which sources each needs
/// from the others. Computing it is collective (a few exact reductions of short arrays).
private struct RankLayout {
    let plan: MeshPlan
    let communicator: any Communicator
    let factors: WindowFactors
    /// The shared grid, each rank's rows and the weights' totals (``MeshConvolution/RankParticles``).
    let particles: MeshConvolution.RankParticles
    /// The box of every rank's sources (the near field's cell list is cut from it).
    let sourceBox: (lower: [Double], upper: [Double])
    /// Each rank's range of near-field cells along axis 0 (empty without a near field).
    let nearCells: [Range<Int>]
    /// The near field's cells: their side and count along axis 0.
    let cellSize: Double, cellCount: Int

    init(
        plan: MeshPlan, problem: KernelSumProblem, buffers: MeshBuffers, options: MeshOptions,
        communicator: any Communicator
    ) {
        self.plan = plan
        self.communicator = communicator
        let d = plan.dimension
        let lead = 3 - d
        let w = plan.spreadWidth
        let factors = MeshConvolution.windowFactors(plan)
        self.factors = factors
        let shape = [Int](repeating: 1, count: lead) + plan.grid[0..<d]
        let rows = shape[lead]
        func firstRow(_ x: Double) -> Int { min(rows - 1, max(0, factors.start(x, slot: lead))) }
        // Sources per first row, over every rank; with them, the last rows of sources and targets.
        var localRows = [Int](repeating: 0, count: rows)
        for i in 0..<problem.sourceCount { localRows[firstRow(problem.sources[i * d])] += 1 }
        let perRow = communicator.allSum(localRows)
        let targetRows = (0..<problem.targetCount).map { firstRow(problem.targets[$0 * d]) }
        let lastTargetRow = Int(communicator.allReduce([Double(targetRows.max() ?? 0)], max)[0])
        let lastSourceRow = perRow.lastIndex { $0 > 0 } ?? 0
        let used = min(rows, max(lastSourceRow, lastTargetRow) + w + 1)
        let share = SharedGrid(communicator: communicator, transform: buffers.transform, usedRows: used)!
        let slabs = MeshConvolution.spreadSlabs(
            sourcesByRow: perRow, share: share, shape: shape, lead: lead, periodic: false, width: w)
        // The rows each rank's targets read: from its first target's row to its last one's + w.
        let read = communicator.allGather(
            targetRows.isEmpty ? [0, 0] : [Double(targetRows.min()!), Double(min(rows, targetRows.max()! + w))],
            counts: [Int](repeating: 2, count: communicator.size))
        let interpolated = (0..<communicator.size).map { Int(read[2 * $0])..<Int(read[2 * $0 + 1]) }
        let n = problem.sourceCount
        let totals = ExactSum.acrossRanks(
            (0..<problem.channels).map { c in ExactSum(problem.weights[(c * n)..<(c * n + n)]) }, communicator
        ).map(\.value)
        particles = .init(share: share, spreadSlabs: slabs, interpolatedRows: interpolated, weightTotals: totals)
        // The near field: a cell list over every source's box, cells of ε/cellsPerRadius.
        var lower = [Double](repeating: .infinity, count: d)
        var upper = [Double](repeating: -.infinity, count: d)
        for i in 0..<n {
            for a in 0..<d {
                lower[a] = min(lower[a], problem.sources[i * d + a])
                upper[a] = max(upper[a], problem.sources[i * d + a])
            }
        }
        sourceBox = (communicator.allReduce(lower, min), communicator.allReduce(upper, max))
        let radius = plan.split.radius
        let size = radius > 0 ? radius / Double(options.nearCellsPerRadius) : 1
        cellSize = size
        guard radius > 0 else {
            (cellCount, nearCells) = (1, [])
            return
        }
        cellCount = max(1, Int(((sourceBox.upper[0] - sourceBox.lower[0]) / size).rounded(.down)) + 1)
        // A query visits the cells within ⌈ε/h⌉ of its own along each axis (CellList.runs);
        // one more on each side guards against rounding.
        let reach = Int((radius / size).rounded(.up)) + 1
        let low0 = sourceBox.lower[0]
        let cells = (0..<problem.targetCount).map { Int(((problem.targets[$0 * d] - low0) / size).rounded(.down)) }
        let ranges = communicator.allGather(
            cells.isEmpty ? [1, 0] : [Double(cells.min()! - reach), Double(cells.max()! + reach)],
            counts: [Int](repeating: 2, count: communicator.size))
        let count = cellCount
        nearCells = (0..<communicator.size).map { r in
            let (a, b) = (max(0, Int(ranges[2 * r])), min(count - 1, Int(ranges[2 * r + 1])))
            return a <= b ? a..<(b + 1) : 0..<0
        }
    }

    /// Where a source at x (first coordinate) lies: the first spreading row of its window, and
    /// its near-field cell along axis 0.
    func place(_ x: Double) -> (row: Int, cell: Int) {
        let row = min(plan.grid[0] - 1, max(0, factors.start(x, slot: 3 - plan.dimension)))
        let cell = min(cellCount - 1, max(0, Int(((x - sourceBox.lower[0]) / cellSize).rounded(.down))))
        return (row, cell)
    }

    /// Whether rank q needs a source at `place`: its window meets q's spreading rows, or q's
    /// near field visits its cell.
    func isNeeded(_ place: (row: Int, cell: Int), by q: Int) -> Bool {
        let slab = particles.spreadSlabs[q]
        if place.row >= slab.lowerBound - (plan.spreadWidth - 1) && place.row < slab.upperBound { return true }
        return !nearCells.isEmpty && nearCells[q].contains(place.cell)
    }

    /// `body` on a problem with this rank's targets and every source it needs from any rank
    /// (its own among them), in the order of their global indices (one `allToAll`).
    func withSourcesNeeded(
        _ problem: KernelSumProblem, ids: UnsafeBufferPointer<Int>, _ body: (KernelSumProblem) -> Void
    ) {
        let d = problem.dimension
        let c = problem.channels
        let n = problem.sourceCount
        let k = communicator.size
        let record = 1 + d + c  // global index, coordinates, weights
        var outgoing = [[Double]](repeating: [], count: k)
        for i in 0..<n {
            let at = place(problem.sources[i * d])
            for q in 0..<k where isNeeded(at, by: q) {
                outgoing[q].append(Double(ids[i]))
                for a in 0..<d { outgoing[q].append(problem.sources[i * d + a]) }
                for ch in 0..<c { outgoing[q].append(problem.weights[ch * n + i]) }
            }
        }
        let received = communicator.exchange(outgoing)
        let m = received.count / record
        let order = (0..<m).sorted { received[$0 * record] < received[$1 * record] }
        var sources = [Double](repeating: 0, count: m * d)
        var weights = [Double](repeating: 0, count: m * c)
        for (p, j) in order.enumerated() {
            for a in 0..<d { sources[p * d + a] = received[j * record + 1 + a] }
            for ch in 0..<c { weights[ch * m + p] = received[j * record + 1 + d + ch] }
        }
        sources.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { w in
                var local = problem
                local.sources = s
                local.weights = w
                body(local)
            }
        }
    }
}
