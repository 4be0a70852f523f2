import Communication
import Foundation

/// Kernel sums on a mesh, d = 1, 2, 3, for every kernel: a non-uniform FFT convolution for the
/// smooth far part of the kernel and exact sums over neighbours (`CellList`) for its
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
/// One call runs in phases, each in its own file, as FINUFFT splits makeplan, setpts and
/// execute: `MeshPlan` chooses the grid, window and near radius from the tolerance (with
/// ``MeshOptions``' constants); `MeshWorkspace` keeps the FFT buffers, plans and multiplier
/// while the plan's key stays the same; `MeshConvolution` spreads, convolves and
/// interpolates; `NearField` adds the near part.
///
/// Parameters from the tolerance τ (with ``MeshOptions``' defaults): window width
/// w = ⌈log10(10/τ)⌉ + 2 (≤ 16), β = 2.3 w; smooth step ψ with β_ψ = ln(30/τ) resolved by
/// m = ⌈0.75 β_ψ⌉ + 1 grid steps, so h = ε/m (Gaussian: h = πσ/√(2 ln(30/τ))). The near radius
/// ε balances the estimated pair count of the near field against the FFT size.
///
/// Spreading runs over slabs of grid rows, each slab fed the points in one fixed order, and
/// the FFTs run block by block with fixed plans (`GridFFT`): the output does not depend on
/// `threads`. Plans, buffers and the multiplier are kept while the grid stays the same.
///
/// Given a communicator of K > 1 ranks (d = 2, 3), every call is collective: each rank spreads,
/// transforms and multiplies on its slab of the grid (`SharedGrid`), receives the rows next
/// to it that its share of the targets reads (equal blocks of the targets in the order of the
/// grid row their window starts in), interpolates and adds the near field at its share,
/// and the shares are gathered. The sums are bit for bit those of one process. A
/// ``DistributedSum`` over this engine lets it share its sums so
/// (``sumAcrossRanks(_:_:values:gradients:)``).
///
/// In the periodic box [0, L)^d (a periodic ``Domain``) the sum is over the box, each pair
/// through its minimum image, exactly as ``DirectSum`` in the same domain: s(y) = Σ_j w_j k(mi(y − x_j)), mi the
/// minimum-image difference (points are wrapped into the box first). The mode grid then covers
/// one period, n_a = fftSize(⌈L/h⌉) modes of spacing L/n_a, with no zero padding and no
/// truncation: the far kernel is sampled at minimum-image offsets, spreading and interpolation
/// wrap around the grid (see `PeriodicGrid`), the near field uses a periodic `CellList`
/// and ε ≤ L/2. No Ewald sum: the minimum-image kernel has a kink at |z_a| = L/2 unless the
/// kernel has decayed there, so the mesh meets its tolerance only for kernels negligible
/// beyond L/2.
public struct MeshSum: SharesSumsAcrossRanks {
    /// The relative tolerance τ the grid is chosen for (clamped to
    /// ``MeshOptions/toleranceRange``).
    public let tolerance: Double
    /// Threads of the spreading, FFTs, interpolation and near field (at least 1); the output
    /// does not depend on it.
    public let threads: Int
    /// R^d, or the periodic box [0, L)^d.
    public let domain: Domain
    /// The constants the plan is chosen with (``MeshOptions``' defaults unless given).
    public let options: MeshOptions
    /// The ranks that share the grid, or nil: every rank must then make the same calls.
    public nonisolated(unsafe) let communicator: (any Communicator)?
    let workspace = MeshWorkspace()

    /// - Parameters:
    ///   - tolerance: the relative tolerance τ of values and gradients.
    ///   - threads: threads to use (values below 1 are taken as 1).
    ///   - domain: R^d, or the periodic box [0, L)^d.
    ///   - options: the mesh's tunable constants.
    ///   - communicator: ranks to share the grid with (more than one makes every call collective).
    public init(
        tolerance: Double, threads: Int, domain: Domain = .free, options: MeshOptions = MeshOptions(),
        communicator: (any Communicator)? = nil
    ) {
        self.tolerance = tolerance
        self.threads = max(1, threads)
        self.domain = domain
        self.options = options
        self.communicator = communicator.flatMap { $0.size > 1 ? $0 : nil }
    }

    /// `mesh`, the registry name.
    public var name: String { "mesh" }

    /// The last call's grid (`grid`, `spacing`, `window-width`, `near-radius`) or why it was
    /// summed directly (`fallback`), with the tolerance and period: recorded in run.json.
    public var parameters: [String: String] {
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        var own = ["tolerance": "\(tolerance)"]
        if let period = domain.period { own["period"] = "\(period)" }
        return workspace.report.merging(own) { a, _ in a }
    }

