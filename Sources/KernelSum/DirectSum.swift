/// What ``RadialKernel/accumulateDirect(_:target:accumulators:)`` loops over: the sources
/// coordinate-major and the weights channel-major, both padded with zero weights to a
/// multiple of eight, so that eight sources are one vector load. In the periodic box the
/// sources are already wrapped into [0, L)^d.
///
/// SPI (`KernelInternals`): public only because kernels outside this module (the formula
/// kernel) write their own direct loop.
@_spi(KernelInternals) public struct DirectSumJob {
    /// d.
    public let dimension: Int
    /// R^d, or the periodic box (differences by minimum image).
    public let domain: Domain
    /// N rounded up to a multiple of eight: the stride of ``columns`` and ``weights``.
    public let paddedCount: Int
    /// C, the weight channels.
    public let channels: Int
    /// Coordinate a of source i at `columns[a * paddedCount + i]` (0 in the padding).
    public let columns: UnsafePointer<Double>
    /// Weight of source i in channel c at `weights[c * paddedCount + i]` (0 in the padding).
    public let weights: UnsafePointer<Double>
    /// The channels whose gradients are wanted, G of them.
    public let gradientChannels: UnsafeBufferPointer<Int>
}

/// Exact O(N·M) summation: the reference every other engine is tested against.
///
/// Targets are split across threads. Each target's sum is one fused loop over the sources in
/// index order, eight at a time (differences, r², the kernel's vectorised profile and the
/// multiply-adds into eight-lane accumulators, all in registers), and the lanes are added in a
/// fixed order at the end: the result does not depend on the thread count. Padding sources
/// (coordinate 0, weight 0) contribute exactly 0.
///
/// In the periodic box [0, L)^d (a periodic ``Domain``) the sum is over the box, each pair
/// through its minimum image: s(y) = Σ_j w_j k(mi(y − x_j)), mi(t) = t − L·round(t/L) per
/// coordinate (in [−L/2, L/2], ``Domain/minimumImage(_:)``), for any coordinates (wrapped or
/// not). Like every engine it includes the diagonal: a target on a source adds w k(0) (0 for
/// singular kernels). Smooth in y only for kernels that have decayed by L/2 (no Ewald sum).
public struct DirectSum: KernelSumEngine {
    /// Threads the targets are split over (at least 1); the output does not depend on it.
    public let threads: Int
    /// R^d, or the periodic box [0, L)^d.
    public let domain: Domain

    /// - Parameters:
    ///   - threads: threads to use (values below 1 are taken as 1).
    ///   - domain: R^d, or the periodic box [0, L)^d.
    public init(threads: Int, domain: Domain = .free) {
        self.threads = max(1, threads)
        self.domain = domain
    }

    /// `direct`, the registry name.
    public var name: String { "direct" }
    /// The thread count, and the period in the box: recorded in run.json.
    public var parameters: [String: String] {
        var p = ["threads": String(threads)]
        if let period = domain.period { p["period"] = "\(period)" }
        return p
    }

    /// Fills `values` and `gradients` (``KernelSumEngine``'s layout), exactly; outputs of other
    /// sizes are left untouched.
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - problem: sources, weights and targets.
    ///   - values: M·C values, overwritten.
    ///   - gradients: M·G·d gradients, overwritten.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let d = problem.dimension
        let n = problem.sourceCount
        let m = problem.targetCount
        let channels = problem.channels
        let g = problem.gradientChannels.count
        // Outputs of another size are left alone: nothing is written past them (a check that
        // stays in -Ounchecked builds; the array front-end always sizes them).
        guard problem.fits(values: values, gradients: gradients), m > 0 else { return }
        let padded = (n + 7) / 8 * 8
        // Coordinate-major sources and channel-major weights, zero-padded.
        let columns = UnsafeMutablePointer<Double>.allocate(capacity: max(1, padded * d))
        let weights = UnsafeMutablePointer<Double>.allocate(capacity: max(1, padded * channels))
        let gradientChannels = UnsafeMutablePointer<Int>.allocate(capacity: max(1, g))
        defer {
            columns.deallocate()
            weights.deallocate()
            gradientChannels.deallocate()
        }
        columns.initialize(repeating: 0, count: max(1, padded * d))
        weights.initialize(repeating: 0, count: max(1, padded * channels))
        // In the box, sources and targets are wrapped into [0, L) exactly first, so that the
        // minimum image of their difference keeps full precision wherever they were given.
        let domain = self.domain
        for i in 0..<n {
            for a in 0..<d { columns[a * padded + i] = domain.wrap(problem.sources[i * d + a]) }
        }
        for c in 0..<channels { for i in 0..<n { weights[c * padded + i] = problem.weights[c * n + i] } }
        for (k, c) in problem.gradientChannels.enumerated() { gradientChannels[k] = c }
        let job = SharedJob(
            DirectSumJob(
                dimension: d, domain: domain, paddedCount: padded, channels: channels,
                columns: columns, weights: weights,
                gradientChannels: UnsafeBufferPointer(start: gradientChannels, count: g)))
        let y = SharedPointer(problem.targets.baseAddress!)
        let out = SharedMutablePointer(values.baseAddress ?? columns)
        let gout = SharedMutablePointer(gradients.baseAddress ?? columns)

        Parallel.forEachChunk(m, threads: threads, minimumChunk: 16) { range in
            let slots = channels + g * d + d
            let acc = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: slots)
            let wrapped = UnsafeMutablePointer<Double>.allocate(capacity: d)
            defer {
                acc.deallocate()
                wrapped.deallocate()
            }
            for j in range {
                acc.initialize(repeating: SIMD8<Double>(), count: slots)
                var target = y.base + j * d
                if domain.isPeriodic {
                    for a in 0..<d { wrapped[a] = domain.wrap(target[a]) }
                    target = UnsafePointer(wrapped)
                }
                kernel.accumulateDirect(job.job, target: target, accumulators: acc)
                for c in 0..<channels { out[j * channels + c] = laneSum(acc[c]) }
                for t in 0..<(g * d) { gout[j * g * d + t] = laneSum(acc[channels + t]) }
            }
        }
    }
}

struct SharedJob: @unchecked Sendable {
    let job: DirectSumJob
    init(_ job: DirectSumJob) { self.job = job }
}

/// The eight lanes added pairwise in a fixed order.
@inline(__always)
func laneSum(_ v: SIMD8<Double>) -> Double {
    ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
}
