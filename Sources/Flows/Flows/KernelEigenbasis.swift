import Foundation
import KernelSum

/// The leading eigenpairs of a kernel's integral operator under a weighted sample
/// q = Σ_m w_m δ_{θ_m}, (T_q f)(x) = Σ_m w_m k(x, θ_m) f(θ_m), and their Nyström extension
/// (Williams & Seeger 2001), as Stein variational mirror descent uses them.
///
/// At the sample T_q is the matrix G W (G_lm = k(θ_l, θ_m), W = diag w), similar to the
/// symmetric S = W^{1/2} G W^{1/2}: with S e_i = μ_i e_i (e_i orthonormal, Jacobi rotations,
/// ``symmetricEigen(_:size:)``), the eigenfunctions at the sample are u_i(θ_m) = e_mi/√w_m,
/// orthonormal in L²(q) (Σ_m w_m u_i(θ_m) u_j(θ_m) = δ_ij), and anywhere
///
///     u_i(x) = μ_i⁻¹ Σ_m w_m k(x, θ_m) u_i(θ_m),   ∇u_i(x) = μ_i⁻¹ Σ_m w_m ∇_x k(x, θ_m) u_i(θ_m),
///
/// which at x = θ_l gives back u_i(θ_l). For w = 1/N this is the reference code's μ_i = λ_i/N,
/// u_i(θ_m) = √N e_mi with G e_i = λ_i e_i (it adds 10⁻⁵ to G's diagonal for its eigensolver;
/// Jacobi needs no jitter, and without it the extension reproduces the eigenvectors exactly).
///
/// Kept are the n largest μ_i: a fixed n, or the reference code's rule for a fraction f of the
/// spectrum, n = 1 + #{j : Σ_{i ≤ j} μ_i / Σ_i μ_i < f}; either way never more than N, and
/// never an eigenvalue at or below 10⁻¹² μ₁ (rounding decides those eigenvectors, and the
/// extension divides by μ_i): none at all when μ₁ ≤ 0 (a kernel that is not positive definite).
public struct KernelEigenbasis: Sendable {
    /// How many eigenpairs are kept.
    public enum Truncation: Sendable, Equatable {
        /// The smallest n whose eigenvalues make up at least this fraction of their sum (the
        /// reference code's `n_eigen_threshold`: 0.98 by default, 0.998 in its Dirichlet runs).
        case fraction(Double)
        /// The n largest.
        case count(Int)
    }
    /// The kernel k.
    public let kernel: any RadialKernel
    /// The sample θ_1 … θ_N (row-major N × d).
    public let points: [Double]
    /// Its weights w_m (positive).
    public let weights: [Double]
    /// d.
    public let dimension: Int
    /// μ_1 ≥ … ≥ μ_n > 0, the kept eigenvalues of T_q.
    public let eigenvalues: [Double]
    /// u_i(θ_m), row-major N × n.
    public let values: [Double]

    /// The eigenpairs of `kernel` under the sample (`points`, `weights`), truncated.
    public init(
        kernel: any RadialKernel, points: [Double], weights: [Double], dimension d: Int, truncation: Truncation
    ) {
        let n = points.count / d
        var s = [Double](repeating: 0, count: n * n)
        for l in 0..<n {
            for m in 0...l {
                var r2 = 0.0
                for a in 0..<d {
                    let t = points[l * d + a] - points[m * d + a]
                    r2 += t * t
                }
                let entry = kernel.profile(squaredDistance: r2).value * (weights[l] * weights[m]).squareRoot()
                s[l * n + m] = entry
                s[m * n + l] = entry
            }
        }
        let (all, vectors) = symmetricEigen(s, size: n)
        // Descending, ties by index: the order, hence n, does not depend on anything but the values.
        let order = (0..<n).sorted { all[$0] > all[$1] || (all[$0] == all[$1] && $0 < $1) }
        var kept: Int
        switch truncation {
        case .count(let c): kept = min(max(c, 1), n)
        case .fraction(let f):
            let total = all.reduce(0, +)
            kept = 1
            var cumulative = 0.0
            for j in order {
                cumulative += all[j]
                if cumulative / total < f { kept += 1 }
            }
            kept = min(kept, n)
        }
        let largest = all[order[0]]
        while kept > 0 && !(all[order[kept - 1]] > 1e-12 * largest && largest > 0) { kept -= 1 }
        var u = [Double](repeating: 0, count: n * kept)
        for m in 0..<n {
            let root = weights[m].squareRoot()
            for i in 0..<kept { u[m * kept + i] = vectors[m * n + order[i]] / root }
        }
        self.kernel = kernel
        self.points = points
        self.weights = weights
        self.dimension = d
        self.eigenvalues = (0..<kept).map { all[order[$0]] }
        self.values = u
    }

    /// n, the eigenpairs kept.
    public var count: Int { eigenvalues.count }

    /// The Nyström extension at a point `x` (d coordinates): u_i(x) for each i (n values) and
    /// ∇u_i(x) (row-major n × d).
    public func evaluate(at x: [Double]) -> (values: [Double], gradients: [Double]) {
        let d = dimension
        let n = count
        var value = [Double](repeating: 0, count: n)
        var gradient = [Double](repeating: 0, count: n * d)
        var difference = [Double](repeating: 0, count: d)
        for m in 0..<(points.count / d) {
            var r2 = 0.0
            for a in 0..<d {
                difference[a] = x[a] - points[m * d + a]
                r2 += difference[a] * difference[a]
            }
            let (k, slope) = kernel.profile(squaredDistance: r2)
            for i in 0..<n {
                let c = weights[m] * values[m * n + i] / eigenvalues[i]
                value[i] += c * k
                for a in 0..<d { gradient[i * d + a] += c * slope * difference[a] }
            }
        }
        return (value, gradient)
    }

    /// ⟨u_i, f⟩_q = Σ_m w_m u_i(θ_m) f_m for a field f of `width` numbers per sample point
    /// (row-major N × width): row-major n × width, summed in index order.
    public func project(_ f: [Double], width: Int) -> [Double] {
        let n = count
        var out = [Double](repeating: 0, count: n * width)
        for m in 0..<(points.count / dimension) {
            for i in 0..<n {
                let c = weights[m] * values[m * n + i]
                for a in 0..<width { out[i * width + a] += c * f[m * width + a] }
            }
        }
        return out
    }

    /// Σ_i s_i u_i(θ_m) c_i at each sample point, for coefficients c (row-major n × width) and
    /// scales s (n): row-major N × width.
    public func expand(_ c: [Double], width: Int, scales: [Double]) -> [Double] {
        let n = count
        let points = self.points.count / dimension
        var out = [Double](repeating: 0, count: points * width)
        for m in 0..<points {
            for i in 0..<n {
                let u = scales[i] * values[m * n + i]
                for a in 0..<width { out[m * width + a] += u * c[i * width + a] }
            }
        }
        return out
    }
}
