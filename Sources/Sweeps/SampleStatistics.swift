import Foundation

/// The mean of a sample of n values over seeds, its standard deviation and the half-width
/// of its 95 % confidence interval.
public struct SampleStatistics: Sendable, Equatable {
    /// n: the number of values.
    public let count: Int
    /// x̄ = Σ x_i / n, summed in the order given (so the same values give the same bits).
    public let mean: Double
    /// s = √(Σ (x_i − x̄)² / (n − 1)); nil when n < 2.
    public let standardDeviation: Double?
    /// t_{0.975, n−1} · s / √n (Student t, computed by ``StudentT/quantile(_:degreesOfFreedom:)``); nil when n < 2.
    public let confidenceHalfWidth: Double?

    /// The statistics of `values` (at least one) at `level` (two-sided, default 0.95).
    public init(_ values: [Double], level: Double = 0.95) {
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        guard values.count >= 2 else {
            standardDeviation = nil
            confidenceHalfWidth = nil
            return
        }
        let m = mean
        let s = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        standardDeviation = s
        confidenceHalfWidth =
            SampleStatistics.tQuantile(level: level, count: values.count) * s / Double(values.count).squareRoot()
    }

    /// t_{(1+level)/2, n−1}, memoised per n (a sweep asks for the same few n many times).
    static func tQuantile(level: Double, count: Int) -> Double {
        let key = Key(level: level, count: count)
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let t = cache.values[key] { return t }
        let t = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(count - 1))
        cache.values[key] = t
        return t
    }

    struct Key: Hashable {
        let level: Double
        let count: Int
    }
    final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var values: [Key: Double] = [:]
    }
    static let cache = Cache()
}
