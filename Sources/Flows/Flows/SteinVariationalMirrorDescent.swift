import Foundation
import KernelSum

/// Stein variational mirror descent (SVMD; Shi, Sun & Zhu, "Sampling with mirrored Stein
/// operators", ICLR 2022, sec. 3.3) on the open simplex with the entropic mirror map
/// (``MirroredSVGD``'s ψ, η = ∇ψ(θ)). Where mirrored SVGD applies the mirrored Stein operator
/// to a scalar kernel, SVMD applies it to a matrix kernel adapted at every step to the
/// particles q_t = Σ_m w_m δ_{θ_m} and to the mirror map's geometry:
///
///     K_t(θ, θ') = Σ_m w_m k^{1/2}(θ, θ_m) ∇²ψ(θ_m) k^{1/2}(θ_m, θ'),   k^{1/2}(θ, θ') = Σ_{i ≤ n} √μ_i u_i(θ) u_i(θ'),
///
/// (μ_i, u_i) the leading eigenpairs of k's integral operator under q_t with their Nyström
/// extension (``KernelEigenbasis``; k^{1/2} is the square root of k's operator, cut to n
/// terms). The particles move in η:
///
///     η_k ← η_k + h·P(φ_k),   φ_k = Σ_l w_l [K_t(θ_k, θ_l) ∇²ψ(θ_l)⁻¹ ∇log π(θ_l) + ∇_{θ_l}·(K_t(θ_k, θ_l) ∇²ψ(θ_l)⁻¹)].
///
/// The divergence's term in ∇·∇²ψ⁻¹ = 1 − Kθ joins the first into the dual score
/// g = ∇_η log p_η = ∇²ψ⁻¹∇log π + 1 − Kθ, and everything goes through the eigenbasis:
///
///     c_i = Σ_l w_l [u_i(θ_l) g_l + ∇²ψ(θ_l)⁻¹ ∇u_i(θ_l)],   ξ_m = Σ_i √μ_i u_i(θ_m) c_i,
///     b_i = Σ_m w_m u_i(θ_m) ∇²ψ(θ_m) ξ_m,                 φ_k = Σ_i √μ_i u_i(θ_k) b_i.
///
/// (ξ is mirrored SVGD's direction with the kernel k^{1/2}.) With the Nyström gradient,
/// Σ_l w_l ∇²ψ(θ_l)⁻¹ ∇u_i(θ_l) = μ_i⁻¹ Σ_m w_m u_i(θ_m) r_m where
/// r_m = Σ_l w_l κ'(r_lm)/r_lm · ∇²ψ(θ_l)⁻¹(θ_l − θ_m) is mirrored SVGD's primal repulsion
/// (``MirroredSVGD``'s pair sum with no drift): one O(N²d) pass serves every eigenfunction. The
/// rest is O(N n d) plus the N × N eigenproblem. ∇²ψ divides by θ floored at 10⁻³² (as the
/// reference code), so the direction stays finite at coordinates the softmax took to the
/// smallest normal number. Sums are in a fixed order: the output does not depend on the threads.
/// The reference code's `md` option (an extra term so that one particle is exact mirror descent)
/// is off in its experiments and left out.
public final class SteinVariationalMirrorDescent: Flow {
    /// How the kernel's bandwidth is chosen.
    public enum Bandwidth: Sendable, Equatable {
        /// The kernel as given.
        case fixed
        /// A Gaussian with ``MirroredSVGD``'s median rule, σ = √(½ med / log(N + 1)), over θ.
        case gaussianMedian
        /// The reference code's IMQ (1 + r²/c²)^(−1/2) with c² = med, the median of the N²
        /// squared distances of θ.
        case imqMedian
    }
    /// The target's density on the simplex.
    public let density: any Density
    /// The kernel of the last step.
    public private(set) var kernel: any RadialKernel
    /// How the bandwidth is chosen.
    public let bandwidth: Bandwidth
    /// How many eigenpairs k^{1/2} keeps.
    public let truncation: KernelEigenbasis.Truncation
    /// The eigenpairs the last step kept.
    public private(set) var lastEigenpairs = 0
    let optimizer: Optimizer
    let threads: Int
    let median = MedianBandwidth(sampleSize: MedianBandwidth.defaultSampleSize, communicator: nil)
    var dual: [Double] = [], scores: [Double] = []

    /// A flow; `kernel` is replaced every step unless `bandwidth` is `.fixed`.
    public init(
        density: any Density, kernel: any RadialKernel, bandwidth: Bandwidth,
        truncation: KernelEigenbasis.Truncation, optimizer: Optimizer, threads: Int
    ) {
        self.density = density
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.truncation = truncation
        self.optimizer = optimizer
        self.threads = threads
    }

