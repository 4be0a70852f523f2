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

/// The eigenvalues and eigenvectors of a symmetric matrix (row-major d × d) by cyclic Jacobi
/// rotations, to full precision (sweeps until every off-diagonal entry is negligible): the
/// eigenvalues, and the eigenvectors as the columns of a row-major d × d matrix.
public func symmetricEigen(_ a: [Double], size d: Int) -> (values: [Double], vectors: [Double]) {
    var m = a
    var v = [Double](repeating: 0, count: d * d)
    for i in 0..<d { v[i * d + i] = 1 }
    for _ in 0..<100 {
        var off = 0.0
        var scale = 0.0
        for i in 0..<d {
            scale += m[i * d + i] * m[i * d + i]
            for j in 0..<d where j != i { off += m[i * d + j] * m[i * d + j] }
        }
        if off <= 1e-30 * scale || off == 0 { break }
        for p in 0..<d {
            for q in (p + 1)..<max(p + 1, d) where m[p * d + q] != 0 {
                // The rotation that zeroes m[p][q]: t = tan θ, the smaller root of t² + 2τt − 1.
                let tau = (m[q * d + q] - m[p * d + p]) / (2 * m[p * d + q])
                let t = (tau >= 0 ? 1 : -1) / (abs(tau) + (1 + tau * tau).squareRoot())
                let c = 1 / (1 + t * t).squareRoot()
                let s = t * c
                for k in 0..<d {
                    let mkp = m[k * d + p]
                    let mkq = m[k * d + q]
                    m[k * d + p] = c * mkp - s * mkq
                    m[k * d + q] = s * mkp + c * mkq
                }
                for k in 0..<d {
                    let mpk = m[p * d + k]
                    let mqk = m[q * d + k]
                    m[p * d + k] = c * mpk - s * mqk
                    m[q * d + k] = s * mpk + c * mqk
                }
                for k in 0..<d {
                    let vkp = v[k * d + p]
                    let vkq = v[k * d + q]
                    v[k * d + p] = c * vkp - s * vkq
                    v[k * d + q] = s * vkp + c * vkq
                }
            }
        }
    }
    return ((0..<d).map { m[$0 * d + $0] }, v)
}

/// The square root of a symmetric positive semi-definite matrix (row-major d × d): V·diag(√λ)·Vᵀ
/// from ``symmetricEigen(_:size:)``, rounding's negative eigenvalues taken as 0.
public func symmetricSquareRoot(_ a: [Double], size d: Int) -> [Double] {
    let (values, vectors) = symmetricEigen(a, size: d)
    let roots = values.map { max(0, $0).squareRoot() }
    var out = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0..<d {
            var t = 0.0
            for k in 0..<d { t += vectors[i * d + k] * roots[k] * vectors[j * d + k] }
            out[i * d + j] = t
        }
    }
    return out
}
