import Communication
import Foundation

/// The grid, window and split one call uses, chosen from the tolerance (FINUFFT's makeplan):
/// the window width w and shape β, the near radius ε and the smooth step ψ of the split, the
/// mode grid n_a of spacing h, and the far kernel's truncation. The constants come from
/// ``MeshOptions``; the cost model that balances ε against the FFTs is in MeshPlan+Cost.swift.
struct MeshPlan {
    let dimension: Int
    /// Mode grid n_a (1 for axes ≥ d) and its spacing h; the spreading grid is 2n_a at h/2.
    let modes: [Int]
    let spacing: Double
    let split: KernelSplit
    /// Z_a and w_B of the far kernel's truncation.
    let truncation: [Double]
    let boundaryWidth: Double
    /// w, the window's width in spreading-grid points, and its shape β.
    let spreadWidth: Int
    let spreadBeta: Double
    /// Lower corner of the points' bounding box (0 in the periodic box).
    let low: [Double]
    let kernelSpec: String
    /// L of the periodic box, or nil: the mode grid is then exactly one period.
    let box: Double?
    /// The constant subtracted from the far kernel on the grid and added back as
    /// offset · Σ_i w_i (0 in the periodic box).
    let offset: Double
    /// Why this call is summed directly instead (``MeshSum/run``), or nil: no grid of at most
    /// 2^``MeshOptions/maximumGridLog2`` points resolves the kernel over these points (a spread
    /// or a period hundreds of orders of magnitude beyond the kernel's scale), or the kernel is
    /// flat over the box to within rounding (its variation below ``MeshOptions/flatnessUlps``
    /// ulp/τ of its level: grid values cannot carry gradients that small to the tolerance, the
    /// direct sum's slopes can).
    let fallback: String?
    /// The cost model's seconds for one call on one thread: FFTs, near field, spreading and
    /// interpolation (``MeshOptions``' rates); what `auto` compares with the direct sum.
    let estimatedSeconds: Double

    /// The spreading grid: 2n_a points per axis a < d, 1 beyond.
    var grid: [Int] { (0..<3).map { $0 < dimension ? 2 * modes[$0] : 1 } }
    /// h/2, the spreading grid's spacing (upsampling factor 2).
    var gridSpacing: Double { spacing / 2 }

    /// What decides the multiplier (``multiplier(shape:threads:)``), and with it the FFT
    /// buffers and plans that ``MeshWorkspace`` keeps: equal keys share them. Reals compare by
    /// bit pattern, so equal keys mean inputs equal bit for bit (0 and −0 differ).
    struct Key: Hashable {
        /// A real by its bits.
        struct Exact: Hashable {
            let bits: UInt64
            init(_ x: Double) { bits = x.bitPattern }
        }
        let kernelSpec: String
        let modes: [Int]
        let spacing: Exact
        let radius: Exact
        let truncation: [Exact]
        let boundaryWidth: Exact
        let spreadWidth: Int
        let box: Exact?
        let offset: Exact
    }

    var key: Key {
        Key(
            kernelSpec: kernelSpec, modes: modes, spacing: .init(spacing), radius: .init(split.radius),
            truncation: truncation.map(Key.Exact.init), boundaryWidth: .init(boundaryWidth),
            spreadWidth: spreadWidth, box: box.map(Key.Exact.init), offset: .init(offset))
    }

    /// What the next call's hysteresis keeps of this plan.
    var history: MeshHistory {
        MeshHistory(kernelSpec: kernelSpec, dimension: dimension, spacing: spacing, radius: split.radius, modes: modes)
    }

    /// The engine's report of this plan (``MeshSum/parameters``).
    var report: [String: String] {
        [
            "grid": grid[0..<dimension].map(String.init).joined(separator: "x"), "spacing": "\(gridSpacing)",
            "window-width": String(spreadWidth), "near-radius": "\(split.radius)",
            "estimated-seconds": "\(estimatedSeconds)",
        ]
    }

    /// `previous`: the last call's choice, kept while it stays near the best (hysteresis);
    /// `reusableStep`: a smooth-step table to reuse when its β agrees.
    init(
        kernel: any RadialKernel, problem: KernelSumProblem, tolerance: Double, previous: MeshHistory?,
        reusableStep: SmoothStep? = nil, domain: Domain = .free, options: MeshOptions = MeshOptions()
    ) {
        self.init(
            kernel: kernel, inputs: Inputs(problem, period: domain.period, options: options), tolerance: tolerance,
            previous: previous, reusableStep: reusableStep, domain: domain, options: options)
    }

