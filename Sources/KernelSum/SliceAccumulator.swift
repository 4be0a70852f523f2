import Foundation

/// Per target, the sliced sums of the current block of d directions and, over the finished
/// blocks, their sums and sums of squares: W = C + G·d unscaled entries per target (values,
/// then gradient coordinates). Beside them, the same for the quartic control
/// (``SliceQuarticControl``), kept as its deviation from its known mean, and the cross sums.
/// The estimate is the block mean less the part fitted to the control's deviation (a least
/// squares line through the B blocks' (deviation, sum) per output, read at deviation 0); the
/// spread of the blocks about that line gives its standard error (``SlicedSum/Estimate``).
/// With fewer than ``SliceQuarticControl/minimumBlocks`` blocks the plain mean and spread.
final class SliceAccumulator {
    let targetCount: Int
    let channels: Int
    /// C + G·d.
    let width: Int
    /// The current block's sums, M·W.
    let current: UnsafeMutablePointer<Double>
    /// Σ over finished blocks, M·W.
    let sums: UnsafeMutablePointer<Double>
    /// Σ of squares over finished blocks, M·W.
    let squares: UnsafeMutablePointer<Double>
    /// The current block's control sums, M·W.
    let controlCurrent: UnsafeMutablePointer<Double>
    /// A block's control sums' mean (known in closed form), M·W.
    let controlMeans: UnsafeMutablePointer<Double>
    /// Σ over finished blocks of the control's deviation from its mean, M·W.
    let controlSums: UnsafeMutablePointer<Double>
    /// Σ of the deviations' squares, M·W.
    let controlSquares: UnsafeMutablePointer<Double>
    /// Σ of the blocks' sums times their control deviations, M·W.
    let crossSums: UnsafeMutablePointer<Double>
    /// B, the finished blocks.
    var blocks = 0

    /// For the targets of `problem`; the control's means about `centre` (any point: the sums
    /// do not depend on it, their rounding does), on `threads` threads.
    init(problem: KernelSumProblem, centre: [Double], threads: Int) {
        targetCount = problem.targetCount
        channels = problem.channels
        width = problem.channels + problem.gradientChannels.count * problem.dimension
        let count = max(1, targetCount * width)
        current = .allocate(capacity: count)
        sums = .allocate(capacity: count)
        squares = .allocate(capacity: count)
        controlCurrent = .allocate(capacity: count)
        controlMeans = .allocate(capacity: count)
        controlSums = .allocate(capacity: count)
        controlSquares = .allocate(capacity: count)
        crossSums = .allocate(capacity: count)
        for p in [current, sums, squares, controlCurrent, controlMeans, controlSums, controlSquares, crossSums] {
            p.initialize(repeating: 0, count: count)
        }
        if targetCount > 0 && problem.dimension > 1 {
            SliceQuarticControl.blockMeans(problem, centre: centre, threads: threads, into: controlMeans)
        }
    }

    func deallocate() {
        for p in [current, sums, squares, controlCurrent, controlMeans, controlSums, controlSquares, crossSums] {
            p.deallocate()
        }
    }

    /// Folds the current block of target `j` into the sums and clears it.
    @inline(__always)
    func finishBlock(target j: Int) {
        let base = j * width
        for t in base..<(base + width) {
            let v = current[t]
            let u = controlCurrent[t] - controlMeans[t]
            sums[t] += v
            squares[t] += v * v
            controlSums[t] += u
            controlSquares[t] += u * u
            crossSums[t] += v * u
            current[t] = 0
            controlCurrent[t] = 0
        }
    }

    /// The estimate of output `t` (flat index) and its variance. With the control: B blocks
    /// (u_b, v_b), slope β = S_uv/S_uu, estimate v̄ − βū and variance
    /// RSS/(B − 2)·(1/B + ū²/S_uu) (a regression line's prediction at u = 0); else the mean and
    /// the variance of the mean.
    @inline(__always)
    func estimate(_ t: Int) -> (mean: Double, variance: Double) {
        let b = Double(blocks)
        let mean = sums[t] / b
        let svv = max(0, squares[t] - sums[t] * mean)
        let plain = blocks >= 2 ? svv / (b - 1) / b : Double.infinity
        guard blocks >= SliceQuarticControl.minimumBlocks else { return (mean, plain) }
        let ubar = controlSums[t] / b
        let suu = controlSquares[t] - controlSums[t] * ubar
        // A control that does not vary (zero weights, coincident points): nothing to fit.
        guard suu > 1e-24 * max(controlSquares[t], Double.leastNormalMagnitude) else { return (mean, plain) }
        let suv = crossSums[t] - sums[t] * ubar
        let beta = suv / suu
        let rss = max(0, svv - beta * suv)
        return (mean - beta * ubar, rss / (b - 2) * (1 / b + ubar * ubar / suu))
    }

