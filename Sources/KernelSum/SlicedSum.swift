import Dispatch
import Foundation

/// Sliced summation for the energy-distance kernel k(x) = −|x| (Riesz, r = 1), in any dimension
/// (Hertrich, Wald, Altekrüger & Hagemann 2023). With ξ uniform on the sphere,
///
///     |x| = c_d E_ξ |⟨ξ, x⟩|,   c_d = √π Γ((d+1)/2) / Γ(d/2),
///
/// so s(y) = −(c_d/P) Σ_p Σ_i w_i |⟨ξ_p, y⟩ − ⟨ξ_p, x_i⟩| and ∇s(y) = −(c_d/P) Σ_p ξ_p Σ_i w_i sign(…).
/// Each 1-D sum is exact by sorting and prefix sums: Σ_i w_i |t − s_i| = t(W_< − W_>) − (S_< − S_>),
/// with W, S the weights and weighted positions below and above t: O((N + M) log(N + M)) per
/// direction. Directions come in blocks of d orthonormal vectors (Gram–Schmidt on Gaussian
/// matrices), which beat independent directions at equal P; the error decays like √(d/P).
/// Each block also sums the quartic control Σ_i w_i ⟨ξ, y − x_i⟩⁴, whose mean over the sphere
/// is known in closed form (`SliceQuarticControl`): each output's block sums are fitted to
/// the control's deviations and the fitted part removed, which in high dimension, where the
/// profile is nearly a quartic over the range the projections take, cuts the error 6–12×.
/// Directions are handled in chunks: one matrix product projects all points on a chunk, its
/// directions are sorted and swept in parallel (sources and targets in one sort), and each
/// target then adds the chunk's contributions in direction order, so the result does not
/// depend on the thread count.
///
/// Kernels with a spectral density (Gaussian, Matérn, IMQ, Laplace; ``RadialKernel/logSpectralDensity(radius:dimension:)``)
/// are sliced the same way through their 1-D profile f, F(|x|) = E_ξ f(⟨ξ, x⟩) (``SliceProfile``):
/// s(y) = (1/P) Σ_p Σ_i w_i f(⟨ξ_p, y − x_i⟩), ∇s(y) = (1/P) Σ_p ξ_p Σ_i w_i f′(…), each 1-D sum
/// by f's cosine series in O((N + M) K) (Laplace's kink, c e^{−a|t|}, exactly by sorting:
/// ``SliceCusp``), its accuracy a hundredth of the tolerance (1e-6 of
/// f(0) Σ|w| with fixed directions). Riesz kernels −|x|^r with r ≠ 1 are sliced through
/// |x|^r = E_ξ|⟨ξ, x⟩|^r / E|ξ₁|^r, each 1-D sum of |t − s|^r by the 1-D mesh engine to a
/// tenth of that accuracy (`SliceLine`; in 1-D, directly): no sort or short series sums it,
/// and the mesh costs 10–30× the energy distance's sort per point and direction. The blocks, the estimate, the pilot and the
/// cap are those of the energy distance.
public struct SlicedSum: KernelSumEngine {
    /// P, the directions asked for (rounded up to whole blocks of d when drawn); with a
    /// ``tolerance``, unused (the tolerance chooses them).
    public private(set) var directions: Int
    /// The seed the directions are drawn from.
    public private(set) var seed: UInt64
    /// Threads over the directions of a chunk (at least 1); the output does not depend on it.
    public let threads: Int
    /// τ: when set, each call adds blocks of d directions until the estimated error
    /// (``Estimate``) meets it, up to ``maximumDirections``.
    public private(set) var tolerance: Double?
    /// The most directions a call with a ``tolerance`` draws.
    public private(set) var maximumDirections: Int
    /// What the last call drew and its estimated error.
    let lastCall = LastCall()
    /// The profile of the last profiled kernel summed, made once for repeated calls.
    let profiles = ProfileCache()

    /// - Parameters:
    ///   - directions: P (values below 1 are taken as 1), unused with a tolerance.
    ///   - seed: the seed of the directions.
    ///   - threads: threads to use (values below 1 are taken as 1).
    ///   - tolerance: τ, or nil for exactly `directions` directions.
    ///   - maximumDirections: the cap of a call with a tolerance.
    public init(
        directions: Int, seed: UInt64, threads: Int, tolerance: Double? = nil,
        maximumDirections: Int = SlicedSum.defaultMaximumDirections
    ) {
        self.directions = max(1, directions)
        self.seed = seed
        self.threads = max(1, threads)
        self.tolerance = tolerance
        self.maximumDirections = max(1, maximumDirections)
    }

