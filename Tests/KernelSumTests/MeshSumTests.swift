import Foundation
import KernelSum
import XCTest

/// Points for the accuracy tests: uniform on [−3, 3]^d, standard Gaussian, or three tight
/// clusters (width 0.2, centres −2, 0, 2 on the diagonal).
func testPoints(_ layout: String, count: Int, dimension d: Int, rng: inout TestRNG) -> [Double] {
    (0..<count).flatMap { _ -> [Double] in
        switch layout {
        case "uniform": return (0..<d).map { _ in rng.uniform(-3, 3) }
        case "gaussian":
            return (0..<d).map { _ in
                let u = max(1e-300, rng.uniform())
                let v = rng.uniform()
                return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
            }
        default:
            let centre = Double(Int(rng.uniform(0, 3))) * 2 - 2
            return (0..<d).map { _ in centre + rng.uniform(-0.1, 0.1) }
        }
    }
}

/// Per-channel relative errors (values, gradients) of the mesh against direct summation (both
/// in the periodic box [0, L)^d when `period` is given), two channels (positive and signed
/// weights), gradients of both. Also checks that 1 and 2 threads give identical output.
func meshErrors(
    _ kernel: any RadialKernel, _ d: Int, _ x: [Double], _ w: [Double], _ y: [Double],
    tolerance: Double, period: Double? = nil,
    file: StaticString = #filePath, line: UInt = #line
) -> (value: Double, gradient: Double) {
    let m = y.count / d
    var rv: [Double] = []
    var rg: [Double] = []
    DirectSum(threads: 2, domain: Domain(period: period)).sum(
        kernel, dimension: d, sources: x, weights: w, channels: 2, targets: y,
        gradientChannels: [0, 1], values: &rv, gradients: &rg)
    var v: [Double] = []
    var g: [Double] = []
    var v2: [Double] = []
    var g2: [Double] = []
    MeshSum(tolerance: tolerance, threads: 1, domain: Domain(period: period)).sum(
        kernel, dimension: d, sources: x, weights: w, channels: 2,
        targets: y, gradientChannels: [0, 1], values: &v, gradients: &g)
    MeshSum(tolerance: tolerance, threads: 2, domain: Domain(period: period)).sum(
        kernel, dimension: d, sources: x, weights: w, channels: 2,
        targets: y, gradientChannels: [0, 1], values: &v2, gradients: &g2)
    XCTAssertEqual(v, v2, "thread count changed the values", file: file, line: line)
    XCTAssertEqual(g, g2, "thread count changed the gradients", file: file, line: line)
    var worst = (value: 0.0, gradient: 0.0)
    for c in 0..<2 {
        let pick = { (a: [Double]) in stride(from: c, to: a.count, by: 2).map { a[$0] } }
        let gpick = { (a: [Double]) -> [Double] in
            (0..<m).flatMap { j -> ArraySlice<Double> in
                let base = (j * 2 + c) * d
                return a[base..<(base + d)]
            }
        }
        worst.value = max(worst.value, relativeError(pick(v), pick(rv)))
        worst.gradient = max(worst.gradient, relativeError(gpick(g), gpick(rg)))
    }
    return worst
}

/// Mesh against direct for each kernel, dimension, layout (uniform, Gaussian, clustered; some
/// targets on sources) and tolerance: relative errors of values and gradients ≤ allowance × τ.
func checkMeshTolerance(
    _ kernels: [any RadialKernel], dimensions: [Int] = [1, 2, 3], tolerances: [Double], allowance: Double,
    file: StaticString = #filePath, line: UInt = #line
) {
    for d in dimensions {
        for layout in ["uniform", "gaussian", "clustered"] {
            var rng = TestRNG(UInt64(10 * d + layout.count))
            let n = 400
            let m = 100
            let x = testPoints(layout, count: n, dimension: d, rng: &rng)
            var y = testPoints(layout, count: m, dimension: d, rng: &rng)
            // Some targets on sources: the self-interaction conventions must match too.
            y.replaceSubrange(0..<(5 * d), with: x[0..<(5 * d)])
            let w = (0..<n).map { _ in rng.uniform(0, 1) } + (0..<n).map { _ in rng.uniform(-1, 1) }
            for kernel in kernels {
                for tolerance in tolerances {
                    let e = meshErrors(kernel, d, x, w, y, tolerance: tolerance, file: file, line: line)
                    let bound = allowance * tolerance
                    XCTAssertLessThanOrEqual(
                        e.value, bound, "\(kernel) d=\(d) \(layout) tol=\(tolerance) value", file: file, line: line)
                    XCTAssertLessThanOrEqual(
                        e.gradient, bound, "\(kernel) d=\(d) \(layout) tol=\(tolerance) gradient", file: file,
                        line: line)
                }
            }
        }
    }
}

