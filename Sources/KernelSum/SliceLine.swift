import Foundation

/// How the sliced engine makes each direction's 1-D sums, and the factor that turns a block of
/// d directions' unscaled sums into its estimate of the kernel sum.
enum SliceLine {
    /// riesz:r=1: Σ_i w_i |t − s_i| by sorting and prefix sums (exact); |x| = c_d E_ξ|⟨ξ, x⟩|,
    /// so the factor is −c_d/d.
    case sorted
    /// A kernel with a spectral density: its profile's cosine series (and a cusp's exponential
    /// by sorting), Σ_i w_i f(t − s_i); F(|x|) = E_ξ f(⟨ξ, x⟩), so the factor is 1/d.
    case profile(SliceProfile)
    /// riesz with r ≠ 1 (d ≥ 2): Σ_i w_i (−|t − s_i|^r) by the 1-D mesh to `tolerance` (no sort
    /// or short series sums |t|^r); |x|^r = E_ξ|⟨ξ, x⟩|^r / m_r with
    /// m_r = E|ξ₁|^r = Γ((r+1)/2) Γ(d/2) / (√π Γ((d+r)/2)), so the factor is 1/(d m_r).
    case mesh(RieszKernel, tolerance: Double)

    /// The factor in dimension d.
    func scale(dimension d: Int) -> Double {
        let dd = Double(d)
        switch self {
        case .sorted: return -SlicedSum.sliceConstant(dimension: d) / dd
        case .profile: return 1 / dd
        case .mesh(let kernel, _):
            let r: Double = kernel.r
            let numerator: Double = lgamma((r + 1) / 2) + lgamma(dd / 2)
            let denominator: Double = 0.5 * log(Double.pi) + lgamma((dd + r) / 2)
            return exp(denominator - numerator) / dd
        }
    }

    /// The profile, if the line sums one.
    var profile: SliceProfile? {
        if case .profile(let p) = self { return p }
        return nil
    }

    /// Whether a target's 1-D sums depend on the other targets (the mesh's grid is planned over
    /// all of them), so that a range of targets must be summed with the rest.
    var readsAllTargets: Bool {
        if case .mesh = self { return true }
        return false
    }

    /// Whether the sweep sorts the projections (riesz:r=1, a cusp).
    var sorts: Bool {
        switch self {
        case .sorted: return true
        case .profile(let p): return p.cusp != nil
        case .mesh: return false
        }
    }
}

/// A worker's 1-D mesh sums for ``SliceLine/mesh(_:tolerance:)``: the mesh engine (its FFT
/// plans and multiplier kept while the grid stays the same) and its buffers.
///
/// Each direction's projections are mapped onto [0, 1] (t ↦ (t − lo)/S, S their span):
/// |S t|^r = S^r |t|^r, so values scale back by S^r and slopes by S^(r−1). Every direction
/// then has the same box and counts, so nearly the same grid. Before each direction the mesh's
/// memory of the last grid is set to one `primed` choice (the grid for the points' projections
/// on the first axis, ``primedGrid(_:tolerance:problem:)``), so the plan is a function of that
/// direction alone, whichever worker sums it (the output does not depend on threads), and the
/// mesh's hysteresis keeps that grid, its multiplier and FFT plans, for every direction whose
/// own best grid is near it. Clearing the memory instead would re-plan every direction whose
/// best near radius moved at all: about 5× slower at N = M = 300.
final class SliceMeshLine: @unchecked Sendable {
    let engine: MeshSum
    /// The grid choice every direction starts from.
    let primed: PartState
    /// The n sources' then the m targets' normalised projections.
    let points: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>
    let values: UnsafeMutablePointer<Double>
    let slopes: UnsafeMutablePointer<Double>
    let (n, m, channels, g): (Int, Int, Int, Int)

    init(tolerance: Double, primed: PartState, sources n: Int, targets m: Int, channels: Int, gradients g: Int) {
        engine = MeshSum(tolerance: tolerance, threads: 1)
        self.primed = primed
        (self.n, self.m, self.channels, self.g) = (n, m, channels, g)
        points = .allocate(capacity: max(1, n + m))
        weights = .allocate(capacity: max(1, channels * n))
        values = .allocate(capacity: max(1, m * channels))
        slopes = .allocate(capacity: max(1, m * g))
    }

    /// The grid the 1-D mesh chooses for the problem's sources and targets projected on the
    /// first axis and mapped onto [0, 1] (unit weights: the plan reads the box, the counts and
    /// the sources' density, not the weights): one 1-D mesh call, the same for every thread count.
    static func primedGrid(_ kernel: RieszKernel, tolerance: Double, problem: KernelSumProblem) -> PartState {
        let (n, m, d) = (problem.sourceCount, problem.targetCount, problem.dimension)
        let first = (0..<n).map { problem.sources[$0 * d] } + (0..<m).map { problem.targets[$0 * d] }
        let (lo, hi) = (first.min() ?? 0, first.max() ?? 0)
        let span = hi > lo ? hi - lo : 1
        let t = first.map { ($0 - lo) / span }
        let engine = MeshSum(tolerance: tolerance, threads: 1)
        var (values, slopes): ([Double], [Double]) = ([], [])
        engine.sum(
            kernel, dimension: 1, sources: Array(t[..<n]),
            weights: [Double](repeating: 1, count: n * problem.channels), channels: problem.channels,
            targets: Array(t[n...]), gradientChannels: problem.gradientChannels, values: &values, gradients: &slopes)
        return engine.saveState()
    }

    deinit {
        points.deallocate()
        weights.deallocate()
        values.deallocate()
        slopes.deallocate()
    }

    /// One direction: writes Σ_i w_ic (−|t_j − s_i|^r) to `out[c·stride + j]` and its slope to
    /// `slopes[gi·stride + j]`, from the projections `v` (sources `0..<n`, then `m` targets) and
    /// weights `wt[c·(n+m) + i]` of `SliceProfile.sweep`.
    func sweep(
        _ kernel: RieszKernel, projections v: UnsafePointer<Double>, gradientChannels: [Int],
        weights wt: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>,
        slopes out2: UnsafeMutablePointer<Double>, stride: Int
    ) {
        let total = n + m
        var (lo, hi) = (v[0], v[0])
        for i in 0..<total { (lo, hi) = (min(lo, v[i]), max(hi, v[i])) }
        let span = hi > lo ? hi - lo : 1
        for i in 0..<total { points[i] = (v[i] - lo) / span }
        for c in 0..<channels {
            for i in 0..<n { weights[c * n + i] = wt[c * total + i] }
        }
        try? engine.restoreState(primed)
        guard
            let problem = KernelSumProblem(
                dimension: 1, sources: UnsafeBufferPointer(start: points, count: n),
                weights: UnsafeBufferPointer(start: weights, count: channels * n), channels: channels,
                targets: UnsafeBufferPointer(start: points + n, count: m), gradientChannels: gradientChannels)
        else { preconditionFailure("SliceMeshLine: a 1-D problem of the sliced one's sizes") }
        engine.sum(
            kernel, problem, values: UnsafeMutableBufferPointer(start: values, count: m * channels),
            gradients: UnsafeMutableBufferPointer(start: slopes, count: m * g))
        let valueScale = pow(span, kernel.r)
        let slopeScale = valueScale / span
        for j in 0..<m {
            for c in 0..<channels { out[c * stride + j] = valueScale * values[j * channels + c] }
            for gi in 0..<g { out2[gi * stride + j] = slopeScale * slopes[j * g + gi] }
        }
    }
}
