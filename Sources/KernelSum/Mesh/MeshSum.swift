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
/// transforms and multiplies on its slab of the grid (``SharedGrid``), the slabs are gathered,
/// and each rank interpolates and adds the near field at the targets asked of it (all of them,
/// or its block in ``sum(_:_:targets:values:gradients:)``). The sums are bit for bit those of
/// one process.
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
public struct MeshSum: KernelSumEngine {
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
        if let wrapped = domain.wrapped(problem) {
            // Points outside [0, L): sum their images in the box.
            wrapped.sources.withUnsafeBufferPointer { s in
                wrapped.targets.withUnsafeBufferPointer { t in
                    var inBox = problem
                    inBox.sources = s
                    inBox.targets = t
                    run(kernel, inBox, targets: range, values: values, gradients: gradients)
                }
            }
            return
        }
        run(kernel, problem, targets: range, values: values, gradients: gradients)
    }

    /// The exact engine this one hands over to.
    var direct: DirectSum { DirectSum(threads: threads, domain: domain) }

    /// One call on points inside the box: plan for the whole problem, then the far part on the
    /// grid and the near part pair by pair at the targets `range` (or the direct sum when the
    /// plan falls back).
    func run(
        _ kernel: any RadialKernel, _ whole: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let problem = whole.restricted(to: range)
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        let plan = MeshPlan(
            kernel: kernel, problem: whole, tolerance: tolerance, previous: ws.history,
            reusableStep: ws.plan?.split.step, domain: domain, options: options)
        if let fallback = plan.fallback {
            ws.report = ["fallback": fallback]
            direct.sum(kernel, problem, values: values, gradients: gradients)
            return
        }
        let buffers = ws.prepare(plan, channels: problem.channels, threads: threads)
        ws.report = plan.report
        MeshConvolution(
            plan: plan, buffers: buffers, padded: ws.padded, problem: problem, allTargets: whole.targets,
            threads: threads, communicator: communicator
        )
        .run(values: values, gradients: gradients)
        if plan.split.radius > 0 {
            NearField(
                split: plan.split, problem: problem, threads: threads, domain: domain,
                cellsPerRadius: options.nearCellsPerRadius
            )
            .add(values: values, gradients: gradients)
        }
    }
}