final class MeshSumTests: XCTestCase {
    /// Smooth kernels (Gaussian σ = 0.5 and 0.2, IMQ c = 1 and c = 0.3 with β = −3/2), d = 1, 2,
    /// 3, uniform / Gaussian / clustered data: relative error ≤ the tolerance at 1e-3, 1e-6 and
    /// 1e-9, values and gradients.
    func testSmoothKernelsMeetTheTolerance() {
        let kernels: [any RadialKernel] = [
            GaussianKernel(sigma: 0.5), GaussianKernel(sigma: 0.2),
            InverseMultiquadricKernel(c: 1), InverseMultiquadricKernel(c: 0.3, beta: -1.5),
        ]
        checkMeshTolerance(kernels, tolerances: [1e-3, 1e-6, 1e-9], allowance: 1)
    }

    /// Kernels with a cusp or a singularity at 0 go through the near field: ≤ 10 × the
    /// tolerance at 1e-3 and 1e-6 (Laplace, Riesz r = 1 and 0.5, Matérn 3/2 and 5/2, log;
    /// Coulomb in d = 3).
    func testNonSmoothKernelsThroughTheNearField() {
        let kernels: [any RadialKernel] = [
            LaplaceKernel(alpha: 1), RieszKernel(r: 1), RieszKernel(r: 0.5),
            MaternKernel(nu: 1.5, length: 1), MaternKernel(nu: 2.5, length: 0.5),
            LogarithmicKernel(),
        ]
        checkMeshTolerance(kernels, tolerances: [1e-3, 1e-6], allowance: 10)
        checkMeshTolerance([CoulombKernel()], dimensions: [3], tolerances: [1e-3, 1e-6], allowance: 10)
    }

    /// 10⁵ Gaussian sources in 2-D, the log kernel at 1e-6 and the Gaussian at 1e-9, checked on
    /// 500 targets (a third of them sources) against direct summation.
    func testLargeProblems() {
        var rng = TestRNG(77)
        let d = 2
        let n = 100_000
        let x = testPoints("gaussian", count: n, dimension: d, rng: &rng)
        var y = testPoints("gaussian", count: 500, dimension: d, rng: &rng)
        y.replaceSubrange(0..<(150 * d), with: x[0..<(150 * d)])
        let w = (0..<n).map { _ in rng.uniform(0, 1) } + (0..<n).map { _ in rng.uniform(-1, 1) }
        let log = meshErrors(LogarithmicKernel(), d, x, w, y, tolerance: 1e-6)
        XCTAssertLessThanOrEqual(max(log.value, log.gradient), 1e-5, "log 1e-6: \(log)")
        let gaussian = meshErrors(GaussianKernel(sigma: 0.5), d, x, w, y, tolerance: 1e-9)
        XCTAssertLessThanOrEqual(max(gaussian.value, gaussian.gradient), 1e-9, "gaussian 1e-9: \(gaussian)")
    }

    /// The split is exact: near + far = k, and near vanishes beyond the radius.
    func testKernelSplitAddsUpToTheKernel() {
        let step = SmoothStep(beta: 20)
        for kernel in [LogarithmicKernel(), RieszKernel(r: 1), LaplaceKernel(alpha: 2)] as [any RadialKernel] {
            let split = KernelSplit(kernel: kernel, radius: 0.3, step: step)
            for r in stride(from: 0.01, through: 0.5, by: 0.01) {
                let k = kernel.profile(squaredDistance: r * r).value
                let near = r < 0.3 ? split.near(squaredDistance: r * r).value : 0
                XCTAssertEqual(split.far(r) + near, k, accuracy: 1e-13 * max(1, abs(k)), "\(kernel) r=\(r)")
            }
            XCTAssertEqual(split.near(squaredDistance: 0.3 * 0.3 * (1 - 1e-12)).value, 0, accuracy: 1e-10)
        }
    }

