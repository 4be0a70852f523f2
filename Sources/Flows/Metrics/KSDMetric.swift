import Communication
import Foundation
import KernelSum

/// `ksd`: the kernel Stein discrepancy with the IMQ kernel k = (c² + |x − y|²)^β
/// (Gorham & Mackey 2017; c = 1, β = −½ by default), reported as KSD = √(KSD²) with
///
///     KSD² = (1/N²) Σ_ij u(x_i, x_j),  q = c² + r², r = x − y, s = ∇log π,
///     u = (s_x·s_y) q^β + 2β q^(β−1) (s_y − s_x)·r − 4β(β−1) q^(β−2) |r|² − 2βd q^(β−1).
///
/// Summed exactly (weighted by the particle weights), O(N²). The ranks of a job share the
/// rows i (`BlockPartition`), gather them and add them in one order: one process's value.
public final class KSDMetric: Metric {
    let density: any Density
    let c2: Double, beta: Double
    let threads: Int
    let communicator: any Communicator
    var scores: [Double] = [], rows: [Double] = []

    /// The KSD of `density` with kernel (c² + r²)^β (scenarios allow β in (−1, 0)).
    /// - Parameters:
    ///   - density: the target, whose score ∇log π enters the Stein kernel.
    ///   - c: the IMQ kernel's scale c.
    ///   - beta: the IMQ kernel's exponent β.
    ///   - threads: worker threads for the O(N²) pair sum.
    ///   - communicator: the ranks that share the rows (each calls ``evaluate(_:)``).
    public init(
        density: any Density, c: Double, beta: Double, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.density = density
        self.c2 = c * c
        self.beta = beta
        self.threads = threads
        self.communicator = communicator
    }

    /// √KSD² of the first population, weighted by its particle weights.
    public func evaluate(_ state: SimulationState) -> Double {
        let p = state.populations[0]
        let d = p.dimension
        let n = p.count
        density.scores(p.positions, into: &scores, threads: threads, communicator: communicator)
        if rows.count != n { rows = [Double](repeating: 0, count: n) }
        let blocks = BlockPartition(count: n, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        let c2 = c2
        let beta = beta
        let dd = Double(d)
        let half = beta == -0.5
        p.positions.withUnsafeBufferPointer { xb in
            scores.withUnsafeBufferPointer { sb in
                p.weights.withUnsafeBufferPointer { wb in
                    rows.withUnsafeMutableBufferPointer { rb in
                        let x = SharedPointer(xb.baseAddress!)
                        let s = SharedPointer(sb.baseAddress!)
                        let w = SharedPointer(wb.baseAddress!)
                        let out = SharedMutablePointer(rb.baseAddress!)
                        Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 16) { range in
                            for i in range {
                                var total = 0.0
                                for j in 0..<n {
                                    var r2 = 0.0
                                    var ss = 0.0
                                    var sr = 0.0
                                    for a in 0..<d {
                                        let r = x[i * d + a] - x[j * d + a]
                                        r2 += r * r
                                        ss += s[i * d + a] * s[j * d + a]
                                        sr += (s[j * d + a] - s[i * d + a]) * r
                                    }
                                    let q = c2 + r2
                                    let qb = half ? 1 / q.squareRoot() : pow(q, beta)
                                    let qb1 = qb / q
                                    let u =
                                        ss * qb + 2 * beta * qb1 * sr - 4 * beta * (beta - 1) * qb1 / q * r2 - 2 * beta
                                        * dd * qb1
                                    total += w[j] * u
                                }
                                out[i] = w[i] * total
                            }
                        }
                    }
                }
            }
        }
        communicator.gatherBlocks(of: &rows, width: 1, blocks: blocks)
        return max(0, rows.reduce(0, +)).squareRoot()
    }

    static let entry = MetricEntry(
        name: "ksd", summary: "IMQ kernel Stein discrepancy (Gorham & Mackey; ksd-c, ksd-beta)"
    ) { s, ctx in
        // The target's score, else a Langevin flow's Gibbs measure exp(−V/λ).
        let gibbs = (ctx.flow as? LangevinFlow).flatMap { GibbsDensity(flow: $0, dimension: ctx.dimension) }
        guard let density = ctx.target.density ?? gibbs else {
            if !ctx.target.isAbsent {
                throw s.fail(
                    "metrics",
                    "ksd needs the target's score, and a samples target has none (use mmd, w2 or energy-distance)")
            }
            if ctx.flow is LangevinFlow {
                throw s.fail(
                    "metrics",
                    "ksd needs a score: the langevin flow's Gibbs measure exp(−V/λ) has one only with a potential, "
                        + "no interaction, R^d and temperature > 0")
            }
            throw s.fail("metrics", "ksd needs a score: a [target] with a density")
        }
        // Memory: the scores and a row sum per particle.
        s.memory.addWork(
            population: 0, doubles: Double(ctx.particleCount) * Double(ctx.dimension + 1), "the ksd metric's scores")
        return KSDMetric(
            density: density, c: try s.real("ksd-c", default: 1, .positive),
            beta: try s.real("ksd-beta", default: -0.5, .open(-1, 0)), threads: ctx.threads,
            communicator: ctx.communicator)
    }
}
