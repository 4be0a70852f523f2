import KernelSum

/// A target known only through samples, read from a CSV file (header `x1,...,xd`).
/// It has no density, so flows and metrics that need a score reject it at validation.
public struct SampleTarget: Target {
    /// d, the file's columns.
    public let dimension: Int
    /// The file's rows, row-major.
    public let points: [Double]

    /// A target of the given points (row-major, n × d).
    public init(dimension: Int, points: [Double]) {
        self.dimension = dimension
        self.points = points
    }

    /// The number of points.
    public var count: Int { points.count / dimension }
    /// The file's rows.
    public var naturalSampleCount: Int? { count }

    /// The empirical moments of the file (unbiased covariance).
    public var moments: (mean: [Double], covariance: [Double])? {
        points.withUnsafeBufferPointer { sampleMoments($0, dimension: dimension) }
    }

    /// All rows, in file order, when `count` is the file's size; otherwise a draw without
    /// replacement (count ≤ rows) or with replacement (count > rows).
    public func sample(count m: Int, using rng: inout RandomStream) -> [Double] {
        let n = count
        let d = dimension
        if m == n { return points }
        var order = Array(0..<n)
        if m < n {
            for i in 0..<m { order.swapAt(i, i + rng.index(below: n - i)) }
            return order.prefix(m).flatMap { points[($0 * d)..<($0 * d + d)] }
        }
        return (0..<m).flatMap { _ in
            let i = rng.index(below: n)
            return points[(i * d)..<(i * d + d)]
        }
    }

    static let entry = TargetEntry(
        name: "samples", summary: "points read from a CSV file (header x1,...,xd); no density"
    ) { s in
        let p = try s.points("file")
        try s.checkDimension(p.dimension, at: "file")
        return SampleTarget(dimension: p.dimension, points: p.values)
    }
}