    /// The smooth step: 1 → 0, monotone, its derivative the derivative of its values.
    func testSmoothStep() {
        let step = SmoothStep(beta: 18)
        XCTAssertEqual(step.value(0), 1)
        XCTAssertEqual(step.value(1), 0)
        XCTAssertEqual(step.value(0.5), 0.5, accuracy: 1e-12)
        var previous = 1.0
        for t in stride(from: 0.001, to: 1, by: 0.001) {
            let (v, dv) = step.valueAndDerivative(t)
            XCTAssertLessThanOrEqual(v, previous + 1e-15)
            previous = v
            let fd = (step.value(t + 1e-7) - step.value(t - 1e-7)) / 2e-7
            XCTAssertEqual(dv, fd, accuracy: 1e-5 * max(1, abs(dv)), "t=\(t)")
        }
    }

    func testWindowTransformAgainstQuadrature() {
        let window = ESWindow(beta: 20)
        let rule = GaussLegendre(60)
        XCTAssertEqual(rule.weights.reduce(0, +), 2, accuracy: 1e-14)
        for omega in [0.0, 1, 5, 12] {
            // Trapezoid with 200 001 points: the window vanishes with its derivative at ±1.
            var s = 0.0
            let k = 200_000
            for i in 0...k {
                let t = -1 + 2 * Double(i) / Double(k)
                s += (i == 0 || i == k ? 0.5 : 1) * window.value(t) * cos(omega * t)
            }
            s *= 2 / Double(k)
            XCTAssertEqual(window.fourier(omega, rule: rule), s, accuracy: 1e-10)
        }
    }

    func testRefusesWhatItCannotSum() {
        XCTAssertNotNil(MeshSum.unsupported(GaussianKernel(sigma: 1), dimension: 4))
        XCTAssertNil(MeshSum.unsupported(GaussianKernel(sigma: 1), dimension: 3))
        XCTAssertNil(MeshSum.unsupported(LogarithmicKernel(), dimension: 2))
        XCTAssertThrowsError(
            try KernelSumEngines.make(.mesh, kernel: RieszKernel(r: 1), dimension: 5, tolerance: 1e-6, threads: 1))
    }

    func testFFTSizes() {
        XCTAssertEqual(MeshSum.fftSize(7), 8)
        XCTAssertEqual(MeshSum.fftSize(61), 64)
        XCTAssertEqual(MeshSum.fftSize(121), 125)
        XCTAssertEqual(MeshSum.fftSize(1), 2)
    }

    /// Degenerate inputs: no sources gives zeros; all points equal still works.
    func testDegenerateInputs() {
        var v: [Double] = []
        var g: [Double] = []
        MeshSum(tolerance: 1e-6, threads: 1).sum(
            GaussianKernel(sigma: 1), dimension: 2, sources: [], weights: [], channels: 1,
            targets: [0, 0, 1, 1], gradientChannels: [0], values: &v, gradients: &g)
        XCTAssertEqual(v, [0, 0])
        XCTAssertEqual(g, [0, 0, 0, 0])
        let x = [Double](repeating: 0.5, count: 20)
        MeshSum(tolerance: 1e-6, threads: 1).sum(
            GaussianKernel(sigma: 1), dimension: 2, sources: x, weights: [Double](repeating: 1, count: 10),
            channels: 1, targets: [0.5, 0.5], gradientChannels: [0], values: &v, gradients: &g)
        XCTAssertEqual(v[0], 10, accuracy: 1e-5)
    }

