import Foundation
import KernelSum

/// Mirrored SVGD (Shi, Sun & Zhu, "Sampling with mirrored Stein operators", ICLR 2022) on the
/// open simplex {θ ∈ R^d : θ_a > 0, Σθ_a < 1} with the entropic mirror map
/// ψ(θ) = Σ_{i ≤ K} θ_i log θ_i, θ_K = 1 − Σθ_a, K = d + 1. The particles move in the dual
/// coordinates η = ∇ψ(θ), η_a = log(θ_a/θ_K), and are mapped back by θ = ∇ψ*(η) (a softmax),
/// so every particle stays inside the simplex:
///
///     η_i ← η_i + h·P(φ_i),   φ_i = Σ_j w_j [ k(θ_j, θ_i) ∇_η log p_η(θ_j) + ∇²ψ(θ_j)⁻¹ ∇_{θ_j} k(θ_j, θ_i) ]
///
/// with ∇_η log p_η = ∇²ψ(θ)⁻¹ ∇log π(θ) + 1 − Kθ (``SimplexDensity/dualScore(_:into:)``; α − α₀θ
/// for the Dirichlet) and ∇²ψ(θ)⁻¹ = diag(θ) − θθᵀ. `kernel-space = "dual"` evaluates the kernel
/// at η instead (the paper's k(∇ψ(θ), ∇ψ(θ'))): the repulsion is then ∇_{η_j} k(η_j, η_i) and the
/// flow is SVGD on the law of η. Sums are direct (O(N²d), the sizes of the paper's
/// experiments), each particle's in a fixed order: the output does not depend on the threads.
public final class MirroredSVGD: Flow {
    /// Where the kernel is evaluated.
    public enum KernelSpace: String, Sendable { case primal, dual }
    /// How a step keeps the particles in the simplex.
    public enum Update: String, Sendable {
        /// Through the mirror map (the flow's point).
        case mirrored
        /// Plain SVGD in θ, then the Euclidean projection onto the simplex shrunk by
        /// ``MirroredSVGD/projectionMargin`` (the paper's baseline, "projected SVGD").
        case projected
    }
    /// The margin δ of the projected update: particles are projected onto
    /// {θ_i ≥ δ for i ≤ K, Σθ_i = 1}, where the score stays finite.
    public static let projectionMargin = 1e-12
    /// The target's density on the simplex.
    public let density: any Density
    /// The kernel of the last step (with the median rule, a Gaussian of the last σ).
    public private(set) var kernel: any RadialKernel
    /// Whether σ follows the median rule (over θ or η, as the kernel).
    public let medianBandwidth: Bool
    /// Where the kernel is evaluated.
    public let kernelSpace: KernelSpace
    /// How a step keeps the particles in the simplex.
    public let update: Update
    let optimizer: Optimizer
    let threads: Int
    let median = MedianBandwidth(sampleSize: MedianBandwidth.defaultSampleSize, communicator: nil)
    var dual: [Double] = [], scores: [Double] = [], velocity: [Double] = []

    /// A flow; `kernel` is replaced every step when `medianBandwidth`.
    public init(
        density: any Density, kernel: any RadialKernel, medianBandwidth: Bool, kernelSpace: KernelSpace,
        optimizer: Optimizer, threads: Int, update: Update = .mirrored
    ) {
        self.update = update
        self.density = density
        self.kernel = kernel
        self.medianBandwidth = medianBandwidth
        self.kernelSpace = kernelSpace
        self.optimizer = optimizer
        self.threads = threads
    }

    /// ∇_η log p_η at each particle: the density's own when it is a ``SimplexDensity``, else
    /// (diag θ − θθᵀ)∇log π + 1 − Kθ from its score.
    /// - Parameters:
    ///   - theta: the particles (row-major), inside the open simplex.
    ///   - d: their dimension.
    public func dualScores(_ theta: [Double], dimension d: Int) -> [Double] {
        EntropicMirrorMap.dualScores(density, theta, dimension: d, threads: threads, scratch: &scores)
    }

