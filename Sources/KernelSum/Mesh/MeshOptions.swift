/// The mesh's tunable constants, each with its unit and the reason for its default, set in one
/// place (as FINUFFT's `finufft_opts` and `finufft_default_opts`). ``MeshSum`` reads them from
/// ``MeshSum/options``; the plan (`MeshPlan`) and the near field use nothing else.
///
/// Two kinds: *accuracy* constants decide how fine the grid and how wide the window are for a
/// tolerance τ; *cost* constants decide which of the grids that meet τ is cheapest (the near
/// radius ε against the FFT size). Both change which grid a call uses, hence the output's
/// rounding: outputs are reproducible for fixed options, and the defaults are what every
/// figure in the docs and tests was measured with.
public struct MeshOptions: Sendable, Hashable {
    // MARK: Accuracy

    /// Relative tolerances asked of the mesh are clamped to this range: below 1e-15 rounding
    /// dominates whatever the grid, and above 1e-2 the window and step rules below leave the
    /// range they were measured on.
    public var toleranceRange: ClosedRange<Double> = 1e-15...1e-2

    /// Grid points the window spans beyond FINUFFT's ⌈log10(10/τ)⌉ (for upsampling 2): the
    /// window is w = ⌈log10(10/τ)⌉ + this, at most 16 points (`WindowFactors`' capacity). The
    /// mesh's error also has the smooth step's and the truncation's parts, and gradients are
    /// interpolated with φ′; the tolerance tests (MeshSumTests) hold with 2.
    public var extraWindowPoints: Int = 2

    /// The ES window's shape β per point of its width (β = this × w, dimensionless): FINUFFT's
    /// choice for upsampling factor 2 (the spreading grid is twice as fine as the modes), which
    /// puts the window's spectral tail, about e^(−β), below τ at the last mode.
    public var betaPerWindowPoint: Double = 2.30

    /// How far below τ the far kernel's spectrum lies at the last mode (dimensionless): the
    /// smooth step ψ gets β_ψ = ln(this/τ), and a kernel analytic at 0 (Gaussian, IMQ) gets
    /// its last mode where its own spectrum has fallen to τ/this. Cusp and singular kernels
    /// are held to ``nonSmoothToleranceFactor`` × τ, for which 30 leaves room.
    public var spectralMargin: Double = 30

    /// ``spectralMargin`` for smooth kernels' split (IMQ through the near field): they are held
    /// to τ itself (see MeshSumTests), a hundred times tighter than 30 allows for.
    public var smoothSpectralMargin: Double = 3000

    /// Grid steps across the near radius per unit of β_ψ (dimensionless): h = ε/m with
    /// m = ⌈this × β_ψ⌉ + 1. ψ(r/ε)'s spectrum has fallen to about e^(−β_ψ) beyond
    /// |ω| ≈ 2β_ψ/ε, and the last mode π/h = πm/ε ≈ 2.4 β_ψ/ε lies beyond it.
    public var stepsPerBeta: Double = 0.75

    /// Kernels with a cusp or a singularity are held to this × τ (dimensionless), smooth ones
    /// to τ, as MeshSumTests assert; ``spectralMargin`` and ``smoothSpectralMargin`` are set
    /// accordingly, and the flatness fallback measures against it.
    public var nonSmoothToleranceFactor: Double = 10

    /// A kernel whose variation over the points' box is below this many ulp/τ of its level
    /// (dimensionless) is summed directly: grid values cannot carry gradients that small to
    /// the tolerance, the direct sum's slopes can.
    public var flatnessUlps: Double = 10

    /// Width given to an axis along which every point has the same coordinate (the points'
    /// unit): the grid then still has a size.
    public var minimumBoxWidth: Double = 1e-12

    // MARK: Cost

    /// log₂ of the largest spreading grid chosen (points): 2²⁷ points are 1 GiB per channel of
    /// doubles. A call no such grid resolves is summed directly.
    public var maximumGridLog2: Int = 27

    /// Seconds per grid point and per unit of log₂(grid size) for the forward and inverse FFTs
    /// of one channel on one thread (measured with `GridFFT`'s pruning).
    public var fftSecondsPerPoint: Double = 1.1e-9

    /// Seconds per source–target pair of the near field on one thread (measured).
    public var nearSecondsPerPair: Double = 20e-9

    /// Seconds per window point of spreading (sources) and interpolation (targets) on one
    /// thread: a call spreads and interpolates (N + M) wᵈ of them (measured; what `auto`
    /// adds to the FFTs and the near field to compare the mesh with the direct sum).
    public var spreadSecondsPerWindowPoint: Double = 2e-9

    /// Bins per axis of the coarse histogram that estimates the density the sources see, for
    /// d = 1, 2, 3 (256, 4096 and 4096 bins in all): enough to see clusters, cheap to fill.
    public var densityBins: [Int] = [256, 64, 16]

    /// Near radii are tried on the ladder 2^(j/this) (per octave): a radius stays put while the
    /// points' box drifts from step to step, and with it the grid and its cached multiplier.
    public var radiiPerOctave: Int = 4

    /// Rungs of the ladder tried below the largest radius (half the box): 160 quarter-octaves
    /// span 2⁴⁰, far below any radius whose FFT fits ``maximumGridLog2``.
    public var radiusLadderLength: Int = 160

    // MARK: Hysteresis

    /// The previous call's near radius is kept while it costs at most this × the best
    /// (dimensionless): consecutive steps of a flow then keep their grid.
    public var radiusKeepCost: Double = 1.1

    /// The previous call's mode count along an axis is kept while it is at least the count
    /// needed and at most this × it (dimensionless): the multiplier and FFTW's plans then stay
    /// cached from step to step.
    public var gridKeepRatio: Double = 1.25

    // MARK: Near field

    /// Cells of the near field's cell list per near radius: cells of ε/2 (5^d of them around a
    /// target) cover less area outside the ball of radius ε than 3^d cells of ε.
    public var nearCellsPerRadius: Int = 2

    /// The defaults above.
    public init() {}

    /// 2^``maximumGridLog2``: the most points a spreading grid may have.
    public var maximumGridPoints: Int { 1 << maximumGridLog2 }
}
