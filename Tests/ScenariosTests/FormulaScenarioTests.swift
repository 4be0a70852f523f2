import Flows
import Foundation
import KernelSum
import Scenarios
import TestSupport
import XCTest

/// Formulas in scenarios: targets and kernels, parameters, and every error at validation time.
final class FormulaScenarioTests: XCTestCase {
    var dir: TempDirectory!

    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    let scenario = """
        title = "formula"
        steps = 3
        step-size = 0.05

        [parameters]
        s = 0.7

        [target]
        kind = "formula"
        dimension = 2
        log-density = "-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)"

        [population]
        count = 30
        init = { kind = "gaussian", mean = [0, 0], std = 1 }

        [flow]
        kind = "svgd"
        kernel = "formula:exp(-r^2/(2*s^2))"

        """

    func load(_ text: String, overrides: [String] = []) throws -> LoadedScenario {
        try ScenarioLoader.load(path: dir.write("f.toml", text), overrides: overrides, threads: 1)
    }

    /// The formula target's score is the exact gradient of its log-density: equal to the
    /// hand-written banana score to rounding.
    func testFormulaTargetScore() throws {
        let loaded = try load(scenario)
        let flow = loaded.simulation.flow as! SteinVariationalGradientDescent
        let density = flow.density
        var rng = LCGUniform(3)
        for _ in 0..<50 {
            let x = [rng.next() * 6 - 3, rng.next() * 6 - 3]
            let g = density.score(x)
            let y2 = x[1] + 0.1 * x[0] * x[0] - 1
            XCTAssertEqual(g[0], -x[0] / 4 - 0.2 * x[0] * y2, accuracy: 1e-14 * max(1, abs(g[0])))
            XCTAssertEqual(g[1], -y2, accuracy: 1e-14 * max(1, abs(g[1])))
            XCTAssertEqual(density.logDensity(x), -0.5 * (x[0] * x[0] / 4 + y2 * y2), accuracy: 1e-13)
        }
        // Batched scores equal single-point scores (counts not a multiple of the batch).
        let points = (0..<(2 * 131)).map { Double($0 % 17) * 0.3 - 2 }
        var batched: [Double] = []
        density.scores(points, into: &batched, threads: 2)
        for i in 0..<131 {
            XCTAssertEqual(Array(batched[(2 * i)..<(2 * i + 2)]), density.score(Array(points[(2 * i)..<(2 * i + 2)])))
        }
    }

    /// A kernel formula equals the built-in it spells out, for direct and mesh sums; the
    /// parameter comes from [parameters] and can be overridden from the command line.
    func testFormulaKernelMatchesTheBuiltIn() throws {
        let loaded = try load(scenario, overrides: ["parameters.s=0.5"])
        let flow = loaded.simulation.flow as! SteinVariationalGradientDescent
        XCTAssertEqual(flow.kernel.spec, "formula:exp(-r^2/(2*s^2))")
        var rng = LCGUniform(8)
        let x = (0..<400).map { _ in rng.next() * 4 - 2 }
        let y = (0..<100).map { _ in rng.next() * 4 - 2 }
        let w = (0..<200).map { _ in rng.next() }
        let builtIn = GaussianKernel(sigma: 0.5)
        var v1: [Double] = []
        var g1: [Double] = []
        var v2: [Double] = []
        var g2: [Double] = []
        DirectSum(threads: 2).sum(
            flow.kernel, dimension: 2, sources: x, weights: w, channels: 1, targets: y,
            gradientChannels: [0], values: &v1, gradients: &g1)
        DirectSum(threads: 2).sum(
            builtIn, dimension: 2, sources: x, weights: w, channels: 1, targets: y,
            gradientChannels: [0], values: &v2, gradients: &g2)
        for k in 0..<v1.count { XCTAssertEqual(v1[k], v2[k], accuracy: 1e-13 * max(1, abs(v2[k]))) }
        for k in 0..<g1.count { XCTAssertEqual(g1[k], g2[k], accuracy: 1e-13 * max(1, abs(g2[k]))) }
        // The mesh takes it as it takes the built-in: smooth (its spectrum measured), no near
        // field, held to the tolerance itself.
        XCTAssertEqual(flow.kernel.regularity, .smooth)
        let mesh = MeshSum(tolerance: 1e-6, threads: 1)
        mesh.sum(
            flow.kernel, dimension: 2, sources: x, weights: w, channels: 1, targets: y,
            gradientChannels: [0], values: &v1, gradients: &g1)
        XCTAssertEqual(mesh.parameters["near-radius"].flatMap(Double.init), 0)
        XCTAssertLessThanOrEqual(relativeError(v1, v2), 1e-6)
        XCTAssertLessThanOrEqual(relativeError(g1, g2), 1e-6)
    }