    /// Why this engine cannot sum `kernel` in dimension d, or nil.
    public static func unsupported(_ kernel: any RadialKernel, dimension d: Int) -> String? {
        guard (1...3).contains(d) else {
            return "the mesh engine works in dimensions 1 to 3, not \(d) (use direct or sliced)"
        }
        return nil
    }

    /// Whether the periodic mesh meets `tolerance` for `kernel` in the box of side L. The
    /// minimum-image kernel has a kink where a coordinate of the difference reaches ±L/2, which
    /// no mesh resolves; it stays below the tolerance when the kernel has decayed there:
    /// |κ(L/2)| ≤ τ |κ(0)| (so never for singular or growing kernels). `auto` takes the
    /// periodic mesh only then; `mesh` asked for explicitly is used as asked.
    public static func periodicMeshApplies(_ kernel: any RadialKernel, period l: Double, tolerance: Double) -> Bool {
        guard kernel.regularity != .singular else { return false }
        let centre = abs(kernel.value(squaredDistance: 0))
        let edge = abs(kernel.value(squaredDistance: l * l / 4))
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

    /// Fills `values` and `gradients` (``KernelSumEngine``'s layout). Points outside the
    /// periodic box are wrapped into it first; outside d = 1…3, or where no grid serves
    /// (`MeshPlan.fallback`), the sum is direct.
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - problem: sources, weights and targets.
    ///   - values: M·C values, overwritten.
    ///   - gradients: M·G·d gradients, overwritten.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        sum(kernel, problem, targets: 0..<problem.targetCount, values: values, gradients: gradients)
    }

