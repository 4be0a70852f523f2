import Foundation

/// Adds the near part of a split kernel (``KernelSplit``) pair by pair,
///
///     s_c(y) += Σ_{|y − x_i| < ε} w_ic near(|y − x_i|),   near(r) = ψ(r/ε) (k(r) − c),
///
/// and its gradient near'(r)/r · (y − x_i), over the sources within ε of each target, found
/// with a dense ``CellList`` of cells of ε/``cellsPerRadius`` (in the periodic box by
/// minimum image).
///
/// SPI (`KernelInternals`), public only because ``RadialKernel/addNearField(_:values:gradients:)``
/// takes it: the kernel calls back `add(_:values:gradients:)` with its own type, so the pair
/// loop is specialised per kernel (one dynamic call per sum, none per pair).
@_spi(KernelInternals) public struct NearField {
    let split: KernelSplit
    let problem: KernelSumProblem
    let threads: Int
    /// R^d, or the periodic box (neighbours and differences by minimum image).
    var domain = Domain.free
    /// Cells of the cell list per near radius (``MeshOptions/nearCellsPerRadius``).
    var cellsPerRadius = 2
    /// The box the cell list cuts (``CellList``'s `frame`): every source's, when this rank
    /// holds some of them.
    var frame: (lower: [Double], upper: [Double])? = nil

    /// Adds the near part into `values` and `gradients` (through the kernel, which calls the
    /// generic ``add(_:values:gradients:)`` back with its own type).
    func add(values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        split.kernel.addNearField(self, values: values, gradients: gradients)
    }

    /// Generic over the kernel's type (the existential is opened once, not per pair). Targets
    /// are taken in cell order; the sources within ε of a target are gathered 64 at a time from
    /// the cell list's runs (points and weights stored in cell order, read sequentially) and
    /// taken eight at a time: profiles by ``RadialKernel/profile8(_:)`` (vectorised exp and
    /// log), ψ from its table, products accumulated in eight lanes that are summed per target
    /// in a fixed order (``NearPairs``).
    func add<K: RadialKernel>(
        _ kernel: K, values: UnsafeMutableBufferPointer<Double>,
        gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let d = problem.dimension
        let m = problem.targetCount
        // Cells of ε/2: the 5^d cells around a target waste less area than 3^d cells of ε.
        let cells = CellList(
            points: problem.sources, dimension: d, cellSize: split.radius / Double(cellsPerRadius),
            domain: domain, frame: frame)
        let inputs = NearFieldInputs(problem, cells: cells, step: split.step)
        let pairs = NearPairs(
            kernel: kernel, split: split, problem: problem, cells: cells, inputs: inputs,
            domain: domain, values: values, gradients: gradients)
        let order = cells.cellOrder(of: problem.targets)
        let maximumRuns = cells.maximumRuns(within: split.radius)
        // The pairs read `inputs` through pointers: it must outlive the loop.
        withExtendedLifetime(inputs) {
            Parallel.forEachChunk(m, threads: threads, minimumChunk: 64) { range in
                PairBatch.with(accumulators: pairs.accumulatorCount, maximumRuns: maximumRuns) { batch in
                    for q in range { pairs.add(target: order[q], batch) }
                }
            }
        }
    }
}

/// The near field's inputs in the cell list's order: the weights of the sources as the cell
/// list stores them (read sequentially by the pair loop), the gradient channels, and ψ's table
/// as (value, slope · interval) pairs at the nodes k/intervals.
final class NearFieldInputs: @unchecked Sendable {
    let weights: UnsafeMutablePointer<Double>
    let gradientChannels: UnsafeMutablePointer<Int>
    let steps: UnsafeMutablePointer<Double>

    init(_ problem: KernelSumProblem, cells: CellList, step: SmoothStep) {
        let n = problem.sourceCount
        let channels = problem.channels
        let g = problem.gradientChannels.count
        let intervals = SmoothStep.intervals
        weights = .allocate(capacity: channels * n)
        gradientChannels = .allocate(capacity: max(1, g))
        steps = .allocate(capacity: 2 * (intervals + 1))
        for c in 0..<channels { for k in 0..<n { weights[c * n + k] = problem.weights[c * n + cells.index[k]] } }
        for (gi, c) in problem.gradientChannels.enumerated() { gradientChannels[gi] = c }
        for k in 0...intervals {
            steps[2 * k] = step.values[k]
            steps[2 * k + 1] = step.slopes[k] / Double(intervals)
        }
    }

    deinit {
        weights.deallocate()
        gradientChannels.deallocate()
        steps.deallocate()
    }
}

/// One thread's scratch: the accumulators of the current target (C value lanes, then G·d
/// gradient lanes), the pairs gathered for it (at most ``capacity``: r², y − x by axis, the
/// source's stored position) and the cell list's runs about it.
struct PairBatch {
    static let capacity = 64
    let accumulators: UnsafeMutablePointer<SIMD8<Double>>
    /// r² of gathered pair k at r2[k], its difference along axis a at differences[a · capacity + k].
    let r2: UnsafeMutablePointer<Double>
    let differences: UnsafeMutablePointer<Double>
    let position: UnsafeMutablePointer<Int>
    let runs: UnsafeMutablePointer<Int>

