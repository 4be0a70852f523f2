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
///   below direct's;
/// - sliced (gaussian, matern, imq, laplace, riesz with r ≠ 1, d > 3), given the points: its error depends on them, so a pilot
///   (``SlicedSum``'s, 16 blocks of d directions on at most 1024 targets, then as many as the
///   estimate predicts) finds the directions that meet τ, and sliced is taken when they cost
///   less than half of direct's (``slicedSecondsPerPointAndDirection(dimension:frequencies:channels:gradients:cusp:)``
///   or ``slicedMeshLineSecondsPerPointAndDirection(dimension:gradients:)``
///   against ``directSecondsPerPair(_:dimension:gradients:)``). The pilot is tried only when
///   its first 16 blocks cost less than a tenth of the direct sum, and gives up as soon as its
///   prediction exceeds the budget, so a losing pilot costs at most that tenth. At d = 50,
///   N = M = 10⁵ and τ = 10⁻³ it takes sliced at about 1/40 of direct's time.
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
    /// The sliced engine held to the tolerance, whose pilot chooses P for profiled kernels (its
    /// profile is kept between calls).
    let sliced: SlicedSum
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
        sliced = SlicedSum(directions: 1, seed: seed, threads: threads, tolerance: tolerance)
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
        // Sliced by shape for the energy distance only: its cost model P = d/τ² is measured for
        // it; the profiled kernels' errors depend on the points (``slicedByPilot(_:_:)``).
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
        if byShape is DirectSum, let piloted = slicedByPilot(kernel, problem) { return piloted }
        guard byShape is MeshSum else { return byShape }
        let pairs = Double(problem.sourceCount) * Double(problem.targetCount)
        guard let meshSeconds = mesh.estimatedSeconds(kernel, problem),
            meshSeconds < pairs * kernel.directSecondsPerPair
        else { return direct }
        return mesh
    }

    /// Seconds per point and direction of the sliced engine on one thread with a profile of K
    /// frequencies, C channels and G gradient channels: 20 ns + 0.25 ns·d(1 + G) to project and
    /// fold, 0.55 ns per frequency and channel in the series (measured for the Gaussian, K ≈ 12,
    /// and Matérn 5/2, K ≈ 240–400, in d = 5–50: docs/performance.md), and with a cusp
    /// (``SliceCusp``: Laplace) 25 ns·(1 + G) to sort and run its recursions (the energy
    /// distance's sort and sweep take 23 and 40 ns without and with a gradient in d = 10).
    public static func slicedSecondsPerPointAndDirection(
        dimension d: Int, frequencies k: Int, channels c: Int, gradients g: Int, cusp: Bool = false
    ) -> Double {
        (20 + 0.25 * Double(d * (1 + g)) + 0.55 * Double(k * (c + g)) + (cusp ? 25 * Double(1 + g) : 0)) * 1e-9
    }

    /// Seconds per pair of the direct sum on one thread in dimension d: the kernel's rate
    /// (measured in d ≤ 3) plus 0.36 ns per coordinate (measured for the Gaussian up to d = 50),
    /// twice that with gradients.
    public static func directSecondsPerPair(_ kernel: any RadialKernel, dimension d: Int, gradients g: Int) -> Double {
        kernel.directSecondsPerPair + 0.36e-9 * Double(d * (1 + min(g, 1)))
    }

    /// Seconds per point and direction of the sliced engine on one thread for riesz with r ≠ 1,
    /// each direction's 1-D sum by the mesh (`SliceMeshLine`): 0.7–0.9 µs measured at
    /// N = M = 2·10⁴ in d = 10 and 50 with and without a gradient, one channel, with fixed
    /// directions and with a tolerance of 0.05 (docs/performance.md), plus the projection's
    /// 0.25 ns·d(1 + G).
    public static func slicedMeshLineSecondsPerPointAndDirection(dimension d: Int, gradients g: Int) -> Double {
        0.85e-6 + 0.25e-9 * Double(d * (1 + g))
    }

    /// The sliced engine with the directions its pilot found to meet the tolerance, for a
    /// kernel it sums by profile or by 1-D mesh (riesz with r ≠ 1; the shape rule serves
    /// r = 1) in d > 3 outside the box, when that costs less than half the direct sum; else nil.
    func slicedByPilot(_ kernel: any RadialKernel, _ problem: KernelSumProblem) -> SlicedSum? {
        let d = problem.dimension
        let n = problem.sourceCount
        let m = problem.targetCount
        let pairs = Double(n) * Double(m)
        let g = problem.gradientChannels.count
        guard !domain.isPeriodic, d > 3, pairs > Double(AutoSum.meshThreshold),
            let line = sliced.line(kernel, dimension: d)
        else { return nil }
        let perPoint: Double
        switch line {
        case .sorted: return nil
        case .mesh: perPoint = AutoSum.slicedMeshLineSecondsPerPointAndDirection(dimension: d, gradients: g)
        case .profile(let profile):
            // The projections' span is at most twice the points' largest distance from the centre.
            let centre = SlicedSum.centre(problem)
            var radius = 0.0
            for points in [problem.sources, problem.targets] {
                for i in 0..<(points.count / d) {
                    var r = 0.0
                    for a in 0..<d { r += (points[i * d + a] - centre[a]) * (points[i * d + a] - centre[a]) }
                    radius = max(radius, r)
                }
            }
            guard radius.isFinite else { return nil }
            let k = profile.series(span: 2 * radius.squareRoot()).coefficients.count
            perPoint = AutoSum.slicedSecondsPerPointAndDirection(
                dimension: d, frequencies: k, channels: problem.channels, gradients: g, cusp: profile.cusp != nil)
        }
        let directSeconds = pairs * AutoSum.directSecondsPerPair(kernel, dimension: d, gradients: g)
        let pilotSeconds = Double(SlicedSum.minimumAdaptiveBlocks * d * (n + SlicedSum.pilotTargetCount(m))) * perPoint
        guard pilotSeconds < 0.1 * directSeconds else { return nil }
        let budget = 0.5 * directSeconds / (perPoint * Double(n + m))
        guard budget < 1e9, let p = sliced.directionsNeeded(kernel, problem, budget: Int(budget)) else { return nil }
        return sliced.fixed(directions: p)
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
