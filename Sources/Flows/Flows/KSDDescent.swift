import Foundation
import KernelSum

/// A radial kernel k(x, y) = φ(|x − y|²) whose profile φ and its first three derivatives in
/// t = |x − y|² are known in closed form: what the Stein kernel of ``KSDDescent`` and its
/// gradient need (written in t rather than r = |x − y|, so that nothing divides by r at 0).
public enum SteinKernelProfile: Sendable, Equatable {
    /// exp(−t/(2σ²)): φ' = −φ/(2σ²), φ'' = φ/(4σ⁴), φ''' = −φ/(8σ⁶).
    case gaussian(sigma: Double)
    /// (1 + t/c²)^β: with q = 1 + t/c², φ^(m) = β(β − 1)…(β − m + 1) q^(β − m) / c^(2m).
    case imq(c: Double, beta: Double)

    /// The profile of `kernel` when it is a Gaussian or an IMQ; nil for any other kernel.
    public init?(_ kernel: any RadialKernel) {
        if let g = kernel as? GaussianKernel {
            self = .gaussian(sigma: g.sigma)
        } else if let m = kernel as? InverseMultiquadricKernel {
            self = .imq(c: m.c, beta: m.beta)
        } else {
            return nil
        }
    }

    /// (φ, φ', φ'', φ''') at t = |x − y|².
    @inlinable
    public func derivatives(squaredDistance t: Double) -> (Double, Double, Double, Double) {
        switch self {
        case .gaussian(let sigma):
            let a = -0.5 / (sigma * sigma)
            let value = exp(a * t)
            return (value, a * value, a * a * value, a * a * a * value)
        case .imq(let c, let beta):
            let ic2 = 1 / (c * c)
            let q = 1 + t * ic2
            let value = beta == -0.5 ? 1 / q.squareRoot() : pow(q, beta)
            let first = beta * ic2 * value / q
            let second = (beta - 1) * ic2 * first / q
            let third = (beta - 2) * ic2 * second / q
            return (value, first, second, third)
        }
    }

    /// The kernel's spec, as `wgf list` writes it.
    public var spec: String {
        switch self {
        case .gaussian(let sigma): return GaussianKernel(sigma: sigma).spec
        case .imq(let c, let beta): return InverseMultiquadricKernel(c: c, beta: beta).spec
        }
    }
}

/// Kernel Stein discrepancy descent (Korba, Aubin-Frankowski, Majewski & Ablin, ICML 2021): the
/// particles minimise KSD²(μ_N | π) = Σ_{i,j} w_i w_j k_π(x_i, x_j) (w = 1/N: the paper's
/// (1/N²) Σ_{i,j}) with the Stein kernel of a radial kernel k(x, y) = φ(t), t = |x − y|²,
/// u = x − y, s = ∇log π:
///
///     k_π(x, y) = (s_x·s_y) φ + 2φ' (s_y − s_x)·u − 4φ'' t − 2dφ'
///
/// (s(x)ᵀs(y)k + s(x)ᵀ∇_y k + s(y)ᵀ∇_x k + ∇_x·∇_y k). Each step is x_i ← x_i − h·P(∇_{x_i} KSD²),
/// with the exact gradient of KSD² as a function of the positions (what the paper's code
/// differentiates), by the symmetry of k_π ∇_{x_i} KSD² = 2 w_i Σ_j w_j ∇_x k_π(x_i, x_j):
///
///     ∇_x k_π = H_x (φ s_y − 2φ' u) + 2φ' (s_y − s_x)
///               + [2φ' (s_x·s_y) + 4φ'' (s_y − s_x)·u − 8φ''' t − 8φ'' − 4dφ''] u
///
/// with H_x = ∇²log π(x) (``HessianDensity``), applied once per particle to the summed vector.
/// Sums are direct (O(N²d), the paper's sizes of a few hundred particles), each particle's in a
/// fixed order: the output does not depend on the threads. The flow's energy is KSD² itself (of
/// the full data). On a minibatched target (``MinibatchHessianDensity``) each step takes the
/// score and the Hessian from that step's minibatch, the same rows and scale for both: KSD²'s
/// gradient is then a product of estimates (s_x·s_y, H_x s_y), biased even where each factor is
/// unbiased.
public final class KSDDescent: Flow {
    /// The target, with its score and its Hessian.
    public let density: any HessianDensity
    /// The kernel k whose Stein kernel is summed.
    public let kernel: SteinKernelProfile
    let optimizer: Optimizer
    let threads: Int
    /// The scenario's seed: a minibatched target's batches are drawn from it, keyed by the step.
    let seed: UInt64
    var scores: [Double] = [], velocity: [Double] = []