    /// Formula kernels are smooth when their spectrum decays fast (the mesh then needs no near
    /// field), and keep the near field otherwise: a cusp (exp(−r)), finitely many derivatives
    /// (Matérn 3/2 written out), a singularity (−log r).
    func testFormulaKernelRegularity() throws {
        let cases: [(String, KernelRegularity)] = [
            ("exp(-r^2)", .smooth), ("1/sqrt(1+r^2)", .smooth), ("exp(-r^2/2)*cos(2*r)", .smooth),
            ("1/(1+r^2)", .smooth), ("exp(-r)", .cusp), ("(1+sqrt(3)*r)*exp(-sqrt(3)*r)", .cusp),
            ("-log(r)", .singular),
        ]
        for (formula, regularity) in cases {
            let kernel = FormulaKernel(formula: try ScenarioFormula(compiling: formula, variables: .radius))
            XCTAssertEqual(kernel.regularity, regularity, formula)
            XCTAssertEqual(kernel.spectralBand(decay: 17) != nil, regularity == .smooth, formula)
        }
    }

    /// A formula kernel that is infinite at 0 is singular: coincident points contribute nothing.
    func testSingularFormulaKernel() throws {
        let text = scenario.replacingOccurrences(of: "formula:exp(-r^2/(2*s^2))", with: "formula:-log(r)")
        let flow = try load(text).simulation.flow as! SteinVariationalGradientDescent
        XCTAssertEqual(flow.kernel.regularity, .singular)
        var v: [Double] = []
        var g: [Double] = []
        var rv: [Double] = []
        var rg: [Double] = []
        let x = [0.0, 0, 1, 0, 0, 2]
        DirectSum(threads: 1).sum(
            flow.kernel, dimension: 2, sources: x, weights: [1, 1, 1], channels: 1, targets: x,
            gradientChannels: [0], values: &v, gradients: &g)
        DirectSum(threads: 1).sum(
            LogarithmicKernel(), dimension: 2, sources: x, weights: [1, 1, 1], channels: 1, targets: x,
            gradientChannels: [0], values: &rv, gradients: &rg)
        for k in 0..<3 { XCTAssertEqual(v[k], rv[k], accuracy: 1e-14) }
        for k in 0..<6 { XCTAssertEqual(g[k], rg[k], accuracy: 1e-14) }
    }

    func error(_ text: String, overrides: [String] = []) -> String {
        do {
            _ = try load(text, overrides: overrides)
            XCTFail("loaded, but an error was expected")
            return ""
        } catch { return "\(error)" }
    }

    /// A parse error: file:line: key: what was expected (column), then the formula and a caret.
    func testParseErrorShowsACaret() {
        let text = scenario.replacingOccurrences(
            of: "\"-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)\"", with: "\"(x1^2 - 1)^2 +* 0.5\"")
        let e = error(text)
        let path = (dir.path as NSString).appendingPathComponent("f.toml")
        let lines = e.components(separatedBy: "\n")
        XCTAssertEqual(lines.count, 3, e)
        XCTAssertTrue(lines[0].hasPrefix("\(path):\(lineOf("log-density", in: text)): target.log-density: expected"), e)
        XCTAssertTrue(lines[0].hasSuffix("(column 15)"), e)
        XCTAssertEqual(lines[1], "    (x1^2 - 1)^2 +* 0.5")
        XCTAssertEqual(lines[2], "    " + String(repeating: " ", count: 14) + "^")
    }

