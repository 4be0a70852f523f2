import CFFTW
import Foundation

/// Kernel sums on a mesh, d = 1, 2, 3, for every kernel: a non-uniform FFT convolution for the
/// smooth far part of the kernel and exact sums over neighbours (``CellList``) for its
/// compact near part (``KernelSplit``). In the spirit of NFFT3's fastsum (Potts, Steidl &
/// Nieslony 2004) with FINUFFT's window (Barnett et al. 2019).
///
/// The far kernel F(z) = far(|z|) · Π_a ψ((|z_a| − Z_a)/w_B) is made periodic with period T_a
/// per axis (Z_a = the box width L_a, or less for a Gaussian that is negligible beyond
/// Z_a): T_a ≥ L_a + Z_a + w_B, so F and its periodic copy agree on every difference of
/// two points. With F(z) = Σ_k b_k e^{iω_k·z} (b_k: FFT of F sampled every h),
///
///     s(y) = Σ_k b_k ĉ_k e^{iω_k·y},   ĉ_k = Σ_i w_i e^{−iω_k·x_i},
///
/// evaluated as (1) spread the weights onto a grid of spacing h/2 with an ES window φ of w
/// points, (2) FFT, multiply by b_k (h/2)^{2d} / Π_a φ̂(ω_{k,a})² for the modes |k_a| < n_a/2,
/// inverse FFT, (3) interpolate with φ (and ∇φ for gradients). The near part is then added
/// pair by pair for |y − x| < ε.
///
/// Parameters from the tolerance τ: window width w = ⌈log10(10/τ)⌉ + 2 (≤ 16), β = 2.3 w;
/// smooth step ψ with β_ψ = ln(30/τ) resolved by m = ⌈0.75 β_ψ⌉ + 1 grid steps, so h = ε/m
/// (Gaussian: h = πσ/√(2 ln(30/τ))). The near radius ε balances the estimated pair count of
/// the near field against the FFT size.
///
/// Spreading runs over slabs of grid rows, each slab fed the points in one fixed order, and
/// the FFTs run block by block with fixed plans (``GridFFT``): the output does not depend on `threads`. Plans, buffers and the
/// multiplier are kept while the grid stays the same.
///
/// With a `period` L the sum is over the periodic box [0, L)^d, each pair through its minimum
/// image, exactly as ``DirectSum`` with the same period: s(y) = Σ_j w_j k(mi(y − x_j)), mi the
/// minimum-image difference (points are wrapped into the box first). The mode grid then covers
/// one period, n_a = fftSize(⌈L/h⌉) modes of spacing L/n_a, with no zero padding and no truncation:
/// the far kernel is sampled at minimum-image offsets, spreading and interpolation wrap around
/// the grid (see ``PeriodicGrid``), the near field uses a periodic ``CellList`` and ε ≤ L/2.
/// No Ewald sum: the minimum-image kernel has a kink at |z_a| = L/2 unless the kernel has
/// decayed there, so the mesh meets its tolerance only for kernels negligible beyond L/2.
public struct MeshSum: KernelSumEngine {
    public let tolerance: Double
    public let threads: Int
    /// L of the periodic box [0, L)^d, or nil for R^d.
    public let period: Double?
    let workspace = MeshWorkspace()

    public init(tolerance: Double, threads: Int, period: Double? = nil) {
        precondition(period.map { $0 > 0 && $0.isFinite } ?? true, "the period must be positive and finite")
        self.tolerance = tolerance
        self.threads = max(1, threads)
        self.period = period
    }

    public var name: String { "mesh" }
    public var parameters: [String: String] {
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        var own = ["tolerance": "\(tolerance)"]
        if let period { own["period"] = "\(period)" }
        return workspace.report.merging(own) { a, _ in a }
    }

    /// Why this engine cannot sum `kernel` in dimension d, or nil.
    public static func unsupported(_ kernel: any RadialKernel, dimension d: Int) -> String? {
        guard (1...3).contains(d) else { return "the mesh engine works in dimensions 1 to 3, not \(d) (use direct or sliced)" }
        return nil
    }

    /// Whether the periodic mesh meets `tolerance` for `kernel` in the box of side L. The
    /// minimum-image kernel has a kink where a coordinate of the difference reaches ±L/2, which
    /// no mesh resolves; it stays below the tolerance when the kernel has decayed there:
    /// |κ(L/2)| ≤ τ |κ(0)| (so never for singular or growing kernels). `auto` takes the
    /// periodic mesh only then; `mesh` asked for explicitly is used as asked.
    public static func periodicMeshApplies(_ kernel: any RadialKernel, period l: Double, tolerance: Double) -> Bool {
        guard kernel.regularity != .singular else { return false }
        let centre = abs(kernel.value(squaredDistance: 0)), edge = abs(kernel.value(squaredDistance: l * l / 4))
        return centre > 0 && edge <= tolerance * centre
    }

    /// The smallest n' ≥ n whose prime factors are 2, 3 and 5 (FFTW's fast sizes).
    public static func fftSize(_ n: Int) -> Int {
        var k = max(2, n)
        while true {
            var r = k
            for p in [2, 3, 5] { while r % p == 0 { r /= p } }
            if r == 1 { return k }
            k += 1
        }
    }

