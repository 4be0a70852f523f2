import Foundation

/// Per target, the sliced sums of the current block of d directions and, over the finished
/// blocks, their sums and sums of squares: W = C + G·d unscaled entries per target (values,
/// then gradient coordinates). The mean over blocks is the estimate; the spread between blocks
/// its standard error (``SlicedSum/Estimate``).
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
    /// B, the finished blocks.
    var blocks = 0

    /// For the targets of `problem`.
    init(problem: KernelSumProblem) {
        targetCount = problem.targetCount
        channels = problem.channels
        width = problem.channels + problem.gradientChannels.count * problem.dimension
        let count = max(1, targetCount * width)
        current = .allocate(capacity: count)
        sums = .allocate(capacity: count)
        squares = .allocate(capacity: count)
        for p in [current, sums, squares] { p.initialize(repeating: 0, count: count) }
    }

    func deallocate() {
        current.deallocate()
        sums.deallocate()
        squares.deallocate()
    }

    /// The estimated relative error (``SlicedSum/Estimate``) of the mean over the blocks, for
    /// `targetCount` targets (the pilot follows some of them and speaks for all): of the
    /// gradients when there are any, else of the values. In one pass over the targets in order,
    /// so it does not depend on the thread count. Infinity with fewer than two blocks.
    func estimatedError(targetCount total: Int) -> Double {
        guard blocks >= 2 else { return .infinity }
        let b = Double(blocks)
        let judged = width > channels ? channels..<width : 0..<channels
        var largestMean = 0.0
        var largestVariance = 0.0
        for j in 0..<targetCount {
            for t in judged {
                let s = sums[j * width + t]
                let q = squares[j * width + t]
                largestMean = max(largestMean, abs(s / b))
                largestVariance = max(largestVariance, max(0, (q - s * s / b) / (b - 1)) / b)
            }
        }
        let outputs = Double(total * judged.count)
        let spread = (2 * log(2 * outputs)).squareRoot() * largestVariance.squareRoot()
        return largestMean > 0 ? spread / largestMean : (spread > 0 ? .infinity : 0)
    }

    /// The mean over the blocks times `scale` for the targets `rows`, into the engine's layout
    /// from row 0: values `[j·C + c]`, gradients `[(j·G + g)·d + a]`.
    func write(
        rows: Range<Int>, scale: Double, values: UnsafeMutablePointer<Double>,
        gradients: UnsafeMutablePointer<Double>?
    ) {
        let f = scale / Double(max(blocks, 1))
        let g = width - channels
        for (j, row) in rows.enumerated() {
            for c in 0..<channels { values[j * channels + c] = f * sums[row * width + c] }
            guard let gradients else { continue }
            for t in 0..<g { gradients[j * g + t] = f * sums[row * width + channels + t] }
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
