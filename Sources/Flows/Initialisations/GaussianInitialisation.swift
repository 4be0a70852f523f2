import KernelSum

/// Particles drawn from N(mean, covariance) or N(mean, diag(std²)).
public struct GaussianInitialisation: Initialisation {
    /// The law the particles are drawn from.
    public let law: GaussianTarget

    /// `count` draws from ``law``.
    public func positions(count: Int, using rng: inout RandomStream) -> [Double] {
        law.sample(count: count, using: &rng)
    }

    static let entry = InitialisationEntry(name: "gaussian", summary: "N(mean, covariance) or N(mean, diag(std²))") {
        s, d in
        GaussianInitialisation(law: try GaussianTarget.read(s, dimension: d))
    }
}
