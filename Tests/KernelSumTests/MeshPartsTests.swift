import CFFTW
import Foundation
@_spi(MeshParts) import KernelSum
import XCTest

/// The mesh's parts on their own, each against its definition: the cell list against a brute
/// force neighbour search, the grid FFT against a naive DFT, the periodic grid's wrap, fold and
/// unfold against the modular arithmetic written out by hand.
final class MeshPartsTests: XCTestCase {
    // MARK: CellList

    /// |y − x|² directly, or by minimum image (each coordinate of the difference into
    /// [−L/2, L/2]) when `period` is given.
    func squaredDistance(_ x: ArraySlice<Double>, _ y: [Double], period: Double?) -> Double {
        zip(x, y).reduce(0) { sum, pair in
            var t = pair.1 - pair.0
            if let l = period { t -= l * (t / l).rounded() }
            return sum + t * t
        }
    }

    /// Every source within the radius of a query (by minimum image in the box) lies in one of
    /// the runs, no stored position lies in two, the runs fit ``CellList/maximumRuns(within:)``,
    /// and the stored points are the inputs permuted by `index`: d = 1, 2, 3, in R^d (queries
    /// also outside the points' box) and in the box (cell counts down to 1 per axis, where the
    /// query's reach covers the axis).
    func testCellListRunsHoldEveryNeighbourOnce() {
        var rng = TestRNG(41)
        for d in 1...3 {
            let n = 500
            for period in [nil, 1.5] as [Double?] {
                let x = (0..<(n * d)).map { _ in period == nil ? rng.uniform(-1, 1) : rng.uniform(0, 1.5) }
                for cellSize in [0.04, 0.13, 0.5, 0.8, 3.0] {
                    let cells = x.withUnsafeBufferPointer {
                        CellList(points: $0, dimension: d, cellSize: cellSize, domain: Domain(period: period))
                    }
                    XCTAssertEqual(Set((0..<n).map { cells.index[$0] }), Set(0..<n), "index is a permutation")
                    for p in 0..<n {
                        for a in 0..<d { XCTAssertEqual(cells.points[p * d + a], x[cells.index[p] * d + a]) }
                    }
                    for _ in 0..<12 {
                        let y = (0..<d).map { _ in period == nil ? rng.uniform(-1.4, 1.4) : rng.uniform(0, 1.5) }
                        let radius = rng.uniform(0.01, period.map { $0 / 2 } ?? 0.9)
                        let maximum = cells.maximumRuns(within: radius)
                        var runs = [Int](repeating: -1, count: 2 * maximum + 2)
                        let count = y.withUnsafeBufferPointer { yb in
                            runs.withUnsafeMutableBufferPointer {
                                cells.runs(near: yb.baseAddress!, within: radius, into: $0.baseAddress!)
                            }
                        }
                        let tag = "d=\(d) period=\(period.map { "\($0)" } ?? "-") cell=\(cellSize) r=\(radius)"
                        XCTAssertLessThanOrEqual(count, maximum, tag)
                        var seen = [Int](repeating: 0, count: n)
                        for r in 0..<count {
                            for p in runs[2 * r]..<runs[2 * r + 1] { seen[p] += 1 }
                        }
                        XCTAssertTrue(seen.allSatisfy { $0 <= 1 }, "a stored position in two runs, \(tag)")
                        let found = Set((0..<n).filter { seen[$0] > 0 }.map { cells.index[$0] })
                        let neighbours = (0..<n).filter {
                            squaredDistance(x[($0 * d)..<($0 * d + d)], y, period: period) < radius * radius
                        }
                        XCTAssertTrue(
                            Set(neighbours).isSubset(of: found),
                            "missed \(Set(neighbours).subtracting(found).count) neighbours, \(tag)")
                    }
                }
            }
        }
    }

    /// Targets in cell order are a permutation of the targets.
    func testCellOrderIsAPermutation() {
        var rng = TestRNG(43)
        let x = (0..<600).map { _ in rng.uniform(-1, 1) }
        let y = (0..<300).map { _ in rng.uniform(-2, 2) }
        let cells = x.withUnsafeBufferPointer { CellList(points: $0, dimension: 3, cellSize: 0.2) }
        let order = y.withUnsafeBufferPointer { cells.cellOrder(of: $0) }
        XCTAssertEqual(order.sorted(), Array(0..<100))
    }

