import KernelSum
/// Particles drawn from N(mean, covariance) or N(mean, diag(std²)).
public struct GaussianInitialisation: Initialisation {
    public let law: GaussianTarget

    public func positions(count: Int, using rng: inout RandomStream) -> [Double] {
        law.sample(count: count, using: &rng)
    }

    static let entry = InitialisationEntry(name: "gaussian", summary: "N(mean, covariance) or N(mean, diag(std²))") { s, d in
        GaussianInitialisation(law: try GaussianTarget.read(s, dimension: d))
    }
}
