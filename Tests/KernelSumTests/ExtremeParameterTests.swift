import Foundation
import KernelSum
import XCTest

/// Kernel sums at extreme parameters: against closed forms the code under test does not
/// compute (lattice sums, Taylor expansions, arithmetic series), and the ranges outside which
/// a sum would be NaN or silently wrong are refused (``NumericRange``).
final class ExtremeParameterTests: XCTestCase {
    /// Values and gradients of one channel of weights `w` (d-dimensional points).
    func sum(
        _ engine: any KernelSumEngine, _ kernel: any RadialKernel, _ d: Int, _ x: [Double], _ w: [Double],
        _ y: [Double]
    ) -> (values: [Double], gradients: [Double]) {
        var v: [Double] = []
        var g: [Double] = []
        engine.sum(
            kernel, dimension: d, sources: x, weights: w, channels: 1, targets: y, gradientChannels: [0],
            values: &v, gradients: &g)
        return (v, g)
    }

    /// Relative error max|a − r| / max|r| of values, and of gradients.
    func errors(
        _ a: (values: [Double], gradients: [Double]), _ r: (values: [Double], gradients: [Double])
    ) -> (Double, Double) {
        (relativeError(a.values, r.values), relativeError(a.gradients, r.gradients))
    }

    /// Riesz r = 1 (k = −|x|) on the 1-D lattice 0, 1, …, N − 1: −Σ_i |y − i| and its gradient
    /// −Σ_i sign(y − i) are arithmetic series; mesh (cusp kernel: within 10 τ) and direct.
    func testEnergyDistanceOnALatticeAgainstTheArithmeticSeries() {
        let n = 4001
        let x = (0..<n).map(Double.init)
        let w = [Double](repeating: 1, count: n)
        let y = [0.5, 1000.25, 2000.5, 3999.75]
        var exact: (values: [Double], gradients: [Double]) = ([], [])
        for t in y {
            let k = Double(Int(t.rounded(.down)))
            let below = k + 1
            let above = Double(n) - below
            let lower = below * t - k * (k + 1) / 2
            let upper = (Double(n - 1) * Double(n) / 2 - k * (k + 1) / 2) - above * t
            exact.values.append(-(lower + upper))
            exact.gradients.append(-(below - above))
        }
        let direct = errors(sum(DirectSum(threads: 2), RieszKernel(r: 1), 1, x, w, y), exact)
        XCTAssertLessThan(max(direct.0, direct.1), 1e-13)
        let mesh = errors(sum(MeshSum(tolerance: 1e-6, threads: 2), RieszKernel(r: 1), 1, x, w, y), exact)
        XCTAssertLessThan(mesh.0, 1e-5, "values")
        XCTAssertLessThan(mesh.1, 1e-5, "gradients")
    }

    /// A Gaussian on the 2-D lattice (a·ℤ)² far from its edges: by Poisson summation the sum is
    /// (σ√(2π)/a)² up to terms of e^{−2π²σ²/a²} (1e-105 here), and its gradient 0.
    func testGaussianOnALatticeAgainstPoissonSummation() {
        let a = 0.1
        let sigma = 0.35
        let k = 60
        var x: [Double] = []
        for i in -k...k { for j in -k...k { x += [Double(i) * a, Double(j) * a] } }
        let w = [Double](repeating: 1, count: x.count / 2)
        let y = [0.0, 0.0, 0.013, -0.071, 0.5, 0.25]
        let exact = pow(sigma * (2 * Double.pi).squareRoot() / a, 2)
        for engine in [DirectSum(threads: 2), MeshSum(tolerance: 1e-6, threads: 2)] as [any KernelSumEngine] {
            let s = sum(engine, GaussianKernel(sigma: sigma), 2, x, w, y)
            for v in s.values { XCTAssertEqual(v, exact, accuracy: 1e-6 * exact, engine.name) }
            // The gradient's scale is the value over σ.
            for g in s.gradients { XCTAssertEqual(g, 0, accuracy: 1e-6 * exact / sigma, engine.name) }
        }
    }

