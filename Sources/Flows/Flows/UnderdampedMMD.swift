import Foundation
import KernelSum

/// The momentum (underdamped) MMD flow: the particles of ``MMDFlow`` given velocities and
/// friction γ, as the mean-field underdamped Langevin dynamics of Fu & Wilson for the
/// free energy ½MMD²(μ, ν) at zero temperature:
///
///     dx_i = v_i dt,   dv_i = −γ v_i dt − ∇f(x_i) dt,
///
/// f the MMD flow's witness function (its force −∇f evaluated at the noise-injected points when
/// `noise` > 0, ``MMDFlow/direction(_:step:)``). A step freezes the force over the step and
/// integrates the rest exactly, as ``LangevinFlow``'s underdamped scheme without its noise (its
/// coefficients, ``LangevinFlow/underdampedCoefficients(_:)``): with e = e^{−γh},
/// c₁ = (1 − e)/γ, c₂ = (h − c₁)/γ and F = −∇f(x),
///
///     x ← x + c₁ v + c₂ F,   v ← e v + c₁ F.
///
/// Velocities start at 0 and are saved with the population; nothing else is kept, so a resumed
/// run continues exactly. The energy is the MMD flow's, ½MMD².
public final class UnderdampedMMDFlow: Flow {
    /// The MMD flow whose force drives the particles (its kernel, samples, noise and engine).
    public let mmd: MMDFlow
    /// γ > 0.
    public let friction: Double
    let coefficients: LangevinFlow

    /// The underdamped flow of `mmd` with friction `friction`.
    public init(mmd: MMDFlow, friction: Double) {
        self.mmd = mmd
        self.friction = friction
        coefficients = LangevinFlow(
            dynamics: .underdamped, temperature: 0, friction: friction, potential: nil, seed: 0, threads: 1)
    }

    /// Velocities start at 0, unless the state has them.
    public func prepare(_ state: inout SimulationState) {
        guard state.populations[0].velocities == nil else { return }
        state.populations[0].velocities = [Double](repeating: 0, count: state.populations[0].positions.count)
    }

    /// One step on the first population: x ← x + c₁ v + c₂ F, v ← e v + c₁ F.
    public func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        let force = mmd.direction(state.populations[0], step: step)
        let c = coefficients.underdampedCoefficients(h)
        var v = state.populations[0].velocities ?? [Double](repeating: 0, count: force.count)
        for k in 0..<force.count {
            state.populations[0].positions[k] += c.c1 * v[k] + c.c2 * force[k]
            v[k] = c.e * v[k] + c.c1 * force[k]
        }
        state.populations[0].velocities = v
    }

    /// The MMD flow's: ½ MMD²(particles, target samples).
    public var energyDescription: String? { mmd.energyDescription }
    /// ½ MMD² of the first population.
    public func energy(_ state: SimulationState) -> Double { mmd.energy(state) }

    /// The MMD flow's kernel, samples and engine, and the friction.
    public var report: [String: String] {
        var r = mmd.report
        r["optimizer"] = nil
        r["friction"] = formatNumber(friction)
        return r
    }

    static let entry = FlowEntry(
        name: "underdamped-mmd",
        summary: "MMD flow with velocities and friction (mean-field underdamped Langevin, Fu & Wilson)"
    ) { s, ctx in
        let friction = try s.real("friction", default: 1, .positive)
        let mmd = try MMDFlow.read(s, ctx, flowName: "underdamped-mmd") { Optimizer(rule: .sgd) }
        s.memory.addWork(
            population: 0, doubles: Double(ctx.particleCount * ctx.dimension), "velocities", columns: ctx.dimension)
        return UnderdampedMMDFlow(mmd: mmd, friction: friction)
    }
}