    /// Unknown names list the known ones; a variable beyond the dimension, a second player's y
    /// in a target, or x in a kernel are errors when the scenario is validated.
    func testNameErrorsAtValidation() {
        let unknown = error(scenario.replacingOccurrences(of: "(x2 + 0.1*x1^2 - 1)^2)", with: "(x2 + q*x1^2 - 1)^2)"))
        XCTAssertTrue(unknown.contains("target.log-density: unknown name 'q'"), unknown)
        XCTAssertTrue(unknown.contains("x1, x2"), unknown)
        XCTAssertTrue(unknown.contains("s"), unknown)
        let x3 = error(scenario.replacingOccurrences(of: "x1^2/4", with: "x3^2/4"))
        XCTAssertTrue(x3.contains("target.log-density:") && x3.contains("x3"), x3)
        let y = error(scenario.replacingOccurrences(of: "x1^2/4", with: "y1^2/4"))
        XCTAssertTrue(y.contains("target.log-density:") && y.contains("y"), y)
        let kernelX = error(scenario.replacingOccurrences(of: "formula:exp(-r^2/(2*s^2))", with: "formula:exp(-x1^2)"))
        XCTAssertTrue(kernelX.contains("flow.kernel:") && kernelX.contains("x1"), kernelX)
        let missing = error(scenario.replacingOccurrences(of: "s = 0.7\n", with: "t = 0.7\n"))
        XCTAssertTrue(missing.contains("flow.kernel: unknown name 's'"), missing)
        // A formula target cannot be sampled: mmd says so at validation.
        let mmd = error(scenario.replacingOccurrences(of: "kind = \"svgd\"", with: "kind = \"mmd\""))
        XCTAssertTrue(mmd.contains("flow.kind:") && mmd.contains("formula target"), mmd)
        let moments = error(
            scenario.replacingOccurrences(of: "dimension = 2\n", with: "dimension = 2\nmean = [0, 0]\n"))
        XCTAssertTrue(moments.contains("target.mean: give the covariance too"), moments)
    }

    /// A formula that goes non-finite stops the run: the divergence names the formula and the point.
    func testNonFiniteFormulaStopsTheRunWithTheFormulaAndThePoint() throws {
        // log(x1) is NaN for x1 < 0 while its derivative 1/x1 stays finite: the value alone stops the run.
        let text = scenario.replacingOccurrences(
            of: "\"-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)\"", with: "\"log(x1) - x2^2\"")
        let loaded = try load(text)
        final class Sink: Recorder {
            func recordState(step: Int, time: Double, state: SimulationState) throws {}
            func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {}
            func synchronize() throws -> [String: Int] { [:] }
        }
        let summary = try loaded.simulation.run(recorder: Sink())
        guard case .diverged(let step, _, let cause) = summary.end else { return XCTFail("\(summary.end)") }
        XCTAssertEqual(step, 1)
        XCTAssertTrue(cause.contains("the formula \"log(x1) - x2^2\" (log-density) gave"), cause)
        XCTAssertTrue(cause.contains(" at ("), cause)
    }
}

