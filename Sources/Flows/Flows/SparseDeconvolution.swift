import Foundation
import KernelSum

/// Sparse spikes deconvolution by conic particle gradient descent (Chizat & Bach 2018 §5;
/// Chizat 2022, "Sparse optimization on measures with over-parameterized gradient descent").
///
/// A nonnegative measure μ = Σ_i m_i δ_{θ_i} on the torus T^d = [0, 1)^d (d = 1 or 2) is fitted
/// to K linear measurements y = Φμ* (+ noise) of a ground-truth measure μ* = Σ_s m*_s δ_{θ*_s}
/// by minimising
///
///     J(μ) = ½ ‖Φμ − y‖² + λ |μ|(T^d),     Φμ = Σ_i m_i Φ(θ_i) ∈ C^K.
///
/// The masses m_i are the population's ``Population/weights``: unnormalised (the total mass is
/// free, not 1), set to `initial-mass`/N each by ``prepare(_:)`` (the over-parameterised start).
/// The features are products over the axes, scaled by K^{-1/2} so that |Φ(θ)|² = 1 (Fourier):
/// - `fourier`: Φ(θ)_k = K^{-1/2} e^{−2πi k·θ} for k ∈ Z^d with |k|_∞ ≤ f_c, K = (2f_c + 1)^d
///   (the kernel ⟨Φ(θ), Φ(θ')⟩ is the Dirichlet kernel D(θ − θ')/K);
/// - `gaussian`: Φ(θ)_j = K^{-1/2} exp(−|θ − x_j|²/(2σ²)) on the grid x_j = j/n of n^d points,
///   |·| the torus's minimum-image distance, K = n^d.
///
/// The first variation is J'(μ)(θ) = Re⟨Φ(θ), Φμ − y⟩ + λ. One conic particle gradient descent
/// step (the mirror retraction of Chizat 2022, whose particles carry r_i with m_i ∝ r_i² and
/// step r_i ← r_i exp(−2αh J'(θ_i))), with both updates from the same J':
///
///     m_i ← m_i exp(−4αh J'(μ)(θ_i)),     θ_i ← θ_i − βh ∇J'(μ)(θ_i)   (mod 1),
///
/// α the `fisher-rao` rate, β the `transport` rate (0 freezes the positions). Unlike the game
/// flow's Fisher–Rao update this one is conic: the masses are not renormalised, and the λ|μ|
/// term makes J' positive off the spikes, so spurious mass decays to 0.
///
/// Cost: O(N·K·d) per step by direct sums (the per-axis factors tabulated first, O(N·d·K^{1/d}));
/// threads split the measurements (for Φμ) and the particles (for J'), each value summed in one
/// fixed order, so the results do not depend on the thread count.
public final class SparseDeconvolutionFlow: Flow {
    /// What Φ measures.
    public enum Measurements: String, CaseIterable, Sendable {
        /// Fourier coefficients |k|_∞ ≤ f_c.
        case fourier
        /// A Gaussian blur sampled on a regular grid.
        case gaussian
    }

    /// Fourier or Gaussian measurements.
    public let measurements: Measurements
    /// d, 1 or 2.
    public let dimension: Int
    /// f_c (Fourier measurements).
    public let cutoff: Int
    /// n, grid points per axis (Gaussian measurements).
    public let gridSize: Int
    /// σ, the Gaussian blur's width.
    public let width: Double
    /// λ ≥ 0, the weight of the total mass.
    public let regularisation: Double
    /// β ≥ 0, the rate of the positions' gradient step.
    public let transport: Double
    /// α ≥ 0, the rate of the masses' multiplicative step.
    public let fisherRao: Double
    /// The total mass of the start, dealt equally to the particles.
    public let initialMass: Double
    /// The ground truth's spike positions θ*_s (row-major, one row of d per spike).
    public let spikes: [Double]
    /// The ground truth's masses m*_s.
    public let masses: [Double]
    /// y: K complex numbers as (real, imaginary) pairs.
    public private(set) var observations: [Double]
    let threads: Int
    /// The torus [0, 1)^d.
    static let torus = Domain.periodic(length: 1)

    /// Per-axis factors: 2f_c + 1 frequencies or n grid points.
    public var axisCount: Int { measurements == .fourier ? 2 * cutoff + 1 : gridSize }
    /// K, the measurements.
    public var measurementCount: Int {
        (0..<dimension).reduce(1) { r, _ in r * axisCount }
    }