    /// What a call drew, and the error it estimates from the spread between its blocks of d
    /// orthonormal directions (each block's sum is an unbiased estimate of the exact sum):
    ///
    ///     error = x / max_k |s_k|,   Σ_k 2Φ̄(x / SE_k) = 0.08,
    ///
    /// over the K outputs of a kind, s_k their estimate and SE_k its standard error: with the
    /// quartic control (B ≥ 4 blocks) the prediction error of the line fitted through the B
    /// blocks' (control deviation, sum) at deviation 0, else Var_blocks(s_k)/B. x is the size the
    /// largest of K normal errors of those standard errors reaches (√(2 ln 2K)·SE when all are
    /// equal), relative to the largest output, what tolerances mean everywhere in wgf
    /// (max|a − r| / max|r|). The kind is the M·G·d gradient
    /// coordinates when gradients are asked for (what moves particles; the values then err
    /// about a fifth as much, unless they cancel: an MMD witness near convergence), else the
    /// M·C values. Conservative: 1–5× the measured error (neighbouring targets err alike; the
    /// fitted line's standard error is itself noisy with few blocks).
    public struct Estimate: Sendable, Equatable {
        /// The directions drawn, B·d (0 when the sum was direct: a kernel not sliced in this
        /// dimension).
        public let directions: Int
        /// The estimated relative error (0 in 1-D, where the sum is exact; infinity with one block).
        public let error: Double
        /// The tolerance asked for, if any.
        public let tolerance: Double?
        /// Whether the estimate meets the tolerance (nil without one).
        public var met: Bool? { tolerance.map { error <= $0 } }
    }

    /// The same engine drawing its directions from `seed` (sharing the record of the last call,
    /// so that the engine a flow reports says what its reseeded copies drew).
    public func reseeded(_ seed: UInt64) -> SlicedSum {
        var copy = self
        copy.seed = seed
        return copy
    }

    /// The same engine with exactly `p` directions and no tolerance, sharing the record of the
    /// last call and the profile made (what `auto` runs once its pilot has chosen P).
    func fixed(directions p: Int) -> SlicedSum {
        var copy = self
        copy.directions = max(1, p)
        copy.tolerance = nil
        return copy
    }

    /// The directions (whole blocks of d) that meet this engine's tolerance on `problem` by the
    /// pilot of ``pilotBlocks(_:_:tolerance:)``, or nil if more than `budget` would be needed:
    /// the pilot gives up as soon as the estimate's 1/√B decay predicts more than the budget
    /// (after its first 16 blocks), so a losing pilot costs those blocks only.
    /// - Parameters:
    ///   - kernel: a kernel the engine sums.
    ///   - problem: sources, weights and targets.
    ///   - budget: the most directions worth drawing.
    func directionsNeeded(_ kernel: any RadialKernel, _ problem: KernelSumProblem, budget: Int) -> Int? {
        let d = problem.dimension
        guard let tolerance, d > 1, SlicedSum.unsupported(kernel) == nil,
            budget >= SlicedSum.minimumAdaptiveBlocks * d
        else { return nil }
        guard let line = line(kernel, dimension: d) else { return nil }
        var capped = self
        capped.maximumDirections = budget
        let (blocks, error) = capped.pilot(problem, line, tolerance: tolerance, stopWhenOutOfReach: true)
        return error <= tolerance ? blocks * d : nil
    }

    /// The last call's directions and estimated error (nil before the first call).
    public var lastEstimate: Estimate? { lastCall.value }

    /// `sliced`, the registry name.
    public var name: String { "sliced" }
    /// The directions (or the tolerance that chooses them) and threads, and what the last call
    /// drew and estimated: recorded in run.json.
    public var parameters: [String: String] {
        var p = ["threads": String(threads)]
        if let tolerance {
            p["tolerance"] = formatNumber(tolerance)
        } else {
            p["directions"] = String(directions)
        }
        if let last = lastEstimate {
            p["directions-drawn"] = String(last.directions)
            p["estimated-error"] = formatNumber(last.error)
        }
        return p
    }

    /// Why this engine cannot sum `kernel`, or nil.
    /// - Parameter kernel: the kernel asked for.
    public static func unsupported(_ kernel: any RadialKernel) -> String? {
        if let riesz = kernel as? RieszKernel {
            // A direction's slope of one pair, r |⟨ξ, x⟩|^(r−1), has variance ∝ E|ξ₁|^(2r−2):
            // infinite for r ≤ 1/2, where no count of directions brings the gradients to a
            // tolerance.
            return riesz.r > 0.5
                ? nil
                : "the sliced engine's gradients of \(riesz.spec) have infinite variance (r ≤ 1/2): "
                    + "it sums \(supportedKernels) only (use direct)"
        }
        return kernel.logSpectralDensity(radius: 1, dimension: 2) != nil
            ? nil : "the sliced engine sums \(supportedKernels) only, not \(kernel.spec) (use direct)"
    }

