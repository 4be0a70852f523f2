import Foundation
import KernelSum
import XCTest

/// Points in the periodic box [0, L)^d: uniform, or one tight cluster (width 0.3 L) centred on
/// the corner 0 so that it wraps across every face.
func periodicPoints(_ layout: String, count: Int, dimension d: Int, period l: Double, rng: inout TestRNG) -> [Double] {
    (0..<(count * d)).map { _ in
        if layout == "uniform" { return rng.uniform(0, l) }
        let t = rng.uniform(-0.15, 0.15) * l
        return t < 0 ? t + l : t
    }
}

/// The minimum-image brute force Σ_j w_j k(mi(y − x_j)) and its gradient, one channel.
func minimumImageSum(
    _ kernel: any RadialKernel, _ d: Int, _ l: Double, _ x: [Double], _ w: [Double], _ y: [Double]
)
    -> (values: [Double], gradients: [Double])
{
    let n = x.count / d
    let m = y.count / d
    var v = [Double](repeating: 0, count: m)
    var g = [Double](repeating: 0, count: m * d)
    for j in 0..<m {
        for i in 0..<n {
            var z = [Double](repeating: 0, count: d)
            var r2 = 0.0
            for a in 0..<d {
                var t = y[j * d + a] - x[i * d + a]
                t -= l * (t / l).rounded()
                z[a] = t
                r2 += t * t
            }
            let (kv, s) = kernel.profile(squaredDistance: r2)
            v[j] += w[i] * kv
            for a in 0..<d { g[j * d + a] += w[i] * s * z[a] }
        }
    }
    return (v, g)
}

final class PeriodicSumTests: XCTestCase {
    let l = 2.0

    /// The periodic direct sum is the minimum-image brute force (any coordinates, wrapped or
    /// not), diagonal included like every engine; without a period it is today's engine.
    func testPeriodicDirectSumIsTheMinimumImageSum() {
        var rng = TestRNG(3)
        for d in 1...3 {
            let x = periodicPoints("clustered", count: 203, dimension: d, period: l, rng: &rng)
            var y = periodicPoints("uniform", count: 37, dimension: d, period: l, rng: &rng)
            y.replaceSubrange(0..<(3 * d), with: x[0..<(3 * d)])
            for k in (3 * d)..<(6 * d) { y[k] += k % 2 == 0 ? 3 * l : -l }  // outside the box
            let w = (0..<203).map { _ in rng.uniform(-1, 1) }
            for kernel in [GaussianKernel(sigma: 0.3), LaplaceKernel(alpha: 4), LogarithmicKernel()]
                as [any RadialKernel]
            {
                let ref = minimumImageSum(kernel, d, l, x, w, y)
                var v: [Double] = []
                var g: [Double] = []
                var v2: [Double] = []
                var g2: [Double] = []
                DirectSum(threads: 1, domain: .periodic(length: l)).sum(
                    kernel, dimension: d, sources: x, weights: w, channels: 1, targets: y,
                    gradientChannels: [0], values: &v, gradients: &g)
                DirectSum(threads: 2, domain: .periodic(length: l)).sum(
                    kernel, dimension: d, sources: x, weights: w, channels: 1, targets: y,
                    gradientChannels: [0], values: &v2, gradients: &g2)
                XCTAssertLessThan(relativeError(v, ref.values), 1e-13, "\(kernel) d=\(d)")
                XCTAssertLessThan(relativeError(g, ref.gradients), 1e-13, "\(kernel) d=\(d)")
                XCTAssertEqual(v, v2)
                XCTAssertEqual(g, g2)
            }
        }
        XCTAssertEqual(DirectSum(threads: 1, domain: .periodic(length: l)).parameters["period"], "2.0")
        XCTAssertNil(DirectSum(threads: 1).parameters["period"])
    }