    /// The sums at the targets `range` only, on the grid planned for the whole problem (every
    /// source spread; the targets of `range` interpolated and given their near field).
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        guard problem.restricted(to: range).fits(values: values, gradients: gradients) else { return }
        // Outside d = 1…3 (the factory refuses it; a direct caller is served exactly).
        guard MeshSum.unsupported(kernel, dimension: problem.dimension) == nil else {
            return direct.sum(kernel, problem.restricted(to: range), values: values, gradients: gradients)
        }
        // A rank with no targets still takes its share of a shared grid.
        guard !range.isEmpty || communicator != nil else { return }
        guard problem.sourceCount > 0 else {
            for k in 0..<values.count { values[k] = 0 }
            for k in 0..<gradients.count { gradients[k] = 0 }
            return
        }
        _ = inBox(problem) {
            run(kernel, $0, targets: range, values: values, gradients: gradients, unlessFallback: false)
        }
    }

    /// With a communicator (d = 2, 3): every target's sums, shared by slabs of the grid and
    /// targets by the rows they read (collective; every rank ends with every result); false,
    /// having done nothing, where the plan falls back to the direct sum (better shared by
    /// blocks of targets) or there is nothing to share (the same answer on every rank).
    public func sumAcrossRanks(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool {
        guard communicator != nil, (2...3).contains(problem.dimension), problem.sourceCount > 0,
            MeshSum.unsupported(kernel, dimension: problem.dimension) == nil,
            problem.fits(values: values, gradients: gradients)
        else { return false }
        return inBox(problem) {
            run(
                kernel, $0, targets: 0..<problem.targetCount, values: values, gradients: gradients, unlessFallback: true
            )
        }
    }

    /// `body` on `problem` with its points wrapped into the periodic box, if any lies outside
    /// (the grids hold one period), else on `problem` itself.
    private func inBox<T>(_ problem: KernelSumProblem, _ body: (KernelSumProblem) -> T) -> T {
        guard let wrapped = domain.wrapped(problem) else { return body(problem) }
        return wrapped.sources.withUnsafeBufferPointer { s in
            wrapped.targets.withUnsafeBufferPointer { t in
                var inBox = problem
                inBox.sources = s
                inBox.targets = t
                return body(inBox)
            }
        }
    }

    /// The cost model's seconds for summing `problem` on one thread (``MeshOptions``' rates:
    /// FFTs, near field, spreading and interpolation), for the plan a call would make now; nil
    /// where the call would hand over to the direct sum. What `auto` compares with the direct
    /// sum's pairs.
    public func estimatedSeconds(_ kernel: any RadialKernel, _ problem: KernelSumProblem) -> Double? {
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        let plan = currentPlan(kernel, MeshPlan.Inputs(problem, period: domain.period, options: options), ws)
        return plan.fallback == nil ? plan.estimatedSeconds : nil
    }

    /// The plan a call on `inputs` makes now: the workspace's last grid kept while it stays
    /// near the best, its smooth-step table reused (the caller holds the workspace's lock).
    func currentPlan(_ kernel: any RadialKernel, _ inputs: MeshPlan.Inputs, _ ws: MeshWorkspace) -> MeshPlan {
        MeshPlan(
            kernel: kernel, inputs: inputs, tolerance: tolerance, previous: ws.history,
            reusableStep: ws.plan?.split.step, domain: domain, options: options)
    }

    /// The exact engine this one hands over to.
    var direct: DirectSum { DirectSum(threads: threads, domain: domain) }

    /// One call on points inside the box: plan for the whole problem, then the far part on the
    /// grid and the near part pair by pair at the targets `range` (or the direct sum when the
    /// plan falls back, unless `unlessFallback`: then nothing and false).
    @discardableResult
    func run(
        _ kernel: any RadialKernel, _ whole: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>,
        unlessFallback: Bool
    ) -> Bool {
        let problem = whole.restricted(to: range)
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        let plan = currentPlan(kernel, MeshPlan.Inputs(whole, period: domain.period, options: options), ws)
        if let fallback = plan.fallback {
            guard !unlessFallback else { return false }
            ws.report = ["fallback": fallback]
            direct.sum(kernel, problem, values: values, gradients: gradients)
            return true
        }
        // The ranks share the grid in d = 2, 3 (a 1-D grid is one row: every rank does it).
        let sharing = whole.dimension > 1 ? communicator : nil
        let buffers = ws.prepare(
            plan, channels: problem.channels, threads: threads, share: sharing.map { ($0.rank, $0.size) })
        ws.report = plan.report
        if let sharing {
            runShared(
                plan, buffers: buffers, whole, targets: range, communicator: sharing, values: values,
                gradients: gradients)
            return true
        }
        MeshConvolution(
            plan: plan, buffers: buffers, padded: ws.padded, problem: problem, allTargets: whole.targets,
            threads: threads
        )
        .run(values: values, gradients: gradients)
        addNearField(plan, problem, values: values, gradients: gradients)
        return true
    }

    /// The near part of the plan's split, if it has one.
    private func addNearField(
        _ plan: MeshPlan, _ problem: KernelSumProblem, values: UnsafeMutableBufferPointer<Double>,
        gradients: UnsafeMutableBufferPointer<Double>
    ) {
        guard plan.split.radius > 0 else { return }
        NearField(
            split: plan.split, problem: problem, threads: threads, domain: domain,
            cellsPerRadius: options.nearCellsPerRadius
        )
        .add(values: values, gradients: gradients)
    }

    /// The targets `range` of a sum whose grid the ranks share (``SharedGrid``): each rank
    /// interpolates and adds the near field at its share of all the targets
    /// (``MeshConvolution/targetShares``, consecutive in the order of the rows their windows
    /// start in), the shares are gathered in rank order, that is in that order, and put back in
    /// the targets' order. Per target the arithmetic is one process's: bit for bit.
    private func runShared(
        _ plan: MeshPlan, buffers: MeshBuffers, _ whole: KernelSumProblem, targets range: Range<Int>,
        communicator: any Communicator, values: UnsafeMutableBufferPointer<Double>,
        gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let convolution = MeshConvolution(
            plan: plan, buffers: buffers, padded: workspace.padded, problem: whole, allTargets: whole.targets,
            threads: threads, communicator: communicator)
        let d = whole.dimension
        let c = whole.channels
        let gd = whole.gradientChannels.count * d
        let order = convolution.targetRows.order
        let shares = convolution.targetShares
        let mine = shares[communicator.rank]
        // This rank's values, gradients and targets, in its share's order.
        let m = mine.count
        let local = workspace.results.0.reserve(m * (c + gd + d))
        let localValues = UnsafeMutableBufferPointer(start: local, count: m * c)
        let localGradients = UnsafeMutableBufferPointer(start: local + m * c, count: m * gd)
        convolution.run(values: localValues, gradients: localGradients)
        var own = whole
        let targets = local + m * (c + gd)
        for (k, j) in order[mine].enumerated() {
            (targets + k * d).update(from: whole.targets.baseAddress! + j * d, count: d)
        }
        own.targets = UnsafeBufferPointer(start: targets, count: m * d)
        addNearField(plan, own, values: localValues, gradients: localGradients)
        let total = whole.targetCount
        let gathered = workspace.results.1.reserve(total * (c + gd))
        communicator.allGather(
            UnsafeBufferPointer(localValues), counts: shares.map { $0.count * c },
            into: UnsafeMutableBufferPointer(start: gathered, count: total * c))
        communicator.allGather(
            UnsafeBufferPointer(localGradients), counts: shares.map { $0.count * gd },
            into: UnsafeMutableBufferPointer(start: gathered + total * c, count: total * gd))
        for (k, j) in order.enumerated() where range.contains(j) {
            let o = j - range.lowerBound
            (values.baseAddress! + o * c).update(from: gathered + k * c, count: c)
            (gradients.baseAddress.map { $0 + o * gd })?.update(from: gathered + total * c + k * gd, count: gd)
        }
    }
}
