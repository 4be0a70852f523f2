import KernelSum

/// Minibatches of exactly B of a data target's R rows drawn from a projection determinantal point
/// process (DPP), with the Ermakov–Zolotukhin weights that make the weighted minibatch sum an
/// unbiased estimate of the sum over every row (`batches = "dpp"`).
///
/// The kernel is K = U Uᵀ for an R × B matrix U of orthonormal columns whose span holds the
/// constant vector 1: a batch S (|S| = B) has probability det K_S, row i is in it with probability
/// K_ii. The sampler is the chain rule of a projection DPP (Hough, Krishnapur, Peres & Virág; the
/// spectral algorithm of Kulesza & Taskar): row i next with probability proportional to the
/// squared norm of U's i-th row projected off the rows already taken, O(R·B²) a draw. The weights
/// (Ermakov & Zolotukhin 1960; Gautier, Bardenet & Valko 2019) solve the B × B system
/// U_Sᵀ w = Uᵀ1: Σ_{i∈S} w_i f_i is then exact for every f in the span of U, and unbiased for
/// every f (Cramer's rule and Cauchy–Binet: E[U_S⁻¹ f_S] = Uᵀf).
///
/// The kernel of the data targets (``strata(rows:columns:rowCount:size:)``) is the projection onto
/// the vectors constant on each of B cells of the rows, K_ij = 1/|C_k| when i and j share cell
/// C_k, else 0: a batch is one row drawn uniformly from each cell, weighted |C_k|. The cells halve
/// the standardised rows (every column of the data file, the label included) recursively at the
/// median of their principal axis, into sizes within one of R/B. Rows close in the data have close
/// per-row gradients, so the estimate's variance, Σ_k |C_k| Σ_{i∈C_k} |g_i − ḡ_k|², is the
/// within-cell spread where an i.i.d. batch has (R/B) Σ_i |g_i − ḡ|², the whole spread. (A
/// projection onto low-degree polynomials of the rows' principal components, the kernel of
/// Bardenet, Ghosh & Lin 2021 in the discrete (the constant and B − 1 principal components), gave
/// 0.6–1.6 times the i.i.d. variance on the breast-cancer data with the 1/K_ii weights (above 1
/// near the posterior mode) and 8–35 times with these: the per-row gradients of a 31-dimensional
/// logistic regression are far from that span.)
public struct DPPMinibatch: Sendable, Equatable {
    /// R, the ground set's rows.
    public let rowCount: Int
    /// B, the rows of every batch (the kernel's rank).
    public let size: Int
    /// U, R × B row-major, orthonormal columns spanning the constant vector.
    public let basis: [Double]
    /// Uᵀ1, the constant vector's coordinates in the basis (the weights' right-hand side).
    let constantCoordinates: [Double]

    /// The projection DPP of kernel U Uᵀ; nil unless U's columns are orthonormal and span the
    /// constant vector (to 1e-9).
    public init?(basis: [Double], rowCount: Int, size: Int) {
        guard size >= 1, size <= rowCount, basis.count == rowCount * size else { return nil }
        var a = [Double](repeating: 0, count: size)
        for i in 0..<rowCount { for k in 0..<size { a[k] += basis[i * size + k] } }
        for k in 0..<size {
            for l in k..<size {
                var dot = 0.0
                for i in 0..<rowCount { dot += basis[i * size + k] * basis[i * size + l] }
                guard abs(dot - (k == l ? 1 : 0)) <= 1e-9 else { return nil }
            }
        }
        // |1 − U Uᵀ1|² = R − |Uᵀ1|² for orthonormal columns.
        let residual = Double(rowCount) - a.reduce(0) { $0 + $1 * $1 }
        guard residual <= 1e-9 * Double(rowCount) else { return nil }
        self.rowCount = rowCount
        self.size = size
        self.basis = basis
        constantCoordinates = a
    }

    /// The cell kernel on `rowCount` rows of `columns` values (row-major `rows`): B = `size` cells
    /// of the standardised rows, each split at the median of its principal axis, U_ik = 1/√|C_k|
    /// for i in C_k.
    public static func strata(rows data: [Double], columns: Int, rowCount: Int, size: Int) -> DPPMinibatch {
        let cells = cells(rows: data, columns: columns, rowCount: rowCount, count: size)
        var basis = [Double](repeating: 0, count: rowCount * size)
        for (k, cell) in cells.enumerated() {
            for i in cell { basis[i * size + k] = 1 / Double(cell.count).squareRoot() }
        }
        return DPPMinibatch(basis: basis, rowCount: rowCount, size: size)!
    }

