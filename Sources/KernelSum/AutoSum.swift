import Foundation

/// `summation = "auto"`: per call, the cheapest engine that meets the tolerance. Direct sums
/// cost about 3 ns per pair and the mesh about 1 µs per point plus its FFT, so the mesh wins
/// once N·M exceeds about 4·10⁶ (N = M = 2000) — where it can serve the kernel (Gaussian,
/// d ≤ 3). Otherwise direct, which is exact. The sliced engine is never picked: its error is
/// set by the number of directions, not by the tolerance. The last choice is reported (run.json).
public final class AutoSum: KernelSumEngine, @unchecked Sendable {
    public static let meshThreshold = 4_000_000
    let direct: DirectSum
    let mesh: MeshSum
    let lock = NSLock()
    var lastChoice: any KernelSumEngine

    public init(tolerance: Double, threads: Int) {
        direct = DirectSum(threads: threads)
        mesh = MeshSum(tolerance: tolerance, threads: threads)
        lastChoice = direct
    }

    public var name: String { "auto" }

    public var parameters: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return lastChoice.parameters.merging(["choice": lastChoice.name]) { a, _ in a }
    }

    /// The engine `auto` uses for a problem of this shape.
    public func choice(_ kernel: any RadialKernel, dimension d: Int, sources n: Int, targets m: Int) -> any KernelSumEngine {
        n * m > AutoSum.meshThreshold && MeshSum.unsupported(kernel, dimension: d) == nil ? mesh : direct
    }

    public func sum(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
                    values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        let engine = choice(kernel, dimension: problem.dimension, sources: problem.sourceCount, targets: problem.targetCount)
        lock.lock()
        lastChoice = engine
        lock.unlock()
        engine.sum(kernel, problem, values: values, gradients: gradients)
    }
}
