import Foundation
import XCTest

/// Every bundled scenario's expectations discriminate: the scenario run with a tenth of its
/// steps, with a tenth of its step size, or with the term that defines it removed (the
/// interaction, the noise, the weights, the barrier, …) must miss one of them. Each weakened
/// variant runs (exit 0) and `wgf check` exits 1 with the named metrics among the failures,
/// each judged on a recorded value (a `by-step` beyond a cut run, "the run ended at step N",
/// does not count). That the true runs meet their expectations is
/// CLITests.testEveryBundledScenarioMeetsItsExpectations.
final class ScenarioWeakeningTests: ScratchTestCase {
    /// One weakened variant: `--set` overrides, and the metrics whose expectations must then fail.
    struct Weakening {
        let name: String
        let overrides: [String]
        let killedBy: [String]
        init(_ name: String, _ overrides: [String], killedBy: [String]) {
            self.name = name
            self.overrides = overrides
            self.killedBy = killedBy
        }
    }

    /// A scenario's weakenings: a tenth of its steps and a tenth of its step size always apply
    /// (for a game, the step size h scales both players' steps η·h); `removed` lists the
    /// defining terms taken out, and `nothingToRemove` says why a scenario has none.
    struct Entry {
        let scenario: String
        let tenthOfSteps: [String]
        let tenthOfStepSize: [String]
        let removed: [Weakening]
        let nothingToRemove: String?
        init(
            _ scenario: String, tenthOfSteps: [String], tenthOfStepSize: [String], removed: [Weakening] = [],
            nothingToRemove: String? = nil
        ) {
            self.scenario = scenario
            self.tenthOfSteps = tenthOfSteps
            self.tenthOfStepSize = tenthOfStepSize
            self.removed = removed
            self.nothingToRemove = nothingToRemove
        }
    }

    static let noGameNoise = ["flow.min.temperature=0", "flow.max.temperature=0"]
    static let noFisherRao = ["flow.min.fisher-rao=0", "flow.max.fisher-rao=0"]
    static let noEntropy = "record.metrics=[\"mean\", \"variance\"]"
    /// SVGD's interaction is its kernel: at bandwidth 1e-3 the particles no longer see each other
    /// (no repulsion, no shared score): independent gradient ascent, collapsing on the modes.
    static let noSVGDKernel = ["flow.kernel=gaussian:sigma=0.001"]

