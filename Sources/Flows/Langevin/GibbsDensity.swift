import KernelSum

/// The Gibbs measure π ∝ exp(−V/λ) of a mean-field Langevin flow without interaction: the law
/// its particles approach, as a ``Density`` (unnormalised log density −V/λ, score −∇V/λ), so
/// that score-based metrics (`ksd`) judge Langevin runs as they judge samplers.
public struct GibbsDensity: Density {
    /// V.
    public let potential: any Potential
    /// λ > 0.
    public let temperature: Double
    public let dimension: Int

    /// π ∝ exp(−V/λ) in R^d.
    public init(potential: any Potential, temperature: Double, dimension: Int) {
        precondition(temperature > 0, "GibbsDensity: λ > 0")
        self.potential = potential
        self.temperature = temperature
        self.dimension = dimension
    }

    /// The flow's Gibbs measure, when it has one: in R^d, no interaction, λ > 0 (V = 0 has none:
    /// exp(0) is not normalisable).
    public init?(flow: LangevinFlow, dimension: Int) {
        guard let v = flow.potential, flow.interactions.isEmpty, flow.domain == .free, flow.temperature > 0 else {
            return nil
        }
        self.init(potential: v, temperature: flow.temperature, dimension: dimension)
    }

    /// −V(x)/λ.
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        var v = 0.0
        potential.evaluate(x, count: 1, dimension: dimension, values: &v, gradients: nil)
        return -v / temperature
    }

    /// −∇V(x)/λ.
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        scores(x, count: 1, into: g, threads: 1)
    }

    /// −∇V/λ at every point, by chunks (the potential evaluates a chunk at once: a formula's
    /// batched tape).
    public func scores(
        _ points: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>, threads: Int
    ) {
        let d = dimension
        let src = SharedPointer(points)
        let dst = SharedMutablePointer(out)
        let (v, lambda) = (potential, temperature)
        Parallel.forEachChunk(n, threads: threads, minimumChunk: 256) { range in
            let g = dst.base + range.lowerBound * d
            v.evaluate(src.base + range.lowerBound * d, count: range.count, dimension: d, values: nil, gradients: g)
            for k in 0..<(range.count * d) { g[k] = -g[k] / lambda }
        }
    }
}
