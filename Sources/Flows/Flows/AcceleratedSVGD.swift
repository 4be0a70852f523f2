import Communication
import Foundation
import KernelSum

/// Accelerated SVGD: particles with velocities, driven by the SVGD direction φ as a force and
/// slowed by friction, after the accelerated Stein variational gradient flow of Stein & Li (2025)
/// and the accelerated information gradient flows of Wang & Li (2022), with the momentum kept
/// per particle in R^d:
///
///     dx_i/dt = v_i,   dv_i/dt = −γ(t) v_i + φ(x_i),
///     φ(x_i) = Σ_j w_j [k(x_j, x_i) ∇log π(x_j) + ∇_{x_j} k(x_j, x_i)],
///
/// γ(t) = γ (`damping = "constant"`) or 3/t (`"nesterov"`, the accelerated information gradient
/// flow's damping). One step of size h is semi-implicit (symplectic) Euler, velocity then
/// position: v ← α_n v + h φ(x), x ← x + h v, with α_n = e^{−γh} (the friction integrated
/// exactly over the step) or α_n = (n − 1)/(n + 2) at step n (Nesterov's factor, 1 − 3/t with
/// t = (n + 2)h). Eliminating v, x_{n+1} − x_n = α_n (x_n − x_{n−1}) + h² φ(x_n): the heavy ball
/// (or Nesterov's momentum) with step h² on SVGD's objective, so that h plays the part of the
/// papers' √τ. Velocities start at 0 and are saved with the population; α_n depends on the step
/// alone, so a resumed run continues exactly. `dynamics = "overdamped"` drops the inertia and
/// steps plain SVGD, x ← x + h φ(x) (sgd), with the same kernel.
///
/// The paper's ASVGD carries its momentum in the kernel's geometry (a momentum field Φ with
/// ẋ = ∫k(x, y)Φ(y)dρ(y) and a kinetic term ½∬Φ(x)ᵀk(x, y)Φ(y)dρdρ); here the momentum is the
/// Euclidean velocity of each particle and φ its force, which for the bilinear kernel and a
/// Gaussian target keeps the particles an affine image of their start (see
/// ``bilinearDirection(_:density:threads:)``).
///
/// φ comes from ``SteinVariationalGradientDescent/direction(_:step:)`` for radial kernels (its
/// engines and median bandwidth included), or, for `kernel = "bilinear"`, k(x, y) = xᵀy + 1, from
/// the particles' weighted moments in O(N d²).
public final class AcceleratedSVGD: Flow {
    /// `damping`: a constant friction γ, or Nesterov's 3/t.
    public enum Damping: String, CaseIterable, Sendable { case constant, nesterov }
    /// `dynamics`: with velocities (the accelerated flow), or plain SVGD steps (no inertia).
    public enum Dynamics: String, CaseIterable, Sendable { case inertial, overdamped }
    /// Where φ comes from: SVGD's kernel sums, or the bilinear kernel's moments.
    public enum Force {
        /// A radial kernel, through SVGD's direction.
        case stein(SteinVariationalGradientDescent)
        /// k(x, y) = xᵀy + 1 for the target's `density`.
        case bilinear(any Density)
    }

    /// The source of φ.
    public let force: Force
    /// Constant or Nesterov damping.
    public let damping: Damping
    /// γ > 0 (constant damping).
    public let friction: Double
    /// Inertial or overdamped.
    public let dynamics: Dynamics
    let threads: Int
    var scores: [Double] = []

    /// A flow with the force `force`; see the properties.
    public init(
        force: Force, damping: Damping = .constant, friction: Double = 1, dynamics: Dynamics = .inertial,
        threads: Int = 1
    ) {
        self.force = force
        self.damping = damping
        self.friction = friction
        self.dynamics = dynamics
        self.threads = max(1, threads)
    }

    /// φ at every particle of `population` (row-major); at `step` (from 1) a
    /// ``MinibatchDensity`` scores from that step's minibatch (radial kernels).
    public func direction(_ population: Population, step: Int = 0) -> [Double] {
        switch force {
        case .stein(let svgd): return svgd.direction(population, step: step)
        case .bilinear(let density):
            return Self.bilinearDirection(population, density: density, threads: threads, scores: &scores)
        }
    }

    /// φ for the bilinear kernel k(x, y) = xᵀy + 1, whose gradient in its first argument is y:
    ///
    ///     φ(x_i) = Σ_j w_j [(x_jᵀx_i + 1) s(x_j) + x_i] = (M + W I) x_i + s̄,
    ///
    /// M = Σ_j w_j s(x_j) x_jᵀ, s̄ = Σ_j w_j s(x_j), W = Σ_j w_j: affine in x_i, with sums in index
    /// order (the same on any thread count).
    public static func bilinearDirection(_ population: Population, density: any Density, threads: Int) -> [Double] {
        var scores: [Double] = []
        return bilinearDirection(population, density: density, threads: threads, scores: &scores)
    }