    /// Runs `body` on a batch on the stack (or a temporary allocation), for a problem with
    /// `accumulators` lanes and cell-list queries of at most `maximumRuns` runs.
    @inline(__always)
    static func with(accumulators count: Int, maximumRuns: Int, _ body: (PairBatch) -> Void) {
        withUnsafeTemporaryAllocation(of: SIMD8<Double>.self, capacity: count) { accumulators in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * capacity) { buffer in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: capacity + 2 * maximumRuns) { positions in
                    let r2 = buffer.baseAddress!
                    let position = positions.baseAddress!
                    body(
                        PairBatch(
                            accumulators: accumulators.baseAddress!, r2: r2, differences: r2 + capacity,
                            position: position, runs: position + capacity))
                }
            }
        }
    }
}

/// The pair loop of the near field for one kernel type: per target, gather the sources within
/// ε into a ``PairBatch`` and add them eight at a time. The gathering is inlined into the loop
/// and reads the fields it needs into locals (its counters and constants then stay in
/// registers), and each target's sums are formed in a fixed order: the output does not depend
/// on the thread count.
struct NearPairs<K: RadialKernel>: @unchecked Sendable {
    typealias V = SIMD8<Double>
    let kernel: K
    let d: Int, n: Int, channels: Int, g: Int
    let cells: CellList
    /// ε, c = k(ε), ε², and ψ's table intervals.
    let radius: Double, core: Double, r2max: Double, intervals: Int
    /// L of the periodic box (0 in R^d) and 1/L.
    let box: Double, inverseBox: Double
    let targets: UnsafePointer<Double>, points: UnsafePointer<Double>
    let weights: UnsafePointer<Double>, gradientChannel: UnsafePointer<Int>, steps: UnsafePointer<Double>
    let out: UnsafeMutablePointer<Double>, gout: UnsafeMutablePointer<Double>

    init(
        kernel: K, split: KernelSplit, problem: KernelSumProblem, cells: CellList, inputs: NearFieldInputs,
        domain: Domain, values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        self.kernel = kernel
        d = problem.dimension
        n = problem.sourceCount
        channels = problem.channels
        g = problem.gradientChannels.count
        self.cells = cells
        radius = split.radius
        core = split.core
        r2max = radius * radius
        intervals = SmoothStep.intervals
        box = domain.period ?? 0
        inverseBox = domain.inversePeriod
        targets = problem.targets.baseAddress!
        points = UnsafePointer(cells.points)
        weights = UnsafePointer(inputs.weights)
        gradientChannel = UnsafePointer(inputs.gradientChannels)
        steps = UnsafePointer(inputs.steps)
        out = values.baseAddress!
        gout = gradients.baseAddress ?? values.baseAddress!
    }

    /// Value lanes and gradient lanes per target.
    var accumulatorCount: Int { channels + g * d }

    /// Adds the near part at target j to its values and gradients.
    @inline(__always) func add(target j: Int, _ batch: PairBatch) {
        let d = self.d
        let channels = self.channels
        let g = self.g
        let box = self.box
        let y = targets + j * d
        let acc = batch.accumulators
        let gacc = acc + channels
        acc.initialize(repeating: V(), count: channels + g * d)
        var count = 0
        for run in 0..<cells.runs(near: y, within: radius, into: batch.runs) {
            let sources = batch.runs[2 * run]..<batch.runs[2 * run + 1]
            if d == 2 && box == 0 {
                gatherPlane(sources, near: y, batch, &count)
            } else {
                gather(sources, near: y, batch, &count)
            }
        }
        flush(count, batch)
        for c in 0..<channels { out[j * channels + c] += acc[c].sum() }
        for t in 0..<(g * d) { gout[j * g * d + t] += gacc[t].sum() }
    }

    /// The common case, d = 2 without a box, unrolled: no loop over axes, no wrapping. Writes
    /// every candidate's slot and keeps it only when r² < ε².
    @inline(__always) func gatherPlane(
        _ sources: Range<Int>, near y: UnsafePointer<Double>, _ batch: PairBatch,
        _ count: inout Int
    ) {
        let points = self.points
        let r2max = self.r2max
        let y0 = y[0]
        let y1 = y[1]
        let r2s = batch.r2
        let differences = batch.differences
        let position = batch.position
        for k in sources {
            let t0 = y0 - points[2 * k]
            let t1 = y1 - points[2 * k + 1]
            let r2 = t0 * t0 + t1 * t1
            differences[count] = t0
            differences[PairBatch.capacity + count] = t1
            r2s[count] = r2
            position[count] = k
            if r2 < r2max {
                count += 1
                if count == PairBatch.capacity {
                    flush(PairBatch.capacity, batch)
                    count = 0
                }
            }
        }
    }