    // MARK: GridFFT

    /// The DFT of a real grid by its definition, X_k = Σ_n x_n exp(−2πi Σ_a k_a n_a / N_a), on
    /// the r2c layout (last axis k = 0 … N/2).
    func naiveForward(_ x: [Double], shape: [Int]) -> [(Double, Double)] {
        let d = shape.count
        var complexShape = shape
        complexShape[d - 1] = shape[d - 1] / 2 + 1
        return indices(complexShape).map { k in
            var re = 0.0
            var im = 0.0
            for (flat, n) in indices(shape).enumerated() {
                var phase = 0.0
                for a in 0..<d { phase += Double(k[a] * n[a]) / Double(shape[a]) }
                re += x[flat] * cos(2 * Double.pi * phase)
                im -= x[flat] * sin(2 * Double.pi * phase)
            }
            return (re, im)
        }
    }

    /// Multi-indices of a shape in row-major order.
    func indices(_ shape: [Int]) -> [[Int]] {
        shape.reduce([[]]) { prefixes, n in prefixes.flatMap { p in (0..<n).map { p + [$0] } } }
    }

    /// Whether mode k (on either layout) is in the band: 2|k_a| < band_a on every axis,
    /// |k_a| = min(k_a, N_a − k_a).
    func inBand(_ k: [Int], shape: [Int], band: [Int]) -> Bool {
        (0..<shape.count).allSatisfy { 2 * min(k[$0], shape[$0] - k[$0]) < band[$0] }
    }

    /// Runs `body` with a transform of `shape` and `band` and buffers of its layout.
    func withTransform(
        shape: [Int], band: [Int],
        _ body: (GridFFT, UnsafeMutablePointer<Double>, UnsafeMutablePointer<fftw_complex>) -> Void
    ) {
        let total = shape.reduce(1, *)
        let complexCount = total / shape[shape.count - 1] * (shape[shape.count - 1] / 2 + 1)
        let real = fftw_alloc_real(total)!
        let spectrum = fftw_alloc_complex(complexCount)!
        defer {
            fftw_free(real)
            fftw_free(spectrum)
        }
        let transform = GridFFT(shape: shape, band: band, real: real, spectrum: spectrum)
        XCTAssertEqual(transform.complexCount, complexCount)
        body(transform, real, spectrum)
    }

    static let fftCases: [(shape: [Int], band: [Int])] = [
        ([12], [13]), ([10], [6]),
        ([8, 6], [9, 7]), ([40, 36], [41, 37]), ([40, 36], [20, 18]),
        ([4, 6, 8], [5, 7, 9]), ([6, 34, 10], [3, 17, 6]),
    ]

    /// forward is the r2c DFT on every mode in the band (every mode when the band covers the
    /// grid), for 1, 2 and 3 threads; with `leading`, of a grid whose rows beyond it are 0.
    func testGridFFTForwardIsTheDFT() {
        var rng = TestRNG(47)
        for (shape, band) in MeshPartsTests.fftCases {
            let total = shape.reduce(1, *)
            for leading in [nil, max(1, shape[0] / 3)] as [Int?] {
                let rowSize = total / shape[0]
                let x = (0..<total).map { $0 / rowSize < (leading ?? shape[0]) ? rng.uniform(-1, 1) : 0 }
                let expected = naiveForward(x, shape: shape)
                var complexShape = shape
                complexShape[shape.count - 1] = shape[shape.count - 1] / 2 + 1
                let modes = indices(complexShape)
                let scale = x.reduce(0) { $0 + abs($1) }
                for threads in [1, 2, 3] {
                    withTransform(shape: shape, band: band) { transform, real, spectrum in
                        real.update(from: x, count: total)
                        transform.forward(real, spectrum, threads: threads, leading: leading)
                        var checked = 0
                        for (i, k) in modes.enumerated() where inBand(k, shape: shape, band: band) {
                            XCTAssertEqual(spectrum[i].0, expected[i].0, accuracy: 1e-12 * scale, "\(shape) k=\(k)")
                            XCTAssertEqual(spectrum[i].1, expected[i].1, accuracy: 1e-12 * scale, "\(shape) k=\(k)")
                            checked += 1
                        }
                        XCTAssertGreaterThan(checked, 0)
                    }
                }
            }
        }
    }