    /// The kernels the sliced engine sums: riesz:r=1 by sorting, other riesz exponents by the 1-D
    /// mesh, the others through their profile's cosine series (``SliceProfile``).
    public static let supportedKernels =
        "riesz with r in (1/2, 2) (r = 1: the energy distance), gaussian, matern, imq and laplace"

    /// The accuracy of the profile's series (``SliceProfile/accuracy``): a hundredth of the
    /// tolerance, 1e-6 for a fixed count of directions.
    func seriesAccuracy() -> Double { tolerance.map { 0.01 * $0 } ?? 1e-6 }

    /// Directions for relative error τ in the energy distance's gradients (what flows use):
    /// P = ⌈d (1/τ)²⌉, rounded up to whole orthonormal blocks of d. The measured error
    /// (testErrorIsWhatTheDocumentationStates) of the gradients is about 0.85 √(d/P) (at most
    /// 2 √(d/P)), so about τ here (at most 2τ); of the values about 0.12 √(d/P) (at most
    /// 0.35 √(d/P)), so about 0.12τ.
    /// - Parameters:
    ///   - tolerance: τ (taken as at least 1e-12; at most 10⁹ directions).
    ///   - d: the dimension.
    public static func directions(forTolerance tolerance: Double, dimension d: Int) -> Int {
        let p = Double(d) * pow(1 / max(tolerance, 1e-12), 2)
        guard p < 1e9 else { return 1_000_000_000 / d * d }
        return (Int(p.rounded(.up)) + d - 1) / d * d
    }
    /// c_d = √π Γ((d+1)/2) / Γ(d/2).
    /// - Parameter d: the dimension.
    public static func sliceConstant(dimension d: Int) -> Double {
        exp(0.5 * log(Double.pi) + lgamma(Double(d + 1) / 2) - lgamma(Double(d) / 2))
    }

    /// P unit vectors in R^d (row-major), in orthonormal blocks of d; P is rounded up to a
    /// multiple of d.
    /// - Parameters:
    ///   - count: P.
    ///   - d: the dimension.
    ///   - seed: keys the blocks' random streams.
    public static func directions(_ count: Int, dimension d: Int, seed: UInt64) -> [Double] {
        (0..<((count + d - 1) / d)).flatMap { directionBlock($0, dimension: d, seed: seed) }
    }