    /// φ at every particle (row-major), in the dual coordinates (the projected update: SVGD's
    /// direction in θ).
    public func direction(_ population: Population) -> [Double] {
        let d = population.dimension
        let theta = population.positions
        if update == .projected {
            if medianBandwidth { kernel = GaussianKernel(sigma: median(theta, dimension: d, threads: threads)) }
            density.scores(theta, into: &scores, threads: threads)
            velocity = MirroredSVGD.sums(
                kernel, primal: theta, kernelPoints: theta, drift: scores, weights: population.weights,
                dimension: d, repulsionInPrimal: false, threads: threads)
            return velocity
        }
        let eta =
            EntropicMirrorMap.dualCoordinates(theta, dimension: d) ?? [Double](repeating: .nan, count: theta.count)
        let space = kernelSpace == .primal ? theta : eta
        if medianBandwidth { kernel = GaussianKernel(sigma: median(space, dimension: d, threads: threads)) }
        let drift = dualScores(theta, dimension: d)
        velocity = MirroredSVGD.sums(
            kernel, primal: theta, kernelPoints: space, drift: drift, weights: population.weights,
            dimension: d, repulsionInPrimal: kernelSpace == .primal, threads: threads)
        dual = eta
        return velocity
    }

    /// Σ_j w_j [k_ij m_j + R_ij] for each i, R_ij = s_ij H_j⁻¹(θ_j − θ_i) (primal kernel) or
    /// s_ij (η_j − η_i) (dual), s = κ'(r)/r at the kernel points' distance. Generic in the
    /// kernel so that its profile is inlined into the pair loop.
    static func sums<K: RadialKernel>(
        _ kernel: K, primal theta: [Double], kernelPoints z: [Double], drift m: [Double], weights w: [Double],
        dimension d: Int, repulsionInPrimal: Bool, threads: Int
    ) -> [Double] {
        let n = theta.count / d
        var out = [Double](repeating: 0, count: n * d)
        out.withUnsafeMutableBufferPointer { o in
            let result = SharedMutablePointer(o.baseAddress!)
            Parallel.forEachChunk(n, threads: threads, minimumChunk: 8) { range in
                var acc = [Double](repeating: 0, count: d)
                var difference = [Double](repeating: 0, count: d)
                for i in range {
                    for a in 0..<d { acc[a] = 0 }
                    for j in 0..<n {
                        var r2 = 0.0
                        for a in 0..<d {
                            let t = z[j * d + a] - z[i * d + a]
                            difference[a] = t
                            r2 += t * t
                        }
                        let (value, slope) = kernel.profile(squaredDistance: r2)
                        if repulsionInPrimal {
                            // H_j⁻¹ v = θ_j ⊙ v − θ_j (θ_j · v), v = θ_j − θ_i (z is θ).
                            var dot = 0.0
                            for a in 0..<d { dot += theta[j * d + a] * difference[a] }
                            for a in 0..<d {
                                let t = theta[j * d + a]
                                acc[a] += w[j] * (value * m[j * d + a] + slope * t * (difference[a] - dot))
                            }
                        } else {
                            for a in 0..<d { acc[a] += w[j] * (value * m[j * d + a] + slope * difference[a]) }
                        }
                    }
                    for a in 0..<d { result.base[i * d + a] = acc[a] }
                }
            }
        }
        return out
    }

    /// The Euclidean projection of each particle's (θ, 1 − Σθ) onto {x_i ≥ δ, Σx_i = 1} (Duchi et
    /// al. 2008, on x − δ), written back as θ: sort, find the threshold τ, clip.
    /// - Parameters:
    ///   - theta: the particles (row-major), projected in place.
    ///   - d: their dimension (K − 1).
    ///   - delta: the margin δ ≥ 0, below 1/K.
    public static func project(_ theta: inout [Double], dimension d: Int, margin delta: Double) {
        let k = d + 1
        let target = 1 - Double(k) * delta
        var v = [Double](repeating: 0, count: k)
        for i in 0..<(theta.count / d) {
            var last = 1.0
            for a in 0..<d {
                v[a] = theta[i * d + a] - delta
                last -= theta[i * d + a]
            }
            v[d] = last - delta
            let u = v.sorted(by: >)
            var sum = 0.0
            var tau = 0.0
            for j in 0..<k {
                sum += u[j]
                let t = (sum - target) / Double(j + 1)
                if u[j] - t > 0 { tau = t }
            }
            for a in 0..<d { theta[i * d + a] = max(v[a] - tau, 0) + delta }
        }
    }