    /// Kernels flat over the points (a Gaussian or IMQ far wider than the box, a Laplace or
    /// Matérn kernel far longer, riesz with a tiny exponent): their gradients are tiny next to
    /// their values, and the mesh keeps them to the tolerance relative to themselves (it once
    /// lost them: relative errors of 1e-2 for laplace:alpha=1e-5, 1e+3 for alpha=1e-10, 1e+12
    /// for matern length 1e10). Against second-order Taylor expansions in the small variation.
    func testFlatKernelsAgainstTaylorExpansions() {
        var rng = TestRNG(7)
        let d = 2
        let n = 3000
        let m = 200
        let x = (0..<(n * d)).map { _ in rng.uniform(-1, 1) }
        let w = (0..<n).map { _ in rng.uniform(0, 1) }
        let y = (0..<(m * d)).map { _ in rng.uniform(-1, 1) }
        /// Σ_i w_i f(r_i) and Σ_i w_i f'(r_i)/r_i (y − x_i) from a profile (f, f'/r) given in
        /// closed form by the caller.
        func taylor(_ profile: (Double) -> (Double, Double)) -> (values: [Double], gradients: [Double]) {
            var out: (values: [Double], gradients: [Double]) = ([], [])
            for j in 0..<m {
                var v = 0.0
                var g = [0.0, 0.0]
                for i in 0..<n {
                    let t = [y[j * d] - x[i * d], y[j * d + 1] - x[i * d + 1]]
                    let r = (t[0] * t[0] + t[1] * t[1]).squareRoot()
                    let (f, slope) = profile(r)
                    v += w[i] * f
                    g[0] += w[i] * slope * t[0]
                    g[1] += w[i] * slope * t[1]
                }
                out.values.append(v)
                out.gradients += g
            }
            return out
        }
        let s = 1e4
        let alpha = 1e-8
        let ell = 1e6
        let p = 1e-9
        let c = 1e5
        let cases: [(any RadialKernel, (Double) -> (Double, Double), Double)] = [
            // exp(−r²/2s²) = 1 − u + u²/2, u = r²/2s²; slope −(1 − u)/s².
            (
                GaussianKernel(sigma: s),
                { r in
                    let u = r * r / (2 * s * s)
                    return (1 - u + u * u / 2, -(1 - u) / (s * s))
                }, 1e-6
            ),
            // (1 + r²/c²)^(−½) = 1 − v/2 + 3v²/8, v = r²/c²; slope −(1 − 3v/2)/c².
            (
                InverseMultiquadricKernel(c: c),
                { r in
                    let v = r * r / (c * c)
                    return (1 - v / 2 + 3 * v * v / 8, -(1 - 1.5 * v) / (c * c))
                }, 1e-6
            ),
            // e^{−αr} = 1 − αr + (αr)²/2; slope −α(1 − αr)/r.
            (
                LaplaceKernel(alpha: alpha),
                { r in
                    let q = alpha * r
                    return (1 - q + q * q / 2, r > 0 ? -alpha * (1 - q) / r : 0)
                }, 1e-5
            ),
            // (1 + ar)e^{−ar} = 1 − (ar)²/2 + (ar)³/3, a = √3/ℓ; slope −a²e^{−ar} = −a²(1 − ar).
            (
                MaternKernel(nu: 1.5, length: ell),
                { r in
                    let a = 3.0.squareRoot() / ell
                    let q = a * r
                    return (1 - q * q / 2 + q * q * q / 3, -a * a * (1 - q))
                }, 1e-5
            ),
            // −r^p = −(1 + pL + p²L²/2), L = ln r; slope −p r^(p−2) = −p(1 + pL)/r².
            (
                RieszKernel(r: p),
                { r in
                    let l = log(r)
                    return (-(1 + p * l + p * p * l * l / 2), r > 0 ? -p * (1 + p * l) / (r * r) : 0)
                }, 1e-5
            ),
        ]
        for (kernel, profile, bound) in cases {
            let exact = taylor(profile)
            let mesh = errors(sum(MeshSum(tolerance: 1e-6, threads: 2), kernel, d, x, w, y), exact)
            XCTAssertLessThan(mesh.0, bound, "\(kernel) values")
            XCTAssertLessThan(mesh.1, bound, "\(kernel) gradients")
            let direct = errors(sum(DirectSum(threads: 2), kernel, d, x, w, y), exact)
            XCTAssertLessThan(max(direct.0, direct.1), 1e-9, "\(kernel) direct")
        }
    }

