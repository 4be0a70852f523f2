/// One entry of a registry (metrics, initialisations, potentials, interactions): its name in
/// scenario files, a one-line summary for `wgf list`, and how to build it from its settings
/// and what the scenario provides (`Context`). A new kind is one such entry plus one line in
/// its registry's `entries`.
public struct RegistryEntry<Context, Product>: Sendable {
    /// The name in scenario files.
    public let name: String
    /// One line for `wgf list`.
    public let summary: String
    /// Reads the entry's parameters and builds it; throws a located ``SettingsError``.
    public let make: @Sendable (Settings, Context) throws -> Product

    /// An entry; see the properties.
    public init(name: String, summary: String, make: @escaping @Sendable (Settings, Context) throws -> Product) {
        self.name = name
        self.summary = summary
        self.make = make
    }
}
