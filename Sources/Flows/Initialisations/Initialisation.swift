import KernelSum

/// How a population's particles start.
public protocol Initialisation: Sendable {
    /// The particle count the initialisation fixes by itself (the rows of a file), if any.
    var fixedCount: Int? { get }
    /// `count` points in R^d (row-major) drawn from `rng`.
    func positions(count: Int, using rng: inout RandomStream) -> [Double]
}

extension Initialisation {
    /// None: the scenario gives the count.
    public var fixedCount: Int? { nil }
}

/// One initialisation kind: reads its parameters for a population of dimension d.
public typealias InitialisationEntry = RegistryEntry<Int, any Initialisation>

/// The initialisation kinds `population.init` may name.
public enum InitialisationRegistry {
    /// Every initialisation kind. A new one adds one line here.
    public static let entries: [InitialisationEntry] = [
        GaussianInitialisation.entry,
        UniformInitialisation.entry,
        FileInitialisation.entry,
        DirichletInitialisation.entry,
    ]
    /// The kinds, in registry order.
    public static var names: [String] { entries.map(\.name) }
}