    /// Every file of scenarios/ must have its entry (testEveryBundledScenarioHasItsWeakenings).
    static let table: [Entry] = [
        // Without the inertia the scenario's step 0.08 diverges (at step 4): plain SVGD with the
        // same bilinear kernel runs at its largest step that converges, 0.012.
        Entry(
            "accelerated-svgd-gaussian", tenthOfSteps: ["cov-error", "mean-error"],
            tenthOfStepSize: ["cov-error", "mean-error"],
            removed: [
                Weakening(
                    "inertia (plain SVGD at its stable step 0.012)", ["flow.dynamics=overdamped", "step-size=0.012"],
                    killedBy: ["cov-error", "mean-error"])
            ]),
        // A tenth of the steps ends at step 30, before the by-step-100 bars: the end's mass bar tells.
        Entry(
            "deconvolution-spikes-1d", tenthOfSteps: ["spike-mass-error"],
            tenthOfStepSize: ["spike-position-error", "spike-mass-error"],
            removed: [
                Weakening(
                    "mass update (fisher-rao = 0)", ["flow.fisher-rao=0"],
                    killedBy: ["spike-position-error", "spike-mass-error"]),
                Weakening("transport", ["flow.transport=0"], killedBy: ["spike-position-error", "spike-mass-error"]),
                Weakening(
                    "transport, 20 particles", ["flow.transport=0", "population.count=20"],
                    killedBy: ["spike-position-error", "spike-mass-error"]),
            ]),
        Entry(
            "deconvolution-spikes-2d", tenthOfSteps: ["spike-mass-error"],
            tenthOfStepSize: ["spike-position-error", "spike-mass-error"],
            removed: [
                Weakening(
                    "mass update (fisher-rao = 0)", ["flow.fisher-rao=0"],
                    killedBy: ["spike-position-error", "spike-mass-error"]),
                Weakening("transport", ["flow.transport=0"], killedBy: ["spike-position-error", "spike-mass-error"]),
                Weakening(
                    "transport, 20 particles", ["flow.transport=0", "population.count=20"],
                    killedBy: ["spike-position-error", "spike-mass-error"]),
            ]),
        Entry(
            "formula-banana-svgd", tenthOfSteps: ["mean-error", "cov-error"],
            tenthOfStepSize: ["mean-error", "cov-error"],
            removed: [
                Weakening(
                    "interaction (kernel bandwidth s = 1e-3)", ["parameters.s=0.001"],
                    killedBy: ["mean-error", "cov-error"])
            ]),
        Entry(
            "formula-double-well-langevin", tenthOfSteps: ["mean", "variance"], tenthOfStepSize: ["mean", "variance"],
            removed: [
                Weakening("noise", ["flow.temperature=0"], killedBy: ["mean", "variance", "potential-energy"]),
                // The barrier gone, one well at 0 with the wells' curvature 8: the mean
                // reaches 0 at once (no Kramers time) with the mass in one well.
                Weakening(
                    "barrier (V = 4x1² + ½x2²)", ["flow.potential.formula=4*x1^2 + 0.5*x2^2"],
                    killedBy: ["mean", "variance"]),
            ]),
        Entry(
            "formula-swarm-2d", tenthOfSteps: ["variance"], tenthOfStepSize: ["variance"],
            removed: [
                Weakening("interaction", ["flow.interaction=[]"], killedBy: ["variance", "interaction-energy"]),
                Weakening(
                    "repulsion", ["flow.interaction=[{ kind = \"formula\", formula = \"0.5*norm2(x)\" }]"],
                    killedBy: ["variance", "interaction-energy"]),
                Weakening(
                    "attraction", ["flow.interaction=[{ kind = \"formula\", formula = \"-log(norm(x))\" }]"],
                    killedBy: ["variance", "interaction-energy"]),
            ]),
        Entry(
            "game-bilinear-quadratic", tenthOfSteps: ["equilibrium-distance"],
            tenthOfStepSize: ["equilibrium-distance", "variance"],
            removed: [
                Weakening("noise", noGameNoise, killedBy: ["equilibrium-distance", "variance"]),
                // Without the coupling the means decay as (1 − ha)ⁿ without the spiral:
                // only the step-10 value tells (the end state is the same).
                Weakening("coupling", ["flow.payoff.coupling=0"], killedBy: ["equilibrium-distance"]),
            ]),
        Entry(
            "game-circle-cos", tenthOfSteps: ["nash-gap"], tenthOfStepSize: ["nash-gap"],
            removed: [Weakening("noise", noGameNoise, killedBy: ["nash-gap"])]),
        // Noise does not apply: at τ = 0.01/0.02 it is a regulariser, and the run without it ends
        // alike (MMD 0.126, covariance error 0.16). The discriminator's motion is what counts.
        Entry(
            "game-gan-mixture", tenthOfSteps: ["mmd", "cov-error"], tenthOfStepSize: ["mmd", "cov-error"],
            removed: [Weakening("discriminator's motion", ["flow.max.transport=0"], killedBy: ["mmd", "cov-error"])]),
        Entry(
            "game-wfr-extragradient", tenthOfSteps: ["nash-gap"], tenthOfStepSize: ["nash-gap"],
            removed: [
                Weakening("weights (Fisher–Rao)", noFisherRao, killedBy: ["nash-gap"]),
                Weakening(
                    "extrapolation (simultaneous)", ["flow.dynamics=simultaneous"],
                    killedBy: ["nash-gap", "min-effective-count"]),
            ]),
        // The scenario's claim is that the flow does NOT converge: a tenth of the run has not yet
        // concentrated the weights, and the converging twin (extragradient) must fail it.
        Entry(
            "game-wfr-simultaneous-cycles", tenthOfSteps: ["min-effective-count", "max-effective-count"],
            tenthOfStepSize: ["nash-gap", "min-effective-count", "max-effective-count"],
            removed: [
                Weakening(
                    "weights (Fisher–Rao)", noFisherRao, killedBy: ["min-effective-count", "max-effective-count"]),
                Weakening(
                    "its converging twin (extragradient)", ["flow.dynamics=extragradient"],
                    killedBy: ["nash-gap", "min-effective-count", "max-effective-count"]),
            ]),
        // Without noise the particles collapse onto the well bottoms, where the kNN entropy
        // (not judged) costs 0.05–0.4 s a record: it is left out of those runs.
        Entry(
            "granular-media-above-critical", tenthOfSteps: ["mean"], tenthOfStepSize: ["mean"],
            removed: [
                Weakening("interaction", ["flow.interaction=[]"], killedBy: ["variance"]),
                Weakening("noise", ["flow.temperature=0", noEntropy], killedBy: ["mean", "variance"]),
            ]),
        Entry(
            "granular-media-below-critical", tenthOfSteps: ["mean", "variance"], tenthOfStepSize: ["mean", "variance"],
            removed: [
                Weakening("interaction", ["flow.interaction=[]"], killedBy: ["mean", "variance"]),
                Weakening("noise", ["flow.temperature=0", noEntropy], killedBy: ["mean", "variance"]),
            ]),
        // Noise "removed" as λ = 1e-12 (noise 4e-7 a step): the kl metric refuses λ = 0.
        // KSD descent's interaction is its kernel: at σ = 1e-3 the particles no longer see each
        // other (the self term pulls each to the mode; those that meet are thrown apart).
        Entry(
            "ksd-descent-gaussian-2d", tenthOfSteps: ["energy", "mean-error", "cov-error", "ksd"],
            tenthOfStepSize: ["energy", "mean-error", "cov-error", "ksd"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["energy", "cov-error", "ksd"])]),
        Entry(
            "ksd-descent-logistic-regression",
            tenthOfSteps: ["test-accuracy", "test-log-likelihood", "ksd", "energy"],
            tenthOfStepSize: ["test-log-likelihood", "ksd", "energy"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["ksd", "energy"])]),
        Entry(
            "langevin-ou", tenthOfSteps: ["mean-error"], tenthOfStepSize: ["mean-error", "cov-error"],
            removed: [Weakening("noise", ["flow.temperature=1e-12"], killedBy: ["variance", "cov-error"])]),
        Entry(
            "langevin-underdamped-ou", tenthOfSteps: ["mean"], tenthOfStepSize: ["mean"],
            removed: [
                Weakening("noise", ["flow.temperature=1e-12"], killedBy: ["variance"]),
                Weakening("friction (γ/100)", ["flow.friction=0.01"], killedBy: ["mean", "kl"]),
            ]),
        // Without the weights' update the mass stays where transport left it: three quarters in
        // the shallow well (∫V dμ ≈ 0.23), effective sample size 200.
        Entry(
            "langevin-wfr-double-well", tenthOfSteps: ["potential-energy", "effective-sample-size"],
            tenthOfStepSize: ["potential-energy", "effective-sample-size"],
            removed: [
                Weakening(
                    "Fisher–Rao weights", ["flow.fisher-rao=0"],
                    killedBy: ["potential-energy", "effective-sample-size"])
            ]),
        // Without the kernel's reach the particles no longer repel: each goes to the mean, the
        // covariance collapses.
        Entry(
            "mirrored-svgd-sparse-dirichlet", tenthOfSteps: ["mean-error", "cov-error", "energy-distance"],
            tenthOfStepSize: ["mean-error", "cov-error", "energy-distance"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["cov-error", "energy-distance"])]),
        // The paper's momentum (m = 0.9) is what brings the energy distance to held-out digits
        // to the floor in 400 steps of h = 0.1: plain gradient steps (m = 0) at the same h end
        // far above it. One fixed set of 64 directions (no fresh directions) follows the
        // sliced MMD along them and stalls.
        Entry(
            "mmd-digits", tenthOfSteps: ["energy-distance"], tenthOfStepSize: ["energy-distance"],
            removed: [
                Weakening("momentum (m = 0: plain gradient steps)", ["flow.momentum=0"], killedBy: ["energy-distance"]),
                Weakening(
                    "fresh directions (one fixed set of 64)", ["flow.fresh-directions=false"],
                    killedBy: ["energy-distance"]),
            ]),
        // Fresh directions every step make each sliced gradient an unbiased estimate of the exact
        // one; one fixed set of 100 follows the sliced MMD along them and ends short.
        Entry(
            "mmd-laplace-sliced-20d", tenthOfSteps: ["energy-distance", "mean-error", "cov-error"],
            tenthOfStepSize: ["energy-distance", "mean-error", "cov-error"],
            removed: [
                Weakening(
                    "fresh directions (one fixed set of 100)", ["flow.fresh-directions=false"],
                    killedBy: ["energy-distance", "mean-error", "cov-error"])
            ]),
        Entry(
            "mmd-gaussian-noise", tenthOfSteps: ["mmd", "energy", "mean-error"],
            tenthOfStepSize: ["mmd", "energy", "mean-error"],
            removed: [Weakening("noise", ["flow.noise=0"], killedBy: ["mmd", "energy", "mean-error"])]),
        // The scenario's claim is that the flow stalls: there is no term to remove (noise = 0
        // already); its noisy twin converging must fail the lower bounds, and the upper bounds
        // catch the runs that moved less.
        Entry(
            "mmd-gaussian-plain", tenthOfSteps: ["energy", "mean-error"], tenthOfStepSize: ["energy", "mean-error"],
            removed: [
                Weakening(
                    "its converging twin (noise injection)", ["flow.noise=10", "flow.noise-halving-every=1500"],
                    killedBy: ["mmd", "energy", "mean-error"])
            ]),
        Entry(
            "mmd-riesz-mixture", tenthOfSteps: ["energy", "mmd"], tenthOfStepSize: ["energy", "mmd"],
            nothingToRemove:
                "the energy-distance kernel is the whole flow: no noise (β₀ = 0), no separate interaction or weights"),
        Entry(
            "quickstart", tenthOfSteps: ["ksd", "mean-error"], tenthOfStepSize: ["ksd", "mean-error"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["ksd"])]),
        Entry(
            "sgld-logistic-regression", tenthOfSteps: ["ksd"], tenthOfStepSize: ["ksd"],
            removed: [Weakening("noise", ["flow.temperature=1e-12"], killedBy: ["ksd"])]),
        Entry(
            "svgd-1d-mixture", tenthOfSteps: ["mean-error", "mmd"], tenthOfStepSize: ["mean-error", "mmd"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["mean-error", "mmd"])]),
        Entry(
            "svgd-linear-regression", tenthOfSteps: ["mean-error", "cov-error"],
            tenthOfStepSize: ["mean-error", "cov-error"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["cov-error"])]),
        // The held-out accuracy saturates early; the KSD to the full-data posterior does not.
        Entry(
            "svgd-logistic-regression", tenthOfSteps: ["ksd"], tenthOfStepSize: ["ksd"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["ksd"])]),
        Entry(
            "svgd-gaussian-2d", tenthOfSteps: ["mean-error", "cov-error", "ksd", "two-sample"],
            tenthOfStepSize: ["mean-error", "cov-error", "ksd"],
            removed: [Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["cov-error", "ksd", "two-sample"])]),
        // SVMD's interaction is its kernel (at bandwidth 1e-3 the particles collapse, as mirrored
        // SVGD's); its adapted kernel cut to the one leading eigenpair of the Gram matrix no longer
        // spans the particles' differences: they stall far from the target.
        Entry(
            "svmd-sparse-dirichlet", tenthOfSteps: ["mean-error", "cov-error", "energy-distance"],
            tenthOfStepSize: ["mean-error", "cov-error", "energy-distance"],
            removed: [
                Weakening("interaction (kernel)", noSVGDKernel, killedBy: ["cov-error", "energy-distance"]),
                Weakening(
                    "the adapted kernel's eigenbasis (one eigenpair)", ["flow.eigenpairs=1"],
                    killedBy: ["mean-error", "cov-error", "energy-distance"]),
            ]),
        // Terms weighted 0 rather than dropped: the kernel term keeps the engine's keys valid.
        Entry(
            "swarm-attraction-repulsion-2d", tenthOfSteps: ["variance"], tenthOfStepSize: ["variance"],
            removed: [
                Weakening(
                    "interaction",
                    ["flow.interaction=[{ kind = \"quadratic\", weight = 0 }, { kernel = \"log\", weight = 0 }]"],
                    killedBy: ["variance", "interaction-energy"]),
                Weakening(
                    "repulsion",
                    ["flow.interaction=[{ kind = \"quadratic\", weight = 1 }, { kernel = \"log\", weight = 0 }]"],
                    killedBy: ["variance", "interaction-energy"]),
                Weakening(
                    "attraction",
                    ["flow.interaction=[{ kind = \"quadratic\", weight = 0 }, { kernel = \"log\", weight = 1 }]"],
                    killedBy: ["variance", "interaction-energy"]),
            ]),
        // Entropic fictitious play's defining terms: the mixing (η = 1 replaces μ_k by its best
        // response p̂_k, which overshoots: energy 0.036) and the entropy (τ = 0 is refused, p̂ needs
        // τ > 0: τ = 1e-6 gives energy 0.0092, below the regularised level).
        Entry(
            "two-layer-efp-student-teacher", tenthOfSteps: ["energy", "test-loss", "train-loss"],
            tenthOfStepSize: ["energy", "test-loss", "train-loss"],
            removed: [
                Weakening("mixing (η = 1)", ["flow.mixing=1"], killedBy: ["energy", "test-loss", "train-loss"]),
                Weakening("entropy (τ = 1e-6)", ["flow.temperature=1e-6"], killedBy: ["energy"]),
            ]),
        Entry(
            "two-layer-mfld-student-teacher", tenthOfSteps: ["energy", "test-loss", "train-loss"],
            tenthOfStepSize: ["energy", "test-loss", "train-loss"],
            removed: [
                Weakening("noise", ["flow.temperature=0"], killedBy: ["energy"]),
                Weakening("weight decay", ["flow.weight-decay=0"], killedBy: ["energy"]),
            ]),
        Entry(
            "two-layer-student-teacher", tenthOfSteps: ["test-loss", "train-loss"],
            tenthOfStepSize: ["test-loss", "train-loss"],
            nothingToRemove:
                "temperature and weight decay are 0 already; the neurons interact only through the network's output, the model itself"
        ),
    ]

    static var scenarios: URL { CLITests.root.appendingPathComponent("scenarios") }

    func testEveryBundledScenarioHasItsWeakenings() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.scenarios.path).filter {
            $0.hasSuffix(".toml")
        }
        let names = Set(files.map { String($0.dropLast(5)) })
        let listed = Self.table.map(\.scenario)
        XCTAssertEqual(listed.count, Set(listed).count, "a scenario listed twice")
        for missing in names.subtracting(listed).sorted() {
            XCTFail("scenarios/\(missing).toml has no entry in ScenarioWeakeningTests.table: add its weakenings")
        }
        for gone in Set(listed).subtracting(names).sorted() {
            XCTFail("the table lists \(gone), which is not in scenarios/")
        }
        for e in Self.table {
            XCTAssertFalse(e.tenthOfSteps.isEmpty || e.tenthOfStepSize.isEmpty, e.scenario)
            XCTAssertTrue(
                !e.removed.isEmpty || !(e.nothingToRemove ?? "").isEmpty,
                "\(e.scenario): remove its defining term, or say why there is none")
            for w in e.removed { XCTAssertFalse(w.killedBy.isEmpty, "\(e.scenario), \(w.name)") }
        }
    }

    /// The scenario's top-level `steps` and `step-size`.
    func stepsAndStepSize(_ scenario: String) throws -> (steps: Int, h: Double) {
        let text = try read(Self.scenarios.appendingPathComponent("\(scenario).toml"))
        func value(_ key: String) -> String? {
            text.split(separator: "\n").lazy.compactMap { line -> String? in
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return parts.count == 2 && parts[0] == key ? parts[1] : nil
            }.first
        }
        return (
            try XCTUnwrap(value("steps").flatMap { Int($0) }, "\(scenario): steps"),
            try XCTUnwrap(value("step-size").flatMap { Double($0) }, "\(scenario): step-size")
        )
    }

    func testEveryWeakeningMissesAnExpectation() throws {
        let cases: [(scenario: String, weakening: Weakening)] = try Self.table.flatMap { e in
            let (steps, h) = try stepsAndStepSize(e.scenario)
            return [
                (e.scenario, Weakening("a tenth of the steps", ["steps=\(steps / 10)"], killedBy: e.tenthOfSteps)),
                (
                    e.scenario,
                    Weakening("a tenth of the step size", ["step-size=\(h / 10)"], killedBy: e.tenthOfStepSize)
                ),
            ]
                + e.removed.map { (e.scenario, $0) }
        }
        // Two runs at a time, each on one thread: the runs are short and partly serial.
        let results = Results()
        let scratch = self.scratch!
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for k in stride(from: worker, to: cases.count, by: 2) {
                let (scenario, w) = cases[k]
                let out = scratch.appendingPathComponent("\(scenario)-\(k)").path
                let args =
                    [
                        "run", "scenarios/\(scenario).toml", "--out", out, "--quiet", "--threads", "1",
                        "--set", "record.trajectory=false",
                    ] + w.overrides.flatMap { ["--set", $0] }
                let failed = WGFResult(code: -1, stdout: "", stderr: "could not start wgf")
                results.set(k, ((try? runWGF(args)) ?? failed, (try? runWGF(["check", out])) ?? failed))
            }
        }
        for (k, (scenario, w)) in cases.enumerated() {
            guard let (run, check) = results[k] else {
                XCTFail("\(scenario), \(w.name): not run")
                continue
            }
            let label = "\(scenario), \(w.name) (\(w.overrides.joined(separator: " ")))"
            XCTAssertEqual(run.code, 0, "\(label): \(run.stderr)")
            XCTAssertEqual(check.code, 1, "\(label) meets every expectation:\n\(check.stdout)\(check.stderr)")
            let failures = check.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL  ") }
            for metric in w.killedBy {
                // A threshold reads "FAIL  m ≤ b …: m = v", the two-sample test "FAIL  two-sample test …: p = v".
                let judged = metric == "two-sample" ? ": p = " : ": \(metric) = "
                XCTAssertTrue(
                    failures.contains { $0.hasPrefix("FAIL  \(metric) ") && $0.contains(judged) },
                    "\(label): no expectation on \(metric) fails on its value:\n\(check.stdout)")
            }
        }
    }
}

/// The weakened runs' results, filled from two threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: (run: WGFResult, check: WGFResult)] = [:]
    func set(_ k: Int, _ v: (run: WGFResult, check: WGFResult)) {
        lock.lock()
        values[k] = v
        lock.unlock()
    }
    subscript(k: Int) -> (run: WGFResult, check: WGFResult)? {
        lock.lock()
        defer { lock.unlock() }
        return values[k]
    }
}
