import KernelSum
/// Particles read from a CSV file with header `x1,...,xd` (paths relative to the scenario).
public struct FileInitialisation: Initialisation {
    public let points: [Double]
    public let dimension: Int

    public var fixedCount: Int? { points.count / dimension }
    public func positions(count: Int, using rng: inout RandomStream) -> [Double] { points }

    static let entry = InitialisationEntry(name: "file", summary: "rows of a CSV file with header x1,...,xd") { s, d in
        let p = try s.points("file")
        guard p.dimension == d else {
            throw s.fail("file", "has \(p.dimension) columns but the scenario is \(d)-dimensional (header x1,...,x\(d))")
        }
        return FileInitialisation(points: p.values, dimension: d)
    }
}