    /// A flow; y is measured from the ground truth, plus `noise`·N(0, 1) on every real and
    /// imaginary part (imaginary parts of Gaussian measurements stay 0), drawn from
    /// `RandomStream(seed, .targetSample, 1, j)`.
    ///
    /// - Parameters:
    ///   - measurements: Fourier or Gaussian.
    ///   - dimension: d, 1 or 2.
    ///   - cutoff: f_c ≥ 1 (Fourier).
    ///   - gridSize: n ≥ 1 (Gaussian).
    ///   - width: σ > 0 (Gaussian).
    ///   - regularisation: λ ≥ 0.
    ///   - transport: β ≥ 0.
    ///   - fisherRao: α ≥ 0.
    ///   - initialMass: The start's total mass.
    ///   - spikes: θ*_s in [0, 1)^d, row-major.
    ///   - masses: m*_s ≥ 0, one per spike.
    ///   - noise: The measurement noise's standard deviation.
    ///   - seed: The scenario's seed (the noise).
    ///   - threads: Worker threads.
    public init(
        measurements: Measurements, dimension: Int, cutoff: Int = 1, gridSize: Int = 1, width: Double = 1,
        regularisation: Double, transport: Double, fisherRao: Double, initialMass: Double,
        spikes: [Double], masses: [Double], noise: Double = 0, seed: UInt64 = 0, threads: Int = 1
    ) {
        self.measurements = measurements
        self.dimension = dimension
        self.cutoff = cutoff
        self.gridSize = gridSize
        self.width = width
        self.regularisation = regularisation
        self.transport = transport
        self.fisherRao = fisherRao
        self.initialMass = initialMass
        self.spikes = spikes
        self.masses = masses
        self.threads = max(1, threads)
        observations = []
        var truth = Population(name: "truth", dimension: dimension, positions: spikes)
        truth.weights = masses
        var y = measure(truth)
        if noise > 0 {
            for j in 0..<measurementCount {
                var rng = RandomStream(seed: seed, .targetSample, 1, j)
                y[2 * j] += noise * rng.normal()
                let imaginary = noise * rng.normal()
                if measurements == .fourier { y[2 * j + 1] += imaginary }
            }
        }
        observations = y
    }

    // MARK: Features

    /// The per-axis factors of Φ: what a worker thread needs of the flow.
    struct AxisFactors: Sendable {
        let measurements: Measurements
        let cutoff: Int, gridSize: Int, width: Double

        /// Factor j at coordinate t and its derivative: (re, im, d re/dt, d im/dt).
        @inline(__always) func callAsFunction(_ t: Double, _ j: Int) -> (Double, Double, Double, Double) {
            switch measurements {
            case .fourier:
                let w = 2 * Double.pi * Double(j - cutoff)
                let c = cos(w * t)
                let s = sin(w * t)
                // e^{−iwt} = cos − i sin; its derivative −iw e^{−iwt} = −w sin − i w cos.
                return (c, -s, -w * s, -w * c)
            case .gaussian:
                let u = SparseDeconvolutionFlow.torus.minimumImage(t - Double(j) / Double(gridSize))
                let g = exp(-u * u / (2 * width * width))
                return (g, 0, -u / (width * width) * g, 0)
            }
        }
    }

    /// The factors of every particle of `positions`: [particle][axis][j] × (re, im, d re, d im).
    func axisTables(_ positions: [Double]) -> [Double] {
        let d = dimension
        let m1 = axisCount
        let n = positions.count / d
        let factor = AxisFactors(measurements: measurements, cutoff: cutoff, gridSize: gridSize, width: width)
        var table = [Double](repeating: 0, count: n * d * m1 * 4)
        positions.withUnsafeBufferPointer { xp in
            table.withUnsafeMutableBufferPointer { tp in
                let X = SharedPointer(xp.baseAddress!)
                let T = SharedMutablePointer(tp.baseAddress!)
                Parallel.forEachChunk(n, threads: threads, minimumChunk: 16) { range in
                    for i in range {
                        for a in 0..<d {
                            let row = T.base + ((i * d + a) * m1) * 4
                            for j in 0..<m1 {
                                let (re, im, dre, dim) = factor(X.base[i * d + a], j)
                                row[4 * j] = re
                                row[4 * j + 1] = im
                                row[4 * j + 2] = dre
                                row[4 * j + 3] = dim
                            }
                        }
                    }
                }
            }
        }
        return table
    }

    /// K^{1/2} Φ(θ_i)_j from the tables, with the derivative on axis `derivative` (nil: none).
    @inline(__always) static func feature(
        _ T: UnsafePointer<Double>, particle i: Int, measurement j: Int, dimension d: Int, axisCount m1: Int,
        derivative: Int?
    ) -> (Double, Double) {
        var re = 1.0
        var im = 0.0
        var rest = j
        for a in 0..<d {
            let ja = rest % m1
            rest /= m1
            let f = T + ((i * d + a) * m1 + ja) * 4 + (a == derivative ? 2 : 0)
            (re, im) = (re * f[0] - im * f[1], re * f[1] + im * f[0])
        }
        return (re, im)
    }

