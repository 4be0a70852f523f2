import Communication
import Foundation
import KernelSum

/// ψ(n) for an integer n ≥ 1: −γ + Σ_{k<n} 1/k, by the asymptotic series beyond 50 (NaN for n < 1).
public func digamma(_ n: Int) -> Double {
    guard n >= 1 else { return .nan }
    if n <= 50 {
        var s = -0.57721566490153286061
        for k in 1..<n { s += 1 / Double(k) }
        return s
    }
    let x = Double(n)
    let x2 = x * x
    return log(x) - 1 / (2 * x) - 1 / (12 * x2) + 1 / (120 * x2 * x2) - 1 / (252 * x2 * x2 * x2)
}

/// The Kozachenko–Leonenko estimate of the differential entropy H(μ) = −∫μ log μ of the
/// sample `x` (N points, row-major):
///
///     Ĥ = ψ(N) − ψ(k) + log V_d + (d/N) Σ_i log ε_i,
///
/// ε_i the distance from x_i to its k-th nearest neighbour, V_d = π^{d/2}/Γ(d/2 + 1) the
/// volume of the unit ball. Neighbours come from a `SpatialHash`; in the periodic box
/// [0, L)^d from the periodic hash, whose distances are minimum-image. Each point is
/// independent: the result does not depend on the thread count; on the ranks of
/// `communicator` each queries its block of the points, the blocks of log ε_i are gathered
/// and summed in one order (one process's value). Coincident points (ε = 0)
/// count as ε = 1e-150. NaN unless 1 ≤ k < N ≤ 2³¹ − 1 (scenarios refuse k ≥ N when they are
/// validated; the guard stays in release builds, where a k-th neighbour that does not exist
/// would be read past the end of a buffer).
public func knnEntropy(
    _ x: [Double], dimension d: Int, neighbours k: Int, domain: Domain = .free, threads: Int,
    communicator: any Communicator = SerialCommunicator()
) -> Double {
    guard d >= 1 else { return .nan }
    let n = x.count / d
    guard k >= 1, n > k, n <= MemoryEstimate.maximumCount else { return .nan }
    let logs = knnLogDistances(
        of: x, to: x, dimension: d, neighbours: k, excludingSelf: true, domain: domain, threads: threads,
        communicator: communicator)
    let logUnitBall = 0.5 * Double(d) * log(Double.pi) - lgamma(0.5 * Double(d) + 1)
    return digamma(n) - digamma(k) + logUnitBall + Double(d) * logs.reduce(0, +) / Double(n)
}

/// log ε_i for every row i of `queries`: ε_i the distance to its k-th nearest neighbour among
/// the rows of `sample` (leaving out row i itself when `excludingSelf`: the queries are the
/// sample), from a `SpatialHash` of the sample (minimum-image in a periodic box). Coincident
/// points (ε = 0) count as ε = 1e-150. Each query is independent: the same values for any
/// thread count; on the ranks of `communicator` each queries its block and the blocks are
/// gathered. The caller checks 1 ≤ k ≤ the sample's size (less one when `excludingSelf`).
public func knnLogDistances(
    of queries: [Double], to sample: [Double], dimension d: Int, neighbours k: Int, excludingSelf: Bool,
    domain: Domain = .free, threads: Int, communicator: any Communicator = SerialCommunicator()
) -> [Double] {
    let n = queries.count / d
    let m = sample.count / d
    precondition(k >= 1 && k <= m - (excludingSelf ? 1 : 0), "knnLogDistances: k-th neighbour beyond the sample")
    // Cell size: about k points per cell for the spread of the sample.
    var lo = [Double](repeating: .infinity, count: d)
    var hi = [Double](repeating: -.infinity, count: d)
    for i in 0..<m {
        for a in 0..<d {
            lo[a] = min(lo[a], sample[i * d + a])
            hi[a] = max(hi[a], sample[i * d + a])
        }
    }
    var logVolume = 0.0
    let largest = (0..<d).map { hi[$0] - lo[$0] }.max() ?? 1
    for a in 0..<d { logVolume += log(max(hi[a] - lo[a], largest * 1e-6, 1e-300)) }
    var cell = exp((logVolume + log(Double(k)) - log(Double(m))) / Double(d))
    if !(cell > 0 && cell.isFinite) { cell = 1 }
    if let l = domain.period { cell = min(cell, l) }

    let hash = sample.withUnsafeBufferPointer { SpatialHash(points: $0, dimension: d, cellSize: cell, domain: domain) }
    var logs = [Double](repeating: 0, count: n)
    let blocks = BlockPartition(count: n, parts: communicator.size)
    let mine = blocks.range(of: communicator.rank)
    queries.withUnsafeBufferPointer { pp in
        logs.withUnsafeMutableBufferPointer { lp in
            let P = SharedPointer(pp.baseAddress!)
            let L = SharedMutablePointer(lp.baseAddress!)
            Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 256) { range in
                for i in range {
                    let found = hash.nearest(k, to: P.base + i * d, excluding: excludingSelf ? i : nil)
                    L.base[i] = 0.5 * log(max(found[k - 1].squaredDistance, 1e-300))
                }
            }
        }
    }
    communicator.gatherBlocks(of: &logs, width: 1, blocks: blocks)
    return logs
}
