import Foundation
import KernelSum

/// How a flow's velocity v becomes a displacement: x ← x + h·P(v).
///
/// - `sgd`: P(v) = v (explicit Euler).
/// - `adagrad`: the rule of Liu & Wang's reference SVGD code (AdaGrad with momentum):
///   H₁ = v₁², H_t = α H_{t−1} + (1 − α) v_t², P(v) = v / (fudge + √H), coordinate-wise,
///   with α = 0.9 and fudge = 1e-6 there.
/// - `momentum`: heavy-ball momentum as in the momentum MMD flows of Hertrich, Wald, Altekrüger &
///   Hagemann (2024, eq. 9): u₁ = v₁, u_t = v_t + m u_{t−1}, P(v_t) = u_t, so that a constant
///   velocity moves by h·v/(1 − m) per step in the long run (m = 0 is sgd).
///
/// AdaGrad's history H and the momentum's u are part of the run's state (`StatefulPart`): a
/// checkpoint saves them. They are per particle (``ParticleStatePart``): when the ranks hold the
/// particles apart, each holds the rows of its particles, which move with them.
public final class Optimizer: ParticleStatePart {
    /// The update rule: P(v) = v, AdaGrad with decay α and fudge added to √H, or momentum m.
    public enum Rule: Sendable, Equatable {
        case sgd
        case adagrad(alpha: Double, fudge: Double)
        case momentum(Double)
    }
    /// The rule in force.
    public let rule: Rule
    /// AdaGrad's H or the momentum's u, coordinate-wise.
    var history: [Double] = []
    /// Whether the history has begun (on every rank, also one holding no particle).
    var started = false

    /// An optimizer with no history yet.
    public init(rule: Rule) { self.rule = rule }

    /// Moves `x` by h·P(v); the first call starts AdaGrad's history at v² (the momentum's at v).
    public func apply(_ v: [Double], to x: inout [Double], stepSize h: Double) {
        switch rule {
        case .sgd:
            for k in 0..<x.count { x[k] += h * v[k] }
        case .adagrad(let alpha, let fudge):
            if !started || history.count != v.count {
                history = v.map { $0 * $0 }
                started = true
            } else {
                for k in 0..<v.count { history[k] = alpha * history[k] + (1 - alpha) * v[k] * v[k] }
            }
            for k in 0..<x.count { x[k] += h * v[k] / (fudge + history[k].squareRoot()) }
        case .momentum(let m):
            if !started || history.count != v.count {
                history = v
                started = true
            } else {
                for k in 0..<v.count { history[k] = v[k] + m * history[k] }
            }
            for k in 0..<x.count { x[k] += h * history[k] }
        }
    }

    /// Doubles of state kept per coordinate (AdaGrad's history, the momentum), for the memory estimate.
    public var historyPerCoordinate: Double { rule == .sgd ? 0 : 1 }

    /// The rule and its parameters, for run.json.
    public var report: [String: String] {
        switch rule {
        case .sgd: return ["optimizer": "sgd"]
        case .adagrad(let alpha, let fudge):
            return ["optimizer": "adagrad", "adagrad-alpha": formatNumber(alpha), "adagrad-fudge": formatNumber(fudge)]
        case .momentum(let m): return ["optimizer": "momentum", "momentum": formatNumber(m)]
        }
    }

    /// The rules `optimizer` may name, each with its line for `wgf list`.
    public static let rules: [(name: String, summary: String)] = [
        ("sgd", "x ← x + h·v (explicit Euler)"),
        ("adagrad", "AdaGrad with momentum, as Liu & Wang's SVGD code (adagrad-alpha 0.9, adagrad-fudge 1e-6)"),
        ("momentum", "heavy ball u ← v + m·u, x ← x + h·u, as Hertrich et al.'s momentum MMD flow (momentum 0.9)"),
    ]

    /// Reads `optimizer` (and, for adagrad, `adagrad-alpha`, `adagrad-fudge`; for momentum, `momentum`).
    public static func read(_ s: Settings, default name: String) throws -> Optimizer {
        switch try s.string("optimizer", default: name, oneOf: rules.map(\.name)) {
        case "adagrad":
            let o = Optimizer(
                rule: .adagrad(
                    alpha: try s.real("adagrad-alpha", default: 0.9, .closed(0, 1)),
                    fudge: try s.real("adagrad-fudge", default: 1e-6, .positive)))
            s.register(o, as: "optimizer")
            return o
        case "momentum":
            let o = Optimizer(rule: .momentum(try s.real("momentum", default: 0.9, .closedOpen(0, 1))))
            s.register(o, as: "optimizer")
            return o
        default:
            return Optimizer(rule: .sgd)
        }
    }

    /// AdaGrad's history or the momentum (nothing before the first step, or for sgd).
    public func saveState() -> PartState { savedState(rows: history) }

    /// Puts the history back; an empty state starts a new one.
    public func restoreState(_ state: PartState) throws {
        history = state.isEmpty ? [] : try state.reals("history", part: "optimizer")
        started = !history.isEmpty
    }

    /// Whether the history has begun: d values per particle.
    public var holdsParticleState: Bool { started }
    /// The history of the particles held, row by row.
    public var particleRows: [Double] {
        get { history }
        set { history = newValue }
    }
    /// The state with `rows` as the history.
    public func savedState(rows: [Double]) -> PartState {
        rows.isEmpty ? PartState() : PartState(reals: ["history": rows])
    }
}
