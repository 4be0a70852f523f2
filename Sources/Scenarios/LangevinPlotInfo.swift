import Flows
import Foundation

/// What `wgf plot` draws of a `langevin` scenario's target: its potential V and temperature λ,
/// whose Gibbs density ∝ exp(−V/λ) is the law the particles approach when they do not
/// interact.
public struct LangevinPlotInfo {
    /// V, built from `flow.potential`.
    public let potential: any Potential
    /// λ, `flow.temperature` (1 when not given, as the flow reads it).
    public let temperature: Double
    /// d, `population.dimension`.
    public let dimension: Int
    /// Whether `flow.interaction` is given: the stationary law is then not exp(−V/λ).
    public let interacting: Bool
}

extension ScenarioLoader {
    /// The potential, temperature and dimension of a (resolved) `langevin` scenario, without
    /// building the simulation; nil for another flow, without a potential, or when the file or
    /// its potential cannot be read (the figures are then drawn without it).
    public static func langevinPlotInfo(path: String) -> LangevinPlotInfo? {
        guard let (source, toml) = try? parse(path: path, overrides: []) else { return nil }
        let root = ScenarioTable(source: source, table: toml, path: "")
        try? readParameters(root)
        guard let flow = try? root.optionalTable("flow"), (try? flow.string("kind")) == "langevin",
            let population = try? root.optionalTable("population"),
            let d = try? population.integer("dimension", .positiveInteger),
            let temperature = try? flow.real("temperature", default: 1, .nonNegative),
            let potential = try? PotentialRegistry.read(
                flow, "potential", context: PotentialContext(dimension: d, threads: 1))
        else { return nil }
        return LangevinPlotInfo(
            potential: potential, temperature: temperature, dimension: d, interacting: flow.contains("interaction"))
    }
}