    static func bilinearDirection(
        _ p: Population, density: any Density, threads: Int, scores: inout [Double]
    ) -> [Double] {
        let d = p.dimension
        let n = p.count
        density.scores(p.positions, into: &scores, threads: threads)
        var m = [Double](repeating: 0, count: d * d)
        var mean = [Double](repeating: 0, count: d)
        var total = 0.0
        let x = p.positions
        for j in 0..<n {
            let w = p.weights[j]
            total += w
            for a in 0..<d {
                let ws = w * scores[j * d + a]
                mean[a] += ws
                for b in 0..<d { m[a * d + b] += ws * x[j * d + b] }
            }
        }
        var phi = [Double](repeating: 0, count: n * d)
        for i in 0..<n {
            for a in 0..<d {
                var v = mean[a] + total * x[i * d + a]
                for b in 0..<d { v += m[a * d + b] * x[i * d + b] }
                phi[i * d + a] = v
            }
        }
        return phi
    }

    /// α_n, the factor on the velocity at step `n` (from 1): e^{−γh}, or (n − 1)/(n + 2).
    public func momentumFactor(step n: Int, stepSize h: Double) -> Double {
        switch damping {
        case .constant: return exp(-friction * h)
        case .nesterov: return Double(n - 1) / Double(n + 2)
        }
    }

    /// Velocities start at 0 (inertial dynamics), unless the state has them.
    public func prepare(_ state: inout SimulationState) {
        guard dynamics == .inertial, state.populations[0].velocities == nil else { return }
        state.populations[0].velocities = [Double](repeating: 0, count: state.populations[0].positions.count)
    }

    /// One step on the first population: v ← α_n v + h φ(x), x ← x + h v (inertial), or
    /// x ← x + h φ(x) (overdamped).
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let phi = direction(state.populations[0], step: step)
        let count = phi.count
        switch dynamics {
        case .overdamped:
            for k in 0..<count { state.populations[0].positions[k] += h * phi[k] }
        case .inertial:
            let alpha = momentumFactor(step: step, stepSize: h)
            var v = state.populations[0].velocities ?? [Double](repeating: 0, count: count)
            for k in 0..<count {
                v[k] = alpha * v[k] + h * phi[k]
                state.populations[0].positions[k] += h * v[k]
            }
            state.populations[0].velocities = v
        }
    }

    /// The kernel (SVGD's report for a radial one), damping, friction and dynamics.
    public var report: [String: String] {
        var r: [String: String]
        switch force {
        case .stein(let svgd):
            r = svgd.report
            r["optimizer"] = nil
        case .bilinear: r = ["kernel": "bilinear"]
        }
        r["dynamics"] = dynamics.rawValue
        if dynamics == .inertial {
            r["damping"] = damping.rawValue
            if damping == .constant { r["friction"] = formatNumber(friction) }
        }
        return r
    }

    static let entry = FlowEntry(
        name: "accelerated-svgd",
        summary: "accelerated SVGD: particles with velocities, SVGD's φ as force, friction (Stein & Li 2025)"
    ) { s, ctx in
        let dynamics = Dynamics(
            rawValue: try s.string("dynamics", default: "inertial", oneOf: Dynamics.allCases.map(\.rawValue)))!
        // Read in either dynamics, so that one key (`dynamics`) switches a scenario to plain SVGD.
        let damping = Damping(
            rawValue: try s.string("damping", default: "constant", oneOf: Damping.allCases.map(\.rawValue)))!
        let friction = damping == .constant ? try s.real("friction", default: 1, .positive) : 1
        let text = try s.string("kernel", default: "gaussian:sigma=median")
        let (n, d) = (Double(ctx.particleCount), Double(ctx.dimension))
        let force: Force
        if text == "bilinear" {
            guard let density = ctx.target.density else {
                throw s.fail(
                    "kind",
                    "accelerated-svgd needs a target with a score (gaussian, gaussian-mixture, banana), not samples")
            }
            // Memory: scores and φ per particle.
            s.memory.addWork(population: 0, doubles: n * 2 * d)
            force = .bilinear(density)
        } else {
            force = .stein(
                try SteinVariationalGradientDescent.read(s, ctx, flowName: "accelerated-svgd", kernel: text) {
                    Optimizer(rule: .sgd)
                })
        }
        if dynamics == .inertial {
            s.memory.addWork(population: 0, doubles: n * d, "velocities", columns: ctx.dimension)
        }
        return AcceleratedSVGD(
            force: force, damping: damping, friction: friction, dynamics: dynamics, threads: ctx.threads)
    }
}
