import KernelSum

/// Particles read from a CSV file with header `x1,...,xd` (paths relative to the scenario).
public struct FileInitialisation: Initialisation {
    /// The file's rows, row-major.
    public let points: [Double]
    /// d, the file's columns.
    public let dimension: Int

    /// The file's rows: the population's count.
    public var fixedCount: Int? { points.count / dimension }
    /// The file's rows, as they are (`count` is their number; `rng` is not used).
    public func positions(count: Int, using rng: inout RandomStream) -> [Double] { points }

    static let entry = InitialisationEntry(name: "file", summary: "rows of a CSV file with header x1,...,xd") { s, d in
        let p = try s.points("file")
        guard p.dimension == d else {
            throw s.fail(
                "file", "has \(p.dimension) columns but the scenario is \(d)-dimensional (header x1,...,x\(d))")
        }
        return FileInitialisation(points: p.values, dimension: d)
    }
}