    /// A flow with `kernel`, the step rule `optimizer`, on `threads` worker threads; a
    /// minibatched target's batches are drawn from `seed` (as SVGD's).
    public init(
        density: any HessianDensity, kernel: SteinKernelProfile, optimizer: Optimizer, threads: Int, seed: UInt64 = 0
    ) {
        self.density = density
        self.kernel = kernel
        self.optimizer = optimizer
        self.threads = threads
        self.seed = seed
    }

    /// The density a step's gradient takes: at a `step` (from 1) of a minibatched target, the
    /// one that step's minibatch estimates (score and Hessian from the same rows); else the target.
    public func density(step: Int) -> any HessianDensity {
        if step > 0, let estimated = density as? any MinibatchHessianDensity, estimated.isMinibatched {
            return estimated.minibatch(step: step, seed: seed)
        }
        return density
    }

    /// KSD² of `population` (weighted by its particle weights) and its gradient with respect to
    /// the positions (row-major); at a `step` (from 1) of a minibatched target, both estimated
    /// from that step's minibatch (``density(step:)``), at 0 from the full data.
    public func ksdAndGradient(_ population: Population, step: Int = 0) -> (ksdSquared: Double, gradient: [Double]) {
        let estimate = density(step: step)
        estimate.scores(population.positions, into: &scores, threads: threads)
        var gradient = [Double](repeating: 0, count: population.positions.count)
        let rows = KSDDescent.sums(
            kernel, density: estimate, points: population.positions, scores: scores, weights: population.weights,
            dimension: population.dimension, threads: threads, gradient: &gradient)
        return (rows.reduce(0, +), gradient)
    }

    /// For each i, w_i Σ_j w_j k_π(x_i, x_j) (returned) and ∇_{x_i} KSD² (into `gradient`).
    static func sums(
        _ kernel: SteinKernelProfile, density: any HessianDensity, points x: [Double], scores s: [Double],
        weights w: [Double], dimension d: Int, threads: Int, gradient: inout [Double]
    ) -> [Double] {
        let n = x.count / d
        let dd = Double(d)
        var rows = [Double](repeating: 0, count: n)
        rows.withUnsafeMutableBufferPointer { rb in
            gradient.withUnsafeMutableBufferPointer { gb in
                let rowOut = SharedMutablePointer(rb.baseAddress!)
                let gradientOut = SharedMutablePointer(gb.baseAddress!)
                Parallel.forEachChunk(n, threads: threads, minimumChunk: 8) { range in
                    var hessianPart = [Double](repeating: 0, count: d)
                    var rest = [Double](repeating: 0, count: d)
                    var hv = [Double](repeating: 0, count: d)
                    var u = [Double](repeating: 0, count: d)
                    for i in range {
                        for a in 0..<d {
                            hessianPart[a] = 0
                            rest[a] = 0
                        }
                        var row = 0.0
                        for j in 0..<n {
                            var t = 0.0
                            var ss = 0.0
                            var sdu = 0.0
                            for a in 0..<d {
                                let difference = x[i * d + a] - x[j * d + a]
                                u[a] = difference
                                t += difference * difference
                                ss += s[i * d + a] * s[j * d + a]
                                sdu += (s[j * d + a] - s[i * d + a]) * difference
                            }
                            let (p0, p1, p2, p3) = kernel.derivatives(squaredDistance: t)
                            let wj = w[j]
                            row += wj * (ss * p0 + 2 * p1 * sdu - 4 * p2 * t - 2 * dd * p1)
                            let radial = 2 * p1 * ss + 4 * p2 * sdu - 8 * p3 * t - 8 * p2 - 4 * dd * p2
                            for a in 0..<d {
                                hessianPart[a] += wj * (p0 * s[j * d + a] - 2 * p1 * u[a])
                                rest[a] += wj * (radial * u[a] + 2 * p1 * (s[j * d + a] - s[i * d + a]))
                            }
                        }
                        x.withUnsafeBufferPointer { xp in
                            hessianPart.withUnsafeBufferPointer { vp in
                                hv.withUnsafeMutableBufferPointer { hp in
                                    density.hessianVectorProduct(
                                        xp.baseAddress! + i * d, vp.baseAddress!, into: hp.baseAddress!)
                                }
                            }
                        }
                        let scale = 2 * w[i]
                        for a in 0..<d { gradientOut.base[i * d + a] = scale * (hv[a] + rest[a]) }
                        rowOut.base[i] = w[i] * row
                    }
                }
            }
        }
        return rows
    }

