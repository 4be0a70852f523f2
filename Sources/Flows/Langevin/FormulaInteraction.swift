import Communication
import Formula
import Foundation
import KernelSum

/// W written as a formula in the difference x = x_i − x_j (components x1 … xd):
/// `interaction = [{ kind = "formula", formula = "0.5*norm2(x) - log(norm(x))" }]`. Summed
/// directly over all pairs i ≠ j, O(N²), in batches of 64 differences per formula pass;
/// minimum-image differences in a periodic box. On several ranks each sums its block of the
/// particles i and the blocks are gathered (one process's sums, bit for bit). For interactions
/// the kernel-sum engine can serve (radial kernels, quadratic), prefer those terms: they scale
/// to large N.
public final class FormulaInteraction: Interaction, @unchecked Sendable {
    /// W as a formula in x = x_i − x_j (before the term's weight).
    public let formula: ScenarioFormula
    let weight: Double
    let domain: Domain
    let threads: Int
    /// The ranks that share the pairs (by blocks of particles i).
    let communicator: any Communicator

    init(
        formula: ScenarioFormula, weight: Double, domain: Domain, threads: Int,
        communicator: any Communicator = SerialCommunicator()
    ) {
        self.formula = formula
        self.weight = weight
        self.domain = domain
        self.threads = threads
        self.communicator = communicator
    }

    /// `weight·formula:EXPR`.
    public var spec: String { "\(formatNumber(weight))·formula:\(formula.source)" }

    /// For each i: Σ_{j≠i} w_j ∇W(x_i − x_j) (gradients wanted) and Σ_{j≠i} w_j W(x_i − x_j).
    func pairSums(
        _ positions: [Double], weights: [Double], dimension d: Int, gradients wanted: Bool
    ) -> (values: [Double], gradients: [Double]) {
        let n = positions.count / d
        var values = [Double](repeating: 0, count: n)
        var gradients = [Double](repeating: 0, count: wanted ? n * d : 0)
        let formula = self.formula
        let domain = self.domain
        let blocks = BlockPartition(count: n, parts: communicator.size)
        let mine = blocks.range(of: communicator.rank)
        positions.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                values.withUnsafeMutableBufferPointer { vp in
                    gradients.withUnsafeMutableBufferPointer { gp in
                        let x = SharedPointer(xp.baseAddress!)
                        let w = SharedPointer(wp.baseAddress!)
                        let v = SharedMutablePointer(vp.baseAddress!)
                        let g = SharedMutablePointer(gp.baseAddress ?? vp.baseAddress!)
                        Parallel.forEachChunk(of: mine, threads: threads, minimumChunk: 16) { range in
                            var workspace = formula.makeWorkspace()
                            withUnsafeTemporaryAllocation(of: Double.self, capacity: 64 * (2 * d + 1)) { buffer in
                                withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { partnerBuffer in
                                    let diff = buffer.baseAddress!
                                    let val = diff + 64 * d
                                    let grad = val + 64
                                    let partners = partnerBuffer.baseAddress!
                                    for i in range {
                                        var sum = 0.0
                                        var j0 = 0
                                        while j0 < n {
                                            // The next 64 partners j ≠ i.
                                            var k = 0
                                            var j = j0
                                            while j < n && k < 64 {
                                                if j != i {
                                                    for a in 0..<d {
                                                        diff[k * d + a] = domain.minimumImage(
                                                            x[i * d + a] - x[j * d + a])
                                                    }
                                                    partners[k] = j
                                                    k += 1
                                                }
                                                j += 1
                                            }
                                            j0 = j
                                            guard k > 0 else { continue }
                                            formula.evaluate(
                                                inputs: diff, count: k, values: val, gradients: wanted ? grad : nil,
                                                workspace: &workspace)
                                            for q in 0..<k {
                                                let wj = w[partners[q]]
                                                sum += wj * val[q]
                                                if wanted { for a in 0..<d { g[i * d + a] += wj * grad[q * d + a] } }
                                            }
                                        }
                                        v[i] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        communicator.gatherBlocks(of: &values, width: 1, blocks: blocks)
        if wanted { communicator.gatherBlocks(of: &gradients, width: d, blocks: blocks) }
        return (values, gradients)
    }

    /// Adds weight · Σ_{j≠i} w_j ∇W(x_i − x_j) for every i.
    public func addGradients(_ positions: [Double], weights: [Double], dimension d: Int, into gradients: inout [Double])
    {
        let (_, g) = pairSums(positions, weights: weights, dimension: d, gradients: true)
        for k in 0..<g.count { gradients[k] += weight * g[k] }
    }

    /// Adds weight · Σ_{j≠i} w_j W(x_i − x_j) for every i (the direct pair sums).
    public func addValues(_ positions: [Double], weights: [Double], dimension d: Int, into values: inout [Double]) {
        let (v, _) = pairSums(positions, weights: weights, dimension: d, gradients: false)
        for i in 0..<v.count { values[i] += weight * v[i] }
    }

    /// weight · ½ Σ_{i≠j} w_i w_j W(x_i − x_j).
    public func energy(_ positions: [Double], weights: [Double], dimension d: Int) -> Double {
        let (v, _) = pairSums(positions, weights: weights, dimension: d, gradients: false)
        var e = 0.0
        for i in 0..<v.count { e += weights[i] * v[i] }
        return 0.5 * weight * e
    }

    /// Always the direct pair sum.
    public var report: [String: String] { ["summation": "direct (formula)"] }

    static let entry = InteractionEntry(
        name: "formula", summary: "W given as a formula in x = x_i − x_j (direct O(N²) pair sums)"
    ) { s, ctx in
        // Memory: the pair sums' values and gradients per particle, made at every call.
        let n = ctx.particleCount
        s.memory.add(
            s, "formula", "the pair sums of \(n) particle\(n == 1 ? "" : "s")", parts: "values and gradients",
            bytes: 8 * Double(n) * Double(ctx.dimension + 1), transient: true, derived: true)
        return FormulaInteraction(
            formula: try readFormula(s, "formula", variables: .position(dimension: ctx.dimension)),
            weight: ctx.weight, domain: ctx.domain, threads: ctx.threads, communicator: ctx.communicator)
    }
}