    /// At the ends of the allowed ranges the sums are still right: σ = 1e150 (Σw, and a
    /// gradient of 1e-300), σ = 1e-150 (each target sees only sources at distance 0).
    func testEndsOfTheRanges() {
        let x = [0.0, 0, 1, 0]
        let w = [1.0, 1]
        let y = [0.0, 0, 0.5, 0.5]
        for engine in [DirectSum(threads: 1), MeshSum(tolerance: 1e-6, threads: 1)] as [any KernelSumEngine] {
            let wide = sum(engine, GaussianKernel(sigma: 1e150), 2, x, w, y)
            XCTAssertEqual(wide.values, [2, 2], engine.name)
            // −Σ w (y − x)/σ²: target (0, 0): −(0 − 1)/1e300 = 1e-300 along x1.
            XCTAssertEqual(wide.gradients[0], 1e-300, accuracy: 1e-306, engine.name)
            let narrow = sum(engine, GaussianKernel(sigma: 1e-150), 2, x, w, y)
            XCTAssertEqual(narrow.values, [1, 0], engine.name)
            XCTAssertFalse(narrow.gradients.contains { !$0.isFinite }, engine.name)
        }
    }

    /// Outside the ranges: refused with the range and why. (gaussian:sigma=1e-300 summed to
    /// NaN, the mesh with sigma=1e300 gave 1.89 where the sum is 2, and a period of 1e-300 or
    /// 1e300 gave wrong sums or NaN.)
    func testOutsideTheRangesIsRefused() {
        for spec in [
            "gaussian:sigma=1e-300", "gaussian:sigma=1e300", "gaussian:sigma=0", "imq:c=1e-200", "imq:beta=-101",
            "imq:beta=0", "laplace:alpha=1e-151", "laplace:alpha=1e200", "matern:length=1e151",
        ] {
            XCTAssertThrowsError(try KernelRegistry.make(spec), spec) { error in
                let text = "\(error)"
                XCTAssertTrue(
                    text.contains("out of range") && (text.contains("[1e-150, 1e+150]") || text.contains("[-100, 0)")),
                    text)
            }
        }
        XCTAssertNoThrow(try KernelRegistry.make("imq:c=1e150,beta=-100"))
        let gaussian = GaussianKernel(sigma: 1)
        for (method, tolerance, period, phrase) in [
            (SummationMethod.mesh, 1e-10, nil, "tolerance 1e-10 is out of range"),
            (.auto, 1.0, nil, "tolerance 1 is out of range"),
            (.direct, 1e-6, 1e-300, "period 1e-300 is out of range"),
            (.auto, 1e-6, 1e300, "period 1e+300 is out of range"),
        ] as [(SummationMethod, Double, Double?, String)] {
            XCTAssertThrowsError(
                try KernelSumEngines.make(
                    method, kernel: gaussian, dimension: 2, tolerance: tolerance, threads: 1,
                    domain: Domain(period: period))
            ) { error in
                XCTAssertTrue("\(error)".contains(phrase), "\(error)")
            }
        }
        XCTAssertNoThrow(
            try KernelSumEngines.make(.direct, kernel: gaussian, dimension: 2, tolerance: 1e-12, threads: 1),
            "direct is exact: any tolerance")
    }