    /// backward is the unnormalised inverse DFT, x_n = Σ_k X_k exp(+2πi Σ_a k_a n_a / N_a), of a
    /// spectrum zero beyond the band (the real grid's DFT, masked): compared on every point,
    /// or on the first `leading` rows along axis 0.
    func testGridFFTBackwardIsTheInverseDFT() {
        var rng = TestRNG(53)
        for (shape, band) in MeshPartsTests.fftCases {
            let d = shape.count
            let total = shape.reduce(1, *)
            let x = (0..<total).map { _ in rng.uniform(-1, 1) }
            // The masked spectrum on the full layout (Hermitian: the mask is even in k).
            let full = indices(shape)
            let spectrumFull = full.map { k -> (Double, Double) in
                guard inBand(k, shape: shape, band: band) else { return (0, 0) }
                var re = 0.0
                var im = 0.0
                for (flat, n) in full.enumerated() {
                    var phase = 0.0
                    for a in 0..<d { phase += Double(k[a] * n[a]) / Double(shape[a]) }
                    re += x[flat] * cos(2 * Double.pi * phase)
                    im -= x[flat] * sin(2 * Double.pi * phase)
                }
                return (re, im)
            }
            let expected = full.map { n -> Double in
                var s = 0.0
                for (flat, k) in full.enumerated() {
                    var phase = 0.0
                    for a in 0..<d { phase += Double(k[a] * n[a]) / Double(shape[a]) }
                    let (re, im) = spectrumFull[flat]
                    s += re * cos(2 * Double.pi * phase) - im * sin(2 * Double.pi * phase)
                }
                return s
            }
            var complexShape = shape
            complexShape[d - 1] = shape[d - 1] / 2 + 1
            let half = indices(complexShape).map { k in
                spectrumFull[(0..<d).reduce(0) { $0 * shape[$1] + k[$1] }]
            }
            let scale = Double(total) * x.reduce(0) { $0 + abs($1) }
            for leading in [nil, max(1, shape[0] / 3)] as [Int?] {
                for threads in [1, 2, 3] {
                    withTransform(shape: shape, band: band) { transform, real, spectrum in
                        for (i, z) in half.enumerated() { spectrum[i] = z }
                        real.update(repeating: .nan, count: total)
                        transform.backward(spectrum, real, threads: threads, leading: leading)
                        let rows = d == 1 ? total : (leading ?? shape[0]) * (total / shape[0])
                        for i in 0..<rows {
                            XCTAssertEqual(real[i], expected[i], accuracy: 1e-12 * scale, "\(shape) point \(full[i])")
                        }
                    }
                }
            }
        }
    }

    // MARK: PeriodicGrid

    /// wrap(t, L) is t − L⌊t/L⌋ in [0, L), exact for points any number of periods away.
    func testWrapIsTheRemainderInTheBox() {
        let l = 2.5
        for (t, expected) in [
            (0.0, 0.0), (1.0, 1.0), (2.5, 0.0), (-0.5, 2.0), (-2.5, 0.0), (7.75, 0.25),
            (-7.75, 2.25), (-0.0, 0.0), (2.5e17, 0.0),
        ] {
            XCTAssertEqual(Domain.periodic(length: l).wrap(t), expected, "wrap(\(t))")
        }
        var rng = TestRNG(59)
        for _ in 0..<1000 {
            let t = rng.uniform(-50, 50)
            let u = Domain.periodic(length: l).wrap(t)
            XCTAssertTrue(u >= 0 && u < l)
            XCTAssertEqual(u, t - l * (t / l).rounded(.down), accuracy: 1e-13)
        }
    }