    /// Periodic mesh against periodic direct, d = 1, 2, 3, uniform and wrapping-cluster data,
    /// with the tolerance rule of ``MeshSumTests`` (smooth kernels ≤ τ, split kernels ≤ 10 τ,
    /// relative to the largest |value|). Kernels negligible (< 1e-8) by L/2 — Gaussian σ = L/14,
    /// Laplace of length L/40, Matérn 5/2 of length L/30 — at τ = 1e-3 and 1e-6. Kernels that have
    /// decayed only to 4e-6 (Gaussian σ = L/10), 6e-6 (Matérn 5/2, L/15) and 6e-4 (Laplace, L/15)
    /// by L/2 at τ = 1e-3 only: the minimum-image kernel has a kink there, which caps the
    /// mesh's accuracy near that size (no Ewald sum; measured: about 1e-5 ... 1e-3 at τ = 1e-6).
    func testPeriodicMeshMatchesPeriodicDirect() {
        let decayed: [(any RadialKernel, Double)] = [
            (GaussianKernel(sigma: l / 14), 1), (LaplaceKernel(alpha: 40 / l), 10),
            (MaternKernel(nu: 2.5, length: l / 30), 10),
        ]
        let slower: [(any RadialKernel, Double)] = [
            (GaussianKernel(sigma: l / 10), 1), (LaplaceKernel(alpha: 15 / l), 10),
            (MaternKernel(nu: 2.5, length: l / 15), 10),
        ]
        var report: [String] = []
        for d in 1...3 {
            for layout in ["uniform", "clustered"] {
                var rng = TestRNG(UInt64(100 * d + layout.count))
                let n = 400
                let m = 100
                let x = periodicPoints(layout, count: n, dimension: d, period: l, rng: &rng)
                var y = periodicPoints(layout, count: m, dimension: d, period: l, rng: &rng)
                y.replaceSubrange(0..<(5 * d), with: x[0..<(5 * d)])
                for k in (5 * d)..<(7 * d) { y[k] -= l }  // outside the box: wrapped by the engine
                let w = (0..<n).map { _ in rng.uniform(0, 1) } + (0..<n).map { _ in rng.uniform(-1, 1) }
                for (kernels, tolerances) in [(decayed, [1e-3, 1e-6]), (slower, [1e-3])] {
                    for (kernel, allowance) in kernels {
                        for tolerance in tolerances {
                            let e = meshErrors(kernel, d, x, w, y, tolerance: tolerance, period: l)
                            report.append(
                                "\(kernel) d=\(d) \(layout) tol=\(tolerance): value \(e.value) gradient \(e.gradient)")
                            XCTAssertLessThanOrEqual(
                                e.value, allowance * tolerance, "\(kernel) d=\(d) \(layout) tol=\(tolerance) value")
                            XCTAssertLessThanOrEqual(
                                e.gradient, allowance * tolerance,
                                "\(kernel) d=\(d) \(layout) tol=\(tolerance) gradient")
                        }
                    }
                }
            }
        }
        if ProcessInfo.processInfo.environment["WGF_REPORT"] != nil { print(report.joined(separator: "\n")) }
    }

    /// A larger 2-D problem (20 000 sources, half clustered on the corner): the cost model picks
    /// a smaller near radius, so the near field's cell ranges wrap partially; Laplace (length
    /// L/40, ≤ 1e-5) and Gaussian (σ = L/14, ≤ 1e-6) at τ = 1e-6.
    func testLargerPeriodicProblem() {
        var rng = TestRNG(41)
        let d = 2
        let n = 20_000
        let x =
            periodicPoints("clustered", count: n / 2, dimension: d, period: l, rng: &rng)
            + periodicPoints("uniform", count: n / 2, dimension: d, period: l, rng: &rng)
        var y = periodicPoints("uniform", count: 300, dimension: d, period: l, rng: &rng)
        y.replaceSubrange(0..<(100 * d), with: x[0..<(100 * d)])
        let w = (0..<n).map { _ in rng.uniform(0, 1) } + (0..<n).map { _ in rng.uniform(-1, 1) }
        let mesh = MeshSum(tolerance: 1e-6, threads: 2, domain: .periodic(length: l))
        var v: [Double] = []
        var g: [Double] = []
        mesh.sum(
            LaplaceKernel(alpha: 40 / l), dimension: d, sources: x, weights: w, channels: 2, targets: y,
            gradientChannels: [0, 1], values: &v, gradients: &g)
        let radius = Double(mesh.parameters["near-radius"]!)!
        XCTAssertLessThan(radius, l / 5, "a near radius small enough for partial wrapping")
        let laplace = meshErrors(LaplaceKernel(alpha: 40 / l), d, x, w, y, tolerance: 1e-6, period: l)
        XCTAssertLessThanOrEqual(max(laplace.value, laplace.gradient), 1e-5, "laplace: \(laplace)")
        let gaussian = meshErrors(GaussianKernel(sigma: l / 14), d, x, w, y, tolerance: 1e-6, period: l)
        XCTAssertLessThanOrEqual(max(gaussian.value, gaussian.gradient), 1e-6, "gaussian: \(gaussian)")
        if ProcessInfo.processInfo.environment["WGF_REPORT"] != nil {
            print("large: ε = \(radius) laplace \(laplace) gaussian \(gaussian)")
        }
    }

