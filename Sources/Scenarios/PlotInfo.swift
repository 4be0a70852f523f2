import Flows
import Foundation

/// What `wgf plot` and `wgf compare` read from a run's resolved scenario, without building
/// the simulation: the title, the flow's kind, the target (for its density, moments and
/// samples) and the periodic box's side, each nil when absent or unreadable.
public struct ScenarioPlotInfo {
    /// The scenario's `title`.
    public let title: String?
    /// The flow's `kind` (`svgd`, `langevin`, ...).
    public let flowKind: String?
    /// The target built from `[target]`: nil when absent or when it cannot be built alone.
    public let target: (any Target)?
    /// The periodic box's side L (`flow.period`, or `flow.min.period` for a game); nil in R^d.
    public let period: Double?
    /// `[plot] image`: the particles are images of width × height pixels; nil when not given.
    public var imageShape: (width: Int, height: Int)? = nil
}

extension ScenarioLoader {
    /// Reads title, flow kind, target and box of a scenario. Only a file that cannot be read or
    /// parsed is an error; a target that cannot be built (e.g. one needing other tables) is nil.
    ///
    /// - Throws: ``ScenarioError`` when the file cannot be read or is not valid TOML.
    public static func plotInfo(path: String) throws -> ScenarioPlotInfo {
        let (source, toml) = try parse(path: path, overrides: [])
        let root = ScenarioTable(source: source, table: toml, path: "")
        var title: String? = nil
        if case .string(let t)? = root.raw("title") { title = t }
        var flowKind: String? = nil
        var period: Double? = nil
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
            if period == nil, case .table(let player)? = items.first(where: { $0.0 == "min" })?.1 {
                period = length(player)
            }
        }
        var target: (any Target)? = nil
        try? readParameters(root)
        if let t = try? root.optionalTable("target"),
            case .string(let k)? = t.raw("kind"), let entry = TargetRegistry.entries.first(where: { $0.name == k })
        {
            target = try? entry.make(t)
        }
        return ScenarioPlotInfo(
            title: title, flowKind: flowKind, target: target, period: period.flatMap { $0 > 0 ? $0 : nil },
            imageShape: rawImageShape(root))
    }
}