    /// wrapped(problem) is nil when every point is in [0, L), else copies with each coordinate
    /// wrapped.
    func testWrappedCopiesOnlyWhenAPointIsOutside() {
        let weights = [1.0, 1.0]
        let inside = [0.0, 1.0, 2.0, 0.5]
        let outside = [0.5, -1.0, 3.5, 1.0]
        inside.withUnsafeBufferPointer { i in
            outside.withUnsafeBufferPointer { o in
                weights.withUnsafeBufferPointer { w in
                    let ok = KernelSumProblem(
                        dimension: 2, sources: i, weights: w, channels: 1, targets: i,
                        gradientChannels: [])!
                    XCTAssertNil(Domain.periodic(length: 2.5).wrapped(ok))
                    let out = KernelSumProblem(
                        dimension: 2, sources: i, weights: w, channels: 1, targets: o,
                        gradientChannels: [])!
                    let wrapped = Domain.periodic(length: 2.5).wrapped(out)
                    XCTAssertEqual(wrapped?.sources, inside)
                    XCTAssertEqual(wrapped?.targets, [0.5, 1.5, 1.0, 1.0])
                }
            }
        }
    }

    /// images(a) lists, for each grid index p, the padded indices e ≡ p + w (mod G) in
    /// 0 ..< G + 2w, ascending; fold sums them, grid[p] = Σ_{e ≡ p + w} padded[e]; unfold copies
    /// back, padded[e] = grid[(e − w) mod G]. By hand, per channel, for d = 1, 2, 3, pads narrower
    /// and wider than the grid (a window that wraps several times), 1 and 3 threads.
    func testFoldAndUnfoldAreTheModularImages() {
        var rng = TestRNG(61)
        let cases: [(grid: [Int], pad: Int)] = [
            ([10], 3), ([4], 9), ([6, 8], 2), ([4, 6], 7), ([4, 6, 8], 3),
            ([2, 4, 6], 5),
        ]
        for (grid, pad) in cases {
            let d = grid.count
            let channels = 2
            let grid3 = grid + [Int](repeating: 1, count: 3 - d)
            let buffer = PaddedBuffer()
            let periodic = PeriodicGrid(grid: grid3, dimension: d, pad: pad, channels: channels, buffer: buffer)
            let padded = (0..<3).map { $0 < d ? grid[$0] + 2 * pad : 1 }
            XCTAssertEqual(periodic.shape, padded)
            for a in 0..<d {
                let expected = (0..<grid[a]).map { p in
                    (0..<padded[a]).filter { e in ((e - pad) % grid[a] + grid[a]) % grid[a] == p }
                }
                XCTAssertEqual(periodic.images(a), expected, "images, grid \(grid) pad \(pad) axis \(a)")
            }
            let paddedTotal = padded.reduce(1, *)
            let total = grid.reduce(1, *)
            let paddedIndices = indices(padded)
            /// The grid index of a padded one, (e − w) mod G per axis, flattened.
            func image(_ e: [Int]) -> Int {
                (0..<3).reduce(0) { flat, a in
                    flat * grid3[a] + (a < d ? ((e[a] - pad) % grid[a] + grid[a]) % grid[a] : 0)
                }
            }
            for threads in [1, 3] {
                let values = (0..<(paddedTotal * channels)).map { _ in rng.uniform(-1, 1) }
                periodic.buffer.update(from: values, count: values.count)
                var folded = [Double](repeating: .nan, count: total * channels)
                folded.withUnsafeMutableBufferPointer {
                    periodic.fold(into: $0.baseAddress!, channels: channels, threads: threads)
                }
                var expected = [Double](repeating: 0, count: total * channels)
                for c in 0..<channels {
                    for (flat, e) in paddedIndices.enumerated() {
                        expected[c * total + image(e)] += values[c * paddedTotal + flat]
                    }
                }
                for k in 0..<expected.count {
                    XCTAssertEqual(folded[k], expected[k], accuracy: 1e-12, "fold, grid \(grid) pad \(pad) at \(k)")
                }
                var source = (0..<(total * channels)).map { _ in rng.uniform(-1, 1) }
                periodic.buffer.update(repeating: .nan, count: paddedTotal * channels)
                source.withUnsafeMutableBufferPointer {
                    periodic.unfold(from: $0.baseAddress!, channels: channels, threads: threads)
                }
                for c in 0..<channels {
                    for (flat, e) in paddedIndices.enumerated() {
                        XCTAssertEqual(
                            periodic.buffer[c * paddedTotal + flat], source[c * total + image(e)],
                            "unfold, grid \(grid) pad \(pad) at \(e)")
                    }
                }
            }
        }
    }
}
