import Foundation

/// Small dense symmetric positive-definite matrices (row-major, d×d), enough for Gaussian
/// targets and moment metrics in the dimensions particle methods are used in.
public struct SPDMatrix: Sendable, Equatable {
    /// d.
    public let size: Int
    /// A, row-major d × d.
    public let entries: [Double]
    /// Lower Cholesky factor L with LLᵀ = A.
    public let cholesky: [Double]
    /// A⁻¹.
    public let inverse: [Double]
    /// log det A.
    public let logDeterminant: Double

    /// nil when `entries` is not symmetric positive definite.
    public init?(size d: Int, entries a: [Double]) {
        guard d >= 0, a.count == d * d else { return nil }
        for i in 0..<d {
            for j in 0..<i where abs(a[i * d + j] - a[j * d + i]) > 1e-12 * max(1, abs(a[i * d + j])) { return nil }
        }
        var l = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            var s = a[j * d + j]
            for k in 0..<j { s -= l[j * d + k] * l[j * d + k] }
            guard s > 0 else { return nil }
            let ljj = s.squareRoot()
            l[j * d + j] = ljj
            for i in (j + 1)..<max(j + 1, d) {
                var t = a[i * d + j]
                for k in 0..<j { t -= l[i * d + k] * l[j * d + k] }
                l[i * d + j] = t / ljj
            }
        }
        // Inverse from the factor: solve L Lᵀ X = I column by column.
        var inv = [Double](repeating: 0, count: d * d)
        var col = [Double](repeating: 0, count: d)
        for c in 0..<d {
            for i in 0..<d {
                var t = i == c ? 1.0 : 0.0
                for k in 0..<i { t -= l[i * d + k] * col[k] }
                col[i] = t / l[i * d + i]
            }
            for i in stride(from: d - 1, through: 0, by: -1) {
                var t = col[i]
                for k in (i + 1)..<max(i + 1, d) { t -= l[k * d + i] * col[k] }
                col[i] = t / l[i * d + i]
            }
            for i in 0..<d { inv[i * d + c] = col[i] }
        }
        size = d
        entries = a
        cholesky = l
        inverse = inv
        logDeterminant = (0..<d).reduce(0) { $0 + 2 * log(l[$1 * d + $1]) }
    }

    /// diag(v); nil unless every entry is positive.
    public static func diagonal(_ v: [Double]) -> SPDMatrix? {
        let d = v.count
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { a[i * d + i] = v[i] }
        return SPDMatrix(size: d, entries: a)
    }

    /// L·z (maps standard normal draws to N(0, A)).
    public func applyCholesky(_ z: [Double]) -> [Double] {
        (0..<size).map { i in (0...i).reduce(0) { $0 + cholesky[i * size + $1] * z[$1] } }
    }
}

/// Sample mean and unbiased (n − 1) covariance of row-major points, summed in index order.
public func sampleMoments(_ x: UnsafeBufferPointer<Double>, dimension d: Int) -> (mean: [Double], covariance: [Double])
{
    let n = x.count / d
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for a in 0..<d { mean[a] += x[i * d + a] } }
    for a in 0..<d { mean[a] /= Double(n) }
    var cov = [Double](repeating: 0, count: d * d)
    for i in 0..<n {
        for a in 0..<d {
            let da = x[i * d + a] - mean[a]
            for b in 0...a { cov[a * d + b] += da * (x[i * d + b] - mean[b]) }
        }
    }
    let denominator = Double(max(1, n - 1))
    for a in 0..<d {
        for b in 0...a {
            cov[a * d + b] /= denominator
            cov[b * d + a] = cov[a * d + b]
        }
    }
    return (mean, cov)
}
