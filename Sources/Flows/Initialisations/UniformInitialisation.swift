import KernelSum

/// Particles uniform in the box [low, high] (each bound a number or d numbers).
public struct UniformInitialisation: Initialisation {
    /// The box's lower corner (d numbers).
    public let low: [Double]
    /// The box's upper corner, above `low` in every coordinate.
    public let high: [Double]

    /// `count` points, each coordinate uniform in [low, high).
    public func positions(count: Int, using rng: inout RandomStream) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count * low.count)
        for _ in 0..<count { for a in 0..<low.count { out.append(low[a] + (high[a] - low[a]) * rng.uniform()) } }
        return out
    }

    static let entry = InitialisationEntry(name: "uniform", summary: "uniform in the box [low, high]") { s, d in
        let low = try s.realOrReals("low", count: d)
        let high = try s.realOrReals("high", count: d)
        for a in 0..<d where !(high[a] > low[a]) {
            throw s.fail(
                "high",
                "must exceed low in every coordinate (coordinate \(a + 1): low \(formatNumber(low[a])), high \(formatNumber(high[a])))"
            )
        }
        return UniformInitialisation(low: low, high: high)
    }
}
