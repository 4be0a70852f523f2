import Foundation
import Recording
import XCTest

/// `wgf distance`: the metrics between two point files, as a run records them.
final class DistanceCommandTests: ScratchTestCase {
    func npy(_ name: String, _ values: [Double], _ shape: [Int]) throws -> String {
        let path = scratch.appendingPathComponent(name).path
        try NPY.encode(values, shape: shape).write(to: URL(fileURLWithPath: path))
        return path
    }

    func value(_ args: [String]) throws -> Double {
        let r = try runWGF(["distance"] + args)
        XCTAssertEqual(r.code, 0, r.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(report["value"] as? Double)
    }

    func testEachMetricAgainstAValueKnownByHand() throws {
        // 1-D: δ₀ weighted 1 against ½δ₁ + ½δ₃: W₂² = 5 (every metric's 1-D case but energy).
        let x = try npy("x.npy", [0], [1])
        let y = try npy("y.npy", [3, 1], [2])
        XCTAssertEqual(try value(["--metric", "w2", "--x", x, "--y", y]), 5.0.squareRoot(), accuracy: 1e-15)
        let p = try npy("p.npy", [-1, 1], [1, 2])  // d × P: the directions ±1
        XCTAssertEqual(
            try value(["--metric", "sliced-w2", "--x", x, "--y", y, "--projections", p]), 5.0.squareRoot(),
            accuracy: 1e-15)
        // Gaussians with these moments: means 0 and 2, variances 0 and 1: W₂² = 4 + 1.
        XCTAssertEqual(try value(["--metric", "bures-w2", "--x", x, "--y", y]), 5.0.squareRoot(), accuracy: 1e-15)
        // 2E|X−Y| − E|X−X'| − E|Y−Y'| = 2·2 − 0 − ½·2 = 3.
        XCTAssertEqual(try value(["--metric", "energy-distance", "--x", x, "--y", y]), 3, accuracy: 1e-15)
        // kNN KL in 1-D, k = 1: x = {0, 4} (ρ = 4, 4), y = {1, 3}: ν = 1, 1; (1/2)(log ¼ + log ¼) + log(2/1).
        let x2 = try npy("x2.npy", [0, 4], [2])
        let y2 = try npy("y2.npy", [1, 3], [2])
        XCTAssertEqual(
            try value(["--metric", "kl-knn", "--x", x2, "--y", y2, "--neighbours", "1"]), log(0.25) + log(2),
            accuracy: 1e-15)
        // Sinkhorn: δ₀ against ½δ₁ + ½δ₃ couples by the product (OT_ε = 5); ½δ₁ + ½δ₃ with itself by
        // [[p, ½ − p], [½ − p, p]], p = ½σ(4/ε): S_ε = 5 − ½ [8(½ − p) + ε KL(π ‖ ¼)].
        let p1 = 0.5 / (1 + exp(-4.0))
        let kl = 2 * p1 * log(4 * p1) + 2 * (0.5 - p1) * log(4 * (0.5 - p1))
        XCTAssertEqual(
            try value(["--metric", "sinkhorn", "--x", x, "--y", y, "--epsilon", "1"]), 5 - 0.5 * (8 * (0.5 - p1) + kl),
            accuracy: 1e-12)
        // Weights from a file: all of y's mass on 1 gives W₂ = 1.
        let w = try npy("w.npy", [0, 1], [2])
        XCTAssertEqual(try value(["--metric", "w2", "--x", x, "--y", y, "--y-weights", w]), 1, accuracy: 1e-15)
    }

    func testBadInputIsAClearError() throws {
        let x = try npy("x.npy", [0, 1, 2, 3], [2, 2])
        let y1 = try npy("y1.npy", [0, 1], [2])
        let w = try npy("w.npy", [1, 2, 3], [3])
        let p = try npy("p.npy", [1, 0, 0], [3, 1])
        let far = try npy("far.npy", [1e200, 0, -1e200, 0], [2, 2])
        let cases: [([String], String)] = [
            (
                ["--metric", "kl", "--x", x, "--y", x],
                "--metric kl: unknown (allowed: w2, sliced-w2, bures-w2, sinkhorn, energy-distance, kl-knn)"
            ),
            (["--metric", "w2", "--x", x, "--y", y1], "1 coordinates but"),
            (["--metric", "sinkhorn", "--x", x, "--y", x, "--epsilon", "0"], "--epsilon must be a finite number > 0"),
            (["--metric", "w2", "--x", x, "--y", x, "--x-weights", w], "3 weights for 2 points"),
            (
                ["--metric", "sliced-w2", "--x", x, "--y", x, "--projections", p],
                "shape [3, 1], expected (d, P) with d = 2"
            ),
            // |x − y|² = 4·10⁴⁰⁰ overflows: +∞ has no JSON, and is no distance.
            (["--metric", "w2", "--x", far, "--y", x], "w2 between \(far) and \(x) is inf: the points lie so far"),
            (["--metric", "sinkhorn", "--x", far, "--y", x], "a squared distance overflows; rescale them"),
        ]
        for (args, message) in cases {
            let r = try runWGF(["distance"] + args)
            XCTAssertEqual(r.code, 3, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    /// The metrics in a run: recorded, falling as SVGD converges, and sliced W₂ ≤ W₂ on the same
    /// samples at every record (each projection is 1-Lipschitz).
    func testTheMetricsInARun() throws {
        let out = scratch.appendingPathComponent("run")
        let r = try runWGF([
            "run", "quickstart", "--out", out.path, "--steps", "60", "--quiet", "--set", "expect=[]",
            "--set", #"record.metrics=["w2", "sliced-w2", "bures-w2", "energy-distance", "sinkhorn"]"#,
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let metrics = try NumericTable.read(path: out.appendingPathComponent("metrics.csv").path)
        let (w2, sliced) = (metrics.column("w2")!, metrics.column("sliced-w2")!)
        for k in 0..<metrics.rows { XCTAssertLessThanOrEqual(sliced[k], w2[k] * (1 + 1e-12), "record \(k)") }
        // The debiased divergence is never negative (its kernel e^(−|x−y|²/ε) is positive definite).
        for v in metrics.column("sinkhorn")! { XCTAssertGreaterThanOrEqual(v, 0) }
        for name in ["w2", "sliced-w2", "bures-w2", "energy-distance", "sinkhorn"] {
            let v = metrics.column(name)!
            XCTAssertLessThan(v.last!, v.first! / 2, name)
        }
        let none = try runWGF(["run", "langevin-ou", "--steps", "1", "--set", #"record.metrics=["w2"]"#])
        XCTAssertEqual(none.code, 3)
        XCTAssertTrue(none.stderr.contains("w2 needs a [target] to sample"), none.stderr)
        let big = try runWGF([
            "run", "quickstart", "--steps", "1", "--set", "population.count=20000", "--set", "record.w2-samples=10000",
            "--set", #"record.metrics=["w2"]"#,
        ])
        XCTAssertEqual(big.code, 3)
        XCTAssertTrue(big.stderr.contains("the exact solver takes N·M ≤ 100000000 pairs"), big.stderr)
    }

    /// `kl-knn` against the target's density (one sample: −Ĥ − mean log π) falls as SVGD
    /// converges on the mixture, and is refused for a formula (known up to its constant).
    func testTheOneSampleKLInARun() throws {
        let out = scratch.appendingPathComponent("kl")
        let r = try runWGF([
            "run", "quickstart", "--out", out.path, "--steps", "60", "--quiet", "--set", "expect=[]",
            "--set", #"record.metrics=["kl-knn"]"#, "--set", "record.kl-knn-reference=density",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let kl = try XCTUnwrap(
            try NumericTable.read(path: out.appendingPathComponent("metrics.csv").path).column("kl-knn"))
        XCTAssertLessThan(kl.last!, kl.first! / 2)
        let formula = try runWGF([
            "run", "formula-banana-svgd", "--steps", "1", "--set", #"record.metrics=["kl-knn"]"#, "--set",
            "record.kl-knn-reference=density",
        ])
        XCTAssertEqual(formula.code, 3)
        XCTAssertTrue(
            formula.stderr.contains("record.kl-knn-reference: \"density\" needs a target with a normalised density"),
            formula.stderr)
    }

    /// In a game without a target, `w2` is between the players: at the last record it equals the
    /// 1-D W₂ of the two weighted populations in trajectory.csv, by sorting (computed here).
    func testW2BetweenTheTwoPlayersOfAGame() throws {
        let out = scratch.appendingPathComponent("game")
        let r = try runWGF([
            "run", "game-bilinear-quadratic", "--out", out.path, "--steps", "20", "--quiet", "--set", "expect=[]",
            "--set", "population.count=300", "--set", "flow.max.count=200", "--set", "record-every=10",
            "--set", #"record.metrics=["equilibrium-distance", "w2"]"#,
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let metrics = try NumericTable.read(path: out.appendingPathComponent("metrics.csv").path)
        let rows = try String(contentsOf: out.appendingPathComponent("trajectory.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let last = rows.filter { $0[0] == "20" }
        func measure(_ name: String) -> [(x: Double, w: Double)] {
            last.filter { $0[2] == name }.map { (Double($0[5])!, Double($0[4])!) }.sorted { $0.x < $1.x }
        }
        let (u, v) = (measure("min"), measure("max"))
        XCTAssertEqual(u.count, 300)
        XCTAssertEqual(v.count, 200)
        // ∫₀¹ (F⁻¹ − G⁻¹)²: between consecutive breakpoints of the two cumulative weight
        // sequences, each quantile function is the first value whose cumulative weight reaches
        // the interval's middle.
        func cumulative(_ m: [(x: Double, w: Double)]) -> [Double] {
            let total = m.reduce(0) { $0 + $1.w }
            var c = 0.0
            return m.map {
                c += $0.w / total
                return c
            }
        }
        let (cu, cv) = (cumulative(u), cumulative(v))
        let breaks = [0.0] + (cu + cv).sorted()
        var w2 = 0.0
        for k in 1..<breaks.count where breaks[k] > breaks[k - 1] {
            let middle = (breaks[k] + breaks[k - 1]) / 2
            let qu = u[cu.firstIndex { $0 >= middle } ?? (u.count - 1)].x
            let qv = v[cv.firstIndex { $0 >= middle } ?? (v.count - 1)].x
            w2 += (breaks[k] - breaks[k - 1]) * (qu - qv) * (qu - qv)
        }
        XCTAssertEqual(metrics.column("w2")!.last!, w2.squareRoot(), accuracy: 1e-9 * w2.squareRoot())
        // The circle game's players live in a periodic box: refused.
        let circle = try runWGF(["run", "game-circle-cos", "--steps", "1", "--set", #"record.metrics=["w2"]"#])
        XCTAssertEqual(circle.code, 3)
        XCTAssertTrue(circle.stderr.contains("a periodic box's players need the torus's distance"), circle.stderr)
    }
}