    /// Block `b` of d orthonormal directions (row-major d × d): Gram–Schmidt on a Gaussian
    /// matrix drawn from the block's own stream, so blocks can be drawn one at a time.
    /// - Parameters:
    ///   - b: the block.
    ///   - d: the dimension.
    ///   - seed: keys the blocks' random streams.
    public static func directionBlock(_ b: Int, dimension d: Int, seed: UInt64) -> [Double] {
        var rng = RandomStream(seed: seed, .slicing, b)
        var block: [[Double]] = []
        while block.count < d {
            var v = (0..<d).map { _ in rng.normal() }
            for u in block {
                let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                for a in 0..<d { v[a] -= dot * u[a] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-8 else { continue }
            block.append(v.map { $0 / norm })
        }
        return block.flatMap { $0 }
    }

    /// Directions projected and swept per round (any value gives the same result).
    public static let chunk = 16
    /// The fewest blocks of d directions an adaptive sum draws before it trusts the spread
    /// between them (15 degrees of freedom: the estimate itself within about ±20 %).
    public static let minimumAdaptiveBlocks = 16
    /// The most directions an adaptive sum draws (2²⁰); the estimate then says what was met.
    public static let defaultMaximumDirections = 1 << 20
    /// Targets the adaptive pilot follows (an even stride through them beyond this many).
    public static let pilotTargets = 1024

    /// Fills `values` and `gradients` (``KernelSumEngine``'s layout) for riesz, gaussian,
    /// matern, imq or laplace; another kernel is summed directly. With a ``tolerance``, a pilot over at most ``pilotTargets``
    /// targets (every target's sum does not depend on the others) adds blocks of directions
    /// until the estimated error meets it; the sum then takes that many for every target, so
    /// that any partition of the targets (``DistributedSum``) gives the same numbers.
    /// - Parameters:
    ///   - kernel: the kernel summed (riesz, gaussian, matern, imq or laplace).
    ///   - problem: sources, weights and targets.
    ///   - values: M·C values, overwritten.
    ///   - gradients: M·G·d gradients, overwritten.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        sum(kernel, problem, targets: 0..<problem.targetCount, values: values, gradients: gradients)
    }

    /// ``sum(_:_:values:gradients:)`` for the targets `range` of `problem`, with the number of
    /// directions chosen from the whole problem.
    /// - Parameters:
    ///   - kernel: the kernel summed (riesz, gaussian, matern, imq or laplace).
    ///   - problem: sources, weights and targets.
    ///   - range: the targets summed.
    ///   - values: `range.count`·C values, overwritten.
    ///   - gradients: `range.count`·G·d gradients, overwritten.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let part = problem.restricted(to: range)
        guard part.fits(values: values, gradients: gradients) else { return }
        let d = problem.dimension
        // A kernel the engine does not sum (the factory refuses it), or not in this dimension
        // (imq and riesz with r ≠ 1 in 1-D): a direct caller is served exactly, no direction
        // drawn.
        guard let line = line(kernel, dimension: d) else {
            DirectSum(threads: threads).sum(kernel, part, values: values, gradients: gradients)
            return lastCall.record(Estimate(directions: 0, error: 0, tolerance: tolerance))
        }
        let scale = line.scale(dimension: d)
        for k in 0..<values.count { values[k] = 0 }
        for k in 0..<gradients.count { gradients[k] = 0 }
        guard problem.targetCount > 0, problem.channels > 0 else { return }
        let m = problem.targetCount
        if let tolerance, d > 1, m <= SlicedSum.pilotTargets {
            // The pilot is the sum itself: every target, blocks added until the estimate meets
            // the tolerance; the range's rows are then read off (each target's sums do not
            // depend on the others).
            let all = accumulator(for: problem)
            defer { all.deallocate() }
            addBlocksUntilMet(problem, line, tolerance: tolerance, into: all, targetCount: m)
            all.write(rows: range, scale: scale, values: values.baseAddress!, gradients: gradients.baseAddress)
            return lastCall.record(
                Estimate(directions: all.blocks * d, error: all.estimatedError(targetCount: m), tolerance: tolerance))
        }
        // In 1-D every direction is the line itself: one block is exact.
        let blocks =
            d == 1 ? 1 : tolerance.map { pilotBlocks(problem, line, tolerance: $0) } ?? (directions + d - 1) / d
        // A 1-D mesh's grid, and so its rounding, depends on all the targets of a direction (their
        // box), so a range's rows are read off the whole problem's lines, not made from its own:
        // the ranges of a partition then equal one whole call bit for bit (each rank sums every
        // target: the ranks share no work for these kernels).
        let (lines, rows) = line.readsAllTargets ? (problem, range) : (part, 0..<range.count)
        let accumulator = accumulator(for: lines)
        defer { accumulator.deallocate() }
        accumulate(lines, line, blocks: 0..<blocks, into: accumulator)
        accumulator.write(rows: rows, scale: scale, values: values.baseAddress!, gradients: gradients.baseAddress)
        let error = d == 1 ? 0 : accumulator.estimatedError(targetCount: m)
        lastCall.record(Estimate(directions: blocks * d, error: error, tolerance: tolerance))
    }

    /// An accumulator for the targets of `problem`, its control about ``centre(_:)``.
    func accumulator(for problem: KernelSumProblem) -> SliceAccumulator {
        SliceAccumulator(problem: problem, centre: SlicedSum.centre(problem), threads: threads)
    }

    /// The sources' mean weighted by Σ_c |w_ic| (summed in order; the origin if every weight is
    /// 0): points are projected about it, which keeps the control's quartic moments free of
    /// cancellation, and a far source of weight 0 does not pull it off the others. The same for
    /// every part of the targets.
    static func centre(_ problem: KernelSumProblem) -> [Double] {
        let d = problem.dimension
        let n = problem.sourceCount
        var centre = [Double](repeating: 0, count: d)
        var total = 0.0
        for i in 0..<n {
            var w = 0.0
            for c in 0..<problem.channels { w += abs(problem.weights[c * n + i]) }
            guard w > 0 else { continue }
            total += w
            for a in 0..<d { centre[a] += w * problem.sources[i * d + a] }
        }
        let mean = centre.map { $0 / total }
        return total > 0 && mean.allSatisfy(\.isFinite) ? mean : [Double](repeating: 0, count: d)
    }