    public func sum(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
                    values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        guard problem.fits(values: values, gradients: gradients) else { return }
        // Outside d = 1…3 (the factory refuses it; a direct caller is served exactly).
        guard MeshSum.unsupported(kernel, dimension: problem.dimension) == nil else {
            return DirectSum(threads: threads, period: period).sum(kernel, problem, values: values, gradients: gradients)
        }
        let n = problem.sourceCount, m = problem.targetCount
        guard m > 0 else { return }
        guard n > 0 else {
            for k in 0..<values.count { values[k] = 0 }
            for k in 0..<gradients.count { gradients[k] = 0 }
            return
        }
        if let l = period, let wrapped = PeriodicGrid.wrapped(problem, period: l) {
            // Points outside [0, L): sum their images in the box.
            wrapped.sources.withUnsafeBufferPointer { s in
                wrapped.targets.withUnsafeBufferPointer { t in
                    var inBox = problem
                    inBox.sources = s
                    inBox.targets = t
                    run(kernel, inBox, values: values, gradients: gradients)
                }
            }
            return
        }
        run(kernel, problem, values: values, gradients: gradients)
    }

    func run(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
             values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        let plan = MeshPlan(kernel: kernel, problem: problem, tolerance: tolerance, previous: ws.history,
                            reusableStep: ws.plan?.split.step, period: period)
        if let fallback = plan.fallback {
            ws.report = ["fallback": fallback]
            DirectSum(threads: threads, period: period).sum(kernel, problem, values: values, gradients: gradients)
            return
        }
        ws.prepare(plan, kernel: kernel, channels: problem.channels, threads: threads)
        ws.report = plan.report
        MeshConvolution(plan: plan, workspace: ws, problem: problem, threads: threads)
            .run(values: values, gradients: gradients)
        if plan.split.radius > 0 {
            NearField(split: plan.split, problem: problem, threads: threads, period: period).add(values: values, gradients: gradients)
        }
    }
}

/// The grid, window and split one call uses.
struct MeshPlan {
    let dimension: Int
    /// Mode grid n_a (1 for axes ≥ d) and its spacing h; the spreading grid is 2n_a at h/2.
    let modes: [Int]
    let spacing: Double
    let split: KernelSplit
    /// Z_a and w_B of the far kernel's truncation.
    let truncation: [Double]
    let boundaryWidth: Double
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
    /// 2²⁷ points resolves the kernel over these points (a spread or a period hundreds of
    /// orders of magnitude beyond the kernel's scale), or the kernel is flat over the box to
    /// within rounding (its variation below 10 ulp/τ of its level: grid values cannot carry
    /// gradients that small to the tolerance, the direct sum's slopes can).
    let fallback: String?

    var grid: [Int] { (0..<3).map { $0 < dimension ? 2 * modes[$0] : 1 } }
    var gridSpacing: Double { spacing / 2 }
    /// What decides the multiplier: equal keys share it.
    var key: String {
        "\(kernelSpec)|\(modes)|\(spacing)|\(split.radius)|\(truncation)|\(boundaryWidth)|\(spreadWidth)|\(box.map { "\($0)" } ?? "-")|\(offset)"
    }
    /// What the next call's hysteresis keeps of this plan.
    var history: MeshHistory {
        MeshHistory(kernelSpec: kernelSpec, dimension: dimension, spacing: spacing, radius: split.radius, modes: modes)
    }
    var report: [String: String] {
        ["grid": grid[0..<dimension].map(String.init).joined(separator: "x"), "spacing": "\(gridSpacing)",
         "window-width": String(spreadWidth), "near-radius": "\(split.radius)"]
    }