    /// One step on the first population: x ← x + h·P(−∇KSD²), from the step's minibatch.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let (_, gradient) = ksdAndGradient(state.populations[0], step: step)
        velocity = gradient.map { -$0 }
        optimizer.apply(velocity, to: &state.populations[0].positions, stepSize: h)
    }

    /// KSD² with the flow's kernel.
    public var energyDescription: String? { "KSD²(particles | target) with kernel \(kernel.spec) (V-statistic)" }

    /// KSD² = Σ_{i,j} w_i w_j k_π(x_i, x_j) of the first population (the full data's).
    public func energy(_ state: SimulationState) -> Double { ksdAndGradient(state.populations[0]).ksdSquared }

    /// The optimizer's history.
    public var particleState: [any ParticleStatePart] { [optimizer] }

    /// The kernel and the optimizer.
    public var report: [String: String] {
        var r = optimizer.report
        r["kernel"] = kernel.spec
        return r
    }

    static let entry = FlowEntry(
        name: "ksd-descent",
        summary: "kernel Stein discrepancy descent (Korba, Aubin-Frankowski, Majewski & Ablin 2021)"
    ) { s, ctx in
        guard let density = ctx.target.density as? any HessianDensity else {
            throw s.fail(
                "kind",
                "ksd-descent needs a target with an exact Hessian of log π "
                    + "(gaussian, gaussian-mixture, logistic-regression, formula, data)")
        }
        if let estimated = density as? any MinibatchDensity, estimated.isMinibatched,
            !(density is any MinibatchHessianDensity)
        {
            throw s.fail("kind", "ksd-descent needs the target's Hessian from the same minibatches as its score")
        }
        let text = try s.string("kernel", default: "gaussian:sigma=1")
        let closedForms = "gaussian:sigma=σ (fixed σ) or imq:c=c,beta=β"
        var base: (any RadialKernel)? = nil
        if !text.hasPrefix("formula:") {
            do { base = try KernelRegistry.make(text) } catch let e as KernelSpecError {
                throw s.fail("kernel", e.message + " (ksd-descent takes \(closedForms))")
            }
        }
        guard let base, let kernel = SteinKernelProfile(base) else {
            throw s.fail(
                "kernel", "ksd-descent needs its kernel's derivatives in closed form: \(closedForms), not \(text)")
        }
        let optimizer = try Optimizer.read(s, default: "sgd")
        let (n, d) = (ctx.particleCount, ctx.dimension)
        // Memory: scores, gradient, velocity (and AdaGrad's history) per coordinate; a row sum.
        s.memory.addWork(population: 0, doubles: Double(n) * (Double(d) * (3 + optimizer.historyPerCoordinate) + 1))
        return KSDDescent(
            density: density, kernel: kernel, optimizer: optimizer, threads: ctx.threads, seed: ctx.seed)
    }
}