    /// One step on the first population: η ← η + h·P(φ), θ = ∇ψ*(η); or, projected,
    /// θ ← Π(θ + h·P(φ)).
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        if update == .projected {
            let v = direction(state.populations[0])
            optimizer.apply(v, to: &state.populations[0].positions, stepSize: h)
            MirroredSVGD.project(
                &state.populations[0].positions, dimension: state.populations[0].dimension,
                margin: MirroredSVGD.projectionMargin)
            return
        }
        let v = direction(state.populations[0])
        optimizer.apply(v, to: &dual, stepSize: h)
        EntropicMirrorMap.primalCoordinates(
            dual, into: &state.populations[0].positions, dimension: state.populations[0].dimension)
    }

    /// Particles outside the open simplex cannot start: the first is named, with the way to start
    /// inside.
    public func invalidStart(_ state: SimulationState) -> String? {
        EntropicMirrorMap.invalidStart(state, flow: "mirrored-svgd")
    }

    /// The optimizer's history (in η).
    public var particleState: [any ParticleStatePart] { [optimizer] }

    /// The kernel, its space, the mirror map and the optimizer.
    public var report: [String: String] {
        var r = optimizer.report
        r["kernel"] = medianBandwidth ? "gaussian:sigma=median" : kernel.spec
        if medianBandwidth, let g = kernel as? GaussianKernel { r["last-sigma"] = "\(g.sigma)" }
        r["kernel-space"] = kernelSpace.rawValue
        r["update"] = update.rawValue
        r["mirror-map"] = "entropic (simplex)"
        return r
    }

    static let entry = FlowEntry(
        name: "mirrored-svgd",
        summary: "mirrored SVGD on the simplex, entropic mirror map (Shi, Sun & Zhu 2022)"
    ) { s, ctx in
        guard let density = ctx.target.density else {
            throw s.fail("kind", "mirrored-svgd needs a target with a score on the simplex (dirichlet, formula)")
        }
        let text = try s.string("kernel", default: "gaussian:sigma=median")
        let median = text == "gaussian:sigma=median"
        let kernel: any RadialKernel = median ? GaussianKernel(sigma: 1) : try readKernelSpec(text, s, "kernel")
        let space = KernelSpace(
            rawValue: try s.string("kernel-space", default: "primal", oneOf: ["primal", "dual"]))!
        let update = Update(rawValue: try s.string("update", default: "mirrored", oneOf: ["mirrored", "projected"]))!
        if update == .projected && space == .dual {
            throw s.fail("kernel-space", "the projected update has no dual coordinates: kernel-space = \"primal\"")
        }
        let optimizer = try Optimizer.read(s, default: "adagrad")
        let (n, d) = (ctx.particleCount, ctx.dimension)
        s.memory.addWork(
            population: 0, doubles: Double(n) * Double(d) * (5 + optimizer.historyPerCoordinate))
        if median {
            s.memory.add(
                s, "kernel",
                "a median bandwidth over the pairs of \(min(n, MedianBandwidth.defaultSampleSize)) particles",
                parts: "a tenth of the squared distances, histograms",
                bytes: MemoryEstimate.medianBandwidth(
                    points: min(n, MedianBandwidth.defaultSampleSize), dimension: d, threads: ctx.threads))
        }
        return MirroredSVGD(
            density: density, kernel: kernel, medianBandwidth: median, kernelSpace: space, optimizer: optimizer,
            threads: ctx.threads, update: update)
    }
}