    /// `previous`: the last call's choice, kept while it stays near the best (hysteresis);
    /// `reusableStep`: a smooth-step table to reuse when its β agrees.
    init(kernel: any RadialKernel, problem: KernelSumProblem, tolerance: Double, previous: MeshHistory?,
         reusableStep: SmoothStep? = nil, period: Double? = nil) {
        let d = problem.dimension
        dimension = d
        box = period
        kernelSpec = kernel.spec
        let tol = max(1e-15, min(1e-2, tolerance))
        spreadWidth = min(16, Int(log10(10 / tol).rounded(.up)) + 2)
        spreadBeta = 2.30 * Double(spreadWidth)
        // Smooth kernels are held to the tolerance itself, kernels with a cusp or singularity
        // to 10× it (see MeshSumTests): the step's margin differs accordingly.
        let stepBeta = log((kernel.regularity == .smooth ? 3000 : 30) / tol)
        let steps = Double(Int((0.75 * stepBeta).rounded(.up)) + 1)
        // The step's table costs ~10⁵ exponentials: reuse the previous call's when β agrees.
        let step = reusableStep.flatMap { $0.window.beta == stepBeta ? $0 : nil } ?? SmoothStep(beta: stepBeta)
        // Bounding box of sources and targets (the whole box when periodic).
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        if let l = period { lo = [Double](repeating: 0, count: d); hi = [Double](repeating: l, count: d) }
        for buffer in period == nil ? [problem.sources, problem.targets] : [] {
            for k in 0..<(buffer.count / d) {
                for a in 0..<d { lo[a] = min(lo[a], buffer[k * d + a]); hi[a] = max(hi[a], buffer[k * d + a]) }
            }
        }
        low = lo
        let width = (0..<d).map { max(hi[$0] - lo[$0], 1e-12) }
        let w = Double(spreadWidth)
        // Kernels analytic at 0 may skip the near field: the last mode ω = π/h sits where their
        // spectrum has fallen below τ/30. Taken when its FFTs cost less than the split's best.
        let splitChoice = MeshPlan.nearRadius(problem: problem, low: lo, width: width, steps: steps,
                                        window: w, channels: problem.channels, periodic: period != nil,
                                        previous: previous.flatMap { $0.kernelSpec == kernel.spec && $0.dimension == d ? $0.radius : nil })
        let radius: Double, h: Double, reach: Double, wB: Double
        // A kernel wider than the box is sampled at least every box width: its truncation
        // then stays within a few widths, where the far kernel minus its ``offset`` is as small
        // as the kernel's variation over the box (see `offset`).
        let analytic = MeshPlan.analyticBand(kernel, logTolerance: log(30 / tol))
            .map { (spacing: period == nil ? min($0.spacing, width.max()!) : $0.spacing, reach: $0.reach) }
        let analyticCost = analytic.map {
            MeshPlan.fftCost(width: width, spacing: $0.spacing, reach: $0.reach, boundary: steps * $0.spacing, window: w,
                             channels: problem.channels, periodic: period != nil)
        } ?? .infinity
        var feasible: Bool
        if let (band, negligible) = analytic, analyticCost <= splitChoice.cost, analyticCost.isFinite {
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
            if let l = period { n[a] = MeshSum.fftSize(Int((l / h).rounded(.up))); continue }
            var count = MeshSum.fftSize(Int((MeshPlan.period(width: width[a], reach: reach, boundary: wB, spacing: h,
                                                              window: w) / h).rounded(.up)))
            // Keep the previous grid while it is large enough and not much larger: the
            // multiplier (and FFTW's plans) then stay cached from step to step.
            if let p = previous, p.spacing == h, p.radius == radius, p.dimension == d,
               p.modes[a] >= count, Double(p.modes[a]) <= 1.25 * Double(count) {
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
        let level = max(abs(split.far(0)), abs(offset)), variation = abs(split.far(0) - offset)
        let held = kernel.regularity == .smooth ? tol : 10 * tol
        if !feasible {
            fallback = "direct (no grid of at most 2^27 points resolves the kernel over these points)"
        } else if period == nil, !(variation >= 10 * Double.ulpOfOne / held * level) {
            fallback = "direct (the kernel is flat over these points to within rounding: its gradients are below the grid's resolution)"
        } else {
            fallback = nil
        }
    }

    /// For kernels analytic at 0, the mode spacing at which the spectrum has decayed by
    /// e^(−L) (Gaussian: exp(−σ²ω²/2); IMQ: about exp(−c|ω|)) and the radius beyond which the
    /// kernel is negligible; nil for kernels that need the near field.
    static func analyticBand(_ kernel: any RadialKernel, logTolerance l: Double) -> (spacing: Double, reach: Double)? {
        switch kernel {
        case let g as GaussianKernel: return (Double.pi * g.sigma / (2 * l).squareRoot(), g.sigma * (2 * l).squareRoot())
        case let q as InverseMultiquadricKernel:
            // Its spectrum falls like (c|ω|)^(|β| − (d+1)/2) exp(−c|ω|) for large ω (a Bessel
            // K): the last mode sits where x = c|ω| has x − (|β| − 1)⁺ ln x ≥ l + 5.
            var x = l + 5
            for _ in 0..<8 { x = l + 5 + max(0, abs(q.beta) - 1) * log(x) }
            return (Double.pi * q.c / x, .infinity)
        default: return nil
        }
    }

    /// The period T_a: F's support (|z_a| ≤ Z_a + w_B, Z_a = min(L_a, reach)) fits in half a
    /// period and F is exact on every difference |z_a| ≤ L_a (T_a ≥ L_a + Z_a + w_B); the
    /// spreading grid holds every point with its window on both sides (no wrap-around). In the
    /// periodic box the period is the box's width.
    static func period(width: Double, reach: Double, boundary wB: Double, spacing h: Double, window w: Double,
                       periodic: Bool = false) -> Double {
        if periodic { return width }
        let z = min(width, reach)
        return max(width + z + wB, 2 * (z + wB), width + (w + 1) * h)
    }

    /// Seconds for the FFTs of one call on one thread (about 1.1 ns per grid point and log₂ of
    /// the grid size for the forward and inverse transforms of a channel, measured with
    /// ``GridFFT``'s pruning, on the grid twice as fine as the modes); grids above 2²⁷ points (1 GiB per channel) are never chosen.
    static func fftCost(width: [Double], spacing h: Double, reach: Double, boundary wB: Double, window w: Double,
                        channels: Int, periodic: Bool = false) -> Double {
        var grid = 1.0
        for l in width { grid *= 2 * (period(width: l, reach: reach, boundary: wB, spacing: h, window: w, periodic: periodic) / h).rounded(.up) }
        return grid > Double(1 << 27) ? .infinity : 1.1e-9 * Double(channels) * grid * log2(max(2, grid))
    }

    /// ε balancing the near field (about 20 ns per pair on one thread, measured, with the
    /// effective density the sources see, estimated on a coarse histogram) against the FFTs
    /// (``fftCost``). Both parallelise alike, so the choice, and the output, is the same for
    /// any thread count. Radii are powers of 2^(1/4), and the previous call's radius is kept
    /// while it stays within 10 % of the best cost, so that consecutive steps of a flow keep
    /// the same grid (and its cached multiplier and plans).
    static func nearRadius(problem: KernelSumProblem, low: [Double], width: [Double], steps: Double,
                           window w: Double, channels: Int, periodic: Bool = false,
                           previous: Double? = nil) -> (radius: Double, cost: Double) {
        let d = problem.dimension, n = problem.sourceCount, m = problem.targetCount
        let bins = d == 1 ? 256 : (d == 2 ? 64 : 16)
        var counts = [Int](repeating: 0, count: Int(pow(Double(bins), Double(d))))
        for i in 0..<n {
            var cell = 0
            for a in 0..<d {
                let u = (problem.sources[i * d + a] - low[a]) / width[a] * Double(bins)
                cell = cell * bins + min(bins - 1, max(0, Int(u)))
            }
            counts[cell] += 1
        }
        let cellVolume = width.reduce(1, *) / pow(Double(bins), Double(d))
        let density = Double(counts.reduce(0) { $0 + $1 * $1 }) / Double(n) / cellVolume
        let ball = [2.0, Double.pi, 4 * Double.pi / 3][d - 1]
        func cost(_ eps: Double) -> Double {
            let fft = fftCost(width: width, spacing: eps / steps, reach: .infinity, boundary: eps, window: w, channels: channels,
                              periodic: periodic)
            return fft + 20e-9 * Double(m) * density * ball * pow(eps, Double(d))
        }
        var best = (radius: width.max()!, cost: Double.infinity)
        // Radii on the fixed ladder 2^(j/4), at most half the box: as the box drifts from step
        // to step the radius, hence the grid and its cached multiplier, stay put; the previous
        // call's radius is kept while it costs at most 10 % more than the best.
        let top = Int((4 * log2(width.max()! / 2)).rounded(.down))
        for k in 0..<160 {
            let eps = pow(2, Double(top - k) / 4), c = cost(eps)
            if c == .infinity { break }
            if c < best.cost { best = (eps, c) }
        }
        if let p = previous, p > 0, p <= width.max()! / 2, cost(p) <= 1.1 * best.cost { return (p, cost(p)) }
        return best
    }
}

/// The far part: spread, convolve, interpolate.
struct MeshConvolution {
    let plan: MeshPlan
    let workspace: MeshWorkspace
    let problem: KernelSumProblem
    let threads: Int

    func run(values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        let d = plan.dimension, n = problem.sourceCount, m = problem.targetCount
        let channels = problem.channels, gch = problem.gradientChannels, g = gch.count
        // Three slots, unit ones first: the last slot is always a real, contiguous axis, so
        // the innermost loops run over w neighbouring grid values.
        let lead = 3 - d
        let w = plan.spreadWidth
        // In the periodic box spreading and interpolation run on the FFT grid padded by w
        // points on each side, folded onto it and unfolded from it (``PeriodicGrid``).
        let periodic = plan.box.map { _ in PeriodicGrid(grid: plan.grid, dimension: d, pad: w, channels: channels, workspace: workspace) }
        let shape = [Int](repeating: 1, count: lead) + (periodic?.shape ?? plan.grid)[0..<d]
        let (n1, n2) = (shape[1], shape[2])
        let spreadTotal = shape[0] * n1 * n2
        let total = plan.grid[0..<d].reduce(1, *)
        let hh = plan.gridSpacing
        let window = ESWindow(beta: plan.spreadBeta)
        // Grid index 0 lies w cells below the box, so no window reaches below 0 or past the end.
        let origin = (0..<3).map { $0 < lead ? 0 : plan.low[$0 - lead] - Double(w) * hh }
        let widths = (0..<3).map { $0 < lead ? 1 : w }
        let half = Double(w) / 2
        let factors = WindowFactors(lead: lead, width: w, half: half, spacing: hh, origin: origin, window: window)

        // (1) Spread. Sources sorted by their first row (a stable counting sort); each slab of
        // rows takes, in that order, the points whose window meets it.
        let grid = workspace.real!
        let spreadGrid = periodic?.buffer ?? grid
        let rows = shape[lead], rowSize = spreadTotal / rows
        /// Points by the first grid row their window meets (a stable counting sort), and where
        /// each row's points begin.
        func byFirstRow(_ points: UnsafeBufferPointer<Double>) -> (order: [Int], start: [Int]) {
            countingSort(points.count / d, buckets: rows) { i in min(rows - 1, max(0, factors.start(points[i * d], slot: lead))) }
        }
        let (order, rowStart) = byFirstRow(problem.sources)
        let (targetOrder, targetRowStart) = byFirstRow(problem.targets)
        // Rows below this hold every window (of sources and of targets); the rest of axis 0 is
        // the zero padding of the aperiodic convolution, which the FFTs skip.
        let lastRow = { (starts: [Int]) in starts.lastIndex { $0 < starts.last! } ?? 0 }
        let usedRows = periodic == nil ? min(rows, max(lastRow(rowStart), lastRow(targetRowStart)) + w + 1) : nil
        let slabs = threads == 1 ? 1 : min(rows, 4 * threads)
        let sources = SharedPointer(problem.sources.baseAddress!), weights = SharedPointer(problem.weights.baseAddress!)
        let gridShared = SharedMutablePointer(spreadGrid)
        Parallel.forEachChunk(slabs, threads: threads, minimumChunk: 1) { slabRange in
            for slab in slabRange {
                let r0 = slab * rows / slabs, r1 = (slab + 1) * rows / slabs
                for c in 0..<channels { (gridShared.base + c * spreadTotal + r0 * rowSize).initialize(repeating: 0, count: (r1 - r0) * rowSize) }
                let first = rowStart[max(0, r0 - w + 1)], last = rowStart[r1]
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * 16) { fb in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                        let f = fb.baseAddress!, start = sb.baseAddress!
                        for k in first..<last {
                            let i = order[k]
                            factors.values(sources.base + i * d, f, start)
                            // The slab clips the lead slot's range.
                            var klo = (0, 0, 0), khi = (widths[0], widths[1], widths[2])
                            let clipLo = max(0, r0 - start[lead]), clipHi = min(w, r1 - start[lead])
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
                                        let f01 = f0 * f[16 + k1]
                                        let row = base + ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                        for k2 in klo.2..<khi.2 { row[k2] += f01 * f[32 + k2] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        periodic?.fold(into: grid, channels: channels, threads: threads)
        // (2) Convolve each channel: r2c, multiply, c2r (unnormalised: the multiplier holds it).
        let complexCount = workspace.complexCount
        let multiplier = workspace.multiplier
        for c in 0..<channels {
            workspace.transform.forward(grid + c * total, workspace.spectrum, threads: threads, leading: usedRows)
            let spectrum = SharedMutablePointer(workspace.spectrum)
            multiplier.withUnsafeBufferPointer { mp in
                let factor = SharedPointer(mp.baseAddress!)
                Parallel.forEachChunk(complexCount, threads: threads, minimumChunk: 1 << 14) { range in
                    for k in range {
                        spectrum[k].0 *= factor[k]
                        spectrum[k].1 *= factor[k]
                    }
                }
            }
            workspace.transform.backward(workspace.spectrum, grid + c * total, threads: threads, leading: usedRows)
        }
        periodic?.unfold(from: grid, channels: channels, threads: threads)
        // (3) Interpolate values and gradients, separably: innermost axis first. Targets are
        // taken by their first row, so consecutive ones read the same rows of the grid.
        let gridPointer = SharedPointer(UnsafePointer(spreadGrid))
        let targets = SharedPointer(problem.targets.baseAddress!)
        let out = SharedMutablePointer(values.baseAddress!)
        let gout = SharedMutablePointer(gradients.baseAddress ?? values.baseAddress!)
        // offset · Σ_i w_ic per channel, added to every value (``MeshPlan/offset``).
        let added = (0..<channels).map { c in (0..<n).reduce(0.0) { $0 + problem.weights[c * n + $1] } * plan.offset }
        var gradientIndex = [Int](repeating: -1, count: channels)
        for (gi, c) in gch.enumerated() { gradientIndex[c] = gi }
        let gradientIndexCopy = gradientIndex
        Parallel.forEachChunk(m, threads: threads, minimumChunk: 64) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 6 * 16) { fb in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                    let f = fb.baseAddress!, df = f + 48
                    let start = sb.baseAddress!
                    for q in range {
                        let j = targetOrder[q], y = targets.base + j * d
                        factors.values(y, f, start, derivatives: df)
                        let f0 = f, f1 = f + 16, f2 = f + 32
                        let d0 = df, d1 = df + 16, d2 = df + 32
                        for c in 0..<channels {
                            let grid = gridPointer.base + c * spreadTotal
                            let gi = gradientIndexCopy[c]
                            var value = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0
                            for k0 in 0..<widths[0] {
                                var rv = 0.0, r1 = 0.0, r2 = 0.0
                                for k1 in 0..<widths[1] {
                                    let row = grid + ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                    var iv = 0.0, i2 = 0.0
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
                            out[j * channels + c] = value + added[c]
                            if gi >= 0 {
                                let gj = gout.base + (j * g + gi) * d
                                // Slot s holds axis s − lead.
                                switch d {
                                case 1: gj[0] = g2
                                case 2: gj[0] = g1; gj[1] = g2
                                default: gj[0] = g0; gj[1] = g1; gj[2] = g2
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
/// indices l = start ..< start + w around u = (x − origin)/h, in three slots of 16; the first
/// `lead` slots are unit axes (a single 1), slot s ≥ lead holds axis s − lead.
struct WindowFactors: Sendable {
    let lead: Int
    let width: Int
    let half: Double
    let spacing: Double
    let origin: [Double]
    let window: ESWindow

    @inline(__always) func start(_ x: Double, slot a: Int) -> Int {
        let u = (x - origin[a]) / spacing
        return Int((u - half).rounded(.up))
    }

    /// Fills f[16a + k] (and, if asked, the derivatives d/dx of each factor) and start[a].
    @inline(__always) func values(_ p: UnsafePointer<Double>, _ f: UnsafeMutablePointer<Double>,
                                  _ start: UnsafeMutablePointer<Int>, derivatives df: UnsafeMutablePointer<Double>? = nil) {
        typealias V = SIMD8<Double>
        let inverseHalf = 1 / half
        let beta = V(repeating: window.beta)
        let lanes = V(0, 1, 2, 3, 4, 5, 6, 7)
        for a in 0..<3 {
            let fa = f + 16 * a
            guard a >= lead else {
                start[a] = 0
                fa[0] = 1
                df?[16 * a] = 0
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
                    for l in 0..<min(8, width - k) { df[16 * a + k + l] = dv[l] }
                }
                k += 8
            }
        }
    }
}

/// Adds the near part of a split kernel, pair by pair, over the sources within ε of each target
/// (found with a dense ``CellList``).
public struct NearField {
    let split: KernelSplit
    let problem: KernelSumProblem
    let threads: Int
    /// The periodic box's L (neighbours and differences by minimum image), or nil.
    var period: Double? = nil

    func add(values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        split.kernel.addNearField(self, values: values, gradients: gradients)
    }

    /// Generic over the kernel's type (the existential is opened once, not per pair). Targets
    /// are taken in cell order; the sources within ε of a target are gathered 64 at a time from the cell list's runs (points
    /// and weights stored in cell order, read sequentially) and taken eight at a time: profiles
    /// by ``RadialKernel/profile8(_:)`` (vectorised exp and log), ψ from its table, products
    /// accumulated in eight lanes that are summed per target in a fixed order.
    func add<K: RadialKernel>(_ kernel: K, values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        typealias V = SIMD8<Double>
        let d = problem.dimension, n = problem.sourceCount, m = problem.targetCount
        let channels = problem.channels, g = problem.gradientChannels.count
        // Cells of ε/2: the 5^d cells around a target waste less area than 3^d cells of ε.
        let cells = CellList(points: problem.sources, dimension: d, cellSize: split.radius / 2, period: period)
        let box = period ?? 0, halfBox = box / 2
        let sortedWeights = UnsafeMutablePointer<Double>.allocate(capacity: channels * n)
        let gradientChannels = UnsafeMutablePointer<Int>.allocate(capacity: max(1, g))
        // ψ's table as (value, slope · interval) pairs.
        let intervals = SmoothStep.intervals
        let table = UnsafeMutablePointer<Double>.allocate(capacity: 2 * (intervals + 1))
        defer { sortedWeights.deallocate(); gradientChannels.deallocate(); table.deallocate() }
        for c in 0..<channels { for k in 0..<n { sortedWeights[c * n + k] = problem.weights[c * n + cells.index[k]] } }
        for (gi, c) in problem.gradientChannels.enumerated() { gradientChannels[gi] = c }
        for k in 0...intervals { table[2 * k] = split.step.values[k]; table[2 * k + 1] = split.step.slopes[k] / Double(intervals) }
        let targets = SharedPointer(problem.targets.baseAddress!), points = SharedPointer(UnsafePointer(cells.points))
        let weights = SharedPointer(UnsafePointer(sortedWeights)), gradientChannel = SharedPointer(UnsafePointer(gradientChannels))
        let steps = SharedPointer(UnsafePointer(table))
        let out = SharedMutablePointer(values.baseAddress!)
        let gout = SharedMutablePointer(gradients.baseAddress ?? values.baseAddress!)
        let radius = split.radius, core = split.core, r2max = radius * radius
        let order = cells.cellOrder(of: problem.targets), maximumRuns = cells.maximumRuns(within: radius)
        Parallel.forEachChunk(m, threads: threads, minimumChunk: 64) { range in
            withUnsafeTemporaryAllocation(of: V.self, capacity: channels + g * d) { accumulators in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * 64) { buffer in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 64 + 2 * maximumRuns) { positionBuffer in
                        let acc = accumulators.baseAddress!, gacc = acc + channels
                        // Per gathered pair: r², the sorted position and y − x by axis.
                        let r2s = buffer.baseAddress!, differences = r2s + 64
                        let position = positionBuffer.baseAddress!, runs = position + 64
                        /// Adds the `count` gathered pairs.
                        func flush(_ count: Int) {
                            // Pad to whole lanes with r² = ε², where the near part and its slope are 0.
                            var k = count
                            while k % 8 != 0 {
                                r2s[k] = r2max
                                position[k] = 0
                                for a in 0..<d { differences[a * 64 + k] = 0 }
                                k += 1
                            }
                            for lane in stride(from: 0, to: k, by: 8) {
                                let r2 = UnsafeRawPointer(r2s + lane).loadUnaligned(as: V.self)
                                let (kv, ks) = kernel.profile8(r2)
                                let r = r2.squareRoot()
                                // ψ and ψ' of the cubic Hermite table (as SmoothStep.valueAndDerivative).
                                // No lane masks (compiled to per-lane stack traffic): the padding
                                // (r = ε) lands on the table's last node, where ψ = ψ' = 0, and a
                                // coincident pair (r = 0) on its first, where ψ = 1, ψ' = 0, so its
                                // value is k(0) − c and its slope the kernel's own 0 at r = 0.
                                let u = r * V(repeating: Double(intervals) / radius)
                                let cell = pointwiseMin(u.rounded(.down), V(repeating: Double(intervals - 1)))
                                let sv = u - cell
                                var y0 = V(), m0 = V(), y1 = V(), m1 = V()
                                for q in 0..<8 {
                                    let k = Int(cell[q])
                                    y0[q] = steps[2 * k]; m0[q] = steps[2 * k + 1]
                                    y1[q] = steps[2 * k + 2]; m1[q] = steps[2 * k + 3]
                                }
                                let s2: V = sv * sv, s3: V = s2 * sv
                                let two = V(repeating: 2), three = V(repeating: 3), six = V(repeating: 6), one = V(repeating: 1)
                                let h00: V = two * s3 - three * s2 + one, h10: V = s3 - two * s2 + sv
                                let h01: V = three * s2 - two * s3, h11: V = s3 - s2
                                var p: V = h00 * y0 + h10 * m0
                                p += h01 * y1 + h11 * m1
                                let d00: V = six * s2 - six * sv, d10: V = three * s2 - V(repeating: 4) * sv + one
                                let d01: V = six * sv - six * s2, d11: V = three * s2 - two * sv
                                var dp: V = d00 * y0 + d10 * m0
                                dp += d01 * y1 + d11 * m1
                                dp *= V(repeating: Double(intervals) / radius)
                                let excess = kv - V(repeating: core)
                                let value = p * excess
                                let slope = dp * excess / pointwiseMax(r, V(repeating: 0x1p-1000)) + p * ks
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
                                        gacc[gi * d + a] += ws * UnsafeRawPointer(differences + a * 64 + lane).loadUnaligned(as: V.self)
                                    }
                                }
                            }
                        }
                        for q in range {
                            let j = order[q], y = targets.base + j * d
                            acc.initialize(repeating: V(), count: channels + g * d)
                            var count = 0
                            for run in 0..<cells.runs(near: y, within: radius, into: runs) {
                                if d == 2 && box == 0 {
                                    // The common case unrolled: no loop over axes, no wrapping.
                                    let y0 = y[0], y1 = y[1]
                                    for k in runs[2 * run]..<runs[2 * run + 1] {
                                        let t0 = y0 - points.base[2 * k], t1 = y1 - points.base[2 * k + 1]
                                        let r2 = t0 * t0 + t1 * t1
                                        differences[count] = t0
                                        differences[64 + count] = t1
                                        r2s[count] = r2
                                        position[count] = k
                                        if r2 < r2max {
                                            count += 1
                                            if count == 64 { flush(64); count = 0 }
                                        }
                                    }
                                    continue
                                }
                                for k in runs[2 * run]..<runs[2 * run + 1] {
                                    let x = points.base + k * d
                                    var r2 = 0.0
                                    for a in 0..<d {
                                        var t = y[a] - x[a]
                                        if box > 0 { if t > halfBox { t -= box } else if t < -halfBox { t += box } }
                                        differences[a * 64 + count] = t
                                        r2 += t * t
                                    }
                                    if r2 < r2max {
                                        r2s[count] = r2
                                        position[count] = k
                                        count += 1
                                        if count == 64 { flush(64); count = 0 }
                                    }
                                }
                            }
                            flush(count)
                            for c in 0..<channels { out[j * channels + c] += acc[c].sum() }
                            for t in 0..<(g * d) { gout[j * g * d + t] += gacc[t].sum() }
                        }
                    }
                }
            }
        }
    }
}

/// FFTW plans, buffers and the convolution multiplier for one plan, reused while the plan's
/// key stays the same. FFTW planning is not thread-safe: one global lock guards it.
final class MeshWorkspace: @unchecked Sendable {
    static let planning = NSLock()
    let lock = NSLock()
    var plan: MeshPlan? = nil
    /// The last call's grid choice, which the next call's hysteresis keeps while it is near the
    /// best: part of a run's state (a checkpoint saves it, see ``MeshSum/saveState()``).
    var history: MeshHistory? = nil
    var key = "", channels = 0
    // Valid once `prepare` has run (the engine calls it before any use).
    var real: UnsafeMutablePointer<Double>! = nil
    var spectrum: UnsafeMutablePointer<fftw_complex>! = nil
    var multiplier: [Double] = []
    var complexCount = 0
    var transform: GridFFT! = nil
    /// The padded spreading grid of the periodic box (``PeriodicGrid``), kept between calls.
    var padded = PaddedBuffer()
    var report: [String: String] = [:]

    func prepare(_ newPlan: MeshPlan, kernel: any RadialKernel, channels c: Int, threads: Int) {
        defer { plan = newPlan; history = newPlan.history }
        if newPlan.key == key && c <= channels { return }
        release()
        key = newPlan.key
        channels = c
        let d = newPlan.dimension
        let shape = Array(newPlan.grid[0..<d])
        let total = shape.reduce(1, *)
        complexCount = total / shape[d - 1] * (shape[d - 1] / 2 + 1)
        real = UnsafeMutablePointer<Double>(fftw_alloc_real(total * c))
        spectrum = UnsafeMutablePointer<fftw_complex>(fftw_alloc_complex(complexCount))!
        transform = GridFFT(shape: shape, band: Array(newPlan.modes[0..<d]), real: real, spectrum: spectrum)
        multiplier = MeshWorkspace.multiplier(newPlan, shape: shape, threads: threads)
    }

    /// b_k (h/2)^{2d} / Π_a φ̂_a(ω_k)² on the spreading grid's r2c layout, zero beyond the
    /// modes; b_k = (1/Π n_a) × the DFT of the far kernel sampled on the mode grid.
    static func multiplier(_ plan: MeshPlan, shape: [Int], threads: Int) -> [Double] {
        let d = plan.dimension, h = plan.spacing
        let modes = Array(plan.modes[0..<d])
        let modeTotal = modes.reduce(1, *)
        let modeComplex = modeTotal / modes[d - 1] * (modes[d - 1] / 2 + 1)
        // Far kernel samples at minimum-image offsets.
        let samples = UnsafeMutablePointer<Double>(fftw_alloc_real(modeTotal))!
        let spectrum = UnsafeMutablePointer<fftw_complex>(fftw_alloc_complex(modeComplex))!
        defer { fftw_free(samples); fftw_free(spectrum) }
        // Per axis: z² and the truncation's step at each mode index (offsets k or k − n_a).
        let m3 = plan.modes
        var squares = [[Double]](), boundaries = [[Double]]()
        for a in 0..<3 {
            squares.append((0..<m3[a]).map { i in
                guard a < d else { return 0 }
                let z = Double(i <= m3[a] / 2 ? i : i - m3[a]) * h
                return z * z
            })
            boundaries.append((0..<m3[a]).map { i in
                a < d ? plan.split.step.value((squares[a][i].squareRoot() - plan.truncation[a]) / plan.boundaryWidth) : 1
            })
        }
        let split = plan.split, offset = plan.offset, sampled = SharedMutablePointer(samples), zz = squares, steps = boundaries
        Parallel.forEachChunk(m3[0] * m3[1], threads: threads, minimumChunk: 16) { range in
            for row in range {
                let (i0, i1) = row.quotientAndRemainder(dividingBy: m3[1])
                let r2 = zz[0][i0] + zz[1][i1], b = steps[0][i0] * steps[1][i1]
                for i2 in 0..<m3[2] {
                    let boundary = b * steps[2][i2]
                    sampled[row * m3[2] + i2] = boundary == 0 ? 0 : boundary * (split.far((r2 + zz[2][i2]).squareRoot()) - offset)
                }
            }
        }
        var dims = modes.map { Int32($0) }
        MeshWorkspace.planning.lock()
        let p = fftw_plan_dft_r2c(Int32(d), &dims, samples, spectrum, FFTW_ESTIMATE)
        MeshWorkspace.planning.unlock()
        fftw_execute(p)
        MeshWorkspace.planning.lock()
        fftw_destroy_plan(p)
        MeshWorkspace.planning.unlock()
        // The window's transform per axis and mode: φ_phys(x) = φ(x/a), a = (w/2)(h/2),
        // so φ̂(ω) = a ∫φ(t) cos(ω a t) dt.
        let window = ESWindow(beta: plan.spreadBeta)
        let rule = GaussLegendre(2 * plan.spreadWidth + 40)
        let a = Double(plan.spreadWidth) / 2 * plan.gridSpacing
        var factor: [[Double]] = []
        for ax in 0..<d {
            let period = Double(modes[ax]) * h
            factor.append((0...(modes[ax] / 2)).map { k in
                let phi = a * window.fourier(2 * Double.pi * Double(k) / period * a, rule: rule)
                return pow(plan.gridSpacing / phi, 2)
            })
        }
        // Per axis and grid index of the r2c layout: the mode |k| (folded: the far kernel is
        // even) and its factor, or −1 beyond the modes.
        let s3 = shape + [Int](repeating: 1, count: 3 - d)
        let last = d - 1
        var c3 = s3
        c3[last] = s3[last] / 2 + 1
        var mcomplex = modes + [Int](repeating: 1, count: 3 - d)
        mcomplex[last] = mcomplex[last] / 2 + 1
        var modeOf = [[Int]](), factorOf = [[Double]]()
        for ax in 0..<3 {
            var m = [Int](), f = [Double]()
            for i in 0..<c3[ax] {
                guard ax < d else { m.append(0); f.append(1); continue }
                let k = ax == last ? i : (i <= s3[ax] / 2 ? i : s3[ax] - i)
                m.append(2 * k >= modes[ax] ? -1 : k)
                f.append(2 * k >= modes[ax] ? 0 : factor[ax][k])
            }
            modeOf.append(m)
            factorOf.append(f)
        }
        let scale = 1 / Double(modeTotal)
        let modeTable = modeOf, factorTable = factorOf, complexShape = c3
        var out = [Double](repeating: 0, count: c3[0] * c3[1] * c3[2])
        let transformed = SharedPointer(UnsafePointer(spectrum))
        out.withUnsafeMutableBufferPointer { op in
            let o = SharedMutablePointer(op.baseAddress!)
            let mc1 = mcomplex[1], mc2 = mcomplex[2]
            Parallel.forEachChunk(complexShape[0] * complexShape[1], threads: threads, minimumChunk: 16) { range in
                for row in range {
                    let (i0, i1) = row.quotientAndRemainder(dividingBy: complexShape[1])
                    let k0 = modeTable[0][i0], k1 = modeTable[1][i1]
                    if k0 < 0 || k1 < 0 { continue }
                    let f01 = scale * factorTable[0][i0] * factorTable[1][i1], base = (k0 * mc1 + k1) * mc2
                    for i2 in 0..<complexShape[2] where modeTable[2][i2] >= 0 {
                        o[row * complexShape[2] + i2] = f01 * factorTable[2][i2] * transformed[base + modeTable[2][i2]].0
                    }
                }
            }
        }
        return out
    }

    func release() {
        transform = nil
        if let r = real { fftw_free(r) }
        if let s = spectrum { fftw_free(s) }
        real = nil
        spectrum = nil
        key = ""
    }

    deinit { release() }
}
