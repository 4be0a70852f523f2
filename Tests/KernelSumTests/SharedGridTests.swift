import Foundation
@_spi(MeshParts) import KernelSum
import TestSupport
import XCTest

/// The mesh's grid shared by the ranks of a job (`SharedGrid`): every rank's sums equal one
/// process's bit for bit, whatever K, and each rank really computes only its share.
final class SharedGridTests: XCTestCase {
    struct Case {
        let label: String
        let kernel: any RadialKernel
        let dimension: Int
        let count: Int
        let tolerance: Double
        let domain: Domain
    }

    let cases = [
        Case(
            label: "2-d gaussian", kernel: GaussianKernel(sigma: 0.3), dimension: 2, count: 3000, tolerance: 1e-6,
            domain: .free),
        Case(
            label: "2-d log (near field)", kernel: LogarithmicKernel(), dimension: 2, count: 2500, tolerance: 1e-6,
            domain: .free),
        Case(
            label: "3-d riesz", kernel: RieszKernel(r: 1), dimension: 3, count: 2000, tolerance: 1e-4, domain: .free),
        Case(
            label: "2-d periodic", kernel: GaussianKernel(sigma: 0.3), dimension: 2, count: 3000, tolerance: 1e-6,
            domain: .periodic(length: 4)),
        Case(
            label: "3-d periodic", kernel: GaussianKernel(sigma: 0.4), dimension: 3, count: 1500, tolerance: 1e-4,
            domain: .periodic(length: 3)),
        // A grid of few rows: some ranks' slabs are empty.
        Case(
            label: "2-d coarse", kernel: GaussianKernel(sigma: 2), dimension: 2, count: 500, tolerance: 1e-3,
            domain: .free),
    ]

    struct Points {
        let x: [Double]
        let y: [Double]
        let w: [Double]
    }

    func points(_ c: Case, seed: UInt64) -> Points {
        var rng = TestRNG(seed)
        let n = c.count * c.dimension
        let top = c.domain.period ?? 3
        // Some points outside the box (wrapped by the periodic engine), targets beyond sources.
        return Points(
            x: (0..<n).map { _ in rng.uniform(-0.5, top + 0.5) },
            y: (0..<n).map { _ in rng.uniform(-1, top + 1) },
            w: (0..<(2 * c.count)).map { _ in rng.uniform(-1, 1) })
    }

    func oneProcess(_ c: Case, _ p: Points) -> (values: [Double], gradients: [Double]) {
        var values: [Double] = []
        var gradients: [Double] = []
        MeshSum(tolerance: c.tolerance, threads: 2, domain: c.domain).sum(
            c.kernel, dimension: c.dimension, sources: p.x, weights: p.w, channels: 2, targets: p.y,
            gradientChannels: [1], values: &values, gradients: &gradients)
        return (values, gradients)
    }

    func testEveryRankEqualsOneProcessBitForBit() {
        for (index, c) in cases.enumerated() {
            // Two point sets one after the other: the second call keeps the first one's grid
            // (the plan's hysteresis) with its rows, shares and rows received of another sum.
            let sets = [points(c, seed: UInt64(10 + index)), points(c, seed: UInt64(50 + index))]
            let alone = MeshSum(tolerance: c.tolerance, threads: 2, domain: c.domain)
            let expected = sets.map { p -> ([Double], [Double]) in
                var values: [Double] = []
                var gradients: [Double] = []
                alone.sum(
                    c.kernel, dimension: c.dimension, sources: p.x, weights: p.w, channels: 2, targets: p.y,
                    gradientChannels: [1], values: &values, gradients: &gradients)
                return (values, gradients)
            }
            XCTAssertTrue(expected.allSatisfy { $0.0.allSatisfy(\.isFinite) }, c.label)
            for k in [2, 3, 4] {
                // The second set twice: the second time reuses the plans and exchange buffers.
                let calls = [0, 1, 1]
                let results = ThreadJob(size: k).run { communicator in
                    let mesh = MeshSum(tolerance: c.tolerance, threads: 1, domain: c.domain, communicator: communicator)
                    let shared = DistributedSum(mesh, communicator: communicator)
                    var out: [([Double], [Double])] = []
                    for (call, set) in calls.enumerated() {
                        var values: [Double] = []
                        var gradients: [Double] = []
                        let p = sets[set]
                        // The last call through the mesh alone (collective too).
                        let engine: any KernelSumEngine = call == calls.count - 1 ? mesh : shared
                        engine.sum(
                            c.kernel, dimension: c.dimension, sources: p.x, weights: p.w, channels: 2,
                            targets: p.y, gradientChannels: [1], values: &values, gradients: &gradients)
                        out.append((values, gradients))
                    }
                    return out
                }
                for (rank, outcomes) in results.enumerated() {
                    for (call, result) in outcomes.enumerated() {
                        let at = "\(c.label), rank \(rank) of \(k), call \(call)"
                        XCTAssertNil(firstDifference(result.0, expected[calls[call]].0), "values: \(at)")
                        XCTAssertNil(firstDifference(result.1, expected[calls[call]].1), "gradients: \(at)")
                    }
                }
            }
        }
    }