    /// The plan for a problem known by its ``Inputs`` (those of particles spread over ranks).
    init(
        kernel: any RadialKernel, inputs problem: Inputs, tolerance: Double, previous: MeshHistory?,
        reusableStep: SmoothStep? = nil, domain: Domain = .free, options: MeshOptions = MeshOptions()
    ) {
        let d = problem.dimension
        let period = domain.period
        dimension = d
        box = period
        kernelSpec = kernel.spec
        let tol = max(options.toleranceRange.lowerBound, min(options.toleranceRange.upperBound, tolerance))
        spreadWidth = min(WindowFactors.capacity, Int(log10(10 / tol).rounded(.up)) + options.extraWindowPoints)
        spreadBeta = options.betaPerWindowPoint * Double(spreadWidth)
        // Smooth kernels are held to the tolerance itself, kernels with a cusp or singularity
        // to 10× it (see MeshSumTests): the step's margin differs accordingly.
        let margin = kernel.regularity == .smooth ? options.smoothSpectralMargin : options.spectralMargin
        let stepBeta = log(margin / tol)
        let steps = Double(Int((options.stepsPerBeta * stepBeta).rounded(.up)) + 1)
        // The step's table costs ~10⁵ exponentials: reuse the previous call's when β agrees.
        let step = reusableStep.flatMap { $0.window.beta == stepBeta ? $0 : nil } ?? SmoothStep(beta: stepBeta)
        let lo = problem.low
        low = lo
        let width = problem.width
        let w = Double(spreadWidth)
        // Kernels analytic at 0 may skip the near field: the last mode ω = π/h sits where their
        // spectrum has fallen below τ/30. Taken when its FFTs cost less than the split's best.
        let previousRadius = previous.flatMap { $0.kernelSpec == kernel.spec && $0.dimension == d ? $0.radius : nil }
        let splitChoice = MeshPlan.nearRadius(
            problem: problem, width: width, steps: steps, window: w,
            channels: problem.channels, periodic: period != nil,
            previous: previousRadius, options: options)
        let radius: Double
        let h: Double
        let reach: Double
        let wB: Double
        // A kernel wider than the box is sampled at least every box width: its truncation
        // then stays within a few widths, where the far kernel minus its ``offset`` is as small
        // as the kernel's variation over the box (see `offset`).
        let analytic = kernel.spectralBand(decay: log(options.spectralMargin / tol))
            .map { (spacing: period == nil ? min($0.spacing, width.max()!) : $0.spacing, reach: $0.reach) }
        let analyticCost =
            analytic.map {
                MeshPlan.fftCost(
                    width: width, spacing: $0.spacing, reach: $0.reach, boundary: steps * $0.spacing,
                    window: w, channels: problem.channels, periodic: period != nil, options: options)
            } ?? .infinity
        var feasible: Bool
        var chosenCost = splitChoice.cost
        if let (band, negligible) = analytic, analyticCost <= splitChoice.cost, analyticCost.isFinite {
            chosenCost = analyticCost
            h = band
            radius = 0
            reach = negligible
            wB = steps * h
            feasible = true
        } else {
            feasible = splitChoice.cost.isFinite
            // ε ≤ L/2 in the box (nearRadius never offers more; kept explicit).
            radius = period.map { min(splitChoice.radius, $0 / 2) } ?? splitChoice.radius
            h = radius / steps
            reach = .infinity
            wB = radius
        }
        split = KernelSplit(kernel: kernel, radius: radius, step: step)
        boundaryWidth = wB
        var n = [1, 1, 1]
        for a in 0..<d where feasible {
            // One period: n_a modes of spacing L/n_a ≤ h.
            if let l = period {
                n[a] = MeshSum.fftSize(Int((l / h).rounded(.up)))
                continue
            }
            let extent = MeshPlan.period(width: width[a], reach: reach, boundary: wB, spacing: h, window: w)
            var count = MeshSum.fftSize(Int((extent / h).rounded(.up)))
            // Keep the previous grid while it is large enough and not much larger: the
            // multiplier (and FFTW's plans) then stay cached from step to step.
            if let p = previous, p.spacing == h, p.radius == radius, p.dimension == d,
                p.modes[a] >= count, Double(p.modes[a]) <= options.gridKeepRatio * Double(count)
            {
                count = p.modes[a]
            }
            n[a] = count
        }
        modes = n
        spacing = period.map { $0 / Double(n[0]) } ?? h
        // Truncate where the grid allows (≥ L_a), or where the kernel is negligible: a
        // function of the grid only, so the multiplier is cached while the grid is. Never in
        // the periodic box (the step then is 1 everywhere).
        truncation = (0..<d).map { period != nil ? .infinity : min(reach, Double(n[$0]) * h / 2 - wB) }
        // In R^d, when the truncation lies beyond every difference of two points (Z_a ≥ L_a: the
        // kernel has not become negligible within the box), the far kernel is summed minus its
        // value at the smallest Z_a and that constant times the weights is added back, exactly:
        // a kernel nearly flat over the box (a wide Gaussian, a Laplace or Matérn kernel longer
        // than the box, riesz with a small exponent) then puts on the grid only its variation,
        // and the gradients, which are of that size, keep the tolerance relative to themselves
        // instead of to the kernel's level.
        let z = truncation
        let covers = (0..<d).allSatisfy { z[$0] >= width[$0] }
        offset = period != nil || !feasible || !covers ? 0 : split.far(truncation.min() ?? 0)
        let level = max(abs(split.far(0)), abs(offset))
        let variation = abs(split.far(0) - offset)
        let held = kernel.regularity == .smooth ? tol : options.nonSmoothToleranceFactor * tol
        estimatedSeconds =
            chosenCost + options.spreadSecondsPerWindowPoint * Double(problem.sourceCount + problem.targetCount)
            * pow(w, Double(d))
        if !feasible {
            fallback =
                "direct (no grid of at most 2^\(options.maximumGridLog2) points resolves the kernel "
                + "over these points)"
        } else if period == nil, !(variation >= options.flatnessUlps * Double.ulpOfOne / held * level) {
            fallback =
                "direct (the kernel is flat over these points to within rounding: its gradients are "
                + "below the grid's resolution)"
        } else {
            fallback = nil
        }
    }

