import Communication
import Foundation
@_spi(MeshParts) import KernelSum
import TestSupport
import XCTest

/// The mesh sum over particles that the ranks hold apart (the domain decomposition's sum,
/// `MeshSum.sumOverRankParticles`): at each rank's targets, bit for bit the sums of one process
/// holding every source, whatever the rank count and however the particles are dealt out.
final class RankParticlesTests: XCTestCase {
    struct Case {
        let label: String
        let kernel: any RadialKernel
        let dimension: Int
        let count: Int
        let tolerance: Double
    }

    let cases = [
        Case(label: "2-d gaussian", kernel: GaussianKernel(sigma: 0.3), dimension: 2, count: 3000, tolerance: 1e-6),
        Case(label: "2-d log (near field)", kernel: LogarithmicKernel(), dimension: 2, count: 2500, tolerance: 1e-6),
        Case(label: "3-d riesz (near field)", kernel: RieszKernel(r: 1), dimension: 3, count: 2000, tolerance: 1e-4),
        Case(label: "2-d laplace", kernel: LaplaceKernel(alpha: 2), dimension: 2, count: 2000, tolerance: 1e-8),
        // A grid of few rows: some ranks spread nothing.
        Case(label: "2-d coarse", kernel: GaussianKernel(sigma: 2), dimension: 2, count: 500, tolerance: 1e-3),
    ]

    /// Particles (sources = targets, as in a flow) in two clusters, weights of two channels.
    func particles(_ c: Case, seed: UInt64) -> (x: [Double], w: [Double]) {
        var rng = TestRNG(seed)
        let x = (0..<(c.count * c.dimension)).map { k -> Double in
            let centre = (k / c.dimension) % 3 == 0 ? 2.5 : 0.0
            return centre + rng.uniform(-1, 1) * (k % c.dimension == 0 ? 1.5 : 0.7)
        }
        return (x, (0..<(2 * c.count)).map { _ in rng.uniform(-1, 1) })
    }

    /// The particles rank r holds: by slabs of x₁ (`bySlabs`, as the decomposition deals them),
    /// or at random (any dealing must give the same sums).
    func owned(_ x: [Double], d: Int, rank r: Int, of k: Int, bySlabs: Bool, seed: UInt64) -> [Int] {
        let n = x.count / d
        if bySlabs {
            let sorted = (0..<n).map { x[$0 * d] }.sorted()
            let cuts = (0...k).map { $0 == k ? Double.infinity : $0 == 0 ? -Double.infinity : sorted[$0 * n / k] }
            return (0..<n).filter { x[$0 * d] >= cuts[r] && x[$0 * d] < cuts[r + 1] }
        }
        var rng = TestRNG(seed)
        let owner = (0..<n).map { _ in Int(rng.next() % UInt64(k)) }
        return (0..<n).filter { owner[$0] == r }
    }