    /// Fewer targets than ranks: the ranks without targets still take their share of the grid.
    func testRanksWithoutTargetsStillShareTheGrid() {
        let c = cases[0]
        let p = points(c, seed: 3)
        let y = Array(p.y[0..<4])
        var expected: [Double] = []
        var expectedGradients: [Double] = []
        MeshSum(tolerance: c.tolerance, threads: 1).sum(
            c.kernel, dimension: 2, sources: p.x, weights: p.w, channels: 2, targets: y,
            gradientChannels: [0], values: &expected, gradients: &expectedGradients)
        let results = ThreadJob(size: 3).run { communicator in
            let mesh = MeshSum(tolerance: c.tolerance, threads: 1, communicator: communicator)
            var values: [Double] = []
            var gradients: [Double] = []
            DistributedSum(mesh, communicator: communicator).sum(
                c.kernel, dimension: 2, sources: p.x, weights: p.w, channels: 2, targets: y,
                gradientChannels: [0], values: &values, gradients: &gradients)
            return values + gradients
        }
        for r in results { XCTAssertNil(firstDifference(r, expected + expectedGradients)) }
    }

    /// What a rank sends for one sum at a few targets in R^d, against its 1/K of the real grid
    /// sent to every other rank: gathering the convolved grid (so that every rank could
    /// interpolate anywhere) cost about 0.7 of that here (measured), before each rank
    /// interpolated its own share of the targets. Now it sends the in-band half of its
    /// spectrum through the transposes, the rows near its cuts and the results: under half.
    func testRanksSendTheRowsNearTheirCutsNotTheirSlab() {
        let c = Case(
            label: "narrow gaussian", kernel: GaussianKernel(sigma: 0.05), dimension: 2, count: 2000,
            tolerance: 1e-6, domain: .free)
        let p = points(c, seed: 5)
        let y = Array(p.y[0..<100])
        for k in [2, 3] {
            let results = ThreadJob(size: k).run { communicator in
                let mesh = MeshSum(tolerance: c.tolerance, threads: 1, communicator: communicator)
                var values: [Double] = []
                var gradients: [Double] = []
                DistributedSum(mesh, communicator: communicator).sum(
                    c.kernel, dimension: 2, sources: p.x, weights: p.w, channels: 2, targets: y,
                    gradientChannels: [1], values: &values, gradients: &gradients)
                return (communicator.bytesSent, mesh.parameters["grid"] ?? "")
            }
            let grid = results[0].1.split(separator: "x").compactMap { Int($0) }
            XCTAssertEqual(grid.count, 2)
            let slabToEveryOther = 8 * 2 * grid.reduce(1, *) / k * (k - 1)
            for (rank, result) in results.enumerated() {
                XCTAssertLessThan(result.0, slabToEveryOther / 2, "rank \(rank) of \(k) on a \(grid) grid")
            }
        }
    }

    /// The first index where `a` and `b` differ (with both values), or nil when they are equal.
    func firstDifference(_ a: [Double], _ b: [Double]) -> String? {
        guard a.count == b.count else { return "\(a.count) values against \(b.count)" }
        guard let k = a.indices.first(where: { a[$0] != b[$0] }) else { return nil }
        return "index \(k): \(a[k]) against \(b[k])"
    }

