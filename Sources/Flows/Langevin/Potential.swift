import Communication
import Foundation
import KernelSum

/// A confining potential V of the mean-field Langevin free energy
/// F(μ) = ∫V dμ + ½∬W(x − y) dμ(x)dμ(y) + λ∫μ log μ.
///
/// Evaluation is batched: values and gradients of `count` points at once (row-major), so a
/// potential compiled from a formula can run its tape over a whole batch. The flow calls
/// `evaluate` concurrently on disjoint chunks of the particles: implementations must be safe
/// to call from several threads at once (no shared mutable scratch).
///
/// A new potential is one file with a type conforming to this protocol and a
/// ``PotentialEntry``, plus one line in ``PotentialRegistry/entries``.
public protocol Potential: Sendable {
    /// The spec for run.json, e.g. `quadratic:a=1`.
    var spec: String { get }
    /// V at `count` points of `x` (row-major, `dimension` columns) into `values` (if non-nil)
    /// and ∇V into `gradients` (count × dimension, if non-nil).
    func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?)
    /// log Z with Z = ∫exp(−V/λ) dx over R^d, where known in closed form or by quadrature:
    /// the normaliser of the Gibbs measure when there is no interaction (the `kl` metric).
    func logPartition(temperature lambda: Double, dimension: Int) -> Double?
}

extension Potential {
    /// Not known.
    public func logPartition(temperature lambda: Double, dimension: Int) -> Double? { nil }

    /// Values and gradients of all points (row-major), in parallel over chunks (each point
    /// independently). On the ranks of `communicator` each evaluates its block of the points
    /// and the blocks are gathered.
    public func evaluate(
        _ points: [Double], dimension d: Int, values: inout [Double], gradients: inout [Double], threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        let n = points.count / d
        if values.count != n { values = [Double](repeating: 0, count: n) }
        if gradients.count != n * d { gradients = [Double](repeating: 0, count: n * d) }
        let blocks = BlockPartition(count: n, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        points.withUnsafeBufferPointer { p in
            values.withUnsafeMutableBufferPointer { v in
                gradients.withUnsafeMutableBufferPointer { g in
                    guard let from = p.baseAddress, let vb = v.baseAddress, let gb = g.baseAddress else { return }
                    let src = SharedPointer(from)
                    let vv = SharedMutablePointer(vb)
                    let gg = SharedMutablePointer(gb)
                    Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 1024) { r in
                        self.evaluate(
                            src.base + r.lowerBound * d, count: r.count, dimension: d,
                            values: vv.base + r.lowerBound, gradients: gg.base + r.lowerBound * d)
                    }
                }
            }
        }
        communicator.gatherBlocks(of: &values, width: 1, blocks: blocks)
        communicator.gatherBlocks(of: &gradients, width: d, blocks: blocks)
    }

    /// V at one point (tests, metrics).
    public func value(_ x: [Double]) -> Double {
        var v = 0.0
        x.withUnsafeBufferPointer {
            evaluate($0.baseAddress!, count: 1, dimension: x.count, values: &v, gradients: nil)
        }
        return v
    }
}

/// What a potential may use while it is built.
public struct PotentialContext: Sendable {
    /// d, the coordinates of a particle.
    public let dimension: Int
    /// Worker threads the potential may use.
    public let threads: Int
    /// The scenario's target, when it has one (the `target` potential's π).
    public let target: (any Target)?
    /// A context; see the properties.
    public init(dimension: Int, threads: Int, target: (any Target)? = nil) {
        self.dimension = dimension
        self.threads = threads
        self.target = target
    }
}

/// One potential kind: reads its parameters from the `potential` table of the flow.
public typealias PotentialEntry = RegistryEntry<PotentialContext, any Potential>

/// The potential kinds `flow.potential` may name.
public enum PotentialRegistry {
    /// Every potential kind. A new potential adds one line here.
    public static let entries: [PotentialEntry] = [
        QuadraticPotential.entry,
        DoubleWellPotential.entry,
        FormulaPotential.entry,
        TargetPotential.entry,
    ]
    /// The kinds, in registry order.
    public static var names: [String] { entries.map(\.name) }

    /// Reads the table `key` of `s` (`{ kind = "quadratic", a = 2 }`); nil when absent (V = 0).
    public static func read(_ s: Settings, _ key: String, context: PotentialContext) throws -> (any Potential)? {
        guard let t = try s.optionalTable(key) else { return nil }
        let kind = try t.string("kind", oneOf: names)
        return try entries.first { $0.name == kind }!.make(t, context)
    }
}