    /// How this engine sums `kernel` along a direction in dimension d, or nil when it does not
    /// (a kernel it does not slice; imq and riesz with r ≠ 1 in 1-D): sorting for riesz:r=1,
    /// the 1-D mesh for other riesz exponents, the profile (made once) for the others.
    func line(_ kernel: any RadialKernel, dimension d: Int) -> SliceLine? {
        guard SlicedSum.unsupported(kernel) == nil else { return nil }
        if let riesz = kernel as? RieszKernel {
            guard riesz.r != 1 else { return .sorted }
            // In 1-D the one direction would be the mesh itself, whose gradients where they
            // cancel err up to ~200× its tolerance: direct is exact (and `mesh` serves 1-D).
            // Elsewhere each direction's mesh error, up to ~200× the mesh tolerance relative to
            // that direction's largest slope, is kept far below the sampling error by a tenth
            // of the series' accuracy.
            return d == 1 ? nil : .mesh(riesz, tolerance: 0.1 * seriesAccuracy())
        }
        return profiles.profile(kernel, dimension: d, accuracy: seriesAccuracy()).map { .profile($0) }
    }

    /// The stride of the pilot's targets among m: every one up to ``pilotTargets``, else an
    /// even stride that keeps at most that many.
    public static func pilotStride(targets m: Int) -> Int { max(1, (m + pilotTargets - 1) / pilotTargets) }

    /// The targets the pilot reads among m (``pilotStride(targets:)``).
    public static func pilotTargetCount(_ m: Int) -> Int {
        let stride = pilotStride(targets: m)
        return (m + stride - 1) / stride
    }

    /// The blocks the tolerance needs, from a pilot on an even stride of at most
    /// ``pilotTargets`` targets (``addBlocksUntilMet(_:tolerance:into:targetCount:)``).
    func pilotBlocks(_ problem: KernelSumProblem, _ line: SliceLine, tolerance: Double) -> Int {
        pilot(problem, line, tolerance: tolerance, stopWhenOutOfReach: false).blocks
    }

    /// The pilot of ``pilotBlocks(_:_:tolerance:)``: the blocks drawn and the estimate reached.
    func pilot(
        _ problem: KernelSumProblem, _ line: SliceLine, tolerance: Double, stopWhenOutOfReach: Bool
    ) -> (blocks: Int, error: Double) {
        let d = problem.dimension
        let m = problem.targetCount
        let picked = Array(Swift.stride(from: 0, to: m, by: SlicedSum.pilotStride(targets: m)))
        var pilotTargets = [Double](repeating: 0, count: picked.count * d)
        for (k, j) in picked.enumerated() {
            for a in 0..<d { pilotTargets[k * d + a] = problem.targets[j * d + a] }
        }
        return pilotTargets.withUnsafeBufferPointer { t in
            var pilot = problem
            pilot.targets = t
            let accumulator = accumulator(for: pilot)
            defer { accumulator.deallocate() }
            addBlocksUntilMet(
                pilot, line, tolerance: tolerance, into: accumulator, targetCount: m,
                stopWhenOutOfReach: stopWhenOutOfReach)
            return (accumulator.blocks, accumulator.estimatedError(targetCount: m))
        }
    }

    /// Adds blocks to `accumulator` (whose targets speak for `targetCount`): at least
    /// ``minimumAdaptiveBlocks``, then as many as the estimate's 1/√B decay predicts (at most
    /// 4× more a round, 5 % beyond the prediction), until the estimate meets the tolerance or
    /// ``maximumDirections`` are drawn, or, with `stopWhenOutOfReach`, until the prediction
    /// exceeds them.
    func addBlocksUntilMet(
        _ problem: KernelSumProblem, _ line: SliceLine, tolerance: Double, into accumulator: SliceAccumulator,
        targetCount m: Int, stopWhenOutOfReach: Bool = false
    ) {
        let maximumBlocks = max(1, maximumDirections / problem.dimension)
        var wanted = min(SlicedSum.minimumAdaptiveBlocks, maximumBlocks)
        while true {
            accumulate(problem, line, blocks: accumulator.blocks..<wanted, into: accumulator)
            let done = accumulator.blocks
            let error = accumulator.estimatedError(targetCount: m)
            guard error > tolerance, done < maximumBlocks else { return }
            let predicted = Double(done) * (error / tolerance) * (error / tolerance) * 1.05
            if stopWhenOutOfReach && predicted > Double(maximumBlocks) { return }
            wanted = min(maximumBlocks, 4 * done, max(done + 1, Int(min(predicted, 1e15).rounded(.up))))
        }
    }