    /// With a pretend peer whose share is a fill value, rank 0's sums are wrong: it did not
    /// compute the other slabs and columns itself, it took them from the exchanges.
    func testARankComputesOnlyItsShare() {
        for c in [cases[0], cases[2], cases[3]] {
            let p = points(c, seed: 4)
            let expected = oneProcess(c, p)
            for rank in 0..<2 {
                let peer = PeerCommunicator(rank: rank, of: 2, fill: 0)
                var values: [Double] = []
                var gradients: [Double] = []
                MeshSum(tolerance: c.tolerance, threads: 1, domain: c.domain, communicator: peer).sum(
                    c.kernel, dimension: c.dimension, sources: p.x, weights: p.w, channels: 2, targets: p.y,
                    gradientChannels: [1], values: &values, gradients: &gradients)
                XCTAssertGreaterThan(peer.gathers, 0, c.label)
                XCTAssertGreaterThan(peer.exchanges, 0, c.label)
                let wrong = zip(values, expected.values).filter { $0 != $1 }.count
                XCTAssertGreaterThan(wrong, values.count / 4, "\(c.label), rank \(rank)")
            }
        }
    }

    /// The ranks interpolate equal shares of the targets (blocks of the targets in the order of
    /// the row their window starts in, not the targets in each FFT slab's even rows): for a
    /// Gaussian blob of targets on 3 ranks, each share is a third to within one target (the
    /// last gather's counts: the gradients).
    func testTheTargetsAreSharedEvenly() {
        var rng = TestRNG(8)
        let m = 6000
        let blob = (0..<(2 * m)).map { _ in
            1.5 + 0.3 * (-2 * log(rng.uniform(1e-12, 1))).squareRoot() * cos(2 * .pi * rng.uniform())
        }
        let x = (0..<4000).map { _ in rng.uniform(0, 3) }
        let w = [Double](repeating: 1, count: 2000)
        let peer = PeerCommunicator(rank: 0, of: 3)
        var values: [Double] = []
        var gradients: [Double] = []
        DistributedSum(MeshSum(tolerance: 1e-6, threads: 1, communicator: peer), communicator: peer).sum(
            GaussianKernel(sigma: 0.1), dimension: 2, sources: x, weights: w, channels: 1, targets: blob,
            gradientChannels: [0], values: &values, gradients: &gradients)
        // The results are gathered once: values, then gradients.
        XCTAssertEqual(peer.gathers, 2)
        let shares = (peer.gatherCounts.last ?? []).map { $0 / 2 }
        XCTAssertEqual(shares.reduce(0, +), m, "\(shares)")
        for share in shares { XCTAssertEqual(Double(share), Double(m) / 3, accuracy: 1, "\(shares)") }
    }

    /// Cuts balance the work: every source in the first 100 of 480 rows (plus a little work
    /// per row); each part's work is the mean's to within one cut unit's work.
    func testCutsBalanceTheWork() {
        let work = (0..<480).map { ($0 < 100 ? 10_000 : 0) + 24.0 }
        for k in [2, 3, 4, 7] {
            for unit in [1, 16] {
                let cuts = SharedGrid.balancedCuts(work, parts: k, unit: unit)
                XCTAssertEqual(cuts.count, k + 1)
                XCTAssertEqual(cuts.first, 0)
                XCTAssertEqual(cuts.last, 480)
                XCTAssertEqual(cuts, cuts.sorted())
                XCTAssertTrue(cuts.dropLast().allSatisfy { $0 % unit == 0 }, "\(cuts)")
                let mean = work.reduce(0, +) / Double(k)
                for r in 0..<k {
                    let part = work[cuts[r]..<cuts[r + 1]].reduce(0, +)
                    XCTAssertLessThanOrEqual(
                        abs(part - mean), Double(unit) * 10_024, "part \(r) of \(k), unit \(unit): \(cuts)")
                }
                XCTAssertLessThan(cuts[1], 100, "\(cuts)")
            }
        }
    }