    func testEachRankGetsOneProcesssSumsBitForBit() {
        for (index, c) in cases.enumerated() {
            let d = c.dimension
            let (x, w) = particles(c, seed: UInt64(100 + index))
            let n = x.count / d
            var values: [Double] = []
            var gradients: [Double] = []
            MeshSum(tolerance: c.tolerance, threads: 2).sum(
                c.kernel, dimension: d, sources: x, weights: w, channels: 2, targets: x, gradientChannels: [0, 1],
                values: &values, gradients: &gradients)
            XCTAssertTrue(values.allSatisfy(\.isFinite) && gradients.allSatisfy(\.isFinite), c.label)
            for k in [2, 3] {
                for bySlabs in [true, false] {
                    let dealt = (0..<k).map { owned(x, d: d, rank: $0, of: k, bySlabs: bySlabs, seed: UInt64(7 + k)) }
                    let (kernel, tolerance) = (c.kernel, c.tolerance)
                    let results = ThreadJob(size: k).run {
                        comm -> (ids: [Int], values: [Double], gradients: [Double], done: Bool) in
                        let ids = dealt[comm.rank]
                        let mine = ids.flatMap { i in x[(i * d)..<(i * d + d)] }
                        let weights = (0..<2).flatMap { ch in ids.map { w[ch * n + $0] } }
                        var v = [Double](repeating: .nan, count: ids.count * 2)
                        var g = [Double](repeating: .nan, count: ids.count * 2 * d)
                        let engine = MeshSum(tolerance: tolerance, threads: 1, communicator: comm)
                        let done = mine.withUnsafeBufferPointer { s in
                            weights.withUnsafeBufferPointer { wp in
                                ids.withUnsafeBufferPointer { idp in
                                    v.withUnsafeMutableBufferPointer { vp in
                                        g.withUnsafeMutableBufferPointer { gp in
                                            let problem = KernelSumProblem(
                                                dimension: d, sources: s, weights: wp, channels: 2, targets: s,
                                                gradientChannels: [0, 1])!
                                            return engine.sumOverRankParticles(
                                                kernel, problem, sourceIDs: idp, values: vp, gradients: gp)
                                        }
                                    }
                                }
                            }
                        }
                        return (ids, v, g, done)
                    }
                    let label = "\(c.label), \(k) ranks, \(bySlabs ? "slabs" : "random")"
                    XCTAssertTrue(results.allSatisfy(\.done), label)
                    XCTAssertEqual(results.map(\.ids.count).reduce(0, +), n, label)
                    var mismatches = 0
                    for r in results {
                        for (q, i) in r.ids.enumerated() {
                            for ch in 0..<2 where r.values[q * 2 + ch].bitPattern != values[i * 2 + ch].bitPattern {
                                mismatches += 1
                            }
                            for a in 0..<(2 * d)
                            where r.gradients[q * 2 * d + a].bitPattern != gradients[i * 2 * d + a].bitPattern {
                                mismatches += 1
                            }
                        }
                    }
                    XCTAssertEqual(mismatches, 0, label)
                }
            }
        }
    }

    /// Through ``DistributedSum``, a mesh sum over the ranks' particles sends each rank only the
    /// sources near its slab and the grid's rows: far less than gathering the particles (which
    /// the sum falls back to for engines that cannot), and the same results as that fallback.
    func testTheMeshSendsNeighboursNotEveryParticle() throws {
        let d = 2
        let n = 60_000
        var rng = TestRNG(11)
        let x = (0..<(n * d)).map { _ in rng.uniform(0, 3) }
        let w = [Double](repeating: 1 / Double(n), count: n)
        let kernel = GaussianKernel(sigma: 0.3)
        let k = 2
        let dealt = (0..<k).map { owned(x, d: d, rank: $0, of: k, bySlabs: true, seed: 1) }
        func sums(
            _ engine: @escaping @Sendable (any Communicator) -> any KernelSumEngine
        ) -> [(bytes: Int, values: [Double])] {
            ThreadJob(size: k).run { comm in
                let ids = dealt[comm.rank]
                let mine = ids.flatMap { i in x[(i * d)..<(i * d + d)] }
                let weights = ids.map { w[$0] }
                var v = [Double](repeating: .nan, count: ids.count)
                var g = [Double](repeating: .nan, count: ids.count * d)
                let sum = DistributedSum(engine(comm), communicator: comm)
                mine.withUnsafeBufferPointer { s in
                    weights.withUnsafeBufferPointer { wp in
                        v.withUnsafeMutableBufferPointer { vp in
                            g.withUnsafeMutableBufferPointer { gp in
                                let problem = KernelSumProblem(
                                    dimension: d, sources: s, weights: wp, channels: 1, targets: s,
                                    gradientChannels: [0])!
                                sum.sumOverRankParticles(
                                    kernel, problem, sourceIDs: ids, sourceTotal: n, targetIDs: ids, targetTotal: n,
                                    values: vp, gradients: gp)
                            }
                        }
                    }
                }
                return (comm.bytesSent, v + g)
            }
        }
        let mesh = sums { MeshSum(tolerance: 1e-6, threads: 1, communicator: $0) }
        // The same mesh without a communicator cannot share: the sum gathers the particles.
        let gathered = sums { _ in MeshSum(tolerance: 1e-6, threads: 1) }
        for r in 0..<k {
            XCTAssertEqual(mesh[r].values.map(\.bitPattern), gathered[r].values.map(\.bitPattern))
            // Gathering sends this rank's n/2 particles (coordinates, weight) and targets.
            XCTAssertGreaterThan(gathered[r].bytes, 8 * (n / k) * (2 * d + 1))
            XCTAssertLessThan(mesh[r].bytes, gathered[r].bytes / 3, "rank \(r)")
        }
    }
}