    /// Adds the blocks `blocks` of directions to `accumulator`: the directions drawn a group of
    /// whole blocks at a time (at least ``chunk`` directions), projected and swept a chunk at a
    /// time, each target's sums folded block by block in direction order, so the result does not
    /// depend on the thread count.
    func accumulate(
        _ problem: KernelSumProblem, _ line: SliceLine, blocks: Range<Int>, into accumulator: SliceAccumulator
    ) {
        guard !blocks.isEmpty else { return }
        let d = problem.dimension
        let n = problem.sourceCount
        let m = problem.targetCount
        let channels = problem.channels
        let gchannels = problem.gradientChannels
        let g = gchannels.count
        let total = n + m
        let outs = channels + g
        let stride = m + 1
        let kmax = SlicedSum.chunk
        let groupBlocks = max(1, SlicedSum.chunk / d)
        let threads = self.threads
        let width = accumulator.width

        // Buffers, allocated once. Points are transposed (coordinate-major, sources then
        // targets) so that projecting a chunk of directions is a vectorised matrix product.
        let xi = UnsafeMutablePointer<Double>.allocate(capacity: groupBlocks * d * d)
        let points = UnsafeMutablePointer<Double>.allocate(capacity: d * total)
        let proj = UnsafeMutablePointer<Double>.allocate(capacity: kmax * total)
        // Per direction of a chunk, per output (C values then G slopes), per target (+1 sink
        // slot where sources write): the sweep's results in target order.
        let out = UnsafeMutablePointer<Double>.allocate(capacity: kmax * outs * stride)
        // Weights per channel over sources and targets (targets weigh 0) and their totals.
        let wt = UnsafeMutablePointer<Double>.allocate(capacity: channels * total)
        let wtotal = UnsafeMutablePointer<Double>.allocate(capacity: channels)
        let gch = UnsafeMutablePointer<Int>.allocate(capacity: max(1, g))
        let workers = threads == 1 ? 1 : min(threads, kmax)
        let sorters = line.sorts ? (0..<workers).map { _ in SliceSorter(capacity: total) } : []
        let meshLines: [SliceMeshLine]
        if case .mesh(let kernel, let tolerance) = line {
            let primed = SliceMeshLine.primedGrid(kernel, tolerance: tolerance, problem: problem)
            meshLines = (0..<workers).map { _ in
                SliceMeshLine(
                    tolerance: tolerance, primed: primed, sources: n, targets: m, channels: channels, gradients: g)
            }
        } else {
            meshLines = []
        }
        let scratches = (0..<workers).map { _ in SliceFourierScratch() }
        let sweepState = UnsafeMutablePointer<Double>.allocate(capacity: workers * 4 * channels)
        // Per direction of a chunk and channel, the sources' power sums Σ_i w_ic s_i^r, r = 0…4
        // (the quartic control's moments along the direction).
        let powerSums = UnsafeMutablePointer<Double>.allocate(capacity: kmax * channels * 5)
        let centre = SlicedSum.centre(problem)
        defer {
            powerSums.deallocate()
            xi.deallocate()
            points.deallocate()
            proj.deallocate()
            out.deallocate()
            wt.deallocate()
            wtotal.deallocate()
            gch.deallocate()
            sweepState.deallocate()
            for s in sorters { s.deallocate() }
        }
        for (k, c) in gchannels.enumerated() { gch[k] = c }
        let x = problem.sources.baseAddress!
        let y = problem.targets.baseAddress!
        let w = problem.weights.baseAddress!
        for c in 0..<channels {
            var sum = 0.0
            for i in 0..<n {
                let v = w[c * n + i]
                wt[c * total + i] = v
                sum += v
            }
            for j in 0..<m { wt[c * total + n + j] = 0 }
            wtotal[c] = sum
        }
        let sPoints = SharedMutablePointer(points)
        let sProj = SharedMutablePointer(proj)
        let sOut = SharedMutablePointer(out)
        let sXi = SharedPointer(UnsafePointer(xi))
        let sWt = SharedPointer(UnsafePointer(wt))
        let sWtotal = SharedPointer(UnsafePointer(wtotal))
        let sState = SharedMutablePointer(sweepState)
        let sGch = SharedPointer(UnsafePointer(gch))
        let sX = SharedPointer(x)
        let sY = SharedPointer(y)
        let sCurrent = SharedMutablePointer(accumulator.current)
        let sControl = SharedMutablePointer(accumulator.controlCurrent)
        let sPowers = SharedMutablePointer(powerSums)
        let sAccumulator = SharedAccumulator(accumulator)

        Parallel.forEachChunk(total, threads: threads, minimumChunk: 4096) { range in
            for i in range {
                let row = i < n ? sX.base + i * d : sY.base + (i - n) * d
                for a in 0..<d { sPoints[a * total + i] = row[a] - centre[a] }
            }
        }

        var group = blocks.lowerBound
        while group < blocks.upperBound {
            let groupEnd = min(blocks.upperBound, group + groupBlocks)
            for b in group..<groupEnd {
                let block = SlicedSum.directionBlock(b, dimension: d, seed: seed)
                for k in 0..<(d * d) { xi[(b - group) * d * d + k] = block[k] }
            }
            let p = (groupEnd - group) * d
            var q1 = 0
            while q1 < p {
                let kc = min(kmax, p - q1)
                let q0 = q1
                // Projections of all points on the chunk's directions, blocks of points in L1.
                Parallel.forEachChunk(total, threads: threads, minimumChunk: 4096) { range in
                    let block = 256
                    var lo = range.lowerBound
                    while lo < range.upperBound {
                        let hi = min(range.upperBound, lo + block)
                        for k in 0..<kc {
                            let e = sXi.base + (q0 + k) * d
                            let dst = sProj.base + k * total
                            for i in lo..<hi { dst[i] = 0 }
                            for a in 0..<d {
                                let ea = e[a]
                                let src = sPoints.base + a * total
                                for i in lo..<hi { dst[i] += ea * src[i] }
                            }
                        }
                        lo = hi
                    }
                }
                // Sort and sweep each direction.
                let sweep: @Sendable (Int, Int) -> Void = { k, worker in
                    let s = sProj.base + k * total
                    for c in 0..<channels {
                        let wc = sWt.base + c * total
                        var m0 = 0.0
                        var m1 = 0.0
                        var m2 = 0.0
                        var m3 = 0.0
                        var m4 = 0.0
                        for i in 0..<n {
                            let w = wc[i]
                            let t = s[i]
                            let t2 = t * t
                            m0 += w
                            m1 += w * t
                            m2 += w * t2
                            m3 += w * t2 * t
                            m4 += w * t2 * t2
                        }
                        let out = sPowers.base + (k * channels + c) * 5
                        (out[0], out[1], out[2], out[3], out[4]) = (m0, m1, m2, m3, m4)
                    }
                    if case .mesh(let kernel, _) = line {
                        return meshLines[worker].sweep(
                            kernel, projections: UnsafePointer(sProj.base + k * total), gradientChannels: gchannels,
                            weights: sWt.base, out: sOut.base + k * outs * stride,
                            slopes: sOut.base + (k * outs + channels) * stride, stride: stride)
                    }
                    if let profile = line.profile {
                        let projections = UnsafePointer(sProj.base + k * total)
                        let (out, slopes) = (sOut.base + k * outs * stride, sOut.base + (k * outs + channels) * stride)
                        profile.sweep(
                            projections: projections, n: n, m: m, channels: channels, gradientChannels: sGch.base,
                            g: g, weights: sWt.base, scratch: scratches[worker], out: out, slopes: slopes,
                            stride: stride)
                        profile.cusp?.sweep(
                            projections: projections, n: n, m: m, channels: channels, gradientChannels: sGch.base,
                            g: g, weights: sWt.base, sorter: sorters[worker], out: out, slopes: slopes, stride: stride)
                        return
                    }
                    SlicedSum.sweep(
                        values: UnsafePointer(sProj.base + k * total), n: n, m: m, channels: channels,
                        gradientChannels: sGch.base, g: g, weights: sWt.base, totals: sWtotal.base,
                        sorter: sorters[worker], state: sState.base + worker * 4 * channels,
                        out: sOut.base + k * outs * stride)
                }
                if workers == 1 {
                    for k in 0..<kc { sweep(k, 0) }
                } else {
                    let next = NextIndex()
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        while let k = next.take(below: kc) { sweep(k, worker) }
                    }
                }
                // Per target, directions in order into the block's sums and its control's
                // (Σ_i w_ic (t − s_i)⁴ = μ4 − 4tμ3 + 6t²μ2 − 4t³μ1 + t⁴μ0 and its slope in t); a
                // finished block is folded into the sums: identical for any thread count.
                Parallel.forEachChunk(m, threads: threads, minimumChunk: 1024) { range in
                    for j in range {
                        let cur = sCurrent.base + j * width
                        let ctl = sControl.base + j * width
                        for k in 0..<kc {
                            let t = sProj[k * total + n + j]
                            let mu = sPowers.base + k * channels * 5
                            for c in 0..<channels {
                                cur[c] += sOut[(k * outs + c) * stride + j]
                                let p = mu + 5 * c
                                ctl[c] += p[4] + t * (-4 * p[3] + t * (6 * p[2] + t * (-4 * p[1] + t * p[0])))
                            }
                            let e = sXi.base + (q0 + k) * d
                            for gi in 0..<g {
                                let slope = sOut[(k * outs + channels + gi) * stride + j]
                                let p = mu + 5 * sGch[gi]
                                let control = 4 * (-p[3] + t * (3 * p[2] + t * (-3 * p[1] + t * p[0])))
                                let gp = cur + channels + gi * d
                                let cp = ctl + channels + gi * d
                                for a in 0..<d {
                                    gp[a] += slope * e[a]
                                    cp[a] += control * e[a]
                                }
                            }
                            if (q0 + k + 1) % d == 0 { sAccumulator.value.finishBlock(target: j) }
                        }
                    }
                }
                q1 = q0 + kc
            }
            accumulator.blocks += groupEnd - group
            group = groupEnd
        }
    }

    /// One direction: sort the projections `values` (sources `0..<n`, then targets), sweep them
    /// in increasing order with prefix sums, and write per target j (row `m` is a sink for
    /// sources) the unscaled value Σ_i w_ic |t_j − s_i| of each channel and slope
    /// Σ_i w_ic sign(t_j − s_i) of each gradient channel.
    static func sweep(
        values v: UnsafePointer<Double>, n: Int, m: Int, channels: Int,
        gradientChannels gch: UnsafePointer<Int>, g: Int,
        weights wt: UnsafePointer<Double>, totals: UnsafePointer<Double>,
        sorter: SliceSorter, state: UnsafeMutablePointer<Double>, out: UnsafeMutablePointer<Double>
    ) {
        let total = n + m
        let stride = m + 1
        var lo = Double.infinity
        var hi = -Double.infinity
        for i in 0..<total {
            let t = v[i]
            lo = t < lo ? t : lo
            hi = t > hi ? t : hi
        }
        sorter.sort(v, count: total, lo: lo, hi: hi)
        let items = sorter.items
        // S totals (weighted positions of the sources) per channel.
        let sTotal = state
        let wAcc = state + channels
        let sAcc = state + 2 * channels
        let wRun = state + 3 * channels
        for c in 0..<channels {
            var s = 0.0
            let wc = wt + c * total
            for i in 0..<n { s += wc[i] * v[i] }
            sTotal[c] = s
        }
        // Sources precede targets of the same value, so at a target the accumulated W_≤, S_≤
        // include the ties; W_< is the weight before the current run of equal values.
        // Value: t(W_≤ − W_>) − (S_≤ − S_>) (ties cancel); slope: W_< − W_>.
        if channels == 1 && g <= 1 {
            // Gather positions and weights in sorted order first: a tight loop keeps many
            // loads in flight, and the sweep below then streams.
            let sv = sorter.values
            let sw = sorter.weights
            for r in 0..<total {
                let i = Int(items[r] & SliceSorter.indexMask)
                sv[r] = v[i]
                sw[r] = wt[i]
            }
            let wTot = totals[0]
            let sTot = sTotal[0]
            var wa = 0.0
            var sa = 0.0
            var wr = 0.0
            var prev = Double.nan
            let ov = out
            let os = out + stride
            if g == 1 {
                for r in 0..<total {
                    let i = Int(items[r] & SliceSorter.indexMask)
                    let t = sv[r]
                    let wi = sw[r]
                    wr = t == prev ? wr : wa
                    prev = t
                    wa += wi
                    sa += wi * t
                    let j = i - n
                    let dst = j >= 0 ? j : m
                    ov[dst] = t * (2 * wa - wTot) - (2 * sa - sTot)
                    os[dst] = wr - (wTot - wa)
                }
            } else {
                for r in 0..<total {
                    let i = Int(items[r] & SliceSorter.indexMask)
                    let t = sv[r]
                    let wi = sw[r]
                    wa += wi
                    sa += wi * t
                    let j = i - n
                    let dst = j >= 0 ? j : m
                    ov[dst] = t * (2 * wa - wTot) - (2 * sa - sTot)
                }
            }
            return
        }
        for c in 0..<channels {
            wAcc[c] = 0
            sAcc[c] = 0
            wRun[c] = 0
        }
        var prev = Double.nan
        for r in 0..<total {
            let i = Int(items[r] & SliceSorter.indexMask)
            let t = v[i]
            let same = t == prev
            prev = t
            let j = i - n
            let dst = j >= 0 ? j : m
            for c in 0..<channels {
                let wi = wt[c * total + i]
                wRun[c] = same ? wRun[c] : wAcc[c]
                let wa = wAcc[c] + wi
                let sa = sAcc[c] + wi * t
                wAcc[c] = wa
                sAcc[c] = sa
                out[c * stride + dst] = t * (2 * wa - totals[c]) - (2 * sa - sTotal[c])
            }
            for gi in 0..<g {
                let c = gch[gi]
                out[(channels + gi) * stride + dst] = wRun[c] - (totals[c] - wAcc[c])
            }
        }
    }
}

/// Hands out 0, 1, 2, ... to concurrent workers.
final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