    /// The spreading's cuts count the sources just below a cut twice (both parts evaluate their
    /// windows): on a peaked profile each part's work, overlap included, is within one row's
    /// work of the best split's, found by trying every cut (K = 2).
    func testSpreadingCutsCountTheOverlap() {
        let sources = (0..<180).map { Int(10_000 * exp(-Double(($0 - 90) * ($0 - 90)) / 800)) }
        let overlap = 8
        func work(_ a: Int, _ b: Int) -> Double {
            Double(sources[max(0, a - overlap)..<b].reduce(0, +)) + 1.8 * Double(b - a)
        }
        let cuts = SharedGrid.spreadingCuts(sources: sources, rowWork: 1.8, overlap: overlap, parts: 2)
        XCTAssertEqual(cuts.count, 3)
        XCTAssertEqual([cuts[0], cuts[2]], [0, 180])
        let best = (0...180).map { max(work(0, $0), work($0, 180)) }.min()!
        XCTAssertLessThanOrEqual(max(work(0, cuts[1]), work(cuts[1], 180)), best + 1e-6 * best)
        // Ignoring the overlap would cut at the median, leaving the upper part heavier.
        XCTAssertGreaterThan(cuts[1], 90)
        for k in [3, 5] {
            let c = SharedGrid.spreadingCuts(sources: sources, rowWork: 1.8, overlap: overlap, parts: k)
            XCTAssertEqual(c.count, k + 1)
            XCTAssertEqual(c, c.sorted())
            XCTAssertEqual(c.last, 180)
        }
    }

    /// The decomposition deals every row, block and column out exactly once, and the slabs
    /// share the rows that hold data.
    func testTheDecompositionCoversTheGridOnce() {
        let shapes: [[Int]] = [[480, 480], [36, 500], [64, 30, 40], [6, 8, 10]]
        for shape in shapes {
            let total = shape.reduce(1, *)
            let complexCount = total / shape.last! * (shape.last! / 2 + 1)
            let real = UnsafeMutablePointer<Double>.allocate(capacity: total)
            let spectrum = UnsafeMutablePointer<(Double, Double)>.allocate(capacity: complexCount)
            defer {
                real.deallocate()
                spectrum.deallocate()
            }
            let fft = GridFFT(shape: shape, band: shape.map { $0 / 2 }, real: real, spectrum: spectrum)
            for k in [2, 3, 5] {
                for used in [nil, shape[0] / 2] as [Int?] {
                    let grid = SharedGrid(
                        communicator: PeerCommunicator(rank: 0, of: k), transform: fft, usedRows: used)!
                    XCTAssertEqual(grid.rows.first?.lowerBound, 0)
                    XCTAssertEqual(grid.rows.last?.upperBound, shape[0])
                    for r in 1..<k { XCTAssertEqual(grid.rows[r].lowerBound, grid.rows[r - 1].upperBound) }
                    for (p, blocks) in fft.passBlocks.enumerated() {
                        let dealt = p < shape.count - 1 ? grid.slabBlocks[p] : grid.columnBlocks
                        XCTAssertEqual(dealt.map(\.count).reduce(0, +), blocks.count, "\(shape) pass \(p) on \(k)")
                        XCTAssertEqual(Set(dealt.flatMap { Array($0) }).count, blocks.count)
                    }
                    // Each block of the last axis's rows lies in its owner's slab (whole blocks:
                    // the same plans as one process).
                    let rowsPerIndex = shape.dropFirst().dropLast().reduce(1, *)
                    for r in 0..<k {
                        for (start, count) in fft.passBlocks[0][grid.slabBlocks[0][r]] {
                            XCTAssertTrue(grid.rows[r].contains(start / rowsPerIndex), "\(shape), rank \(r) of \(k)")
                            XCTAssertTrue(
                                grid.rows[r].contains((start + count - 1) / rowsPerIndex), "\(shape), rank \(r) of \(k)"
                            )
                        }
                    }
                    let covered = grid.columnPass.reduce(0) { $0 + $1.count } + grid.uncovered.map(\.count).reduce(0, +)
                    XCTAssertEqual(covered, complexCount / shape[0], "\(shape)")
                    // Each rank's columns (where its multiplier is held) are its column blocks',
                    // and together every column block's, once.
                    let owned = (0..<k).flatMap { SharedGrid.columns(of: fft, rank: $0, ranks: k) }
                    XCTAssertEqual(owned.map(\.start), grid.columnPass.map(\.start), "\(shape) on \(k)")
                    XCTAssertEqual(owned.map(\.count), grid.columnPass.map(\.count), "\(shape) on \(k)")
                    // Every rank but the last holds data rows when there are enough of them.
                    let usedRows = used ?? shape[0]
                    if usedRows >= 16 * k {
                        for r in 0..<(k - 1) {
                            XCTAssertFalse(grid.rows[r].isEmpty, "\(shape), rank \(r) of \(k)")
                            XCTAssertLessThanOrEqual(grid.rows[r].upperBound, usedRows + 15)
                        }
                    }
                }
            }
        }
    }
}