    /// `count` cells of the rows, sizes within one of R/count: each column standardised (a constant
    /// column left out), then the rows halved recursively by their projection on the principal axis
    /// (30 power iterations from the row farthest from the mean), ties in row order.
    public static func cells(rows data: [Double], columns e: Int, rowCount: Int, count: Int) -> [[Int]] {
        var y = data
        for c in 0..<e {
            var mean = 0.0
            for r in 0..<rowCount { mean += data[r * e + c] }
            mean /= Double(rowCount)
            var variance = 0.0
            for r in 0..<rowCount { variance += (data[r * e + c] - mean) * (data[r * e + c] - mean) }
            let sd = (variance / Double(rowCount)).squareRoot()
            for r in 0..<rowCount { y[r * e + c] = sd > 0 ? (data[r * e + c] - mean) / sd : 0 }
        }
        func split(_ rows: [Int], _ b: Int) -> [[Int]] {
            guard b > 1 else { return [rows] }
            var mean = [Double](repeating: 0, count: e)
            for r in rows { for c in 0..<e { mean[c] += y[r * e + c] / Double(rows.count) } }
            func centred(_ r: Int, _ c: Int) -> Double { y[r * e + c] - mean[c] }
            var axis = [Double](repeating: 0, count: e)
            var farthest = -1.0
            for r in rows {
                let n = (0..<e).reduce(0.0) { $0 + centred(r, $1) * centred(r, $1) }
                if n > farthest { (farthest, axis) = (n, (0..<e).map { centred(r, $0) }) }
            }
            for _ in 0..<30 {
                var next = [Double](repeating: 0, count: e)
                for r in rows {
                    let p = (0..<e).reduce(0.0) { $0 + centred(r, $1) * axis[$1] }
                    for c in 0..<e { next[c] += p * centred(r, c) }
                }
                let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 0 else { break }
                axis = next.map { $0 / norm }
            }
            let projection = rows.map { r in (0..<e).reduce(0.0) { $0 + centred(r, $1) * axis[$1] } }
            let order = rows.indices.sorted { (projection[$0], rows[$0]) < (projection[$1], rows[$1]) }.map { rows[$0] }
            let left = b / 2
            let cut = rows.count * left / b
            return split(Array(order[..<cut]), left) + split(Array(order[cut...]), b - left)
        }
        return split(Array(0..<rowCount), count)
    }

    /// A batch, its rows in increasing order: B rows by the chain rule, row i next with probability
    /// |P u_i|²/(B − taken), u_i U's i-th row and P the projection off the rows taken.
    public func sample(using rng: inout RandomStream) -> [Int] {
        let (r, b) = (rowCount, size)
        var v = basis
        var norms = (0..<r).map { i in (0..<b).reduce(0.0) { $0 + v[i * b + $1] * v[i * b + $1] } }
        var taken: [Int] = []
        for _ in 0..<b {
            let total = norms.reduce(0, +)
            var u = rng.uniform() * total
            var pick = -1
            for i in 0..<r where norms[i] > 0 {
                pick = i
                u -= norms[i]
                if u < 0 { break }
            }
            taken.append(pick)
            // Gram–Schmidt: every row loses its component along the taken row's direction (a row
            // of norm 0, or orthogonal to it, stays as it is).
            let scale = 1 / norms[pick].squareRoot()
            let direction = (0..<b).map { v[pick * b + $0] * scale }
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<r where norms[i] > 0 {
                    let row = v.baseAddress! + i * b
                    var c = 0.0
                    for a in 0..<b { c += row[a] * direction[a] }
                    guard c != 0 else { continue }
                    var n = 0.0
                    for a in 0..<b {
                        row[a] -= c * direction[a]
                        n += row[a] * row[a]
                    }
                    norms[i] = n
                }
            }
            for i in taken { norms[i] = 0 }
        }
        return taken.sorted()
    }

    /// The Ermakov–Zolotukhin weights of a batch: w solving U_Sᵀ w = Uᵀ1 (Gaussian elimination
    /// with partial pivoting), so that Σ_{i∈S} w_i f_i is unbiased for Σ_i f_i.
    public func weights(rows: [Int]) -> [Double] {
        let b = size
        // m = [U_Sᵀ | Uᵀ1], row k: (U[S_0, k], …, U[S_{B−1}, k], a_k).
        var m = [Double](repeating: 0, count: b * (b + 1))
        for k in 0..<b {
            for (j, i) in rows.enumerated() { m[k * (b + 1) + j] = basis[i * b + k] }
            m[k * (b + 1) + b] = constantCoordinates[k]
        }
        for col in 0..<b {
            let pivot = (col..<b).max { abs(m[$0 * (b + 1) + col]) < abs(m[$1 * (b + 1) + col]) }!
            if pivot != col { for c in 0...b { m.swapAt(col * (b + 1) + c, pivot * (b + 1) + c) } }
            let p = m[col * (b + 1) + col]
            for row in (col + 1)..<max(col + 1, b) {
                let f = m[row * (b + 1) + col] / p
                guard f != 0 else { continue }
                for c in col...b { m[row * (b + 1) + c] -= f * m[col * (b + 1) + c] }
            }
        }
        var w = [Double](repeating: 0, count: b)
        for row in stride(from: b - 1, through: 0, by: -1) {
            var s = m[row * (b + 1) + b]
            for c in (row + 1)..<max(row + 1, b) { s -= m[row * (b + 1) + c] * w[c] }
            w[row] = s / m[row * (b + 1) + row]
        }
        return w
    }

    /// The batch of `step` and its weights, drawn from `RandomStream(seed:, .minibatch, step)`.
    public func draw(step: Int, seed: UInt64) -> (rows: [Int], weights: [Double]) {
        var rng = RandomStream(seed: seed, .minibatch, step)
        let rows = sample(using: &rng)
        return (rows, weights(rows: rows))
    }
}
