import Communication
import Foundation
import KernelSum

/// A pair interaction W of the free energy: the flow needs, for every particle i,
/// Σ_j w_j ∇W(x_i − x_j), the metrics ½ Σ_{i≠j} w_i w_j W(x_i − x_j), and the weighted flows
/// (`fisher-rao`, birth–death) its first variation at the particles, Σ_{j≠i} w_j W(x_i − x_j).
///
/// A new interaction kind is one file with a class conforming to this protocol and an
/// ``InteractionEntry``, plus one line in ``InteractionRegistry/entries``.
public protocol Interaction: AnyObject {
    /// The spec for run.json.
    var spec: String { get }
    /// Adds Σ_j w_j ∇W(x_i − x_j) to `gradients[i*d ..< i*d + d]` for every particle i.
    func addGradients(_ positions: [Double], weights: [Double], dimension d: Int, into gradients: inout [Double])
    /// ½ Σ_{i≠j} w_i w_j W(x_i − x_j) (the diagonal i = j is left out, so singular kernels
    /// and smooth ones are treated alike).
    func energy(_ positions: [Double], weights: [Double], dimension d: Int) -> Double
    /// Adds Σ_{j≠i} w_j W(x_i − x_j) to `values[i]` for every particle i: ∂/∂w_i of
    /// ``energy(_:weights:dimension:)``, the first variation δ/δμ of ½∬W dμdμ at x_i without the
    /// self-interaction w_i W(0) (which the energy leaves out too).
    func addValues(_ positions: [Double], weights: [Double], dimension d: Int, into values: inout [Double])
    /// Engine choices for run.json.
    var report: [String: String] { get }
    /// ``addGradients(_:weights:dimension:into:)`` at this rank's share of the particles, over
    /// every rank's (the domain decomposition; see the default in the extension).
    func addGradients(atShare p: Population, communicator: any Communicator, into gradients: inout [Double])
}

extension Interaction {
    /// Nothing to report.
    public var report: [String: String] { [:] }

    /// Adds Σ_j w_j ∇W(x_i − x_j) over every rank's particles at the particles of `p`, this
    /// rank's share (``Population/share``; every rank calls it). This default gathers the whole
    /// population (in index order), adds its gradients as one process would
    /// (``addGradients(_:weights:dimension:into:)``, the same call on every rank) and keeps this
    /// rank's rows: exact, with the memory of the whole population. Terms that sum over the
    /// ranks' particles without gathering them override it.
    public func addGradients(atShare p: Population, communicator: any Communicator, into gradients: inout [Double]) {
        guard let share = p.share else {
            return addGradients(p.positions, weights: p.weights, dimension: p.dimension, into: &gradients)
        }
        let d = p.dimension
        let positions = p.positions.withUnsafeBufferPointer { x in
            share.ids.withUnsafeBufferPointer { communicator.gatherRows(x, width: d, ids: $0, total: share.total) }
        }
        let weights = p.weights.withUnsafeBufferPointer { w in
            share.ids.withUnsafeBufferPointer { communicator.gatherRows(w, width: 1, ids: $0, total: share.total) }
        }
        var all = [Double](repeating: 0, count: share.total * d)
        addGradients(positions, weights: weights, dimension: d, into: &all)
        for (i, id) in share.ids.enumerated() {
            for a in 0..<d { gradients[i * d + a] += all[id * d + a] }
        }
    }
}

/// What an interaction term may use while it is built.
public struct InteractionContext {
    /// d, the coordinates of a particle.
    public let dimension: Int
    /// N, the particles interacting.
    public let particleCount: Int
    /// Worker threads the term may use.
    public let threads: Int
    /// The scenario's seed, for engines that draw (sliced directions).
    public let seed: UInt64
    /// R^d or the periodic box: differences by minimum image in the box.
    public let domain: Domain
    /// The term's `weight` (W = weight · the term's function).
    public let weight: Double
    /// The flow's table, for the engine keys (`summation`, `tolerance`).
    public let flowSettings: Settings
    /// The ranks sharing the run, for the term's kernel sums (see ``FlowContext/communicator``).
    public let communicator: any Communicator
}

/// One interaction kind named by `kind` in a term table (`quadratic`); terms given by a
/// `kernel` spec need no entry (any kernel of the kernel registry).
public typealias InteractionEntry = RegistryEntry<InteractionContext, any Interaction>

/// The interaction kinds a term may name besides kernels.
public enum InteractionRegistry {
    /// Every interaction kind besides kernels. A new kind adds one line here.
    public static let entries: [InteractionEntry] = [
        QuadraticInteraction.entry,
        FormulaInteraction.entry,
    ]
    /// The kinds, in registry order.
    public static var names: [String] { entries.map(\.name) }

    /// Reads `interaction` from the flow's table `s`: a kernel spec (`"gaussian:sigma=1"`, weight 1),
    /// the name of a kind without parameters (`"quadratic"`), or an array of term tables, each
    /// `{ kernel = "SPEC", weight = w }` or `{ kind = "NAME", weight = w, ... }`. Absent: W = 0.
    static func read(_ s: Settings, _ key: String, flow ctx: FlowContext, domain: Domain) throws -> [any Interaction] {
        guard let raw = s.raw(key) else { return [] }
        if case .string(let text) = raw {
            _ = try s.string(key)
            let context = InteractionContext(
                dimension: ctx.dimension, particleCount: ctx.particleCount, threads: ctx.threads,
                seed: ctx.seed, domain: domain, weight: 1, flowSettings: s,
                communicator: ctx.communicator)
            if let entry = entries.first(where: { $0.name == text }) {
                return [try entry.make(EmptySettings(parent: s, key: key), context)]
            }
            return [try KernelInteraction.make(text, s, key, context: context)]
        }
        guard let terms = try s.optionalTables(key) else { return [] }
        return try terms.map { t in
            let weight = try t.real("weight", default: 1)
            let context = InteractionContext(
                dimension: ctx.dimension, particleCount: ctx.particleCount, threads: ctx.threads,
                seed: ctx.seed, domain: domain, weight: weight, flowSettings: s,
                communicator: ctx.communicator)
            if t.contains("kernel") {
                return try KernelInteraction.make(try t.string("kernel"), t, "kernel", context: context)
            }
            let kind = try t.string("kind", oneOf: names)
            return try entries.first { $0.name == kind }!.make(t, context)
        }
    }
}

/// The settings of a term written as a bare name (`interaction = "quadratic"`): no keys, so
/// every parameter takes its default; errors are located at the key that named it.
final class EmptySettings: Settings {
    let parent: Settings, key: String
    init(parent: Settings, key: String) {
        self.parent = parent
        self.key = key
    }
    func raw(_ key: String) -> SettingValue? { nil }
    func resolve(_ key: String, _ value: SettingValue) {}
    func fail(_ key: String, _ problem: SettingsProblem) -> SettingsError {
        parent.fail(self.key, "\(key): \(problem.message)")
    }
    func optionalTable(_ key: String) throws -> Settings? { nil }
    func points(_ key: String) throws -> (dimension: Int, values: [Double]) { throw missing(key, "") }
}