    /// The estimated relative error (``SlicedSum/Estimate``) of the estimate, for
    /// `targetCount` targets (the pilot follows some of them and speaks for all): of the
    /// gradients when there are any, else of the values. In one pass over the targets in order,
    /// so it does not depend on the thread count. Infinity with fewer than two blocks.
    ///
    /// The largest of K independent errors N(0, SE_k²) exceeds x with probability at most
    /// Σ_k 2Φ̄(x/SE_k); the estimate is the x where that sum is 0.08 (the level at which
    /// x = √(2 ln 2K)·SE when all SE_k are equal), over the largest |output|. Outputs whose SE is
    /// far below the largest then count for little. The SE_k are binned on a log scale (32 bins
    /// an octave below the largest, each counted at its upper edge: never optimistic by more
    /// than 2 %) so that the sum costs O(bins) per trial x.
    func estimatedError(targetCount total: Int) -> Double {
        guard blocks >= 2, targetCount > 0 else { return .infinity }
        let judged = width > channels ? channels..<width : 0..<channels
        var largestMean = 0.0
        var largestVariance = 0.0
        var variances = [Double](repeating: 0, count: targetCount * judged.count)
        var k = 0
        for j in 0..<targetCount {
            for t in judged {
                let (mean, variance) = estimate(j * width + t)
                largestMean = max(largestMean, abs(mean))
                largestVariance = max(largestVariance, variance)
                variances[k] = variance
                k += 1
            }
        }
        guard largestVariance > 0 else { return largestMean > 0 || largestVariance == 0 ? 0 : .infinity }
        guard largestVariance.isFinite else { return .infinity }
        let largest = largestVariance.squareRoot()
        // Bins of SE/largest: bin b holds (2^{−(b+1)/32}, 2^{−b/32}]; beyond 40 octaves, dropped.
        let perOctave = 32.0
        let binCount = 40 * Int(perOctave)
        var counts = [Double](repeating: 0, count: binCount)
        for v in variances where v > 0 {
            let b = Int((-0.5 * log2(v / largestVariance) * perOctave).rounded(.down))
            if b < binCount { counts[max(0, b)] += 1 }
        }
        // Every followed output speaks for total/targetCount.
        let represents = Double(total) / Double(targetCount)
        func exceedance(_ x: Double) -> Double {
            var sum = 0.0
            for b in 0..<binCount where counts[b] > 0 {
                let se = largest * exp2(-Double(b) / perOctave)
                sum += counts[b] * erfc(x / (se * 2.0.squareRoot()))
            }
            return represents * sum
        }
        let outputs = Double(total * judged.count)
        var hi = (2 * log(2 * outputs)).squareRoot() * largest
        // At most 0.08 there (all SE equal gives about 0.08); widen if rounding says otherwise.
        while exceedance(hi) > 0.08 { hi *= 1.25 }
        var lo = 0.0
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if exceedance(mid) > 0.08 { lo = mid } else { hi = mid }
        }
        return largestMean > 0 ? hi / largestMean : .infinity
    }

    /// `scale` times the estimate of a block's sums for the targets `rows`, into the engine's layout from row 0: values `[j·C + c]`,
    /// gradients `[(j·G + g)·d + a]`.
    func write(
        rows: Range<Int>, scale: Double, values: UnsafeMutablePointer<Double>,
        gradients: UnsafeMutablePointer<Double>?
    ) {
        guard blocks > 0 else {
            for j in 0..<rows.count { for c in 0..<channels { values[j * channels + c] = 0 } }
            return
        }
        let g = width - channels
        for (j, row) in rows.enumerated() {
            for c in 0..<channels { values[j * channels + c] = scale * estimate(row * width + c).mean }
            guard let gradients else { continue }
            for t in 0..<g { gradients[j * g + t] = scale * estimate(row * width + channels + t).mean }
        }
    }
}

/// The last call's ``SlicedSum/Estimate``, shared by the copies of an engine.
final class LastCall: @unchecked Sendable {
    private let lock = NSLock()
    private var estimate: SlicedSum.Estimate?
    var value: SlicedSum.Estimate? {
        lock.lock()
        defer { lock.unlock() }
        return estimate
    }
    func record(_ e: SlicedSum.Estimate) {
        lock.lock()
        estimate = e
        lock.unlock()
    }
}

/// The last slicing profile an engine made, kept between calls: a profile's set-up (its
/// spectrum's extent and the reach of f, by quadrature) depends only on the kernel, d and the
/// accuracy, and costs up to seconds for a slowly decaying spectrum (Matérn 3/2), so a flow
/// summing the same kernel every step makes it once.
final class ProfileCache: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (spec: String, dimension: Int, accuracy: Double, profile: SliceProfile?)?
    /// The profile of `kernel` in dimension `d` to `accuracy` (``SliceProfile/init(_:dimension:accuracy:)``).
    func profile(_ kernel: any RadialKernel, dimension d: Int, accuracy: Double) -> SliceProfile? {
        lock.lock()
        defer { lock.unlock() }
        if let last, last.spec == kernel.spec, last.dimension == d, last.accuracy == accuracy { return last.profile }
        let made = SliceProfile(kernel, dimension: d, accuracy: accuracy)
        last = (kernel.spec, d, accuracy, made)
        return made
    }
}

/// An accumulator shared by workers that touch disjoint targets.
struct SharedAccumulator: @unchecked Sendable {
    let value: SliceAccumulator
    init(_ value: SliceAccumulator) { self.value = value }
}