    /// φ at every particle (row-major), in the dual coordinates.
    public func direction(_ population: Population) -> [Double] {
        let d = population.dimension
        let theta = population.positions
        let w = population.weights
        let n = theta.count / d
        switch bandwidth {
        case .fixed: break
        case .gaussianMedian: kernel = GaussianKernel(sigma: median(theta, dimension: d, threads: threads))
        case .imqMedian:
            let med = n >= 2 ? median.medianSquaredDistance(theta, dimension: d, threads: threads) : 0
            kernel = InverseMultiquadricKernel(c: med > 0 ? med.squareRoot() : 1)
        }
        dual = EntropicMirrorMap.dualCoordinates(theta, dimension: d) ?? [Double](repeating: .nan, count: theta.count)
        let basis = KernelEigenbasis(kernel: kernel, points: theta, weights: w, dimension: d, truncation: truncation)
        lastEigenpairs = basis.count
        let roots = basis.eigenvalues.map { $0.squareRoot() }
        let g = EntropicMirrorMap.dualScores(density, theta, dimension: d, threads: threads, scratch: &scores)
        let r = MirroredSVGD.sums(
            kernel, primal: theta, kernelPoints: theta, drift: [Double](repeating: 0, count: n * d), weights: w,
            dimension: d, repulsionInPrimal: true, threads: threads)
        var c = basis.project(g, width: d)
        let repulsion = basis.project(r, width: d)
        for i in 0..<basis.count { for a in 0..<d { c[i * d + a] += repulsion[i * d + a] / basis.eigenvalues[i] } }
        var xi = basis.expand(c, width: d, scales: roots)
        xi.withUnsafeMutableBufferPointer { v in
            theta.withUnsafeBufferPointer { t in
                for m in 0..<n {
                    EntropicMirrorMap.applyHessian(t.baseAddress! + m * d, to: v.baseAddress! + m * d, dimension: d)
                }
            }
        }
        return basis.expand(basis.project(xi, width: d), width: d, scales: roots)
    }

    /// One step on the first population: η ← η + h·P(φ), θ = ∇ψ*(η).
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let v = direction(state.populations[0])
        optimizer.apply(v, to: &dual, stepSize: h)
        EntropicMirrorMap.primalCoordinates(
            dual, into: &state.populations[0].positions, dimension: state.populations[0].dimension)
    }

    /// Particles outside the open simplex cannot start: the first is named, with the way to start
    /// inside.
    public func invalidStart(_ state: SimulationState) -> String? {
        EntropicMirrorMap.invalidStart(state, flow: "svmd")
    }

    /// The optimizer's history (in η).
    public var particleState: [any ParticleStatePart] { [optimizer] }

    /// The kernel, the eigenpairs, the mirror map and the optimizer.
    public var report: [String: String] {
        var r = optimizer.report
        switch bandwidth {
        case .fixed: r["kernel"] = kernel.spec
        case .gaussianMedian:
            r["kernel"] = "gaussian:sigma=median"
            if let g = kernel as? GaussianKernel { r["last-sigma"] = "\(g.sigma)" }
        case .imqMedian:
            r["kernel"] = "imq:c=median"
            if let k = kernel as? InverseMultiquadricKernel { r["last-c"] = "\(k.c)" }
        }
        switch truncation {
        case .fraction(let f): r["eigen-fraction"] = formatNumber(f)
        case .count(let c): r["eigenpairs"] = "\(c)"
        }
        r["last-eigenpairs"] = "\(lastEigenpairs)"
        r["mirror-map"] = "entropic (simplex)"
        return r
    }

    static let entry = FlowEntry(
        name: "svmd",
        summary: "Stein variational mirror descent on the simplex: an adaptive matrix kernel (Shi, Sun & Zhu 2022)"
    ) { s, ctx in
        guard let density = ctx.target.density else {
            throw s.fail("kind", "svmd needs a target with a score on the simplex (dirichlet, formula)")
        }
        let text = try s.string("kernel", default: "gaussian:sigma=median")
        let bandwidth: Bandwidth =
            text == "gaussian:sigma=median" ? .gaussianMedian : text == "imq:c=median" ? .imqMedian : .fixed
        let kernel: any RadialKernel =
            bandwidth == .fixed ? try readKernelSpec(text, s, "kernel") : GaussianKernel(sigma: 1)
        let positiveDefinite = ["gaussian", "imq", "laplace", "matern"]
        guard positiveDefinite.contains(type(of: kernel).name) else {
            throw s.fail(
                "kernel",
                "svmd takes the square root of the kernel's Gram matrix: it needs a positive-definite kernel ("
                    + positiveDefinite.joined(separator: ", ") + "), not \(type(of: kernel).name)")
        }
        let truncation: KernelEigenbasis.Truncation
        if s.contains("eigenpairs") {
            if s.contains("eigen-fraction") {
                throw s.fail("eigenpairs", "give eigenpairs (a count) or eigen-fraction (of the spectrum), not both")
            }
            let count = try s.integer("eigenpairs", default: 1, .positiveInteger)
            guard count <= ctx.particleCount else {
                throw s.fail("eigenpairs", "at most the particle count (\(ctx.particleCount)): there are N eigenpairs")
            }
            truncation = .count(count)
        } else {
            truncation = .fraction(
                try s.real("eigen-fraction", default: 0.98, Allowed("a number in (0, 1]") { $0 > 0 && $0 <= 1 }))
        }
        let optimizer = try Optimizer.read(s, default: "adagrad")
        let (n, d) = (ctx.particleCount, ctx.dimension)
        s.memory.addWork(
            population: 0,
            doubles: Double(n) * Double(d) * (10 + optimizer.historyPerCoordinate) + 3 * Double(n) * Double(n))
        if bandwidth != .fixed {
            s.memory.add(
                s, "kernel",
                "a median bandwidth over the pairs of \(min(n, MedianBandwidth.defaultSampleSize)) particles",
                parts: "a tenth of the squared distances, histograms",
                bytes: MemoryEstimate.medianBandwidth(
                    points: min(n, MedianBandwidth.defaultSampleSize), dimension: d, threads: ctx.threads))
        }
        return SteinVariationalMirrorDescent(
            density: density, kernel: kernel, bandwidth: bandwidth, truncation: truncation, optimizer: optimizer,
            threads: ctx.threads)
    }
}
