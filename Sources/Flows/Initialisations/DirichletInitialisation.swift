import KernelSum

/// Particles drawn from Dir(α₁ … α_{d+1}) in the reduced coordinates θ₁ … θ_d: inside the open
/// simplex, where mirrored SVGD starts (all α_i = 1: uniform on the simplex).
public struct DirichletInitialisation: Initialisation {
    /// The law the particles are drawn from.
    public let law: DirichletTarget

    /// `count` draws from ``law``.
    public func positions(count: Int, using rng: inout RandomStream) -> [Double] {
        law.sample(count: count, using: &rng)
    }

    static let entry = InitialisationEntry(
        name: "dirichlet", summary: "Dir(α₁ … α_{d+1}) on the simplex (d + 1 values of alpha; 1s: uniform)"
    ) { s, d in
        DirichletInitialisation(law: try DirichletTarget.read(s, dimension: d))
    }
}
