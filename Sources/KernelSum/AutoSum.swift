import Communication
import Foundation

/// `summation = "auto"`: per call, the cheapest engine that meets the tolerance, by a cost model
/// measured on this machine class:
/// - direct: exact, ``RadialKernel/directSecondsPerPair`` per pair (1.9 ns for the Gaussian,
///   up to 15 ns for a formula) — always taken for small problems (N·M ≤ 4·10⁶);
/// - mesh (d ≤ 3, every kernel): meets the tolerance; taken when its plan's estimate (FFTs,
///   near field, spreading: ``MeshSum/estimatedSeconds(_:_:)``) is below direct's. In 3-D a
///   kernel that needs the near field (IMQ, Laplace, Matérn, Coulomb) then stays direct up
///   to N = M ≈ 10⁴ (scripts/bench-auto-choice.py measures the choice against both engines);
/// - sliced (riesz:r=1, d > 3): the relative error of its gradients is about 0.85 √(d/P)
///   (measured, see ``SlicedSum``), so P = d (1/τ)² directions meet tolerance τ (typically;
///   at most 2τ was measured); taken when its cost, about 30 ns per direction and point, is
///   below direct's.
/// Otherwise direct. The last choice and its parameters are reported (run.json).
///
/// In the periodic box (a periodic ``Domain``) the same rule between the minimum-image direct
/// sum and the periodic mesh, the mesh only for kernels that have decayed by L/2
/// (``MeshSum/periodicMeshApplies(_:period:tolerance:)``); sliced is never chosen there.
public final class AutoSum: SharesSumsAcrossRanks, @unchecked Sendable {
    /// N·M at or below which `auto` sums directly whatever the kernel (about 12 ms of pairs at
    /// 3 ns each).
    public static let meshThreshold = 4_000_000
    let tolerance: Double
    let threads: Int
    let seed: UInt64
    /// R^d, or the periodic box [0, L)^d.
    public let domain: Domain
    let direct: DirectSum
    let mesh: MeshSum
    let lock = NSLock()
    var lastChoice: any KernelSumEngine

    /// - Parameters:
    ///   - tolerance: the relative tolerance τ the approximate engines are held to.
    ///   - threads: threads of whichever engine is chosen.
    ///   - seed: the sliced engine's directions.
    ///   - domain: R^d, or the periodic box [0, L)^d.
    ///   - communicator: ranks to share the mesh's grid with (``MeshSum``).
    public init(
        tolerance: Double, threads: Int, seed: UInt64 = 0, domain: Domain = .free,
        communicator: (any Communicator)? = nil
    ) {
        self.tolerance = tolerance
        self.threads = threads
        self.seed = seed
        self.domain = domain
        direct = DirectSum(threads: threads, domain: domain)
        mesh = MeshSum(tolerance: tolerance, threads: threads, domain: domain, communicator: communicator)
        lastChoice = direct
    }

    /// `auto`, the registry name.
    public var name: String { "auto" }

    /// The last call's choice (`choice`) and that engine's parameters: recorded in run.json.
    public var parameters: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return lastChoice.parameters.merging(["choice": lastChoice.name]) { a, _ in a }
    }

    /// The engine `auto` uses for a problem of this shape, without its points: direct up to
    /// ``meshThreshold`` pairs, else the mesh where it serves the kernel, else sliced where it
    /// is cheaper, else direct. (``choice(_:for:)`` refines the mesh's choice with its plan's
    /// cost for the actual points; the ranks' sum over particles held apart uses this one.)
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - d: the dimension.
    ///   - n: the source count N.
    ///   - m: the target count M.
    public func choice(
        _ kernel: any RadialKernel, dimension d: Int, sources n: Int, targets m: Int
    ) -> any KernelSumEngine {
        let pairs = Double(n) * Double(m)
        guard pairs > Double(AutoSum.meshThreshold) else { return direct }
        if MeshSum.unsupported(kernel, dimension: d) == nil,
            domain.period.map({ MeshSum.periodicMeshApplies(kernel, period: $0, tolerance: tolerance) }) ?? true
        {
            return mesh
        }
        // Sliced for the energy distance only: its cost model P = d/τ² is measured for it; the
        // Gaussian and Matérn profiles' crossover with direct is not (docs/performance.md).
        if !domain.isPeriodic, (kernel as? RieszKernel)?.r == 1 {
            let p = SlicedSum.directions(forTolerance: tolerance, dimension: d)
            if 30e-9 * Double(p) * Double(n + m) < 3e-9 * pairs {
                return SlicedSum(directions: p, seed: seed, threads: threads)
            }
        }
        return direct
    }

    /// The engine `auto` uses for `problem`: ``choice(_:dimension:sources:targets:)``, except
    /// that the mesh is taken only when its plan for these points is estimated to cost less
    /// than the direct sum (both on one thread, so the choice does not depend on the threads).
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - problem: sources, weights and targets.
    public func choice(_ kernel: any RadialKernel, for problem: KernelSumProblem) -> any KernelSumEngine {
        let byShape = choice(
            kernel, dimension: problem.dimension, sources: problem.sourceCount, targets: problem.targetCount)
        guard byShape is MeshSum else { return byShape }
        let pairs = Double(problem.sourceCount) * Double(problem.targetCount)
        guard let meshSeconds = mesh.estimatedSeconds(kernel, problem),
            meshSeconds < pairs * kernel.directSecondsPerPair
        else { return direct }
        return mesh
    }

    /// Sums with ``choice(_:dimension:sources:targets:)`` for this problem's shape, and records
    /// the choice (``KernelSumEngine``'s layout).
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - problem: sources, weights and targets.
    ///   - values: M·C values, overwritten.
    ///   - gradients: M·G·d gradients, overwritten.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        sum(kernel, problem, targets: 0..<problem.targetCount, values: values, gradients: gradients)
    }

    /// The engine is chosen for the whole problem, then sums at the targets `range`.
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        let engine = choice(kernel, for: problem)
        lock.lock()
        lastChoice = engine
        lock.unlock()
        engine.sum(kernel, problem, targets: range, values: values, gradients: gradients)
    }

    /// The engine is chosen for the whole problem; the sum is shared among the ranks if that
    /// engine shares it its own way (the mesh, given a communicator), else false.
    public func sumAcrossRanks(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool {
        let engine = choice(kernel, for: problem)
        guard let own = engine as? any SharesSumsAcrossRanks,
            own.sumAcrossRanks(kernel, problem, values: values, gradients: gradients)
        else { return false }
        lock.lock()
        lastChoice = engine
        lock.unlock()
        return true
    }

    /// The mesh's sum over particles the ranks hold apart, where the choice for the whole
    /// problem (its counts summed over the ranks) is the mesh; else false.
    public func sumOverRankParticles(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, sourceIDs: UnsafeBufferPointer<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool {
        guard let communicator = mesh.communicator else { return false }
        let counts = communicator.allSum([problem.sourceCount, problem.targetCount])
        let engine = choice(kernel, dimension: problem.dimension, sources: counts[0], targets: counts[1])
        guard let own = engine as? any SharesSumsAcrossRanks,
            own.sumOverRankParticles(kernel, problem, sourceIDs: sourceIDs, values: values, gradients: gradients)
        else { return false }
        lock.lock()
        lastChoice = engine
        lock.unlock()
        return true
    }
}