    /// The grid covers one period, the plan reports it, and a cached plan is not reused for
    /// another period (same points, same kernel).
    func testPlanFollowsThePeriod() {
        var rng = TestRNG(5)
        let d = 2
        let x = periodicPoints("uniform", count: 300, dimension: d, period: 1, rng: &rng)
        let w = (0..<300).map { _ in rng.uniform(0, 1) }
        let kernel = GaussianKernel(sigma: 0.08)
        let mesh = MeshSum(tolerance: 1e-6, threads: 2, domain: .periodic(length: 1))
        var v: [Double] = []
        var g: [Double] = []
        mesh.sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: x, gradientChannels: [0], values: &v,
            gradients: &g)
        XCTAssertEqual(mesh.parameters["period"], "1.0")
        let spacing = Double(mesh.parameters["spacing"]!)!
        let grid = mesh.parameters["grid"]!.split(separator: "x").map { Int($0)! }
        XCTAssertEqual(Double(grid[0]) * spacing, 1, accuracy: 1e-12, "the spreading grid spans exactly one period")
        // The same engine with a period of 1.3 (points unchanged, all inside): a new plan.
        let other = MeshSum(tolerance: 1e-6, threads: 2, domain: .periodic(length: 1.3))
        var v2: [Double] = []
        var g2: [Double] = []
        other.sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: x, gradientChannels: [0], values: &v2,
            gradients: &g2)
        var rv: [Double] = []
        var rg: [Double] = []
        DirectSum(threads: 2, domain: .periodic(length: 1.3)).sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: x,
            gradientChannels: [0], values: &rv, gradients: &rg)
        XCTAssertLessThan(relativeError(v2, rv), 1e-6)
        XCTAssertLessThan(relativeError(g2, rg), 1e-6)
    }

    /// auto in the box: direct below 4·10⁶ pairs, the periodic mesh above; sliced is refused.
    func testAutoAndFactoryInTheBox() throws {
        let auto = AutoSum(tolerance: 1e-6, threads: 1, domain: .periodic(length: l))
        let small = auto.choice(GaussianKernel(sigma: 0.2), dimension: 2, sources: 1000, targets: 1000)
        XCTAssertEqual(small.name, "direct")
        XCTAssertEqual((small as? DirectSum)?.domain.period, l)
        // σ = L/10: decayed by L/2 to e^{−12.5} ≈ 4e-6 of its peak, not to 1e-6: the kink of
        // the minimum image would exceed the tolerance, so auto sums directly; σ = L/14 has.
        let large = auto.choice(GaussianKernel(sigma: l / 14), dimension: 2, sources: 10_000, targets: 10_000)
        XCTAssertEqual((large as? MeshSum)?.domain.period, l)
        XCTAssertEqual(
            auto.choice(GaussianKernel(sigma: l / 10), dimension: 2, sources: 10_000, targets: 10_000).name, "direct")
        XCTAssertEqual(
            AutoSum(tolerance: 1e-3, threads: 1, domain: .periodic(length: l))
                .choice(GaussianKernel(sigma: l / 10), dimension: 2, sources: 10_000, targets: 10_000).name, "mesh")
        XCTAssertEqual(
            auto.choice(LogarithmicKernel(), dimension: 2, sources: 10_000, targets: 10_000).name, "direct",
            "a kernel that does not decay is summed directly in the box")
        XCTAssertEqual(
            auto.choice(RieszKernel(r: 1), dimension: 5, sources: 10_000, targets: 10_000).name, "direct",
            "no sliced in the box")
        XCTAssertThrowsError(
            try KernelSumEngines.make(
                .sliced, kernel: RieszKernel(r: 1), dimension: 2, tolerance: 1e-6,
                threads: 1, domain: .periodic(length: l))
        ) { error in
            XCTAssertTrue("\(error)".contains("periodic box"), "\(error)")
        }
        XCTAssertEqual(
            (try KernelSumEngines.make(
                .mesh, kernel: LaplaceKernel(alpha: 40 / l), dimension: 2, tolerance: 1e-6,
                threads: 1, domain: .periodic(length: l)) as? MeshSum)?.domain.period, l)
        // Asked for explicitly, the periodic mesh is refused for a kernel that has not decayed
        // by L/2 to the tolerance (e^{−1} of its peak here): it could not meet it.
        XCTAssertThrowsError(
            try KernelSumEngines.make(
                .mesh, kernel: LaplaceKernel(alpha: 1), dimension: 2, tolerance: 1e-6,
                threads: 1, domain: .periodic(length: l))
        ) { error in
            XCTAssertTrue("\(error)".contains("decayed by L/2") && "\(error)".contains("use direct"), "\(error)")
        }
    }
}