    /// A flow's particles drift between calls: while the box shrinks a little (a grid too small
    /// for a grown box must be replaced), the engine keeps its near radius and grid, so its
    /// multiplier and FFT plans stay cached, and stays within tolerance; a large change of the
    /// problem does move them.
    func testGridStaysWhileTheBoxDrifts() {
        var rng = TestRNG(31)
        let n = 20_000
        let d = 2
        let x = testPoints("gaussian", count: n, dimension: d, rng: &rng)
        let w = [Double](repeating: 1.0 / Double(n), count: n)
        let engine = MeshSum(tolerance: 1e-3, threads: 2)
        var v: [Double] = []
        var g: [Double] = []
        var seen: Set<String> = []
        for scale in [1.0, 0.98, 0.96, 0.95, 0.97] {
            let y = x.map { $0 * scale }
            engine.sum(
                LogarithmicKernel(), dimension: d, sources: y, weights: w, channels: 1, targets: y,
                gradientChannels: [0], values: &v, gradients: &g)
            seen.insert("\(engine.parameters["grid"]!) \(engine.parameters["near-radius"]!)")
        }
        XCTAssertEqual(seen.count, 1, "the grid moved with a drift of a few per cent: \(seen)")
        let near = Double(engine.parameters["near-radius"]!)!
        XCTAssertEqual(log2(near) * 4, (log2(near) * 4).rounded(), accuracy: 1e-9, "radius off the 2^(j/4) ladder")
        let big = x.map { $0 * 3 }
        engine.sum(
            LogarithmicKernel(), dimension: d, sources: big, weights: w, channels: 1, targets: big,
            gradientChannels: [0], values: &v, gradients: &g)
        XCTAssertNotEqual(Double(engine.parameters["near-radius"]!)!, near)
        // Still accurate after the reuse.
        var rv: [Double] = []
        var rg: [Double] = []
        let last = x.map { $0 * 0.97 }
        engine.sum(
            LogarithmicKernel(), dimension: d, sources: last, weights: w, channels: 1, targets: last,
            gradientChannels: [0], values: &v, gradients: &g)
        DirectSum(threads: 2).sum(
            LogarithmicKernel(), dimension: d, sources: last, weights: w, channels: 1, targets: last,
            gradientChannels: [0], values: &rv, gradients: &rg)
        // Measured over five data seeds: values 4e-7, gradients 3.7e-4 … 6.6e-4 relative, within
        // the tolerance itself (the documentation allows singular kernels 10×).
        XCTAssertLessThanOrEqual(relativeError(v, rv), 1e-3)
        XCTAssertLessThanOrEqual(relativeError(g, rg), 1e-3)
    }
}

/// The mesh's grid choice is part of a run's state: an engine given the saved state of
/// another continues exactly as that one does, and one without it may not.
final class MeshStateTests: XCTestCase {
    func testRestoredHistoryContinuesBitForBit() throws {
        var rng = TestRNG(32)
        let n = 20_000
        let d = 2
        let x = testPoints("gaussian", count: n, dimension: d, rng: &rng)
        let w = [Double](repeating: 1.0 / Double(n), count: n)
        // A box that grows, then shrinks a little: the hysteresis keeps the larger grid.
        let scales = [1.0, 1.5, 1.45]
        func sum(_ e: MeshSum, _ s: Double) -> [Double] {
            var v: [Double] = []
            var g: [Double] = []
            let y = x.map { $0 * s }
            e.sum(
                LogarithmicKernel(), dimension: d, sources: y, weights: w, channels: 1, targets: y,
                gradientChannels: [0], values: &v, gradients: &g)
            return v + g
        }
        let running = MeshSum(tolerance: 1e-3, threads: 2)
        var outputs: [[Double]] = []
        var saved = PartState()
        for (k, s) in scales.enumerated() {
            outputs.append(sum(running, s))
            if k == 1 { saved = running.saveState() }
        }
        XCTAssertFalse(saved.isEmpty)
        let restored = MeshSum(tolerance: 1e-3, threads: 1)
        try restored.restoreState(saved)
        XCTAssertEqual(restored.saveState(), saved)
        XCTAssertEqual(sum(restored, scales[2]), outputs[2], "restored engine continues bit for bit")
        XCTAssertEqual(restored.parameters["grid"], running.parameters["grid"])
        // Without the state, the last box gets its own (smaller) grid: other rounding.
        let fresh = MeshSum(tolerance: 1e-3, threads: 2)
        XCTAssertNotEqual(sum(fresh, scales[2]), outputs[2], "the state matters (else this test proves nothing)")
        XCTAssertNotEqual(fresh.parameters["grid"], running.parameters["grid"])
        // An AutoSum forwards to its mesh; an empty state is the fresh engine.
        let auto = AutoSum(tolerance: 1e-3, threads: 1)
        try auto.restoreState(saved)
        XCTAssertEqual(auto.saveState(), saved)
        try restored.restoreState(PartState())
        XCTAssertTrue(restored.saveState().isEmpty)
        XCTAssertThrowsError(
            try restored.restoreState(
                PartState(integers: ["dimension": [9], "modes": [1, 1, 1]], texts: ["kernel": "log"])))
    }
}