    /// Any d, differences by minimum image in the box (one period at most: points are in it).
    @inline(__always) func gather(
        _ sources: Range<Int>, near y: UnsafePointer<Double>, _ batch: PairBatch,
        _ count: inout Int
    ) {
        let points = self.points
        let d = self.d
        let box = self.box
        let inverseBox = self.inverseBox
        let r2max = self.r2max
        let r2s = batch.r2
        let differences = batch.differences
        let position = batch.position
        for k in sources {
            let x = points + k * d
            var r2 = 0.0
            for a in 0..<d {
                var t = y[a] - x[a]
                if box > 0 { t = Domain.minimumImage(t, period: box, inverse: inverseBox) }
                differences[a * PairBatch.capacity + count] = t
                r2 += t * t
            }
            if r2 < r2max {
                r2s[count] = r2
                position[count] = k
                count += 1
                if count == PairBatch.capacity {
                    flush(PairBatch.capacity, batch)
                    count = 0
                }
            }
        }
    }

    /// Adds the `count` gathered pairs, padded to whole lanes with r² = ε², where the near
    /// part and its slope are 0. Out of line: inlined into the three loops that call it, it
    /// crowds their registers (2–6 % slower, measured).
    @inline(never) func flush(_ count: Int, _ batch: PairBatch) {
        let d = self.d
        let r2max = self.r2max
        let r2s = batch.r2
        let differences = batch.differences
        let position = batch.position
        var k = count
        while k % 8 != 0 {
            r2s[k] = r2max
            position[k] = 0
            for a in 0..<d { differences[a * PairBatch.capacity + k] = 0 }
            k += 1
        }
        for lane in stride(from: 0, to: k, by: 8) {
            let (value, slope) = profile(UnsafeRawPointer(r2s + lane).loadUnaligned(as: V.self))
            accumulate(value: value, slope: slope, lane: lane, batch)
        }
    }

    /// near(r) and near'(r)/r for eight r², with ψ and ψ' from the cubic Hermite table (as
    /// ``SmoothStep/valueAndDerivative(_:)``). No lane masks (compiled to per-lane stack
    /// traffic): the padding (r = ε) lands on the table's last node, where ψ = ψ' = 0, and a
    /// coincident pair (r = 0) on its first, where ψ = 1, ψ' = 0, so its value is k(0) − c and
    /// its slope the kernel's own 0 at r = 0.
    @inline(__always) func profile(_ r2: V) -> (value: V, slope: V) {
        let intervals = self.intervals
        let radius = self.radius
        let steps = self.steps
        let (kv, ks) = kernel.profile8(r2)
        let r = r2.squareRoot()
        let u = r * V(repeating: Double(intervals) / radius)
        let cell = pointwiseMin(u.rounded(.down), V(repeating: Double(intervals - 1)))
        let sv = u - cell
        var y0 = V()
        var m0 = V()
        var y1 = V()
        var m1 = V()
        for q in 0..<8 {
            let k = Int(cell[q])
            y0[q] = steps[2 * k]
            m0[q] = steps[2 * k + 1]
            y1[q] = steps[2 * k + 2]
            m1[q] = steps[2 * k + 3]
        }
        let s2: V = sv * sv
        let s3: V = s2 * sv
        let two = V(repeating: 2)
        let three = V(repeating: 3)
        let six = V(repeating: 6)
        let one = V(repeating: 1)
        let h00: V = two * s3 - three * s2 + one
        let h10: V = s3 - two * s2 + sv
        let h01: V = three * s2 - two * s3
        let h11: V = s3 - s2
        var p: V = h00 * y0 + h10 * m0
        p += h01 * y1 + h11 * m1
        let d00: V = six * s2 - six * sv
        let d10: V = three * s2 - V(repeating: 4) * sv + one
        let d01: V = six * sv - six * s2
        let d11: V = three * s2 - two * sv
        var dp: V = d00 * y0 + d10 * m0
        dp += d01 * y1 + d11 * m1
        dp *= V(repeating: Double(intervals) / radius)
        let excess = kv - V(repeating: core)
        let value = p * excess
        let slope = dp * excess / pointwiseMax(r, V(repeating: 0x1p-1000)) + p * ks
        return (value, slope)
    }

    /// acc_c += w_c · value and gacc_{g,a} += w_g · slope · (y − x)_a for the eight pairs at
    /// `lane` of the batch.
    @inline(__always) func accumulate(value: V, slope: V, lane: Int, _ batch: PairBatch) {
        let channels = self.channels
        let g = self.g
        let d = self.d
        let n = self.n
        let weights = self.weights
        let gradientChannel = self.gradientChannel
        let acc = batch.accumulators
        let gacc = acc + channels
        let position = batch.position
        let differences = batch.differences
        for c in 0..<channels {
            var w = V()
            for q in 0..<8 { w[q] = weights[c * n + position[lane + q]] }
            acc[c] += w * value
        }
        for gi in 0..<g {
            var w = V()
            let c = gradientChannel[gi]
            for q in 0..<8 { w[q] = weights[c * n + position[lane + q]] }
            let ws = w * slope
            for a in 0..<d {
                let t = UnsafeRawPointer(differences + a * PairBatch.capacity + lane).loadUnaligned(as: V.self)
                gacc[gi * d + a] += ws * t
            }
        }
    }
}