final class PeriodicSpatialHashTests: XCTestCase {
    func minimumImage(_ x: [Double], _ i: Int, _ q: [Double], _ d: Int, _ l: Double) -> Double {
        var r2 = 0.0
        for a in 0..<d {
            var t = x[i * d + a] - q[a]
            t -= l * (t / l).rounded()
            r2 += t * t
        }
        return r2
    }

    /// Radius queries equal the minimum-image brute force, d = 1, 2, 3, cell sizes from many
    /// cells per axis down to one or two (where the query's reach covers the axis), queries
    /// inside and outside the box; no point reported twice.
    func testPeriodicRadiusQueries() {
        var rng = TestRNG(17)
        let l = 1.5
        for d in 1...3 {
            let n = 400
            let x = (0..<(n * d)).map { _ in rng.uniform(0, l) }
            for cell in [0.05, 0.2, 0.4, 0.7, 1.0, 2.0] {
                let hash = x.withUnsafeBufferPointer {
                    SpatialHash(points: $0, dimension: d, cellSize: cell, domain: .periodic(length: l))
                }
                XCTAssertGreaterThanOrEqual(hash.cellSize, min(cell, l) * (1 - 1e-12))
                for _ in 0..<15 {
                    let q = (0..<d).map { _ in rng.uniform(-0.5 * l, 1.5 * l) }
                    let radius = rng.uniform(0.02, 0.8)
                    var found: [Int] = []
                    q.withUnsafeBufferPointer { qb in
                        hash.forEachNeighbour(of: qb.baseAddress!, within: radius) { i, r2 in
                            found.append(i)
                            XCTAssertEqual(r2, minimumImage(x, i, q, d, l), accuracy: 1e-12)
                        }
                    }
                    let expected = (0..<n).filter { minimumImage(x, $0, q, d, l) < radius * radius }
                    XCTAssertEqual(Set(found).count, found.count, "a point reported twice (d=\(d) cell=\(cell))")
                    XCTAssertEqual(found.sorted(), expected, "d=\(d) cell=\(cell) radius=\(radius)")
                }
            }
        }
    }

    /// k nearest neighbours equal the sorted minimum-image brute force (ties by index), d = 1,
    /// 2, 3, for a uniform sample and one clustered on the corner (neighbours across faces), with
    /// many and with very few cells per axis.
    func testPeriodicNearestNeighbours() {
        var rng = TestRNG(23)
        let l = 2.0
        for d in 1...3 {
            let n = 300
            for layout in ["uniform", "clustered"] {
                let x = periodicPoints(layout, count: n, dimension: d, period: l, rng: &rng)
                for cell in [0.03, 0.3, 0.9, 5.0] {
                    let hash = x.withUnsafeBufferPointer {
                        SpatialHash(points: $0, dimension: d, cellSize: cell, domain: .periodic(length: l))
                    }
                    for i in stride(from: 0, to: n, by: 29) {
                        for k in [1, 4, 20] {
                            let got = x.withUnsafeBufferPointer {
                                hash.nearest(k, to: $0.baseAddress! + i * d, excluding: i)
                            }
                            let q = Array(x[(i * d)..<(i * d + d)])
                            var brute = (0..<n).filter { $0 != i }.map { (index: $0, r2: minimumImage(x, $0, q, d, l)) }
                            brute.sort { $0.r2 < $1.r2 || ($0.r2 == $1.r2 && $0.index < $1.index) }
                            XCTAssertEqual(
                                got.map(\.index), brute.prefix(k).map(\.index),
                                "d=\(d) \(layout) cell=\(cell) i=\(i) k=\(k)")
                            XCTAssertEqual(got.map(\.squaredDistance), brute.prefix(k).map(\.r2))
                        }
                    }
                }
            }
        }
    }
}
