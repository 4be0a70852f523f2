import KernelSum

/// The stand-in for a scenario without `[target]` (Langevin flows: the Gibbs measure is
/// implicit). It has no density, no moments and no sampler; flows and metrics that need a
/// target check ``isAbsent`` (or find `density`/`moments` nil) and refuse it with a message.
public struct NoTarget: Target {
    /// d, the particles' dimension.
    public let dimension: Int
    /// The absent target of particles in d dimensions.
    public init(dimension: Int) { self.dimension = dimension }
    /// None.
    public var density: (any Density)? { nil }
    /// None.
    public var moments: (mean: [Double], covariance: [Double])? { nil }
    /// NaN samples, as ``FormulaTarget/sample(count:using:)``: callers check ``isAbsent``.
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        [Double](repeating: .nan, count: count * dimension)
    }
}

extension Target {
    /// True for a scenario without `[target]`.
    public var isAbsent: Bool { self is NoTarget }
}
