import KernelSum
import TestSupport
import XCTest

/// Ranks share a sum by target ranges (DistributedSum): for every engine, the ranges of a
/// partition, summed one by one and concatenated, must equal one whole call bit for bit —
/// including the engines whose choices (auto's method, the mesh's grid) depend on the targets.
final class TargetRangeTests: XCTestCase {
    struct Case {
        let label: String
        let engine: any KernelSumEngine
        let kernel: any RadialKernel
        let dimension: Int
        let count: Int
        let box: Double?
    }

    /// The targets split 0..<m into `parts` contiguous ranges, some empty.
    func partition(_ m: Int, _ parts: Int) -> [Range<Int>] {
        (0..<parts).map { r in (m * r / parts)..<(m * (r + 1) / parts) }
    }

    func testRangesOfAPartitionEqualTheWholeSumBitForBit() {
        let cases = [
            Case(
                label: "direct", engine: DirectSum(threads: 2), kernel: GaussianKernel(sigma: 0.7), dimension: 2,
                count: 300, box: nil),
            Case(
                label: "mesh", engine: MeshSum(tolerance: 1e-6, threads: 2), kernel: GaussianKernel(sigma: 0.3),
                dimension: 2, count: 3000, box: nil),
            Case(
                label: "mesh 3-d", engine: MeshSum(tolerance: 1e-4, threads: 2), kernel: RieszKernel(r: 1),
                dimension: 3, count: 2000, box: nil),
            Case(
                label: "periodic mesh", engine: MeshSum(tolerance: 1e-6, threads: 2, domain: .periodic(length: 4)),
                kernel: GaussianKernel(sigma: 0.3), dimension: 2, count: 3000, box: 4),
            Case(
                label: "auto (mesh)", engine: AutoSum(tolerance: 1e-6, threads: 2), kernel: GaussianKernel(sigma: 0.3),
                dimension: 2, count: 3000, box: nil),
            Case(
                label: "sliced", engine: SlicedSum(directions: 64, seed: 3, threads: 2), kernel: RieszKernel(r: 1),
                dimension: 5, count: 400, box: nil),
            // Riesz with r ≠ 1: each direction's 1-D mesh is planned over all the targets.
            Case(
                label: "sliced riesz r=1.5", engine: SlicedSum(directions: 64, seed: 3, threads: 2),
                kernel: RieszKernel(r: 1.5), dimension: 5, count: 400, box: nil),
            // More targets than the pilot follows: every range takes the whole problem's count.
            Case(
                label: "sliced to a tolerance", engine: SlicedSum(directions: 1, seed: 3, threads: 2, tolerance: 0.05),
                kernel: RieszKernel(r: 1), dimension: 5, count: 1500, box: nil),
        ]
        var rng = TestRNG(77)
        for c in cases {
            let d = c.dimension
            let n = c.count as Int
            // Points outside the box too (the periodic engines wrap them); targets reach
            // further than sources, so that a range's own bounding box is not the whole one's.
            let x = (0..<(n * d)).map { _ in rng.uniform(-1, (c.box ?? 3) + 1) }
            let y = (0..<(n * d)).map { _ in rng.uniform(-2, (c.box ?? 3) + 2) }
            let w = (0..<(2 * n)).map { _ in rng.uniform(-1, 1) }
            var wholeValues: [Double] = []
            var wholeGradients: [Double] = []
            c.engine.sum(
                c.kernel, dimension: d, sources: x, weights: w, channels: 2, targets: y, gradientChannels: [0, 1],
                values: &wholeValues, gradients: &wholeGradients)
            XCTAssertTrue(wholeValues.allSatisfy(\.isFinite), c.label)
            for parts in [2, 3, 7] {
                var values: [Double] = []
                var gradients: [Double] = []
                x.withUnsafeBufferPointer { xs in
                    w.withUnsafeBufferPointer { ws in
                        y.withUnsafeBufferPointer { ys in
                            let problem = KernelSumProblem(
                                dimension: d, sources: xs, weights: ws, channels: 2, targets: ys,
                                gradientChannels: [0, 1])!
                            for range in partition(n, parts) {
                                var v = [Double](repeating: .nan, count: range.count * 2)
                                var g = [Double](repeating: .nan, count: range.count * 2 * d)
                                v.withUnsafeMutableBufferPointer { vb in
                                    g.withUnsafeMutableBufferPointer { gb in
                                        c.engine.sum(c.kernel, problem, targets: range, values: vb, gradients: gb)
                                    }
                                }
                                values += v
                                gradients += g
                            }
                        }
                    }
                }
                XCTAssertEqual(values, wholeValues, "\(c.label): values in \(parts) ranges")
                XCTAssertEqual(gradients, wholeGradients, "\(c.label): gradients in \(parts) ranges")
            }
        }
    }
}

/// DistributedSum on rank r of K: the inner engine sums rank r's block of targets (equal to
/// the whole sum's rows there, bit for bit), and the other blocks come from the exchange.
final class DistributedSumTests: XCTestCase {
    func testEachRankSumsItsBlockAndGathersTheRest() {
        var rng = TestRNG(5)
        let d = 2
        let n = 101
        let x = (0..<(n * d)).map { _ in rng.uniform(-1, 1) }
        let w = (0..<n).map { _ in rng.uniform(0, 1) }
        let inner = DirectSum(threads: 1)
        let kernel = GaussianKernel(sigma: 0.5)
        var wholeValues: [Double] = []
        var wholeGradients: [Double] = []
        inner.sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: x, gradientChannels: [0],
            values: &wholeValues, gradients: &wholeGradients)
        for (rank, block) in [(0, 0..<34), (1, 34..<68), (2, 68..<101)] {
            let peers = PeerCommunicator(rank: rank, of: 3)
            var values: [Double] = []
            var gradients: [Double] = []
            DistributedSum(inner, communicator: peers).sum(
                kernel, dimension: d, sources: x, weights: w, channels: 1, targets: x,
                gradientChannels: [0], values: &values, gradients: &gradients)
            XCTAssertEqual(peers.gathers, 2)
            for j in 0..<n {
                XCTAssertEqual(values[j], block.contains(j) ? wholeValues[j] : peers.fill, "rank \(rank), target \(j)")
                for a in 0..<d {
                    XCTAssertEqual(gradients[j * d + a], block.contains(j) ? wholeGradients[j * d + a] : peers.fill)
                }
            }
        }
    }
}