    /// What a plan reads of the problem: the bounding box of sources and targets (the whole
    /// box [0, L]^d when periodic), the counts, and the density the sources see
    /// (``nearRadius(problem:width:steps:window:channels:periodic:previous:options:)``).
    /// Built from one process's problem, or from the ranks' shares of one: every part is an
    /// exact reduction (min, max, integer counts), so every rank plans the grid one process would.
    struct Inputs {
        let dimension: Int, sourceCount: Int, targetCount: Int, channels: Int
        /// The box's lower corner and its width per axis (at least ``MeshOptions/minimumBoxWidth``).
        let low: [Double], width: [Double]
        /// Σ_cells count²/(N · cell volume) on the ``MeshOptions/densityBins`` histogram of the sources.
        let density: Double

        /// The inputs of `problem`, or, given a communicator, of the problem whose sources and
        /// targets are every rank's `problem`'s together (collective).
        init(
            _ problem: KernelSumProblem, period: Double?, options: MeshOptions,
            communicator: (any Communicator)? = nil
        ) {
            let d = problem.dimension
            dimension = d
            channels = problem.channels
            var lo = [Double](repeating: .infinity, count: d)
            var hi = [Double](repeating: -.infinity, count: d)
            if let l = period {
                lo = [Double](repeating: 0, count: d)
                hi = [Double](repeating: l, count: d)
            } else {
                for buffer in [problem.sources, problem.targets] {
                    for k in 0..<(buffer.count / d) {
                        for a in 0..<d {
                            lo[a] = min(lo[a], buffer[k * d + a])
                            hi[a] = max(hi[a], buffer[k * d + a])
                        }
                    }
                }
                if let c = communicator {
                    lo = c.allReduce(lo, min)
                    hi = c.allReduce(hi, max)
                }
            }
            low = lo
            let width = (0..<d).map { max(hi[$0] - lo[$0], options.minimumBoxWidth) }
            self.width = width
            let bins = options.densityBins[d - 1]
            var counts = [Int](repeating: 0, count: Int(pow(Double(bins), Double(d))) + 2)
            for i in 0..<problem.sourceCount {
                var cell = 0
                for a in 0..<d {
                    let u = (problem.sources[i * d + a] - lo[a]) / width[a] * Double(bins)
                    cell = cell * bins + min(bins - 1, max(0, Int(u)))
                }
                counts[cell] += 1
            }
            // The counts of sources and targets travel with the histogram.
            counts[counts.count - 2] = problem.sourceCount
            counts[counts.count - 1] = problem.targetCount
            if let c = communicator { counts = c.allSum(counts) }
            targetCount = counts.removeLast()
            sourceCount = counts.removeLast()
            let cellVolume = width.reduce(1, *) / pow(Double(bins), Double(d))
            density = Double(counts.reduce(0) { $0 + $1 * $1 }) / Double(max(1, sourceCount)) / cellVolume
        }
    }
}
