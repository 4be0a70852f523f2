import Flows
import Foundation

/// What `wgf plot` and `wgf compare` read from a run's resolved scenario, without building
/// the simulation: the title, the flow's kind, the target (for its density, moments and
/// samples) and the periodic box's side (`flow.period`, or `flow.min.period` for a game), each nil when absent or unreadable.
public struct ScenarioPlotInfo {
    public let title: String?
    public let flowKind: String?
    public let target: (any Target)?
    public let period: Double?
}

extension ScenarioLoader {
    /// Reads title, flow kind and target of a scenario. Only a file that cannot be read or
    /// parsed is an error; a target that cannot be built (e.g. one needing other tables) is nil.
    public static func plotInfo(path: String) throws -> ScenarioPlotInfo {
        let (source, toml) = try parse(path: path, overrides: [])
        let root = ScenarioTable(source: source, table: toml, path: "")
        var title: String? = nil
        if case .string(let t)? = root.raw("title") { title = t }
        var flowKind: String? = nil, period: Double? = nil
        if case .table(let items)? = root.raw("flow") {
            if case .string(let k)? = items.first(where: { $0.0 == "kind" })?.1 { flowKind = k }
            // The Langevin flow's `period`, or a game's min player's (`flow.min.period`).
            func length(_ items: [(String, SettingValue)]) -> Double? {
                switch items.first(where: { $0.0 == "period" })?.1 {
                case .real(let l)?: return l
                case .integer(let l)?: return Double(l)
                default: return nil
                }
            }
            period = length(items)
            if period == nil, case .table(let player)? = items.first(where: { $0.0 == "min" })?.1 { period = length(player) }
        }
        var target: (any Target)? = nil
        try? readParameters(root)
        if let t = try? root.optionalTable("target"),
           case .string(let k)? = t.raw("kind"), let entry = TargetRegistry.entries.first(where: { $0.name == k }) {
            target = try? entry.make(t)
        }
        return ScenarioPlotInfo(title: title, flowKind: flowKind, target: target, period: period.flatMap { $0 > 0 ? $0 : nil })
    }
}