/// Formula potentials and interactions against the built-ins they spell out.
final class FormulaLangevinTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func flow(_ scenario: String, _ overrides: [String] = []) throws -> LangevinFlow {
        let path = Self.root.appendingPathComponent("scenarios/\(scenario).toml").path
        return try ScenarioLoader.load(path: path, overrides: overrides, threads: 2).simulation.flow as! LangevinFlow
    }

    /// V = (x1² − 1)² + ½x2² as a formula equals the double-well built-in, values and gradients.
    func testFormulaPotentialEqualsTheDoubleWell() throws {
        let formula = try flow("formula-double-well-langevin").potential!
        let builtIn = DoubleWellPotential(height: 1)
        var rng = LCGUniform(4)
        let x = (0..<(2 * 300)).map { _ in rng.next() * 4 - 2 }
        var v1: [Double] = []
        var g1: [Double] = []
        var v2: [Double] = []
        var g2: [Double] = []
        formula.evaluate(x, dimension: 2, values: &v1, gradients: &g1, threads: 2)
        builtIn.evaluate(x, dimension: 2, values: &v2, gradients: &g2, threads: 1)
        for k in 0..<v1.count { XCTAssertEqual(v1[k], v2[k], accuracy: 1e-14 * max(1, abs(v2[k]))) }
        for k in 0..<g1.count { XCTAssertEqual(g1[k], g2[k], accuracy: 1e-14 * max(1, abs(g2[k]))) }
    }

    /// W = ½|x|² − log|x| as one formula equals the quadratic + log kernel terms of the built-in
    /// swarm (direct sums), in gradients and energy.
    func testFormulaInteractionEqualsTheBuiltInTerms() throws {
        let formula = try flow("formula-swarm-2d").interactions
        let builtIn = try flow("swarm-attraction-repulsion-2d", ["flow.summation=direct"]).interactions
        var rng = LCGUniform(6)
        let n = 200
        let x = (0..<(2 * n)).map { _ in rng.next() * 2 - 1 }
        let w = [Double](repeating: 1.0 / Double(n), count: n)
        var g1 = [Double](repeating: 0, count: 2 * n)
        var g2 = g1
        for term in formula { term.addGradients(x, weights: w, dimension: 2, into: &g1) }
        for term in builtIn { term.addGradients(x, weights: w, dimension: 2, into: &g2) }
        let scale = g2.map { abs($0) }.max()!
        for k in 0..<g1.count { XCTAssertEqual(g1[k], g2[k], accuracy: 1e-12 * scale) }
        let e1 = formula.reduce(0) { $0 + $1.energy(x, weights: w, dimension: 2) }
        let e2 = builtIn.reduce(0) { $0 + $1.energy(x, weights: w, dimension: 2) }
        XCTAssertEqual(e1, e2, accuracy: 1e-12 * abs(e2))
    }

    /// The formula interaction's values pass, adding 1.5·Σ_{j≠i} w_j W(x_i − x_j) with
    /// W = ½|x|² − log|x| (term weight 1.5), equals the test's double loop (non-uniform weights,
    /// 2 threads) to 1e-12 relative.
    func testFormulaInteractionValuesMatchTheDoubleLoop() throws {
        let term = #"flow.interaction=[{ kind = "formula", formula = "0.5*norm2(x) - log(norm(x))", weight = 1.5 }]"#
        let terms = try flow("formula-swarm-2d", [term]).interactions
        XCTAssertEqual(terms.count, 1)
        var rng = LCGUniform(9)
        let n = 150
        let x = (0..<(2 * n)).map { _ in rng.next() * 2 - 1 }
        let raw = (0..<n).map { _ in 0.5 + rng.next() }
        let w = raw.map { $0 / raw.reduce(0, +) }
        var values = [Double](repeating: 1, count: n)
        terms[0].addValues(x, weights: w, dimension: 2, into: &values)
        let want = (0..<n).map { i in
            1 + 1.5
                * (0..<n).reduce(0.0) { s, j in
                    guard j != i else { return s }
                    let r2 = pow(x[2 * i] - x[2 * j], 2) + pow(x[2 * i + 1] - x[2 * j + 1], 2)
                    return s + w[j] * (0.5 * r2 - 0.5 * log(r2))
                }
        }
        XCTAssertLessThan(relativeError(values, want), 1e-12)
    }

    /// A kernel spec `formula:EXPR` in r is taken as an interaction, bare or as a term's
    /// `kernel`, as kernels are everywhere else: e^(−r²/2) equals `gaussian:sigma=1`.
    func testFormulaKernelSpecAsAnInteraction() throws {
        // kl needs the Gibbs measure of a run without interaction: record the others.
        let direct = ["flow.summation=direct", #"record.metrics=["variance", "cov-error", "mean-error"]"#, "expect=[]"]
        let cases: [(formula: String, builtIn: String)] = [
            (#"flow.interaction="formula:exp(-r^2/2)""#, #"flow.interaction="gaussian:sigma=1""#),
            (
                #"flow.interaction=[{ kernel = "formula:exp(-r^2/2)", weight = 2 }]"#,
                #"flow.interaction=[{ kernel = "gaussian:sigma=1", weight = 2 }]"#
            ),
        ]
        var rng = LCGUniform(8)
        let n = 150
        let x = (0..<(2 * n)).map { _ in rng.next() * 3 - 1.5 }
        let w = [Double](repeating: 1.0 / Double(n), count: n)
        for (formula, builtIn) in cases {
            let a = try flow("langevin-ou", [formula] + direct).interactions
            let b = try flow("langevin-ou", [builtIn] + direct).interactions
            XCTAssertEqual(a.count, 1, formula)
            var g1 = [Double](repeating: 0, count: 2 * n)
            var g2 = g1
            for term in a { term.addGradients(x, weights: w, dimension: 2, into: &g1) }
            for term in b { term.addGradients(x, weights: w, dimension: 2, into: &g2) }
            let scale = g2.map { abs($0) }.max()!
            XCTAssertGreaterThan(scale, 0)
            for k in 0..<g1.count { XCTAssertEqual(g1[k], g2[k], accuracy: 1e-13 * scale, formula) }
            let e1 = a.reduce(0) { $0 + $1.energy(x, weights: w, dimension: 2) }
            let e2 = b.reduce(0) { $0 + $1.energy(x, weights: w, dimension: 2) }
            XCTAssertEqual(e1, e2, accuracy: 1e-13 * abs(e2), formula)
        }
    }
}