    /// Φ(θ) for one point θ ∈ T^d: K complex numbers as (real, imaginary) pairs.
    public func measurement(at theta: [Double]) -> [Double] {
        var p = Population(name: "point", dimension: dimension, positions: theta)
        p.weights = [1]
        return measure(p)
    }

    /// Φμ = Σ_i m_i Φ(θ_i) for the masses (weights) and positions of `p`, as (real, imaginary)
    /// pairs; each measurement sums the particles in index order.
    public func measure(_ p: Population) -> [Double] {
        let table = axisTables(p.positions)
        let (d, m1, k, n) = (dimension, axisCount, measurementCount, p.count)
        let scale = 1 / Double(k).squareRoot()
        var out = [Double](repeating: 0, count: 2 * k)
        table.withUnsafeBufferPointer { tp in
            p.weights.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    let T = SharedPointer(tp.baseAddress!)
                    let W = SharedPointer(wp.baseAddress!)
                    let O = SharedMutablePointer(op.baseAddress!)
                    Parallel.forEachChunk(k, threads: threads, minimumChunk: 8) { range in
                        for j in range {
                            var re = 0.0
                            var im = 0.0
                            for i in 0..<n {
                                let f = Self.feature(
                                    T.base, particle: i, measurement: j, dimension: d, axisCount: m1, derivative: nil)
                                re += W.base[i] * f.0
                                im += W.base[i] * f.1
                            }
                            O.base[2 * j] = scale * re
                            O.base[2 * j + 1] = scale * im
                        }
                    }
                }
            }
        }
        return out
    }

    /// The residual Φμ − y of `p`, as (real, imaginary) pairs.
    public func residual(_ p: Population) -> [Double] {
        var r = measure(p)
        for k in 0..<r.count { r[k] -= observations[k] }
        return r
    }

    /// J'(μ)(θ) = Re⟨Φ(θ), Φμ − y⟩ + λ and its gradient ∇J'(μ)(θ) (row-major, d per point) at
    /// every point θ of `points` (row-major), μ the measure of `p`.
    public func firstVariation(of p: Population, at points: [Double]) -> (values: [Double], gradients: [Double]) {
        let r = residual(p)
        let table = axisTables(points)
        let (d, m1, k, n) = (dimension, axisCount, measurementCount, points.count / dimension)
        let scale = 1 / Double(k).squareRoot()
        let lambda = regularisation
        var values = [Double](repeating: 0, count: n)
        var gradients = [Double](repeating: 0, count: n * d)
        table.withUnsafeBufferPointer { tp in
            r.withUnsafeBufferPointer { rp in
                values.withUnsafeMutableBufferPointer { vp in
                    gradients.withUnsafeMutableBufferPointer { gp in
                        let T = SharedPointer(tp.baseAddress!)
                        let R = SharedPointer(rp.baseAddress!)
                        let V = SharedMutablePointer(vp.baseAddress!)
                        let G = SharedMutablePointer(gp.baseAddress!)
                        Parallel.forEachChunk(n, threads: threads, minimumChunk: 4) { range in
                            for i in range {
                                var v = 0.0
                                for j in 0..<k {
                                    let f = Self.feature(
                                        T.base, particle: i, measurement: j, dimension: d, axisCount: m1,
                                        derivative: nil)
                                    v += R.base[2 * j] * f.0 + R.base[2 * j + 1] * f.1
                                }
                                V.base[i] = scale * v + lambda
                                for a in 0..<d {
                                    var g = 0.0
                                    for j in 0..<k {
                                        let f = Self.feature(
                                            T.base, particle: i, measurement: j, dimension: d, axisCount: m1,
                                            derivative: a)
                                        g += R.base[2 * j] * f.0 + R.base[2 * j + 1] * f.1
                                    }
                                    G.base[i * d + a] = scale * g
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, gradients)
    }

    /// J(μ) = ½ ‖Φμ − y‖² + λ Σ_i m_i for the measure of `p`.
    public func objective(_ p: Population) -> Double {
        let r = residual(p)
        var s = 0.0
        for v in r { s += v * v }
        var mass = 0.0
        for m in p.weights { mass += m }
        return 0.5 * s + regularisation * mass
    }

    // MARK: Flow

    /// One conic particle gradient descent step: m_i ← m_i exp(−4αh J'(θ_i)), θ_i ← θ_i −
    /// βh ∇J'(θ_i) wrapped into [0, 1)^d, both from J' at the current state.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let p = state.populations[0]
        let (v, g) = firstVariation(of: p, at: p.positions)
        if fisherRao > 0 {
            for i in 0..<p.count { state.populations[0].weights[i] *= exp(-4 * fisherRao * h * v[i]) }
        }
        if transport > 0 {
            for k in 0..<g.count { state.populations[0].positions[k] -= transport * h * g[k] }
            Self.torus.wrap(&state.populations[0].positions)
        }
    }

    /// Masses `initial-mass`/N each; positions wrapped into the torus.
    public func prepare(_ state: inout SimulationState) {
        let n = state.populations[0].count
        state.populations[0].weights = [Double](repeating: initialMass / Double(max(1, n)), count: n)
        Self.torus.wrap(&state.populations[0].positions)
    }

    /// The torus [0, 1)^d.
    public func domain(ofPopulation index: Int) -> Domain { Self.torus }

    /// J(μ).
    public var energyDescription: String? { "J(μ) = ½‖Φμ − y‖² + λ|μ|, the deconvolution objective" }
    /// J(μ) of the state's measure.
    public func energy(_ state: SimulationState) -> Double { objective(state.populations[0]) }

    /// The measurements and rates.
    public var report: [String: String] {
        [
            "measurements": measurements.rawValue, "measurement-count": String(measurementCount),
            "spikes": String(masses.count),
        ]
    }

    // MARK: Scenario

    /// Reads `spikes` (a matrix of rows in [0, 1)^d, d = 1 or 2) and checks each coordinate.
    static func readSpikes(_ s: Settings) throws -> (dimension: Int, positions: [Double]) {
        let rows = try s.matrix("spikes", .any)
        let d = rows[0].count
        guard (1...2).contains(d) else {
            throw s.fail("spikes", "spikes have \(d) coordinates; the torus has dimension 1 or 2")
        }
        for (index, row) in rows.enumerated() {
            for (a, t) in row.enumerated() where !(t >= 0 && t < 1) {
                throw s.fail(
                    "spikes",
                    "spike \(index + 1), coordinate \(a + 1) is \(formatNumber(t)), outside the torus [0, 1)")
            }
        }
        return (d, rows.flatMap { $0 })
    }

    static let entry = FlowEntry(
        name: "sparse-deconvolution",
        summary:
            "sparse spikes deconvolution on the torus by conic particle gradient descent: masses and positions (Chizat 2022)",
        make: { s, ctx in
            let (d, spikes) = try readSpikes(s)
            let masses = try s.reals("masses", count: spikes.count / d, .nonNegative)
            let kind = Measurements(
                rawValue: try s.string("measurements", default: "fourier", oneOf: Measurements.allCases.map(\.rawValue))
            )!
            var cutoff = 1
            var grid = 1
            var width = 1.0
            let m1: Int
            switch kind {
            case .fourier:
                cutoff = try s.integer("cutoff", Allowed("an integer from 1 to 10⁶") { (1...1_000_000).contains($0) })
                m1 = 2 * cutoff + 1
            case .gaussian:
                grid = try s.integer("grid", Allowed("an integer from 1 to 10⁶") { (1...1_000_000).contains($0) })
                width = try s.real("width", .positive)
                m1 = grid
            }
            let key = kind == .fourier ? "cutoff" : "grid"
            let k = pow(Double(m1), Double(d))
            // Memory: y and the residual (2K each), the particles' per-axis factor tables.
            try s.memory.reserve(
                s, key, "\(Int(k)) measurements in d = \(d)", parts: "y, Φμ", bytes: 8 * 4 * k)
            s.memory.add(
                s, key, "per-axis factors of \(ctx.particleCount) particles",
                parts: "values and derivatives", bytes: 8 * 4 * Double(ctx.particleCount * d * m1), transient: true)
            s.memory.addWork(population: 0, doubles: Double(ctx.particleCount * (d + 1)))
            try s.memory.check()
            return SparseDeconvolutionFlow(
                measurements: kind, dimension: d, cutoff: cutoff, gridSize: grid, width: width,
                regularisation: try s.real("regularisation", default: 0, .nonNegative),
                transport: try s.real("transport", default: 1, .nonNegative),
                fisherRao: try s.real("fisher-rao", default: 1, .nonNegative),
                initialMass: try s.real("initial-mass", default: 0.1, .positive),
                spikes: spikes, masses: masses, noise: try s.real("noise", default: 0, .nonNegative),
                seed: ctx.seed, threads: ctx.threads)
        }, needsTarget: false, particleDimension: { s in try readSpikes(s).dimension })
}
