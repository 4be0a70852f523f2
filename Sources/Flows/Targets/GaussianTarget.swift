import Foundation
import KernelSum

/// N(μ, Σ): log π(x) = −½ (x−μ)ᵀΣ⁻¹(x−μ) − ½ log det(2πΣ), score −Σ⁻¹(x−μ).
public struct GaussianTarget: Target, HessianDensity {
    /// μ.
    public let mean: [Double]
    /// Σ, with its Cholesky factor and inverse.
    public let covariance: SPDMatrix
    let logNormaliser: Double

    /// N(mean, covariance); their dimensions must agree.
    public init(mean: [Double], covariance: SPDMatrix) {
        guard mean.count == covariance.size else {
            fatalError(
                "GaussianTarget: a mean of \(mean.count) coordinates and a \(covariance.size)×\(covariance.size) covariance"
            )
        }
        self.mean = mean
        self.covariance = covariance
        logNormaliser = -0.5 * (Double(mean.count) * log(2 * Double.pi) + covariance.logDeterminant)
    }

    /// d.
    public var dimension: Int { mean.count }
    /// μ and Σ.
    public var moments: (mean: [Double], covariance: [Double])? { (mean, covariance.entries) }

    /// −½ (x−μ)ᵀΣ⁻¹(x−μ) − ½ log det(2πΣ).
    public func logDensity(_ x: UnsafePointer<Double>) -> Double {
        let d = dimension
        let p = covariance.inverse
        var q = 0.0
        for a in 0..<d {
            var s = 0.0
            for b in 0..<d { s += p[a * d + b] * (x[b] - mean[b]) }
            q += (x[a] - mean[a]) * s
        }
        return logNormaliser - 0.5 * q
    }

    /// −Σ⁻¹(x−μ).
    public func score(_ x: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        let d = dimension
        let p = covariance.inverse
        for a in 0..<d {
            var s = 0.0
            for b in 0..<d { s += p[a * d + b] * (x[b] - mean[b]) }
            g[a] = -s
        }
    }

    /// ∇²log π v = −Σ⁻¹v.
    public func hessianVectorProduct(
        _ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        let d = dimension
        let p = covariance.inverse
        for a in 0..<d {
            var s = 0.0
            for b in 0..<d { s += p[a * d + b] * v[b] }
            out[a] = -s
        }
    }

    /// μ + L z with z ~ N(0, I), L the Cholesky factor of Σ.
    public func sample(count: Int, using rng: inout RandomStream) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count * dimension)
        for _ in 0..<count {
            let z = (0..<dimension).map { _ in rng.normal() }
            let x = covariance.applyCholesky(z)
            for a in 0..<dimension { out.append(mean[a] + x[a]) }
        }
        return out
    }

    /// Reads `mean` and either `covariance` (d×d) or `std` (a number or d numbers; default 1).
    /// Shared by the Gaussian target and the Gaussian initialisation.
    static func read(_ s: Settings, dimension: Int? = nil) throws -> GaussianTarget {
        let mean = try s.reals("mean", count: dimension)
        let d = mean.count
        try s.checkDimension(d, at: "mean")
        try reserveCovariances(s, "mean", count: 1, dimension: d)
        let cov: SPDMatrix
        if s.contains("covariance") {
            if s.contains("std") { throw s.fail("std", "give either covariance or std, not both") }
            let rows = try s.matrix("covariance", rows: d, columns: d)
            guard let c = SPDMatrix(size: d, entries: rows.flatMap { $0 }) else {
                throw s.fail(
                    "covariance",
                    "not symmetric positive definite (a symmetric \(d)×\(d) matrix with positive eigenvalues)")
            }
            cov = c
        } else {
            let std = try s.realOrReals("std", count: d, default: 1, .standardDeviation)
            guard let c = SPDMatrix.diagonal(std.map { $0 * $0 }) else {
                throw s.fail("std", "a variance std² is not positive")
            }
            cov = c
        }
        return GaussianTarget(mean: mean, covariance: cov)
    }

    /// The memory of `count` d×d covariances with their Cholesky factors and inverses, made as
    /// they are read (checked at once: d comes from the length of `key`'s vectors).
    static func reserveCovariances(_ s: Settings, _ key: String, count: Int, dimension d: Int) throws {
        try s.memory.reserve(
            s, key, "\(count == 1 ? "a" : "\(count)") \(d)×\(d) covariance\(count == 1 ? "" : "s")",
            parts: "the matrices, their Cholesky factors and inverses",
            bytes: 24 * Double(count) * Double(d) * Double(d))
    }

    static let entry = TargetEntry(name: "gaussian", summary: "N(mean, covariance) or N(mean, diag(std²))") {
        try read($0)
    }
}