    /// In the box, points any number of periods away are wrapped exactly (fmod): a source at
    /// 10¹⁴ + 1/16 sums like its residue modulo L = 0.1 (t − L⌊t/L⌋ lost 0.0055 of it).
    func testPeriodicSumsWrapFarPointsExactly() {
        let l = 0.1
        let far = 1e14 + 0.0625
        let residue = fmod(far, l)
        XCTAssertEqual(residue, 0.0569, accuracy: 1e-3, "the exact residue of the double 1e14 + 1/16")
        let kernel = GaussianKernel(sigma: 0.002)
        let y = [0.05, 0.0569, 0.06]
        for engine in [
            DirectSum(threads: 1, domain: .periodic(length: l)),
            MeshSum(tolerance: 1e-6, threads: 1, domain: .periodic(length: l)),
        ] as [any KernelSumEngine] {
            let a = sum(engine, kernel, 1, [far], [1], y)
            let b = sum(engine, kernel, 1, [residue], [1], y)
            for j in 0..<3 {
                XCTAssertEqual(a.values[j], b.values[j], accuracy: 1e-9, "\(engine.name) target \(y[j])")
                XCTAssertEqual(a.gradients[j], b.gradients[j], accuracy: 1e-9 / 0.002, "\(engine.name) target \(y[j])")
            }
        }
    }
}

/// Engines called directly outside what they serve: exact answers or nothing written, never a
/// read or write past a buffer (the checks stay in -Ounchecked builds).
final class EngineGuardTests: XCTestCase {
    func testEnginesOutsideTheirDomainAnswerExactlyOrWriteNothing() {
        var rng = TestRNG(3)
        let d = 5
        let n = 50
        let m = 7
        let x = (0..<(n * d)).map { _ in rng.uniform(-1, 1) }
        let y = (0..<(m * d)).map { _ in rng.uniform(-1, 1) }
        let w = [Double](repeating: 1, count: n)
        var rv: [Double] = []
        var rg: [Double] = []
        DirectSum(threads: 1).sum(
            CoulombKernel(), dimension: d, sources: x, weights: w, channels: 1, targets: y,
            gradientChannels: [0], values: &rv, gradients: &rg)
        for engine in [MeshSum(tolerance: 1e-6, threads: 1), SlicedSum(directions: 10, seed: 1, threads: 1)]
            as [any KernelSumEngine]
        {
            var v: [Double] = []
            var g: [Double] = []
            engine.sum(
                CoulombKernel(), dimension: d, sources: x, weights: w, channels: 1, targets: y,
                gradientChannels: [0], values: &v, gradients: &g)
            XCTAssertEqual(v, rv, engine.name)
            XCTAssertEqual(g, rg, engine.name)
        }
        // Outputs of the wrong size: nothing written.
        var small = [Double](repeating: -7, count: 3)
        var none: [Double] = []
        x.withUnsafeBufferPointer { xs in
            w.withUnsafeBufferPointer { ws in
                y.withUnsafeBufferPointer { ys in
                    small.withUnsafeMutableBufferPointer { v in
                        none.withUnsafeMutableBufferPointer { g in
                            let problem = KernelSumProblem(
                                dimension: d, sources: xs, weights: ws, channels: 1,
                                targets: ys, gradientChannels: [])!
                            for engine in [
                                DirectSum(threads: 1), MeshSum(tolerance: 1e-6, threads: 1),
                                SlicedSum(directions: 8, seed: 1, threads: 1),
                            ] as [any KernelSumEngine] {
                                engine.sum(GaussianKernel(sigma: 1), problem, values: v, gradients: g)
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(small, [-7, -7, -7])
        // Buffers of other shapes make no problem; the array front-end answers NaN.
        XCTAssertNil(
            x.withUnsafeBufferPointer { xs in
                w.withUnsafeBufferPointer { ws in
                    y.withUnsafeBufferPointer { ys in
                        KernelSumProblem(
                            dimension: d, sources: xs, weights: ws, channels: 2, targets: ys, gradientChannels: [])
                    }
                }
            })
        var v: [Double] = []
        var g: [Double] = []
        DirectSum(threads: 1).sum(
            GaussianKernel(sigma: 1), dimension: d, sources: x, weights: [1, 2], channels: 1, targets: y,
            gradientChannels: [3], values: &v, gradients: &g)
        XCTAssertTrue(v.allSatisfy(\.isNaN) && v.count == m)
    }
}
