import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// Every error names `FILE:LINE: key.path: what (allowed)`.
final class ScenarioErrorTests: XCTestCase {
    var dir: TempDirectory!

    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    /// A scenario that must fail to load, and the error it must give: `PATH:line: message`
    /// (PATH where the scenario was written), or with `prefixOnly` an error that starts so;
    /// `suffix` and `contains` check more of it.
    struct Row {
        let name: String
        let text: String
        let line: Int
        let message: String
        var prefixOnly = false
        var suffix: String?
        var contains: String?
        let file: StaticString
        let sourceLine: UInt

        init(
            _ name: String, _ text: String, _ line: Int, _ message: String, prefixOnly: Bool = false,
            suffix: String? = nil, contains: String? = nil, file: StaticString = #filePath, sourceLine: UInt = #line
        ) {
            self.name = name
            self.text = text
            self.line = line
            self.message = message
            self.prefixOnly = prefixOnly
            self.suffix = suffix
            self.contains = contains
            self.file = file
            self.sourceLine = sourceLine
        }

        /// A row whose scenario is the base scenario with `old` (which must occur once) replaced by `new`.
        init(
            _ name: String, _ old: String, _ new: String, _ line: Int, _ message: String, prefixOnly: Bool = false,
            suffix: String? = nil, contains: String? = nil, file: StaticString = #filePath, sourceLine: UInt = #line
        ) {
            self.init(
                name, edit(baseScenario, old, new, file: file, line: sourceLine), line, message, prefixOnly: prefixOnly,
                suffix: suffix, contains: contains, file: file, sourceLine: sourceLine)
        }
    }

    /// Writes each row's scenario, loads it and checks the error; a failure names the row and
    /// is reported at it.
    func check(_ rows: [Row]) {
        for row in rows {
            let (file, line) = (row.file, row.sourceLine)
            let path = dir.write("s.toml", row.text)
            let e = loadError(path, file: file, line: line)
            let expected = "\(path):\(row.line): \(row.message)"
            if row.prefixOnly {
                XCTAssertTrue(e.hasPrefix(expected), "\(row.name): \(e)", file: file, line: line)
            } else {
                XCTAssertEqual(e, expected, row.name, file: file, line: line)
            }
            if let suffix = row.suffix {
                XCTAssertTrue(e.hasSuffix(suffix), "\(row.name): \(e)", file: file, line: line)
            }
            if let part = row.contains { XCTAssertTrue(e.contains(part), "\(row.name): \(e)", file: file, line: line) }
        }
    }

    /// svmd's eigenpair keys: a count or a fraction, not both; the count at most N; the fraction
    /// in (0, 1]; and its kernel must be positive definite.
    func testSVMDEigenpairSettings() {
        let base =
            "steps = 1\nstep-size = 0.1\n[target]\nkind = \"dirichlet\"\nalpha = [1, 2, 3]\n[population]\ncount = 5\n"
            + "init = { kind = \"dirichlet\" }\n[flow]\nkind = \"svmd\"\n"
        check([
            Row(
                "both", base + "eigenpairs = 3\neigen-fraction = 0.9\n", 11,
                "flow.eigenpairs: give eigenpairs (a count) or eigen-fraction (of the spectrum), not both"),
            Row(
                "more than N", base + "eigenpairs = 6\n", 11,
                "flow.eigenpairs: at most the particle count (5): there are N eigenpairs"),
            Row("no eigenpair", base + "eigenpairs = 0\n", 11, "flow.eigenpairs: ", prefixOnly: true),
            Row("fraction 0", base + "eigen-fraction = 0\n", 11, "flow.eigen-fraction: ", prefixOnly: true),
            Row("fraction above 1", base + "eigen-fraction = 1.5\n", 11, "flow.eigen-fraction: ", prefixOnly: true),
            Row(
                "not positive definite", base + "kernel = \"riesz:r=1\"\n", 11,
                "flow.kernel: svmd takes the square root of the kernel's Gram matrix: it needs a positive-definite "
                    + "kernel (gaussian, imq, laplace, matern), not riesz"),
        ])
    }

    /// entropic-fictitious-play's keys: `mixing` in (0, 1], `inner-steps` ≥ 1, and a temperature
    /// > 0 (the proximal Gibbs measure exp(−(δR/δμ + α|θ|²/2)/τ) needs τ > 0), given or not.
    func testEntropicFictitiousPlaySettings() {
        let base =
            "steps = 1\nstep-size = 0.1\n[population]\ncount = 5\ninit = { kind = \"gaussian\", mean = [0, 0, 0, 0] }\n"
            + "[flow]\nkind = \"entropic-fictitious-play\"\ninput-dimension = 2\ntrain-samples = 10\ntest-samples = 10\n"
        let tau = "temperature = 0.01\n"
        check([
            Row("mixing 0", base + tau + "mixing = 0\n", 12, "flow.mixing: ", prefixOnly: true, contains: "(0, 1]"),
            Row(
                "mixing above 1", base + tau + "mixing = 1.5\n", 12, "flow.mixing: ", prefixOnly: true,
                contains: "(0, 1]"),
            Row("no inner step", base + tau + "inner-steps = 0\n", 12, "flow.inner-steps: ", prefixOnly: true),
            Row(
                "temperature 0", base + "temperature = 0\n", 11,
                "flow.temperature: must be > 0 for entropic-fictitious-play: the proximal Gibbs measure "
                    + "exp(−(δR/δμ + α|θ|²/2)/τ) needs τ > 0"),
            Row(
                "no temperature", base, 6,
                "flow.temperature: must be > 0 for entropic-fictitious-play", prefixOnly: true),
            Row(
                "fisher-rao", base + tau + "fisher-rao = 1\n", 12,
                "flow.fisher-rao: is a key of two-layer-network, not of entropic-fictitious-play (uniform weights)"),
            Row(
                "transport", base + tau + "transport = 0.5\n", 12,
                "flow.transport: is a key of two-layer-network, not of entropic-fictitious-play", prefixOnly: true),
        ])
    }

    static let topLevelKeys =
        "title, seed, steps, step-size, record-every, checkpoint-every, checkpoint-seconds, target, population, flow, record, expect"

    static let gaussianTarget = "[target]\nkind = \"gaussian\"\nmean = [0, 0]\n"
    static let mixtureTarget =
        "[target]\nkind = \"gaussian-mixture\"\nweights = [0.5, 0.5]\nmeans = [[-2, 0], [2, 0]]\nstd = 0.6\n"

    /// The base scenario with a 2-D Gaussian target whose covariance is `covariance`.
    static func gaussianTarget(covariance: String) -> String {
        edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = \(covariance)\n")
    }

    /// The base scenario with a population named `a/b`: a fine CSV name, not an HDF5 group.
    static var slash: String { edit(baseScenario, "count = 20\n", "count = 20\nname = \"a/b\"\n") }

    /// The base scenario with a 2-D Gaussian target whose covariance is symmetric but not positive definite.
    static var notPositive: String { gaussianTarget(covariance: "[[1, 2], [2, 1]]") }

    /// Every error of a scenario built from the base scenario alone, by what is wrong. Computed
    /// when a test reads it, so that `edit`'s check of each replaced text fails in that test.
    static var baseScenarioErrors: [Row] {
        let noFlow = edit(
            edit(baseScenario, "[flow]\nkind = \"svgd\"\n", ""), "seed = 3\n", "seed = 3\nflow = \"svgd\"\n")
        let single =
            String(baseScenario[..<baseScenario.range(of: "[[expect]]")!.lowerBound])
            + "[expect]\nmetric = \"ksd\"\nat-most = 1\n"
        // The base scenario with `flow.kernel = spec`.
        func kernel(_ spec: String) -> String {
            edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nkernel = \"\(spec)\"\n")
        }
        let (slash, text) = (Self.slash, Self.notPositive)
        let spd = "a symmetric 2×2 matrix with positive eigenvalues"
        return [
            // MARK: Unknown keys and tables
            Row(
                "near a key", "step-size = 0.05\n", "step-size = 0.05\nrecord-evry = 2\n", 5,
                "record-evry: unknown key (did you mean 'record-every'?) (allowed here: \(Self.topLevelKeys))"),
            // Far from every key: no suggestion.
            Row(
                "far from every key", "seed = 3\n", "seed = 3\nzzzzzzzz = 1\n", 3,
                "zzzzzzzz: unknown key (allowed here: \(Self.topLevelKeys))"),
            Row(
                "population", "count = 20\n", "count = 20\ncuont = 20\n", 14,
                "population.cuont: unknown key (did you mean 'count'?) (allowed here: name, init, count)"),
            Row(
                "flow", "kind = \"svgd\"\n", "kind = \"svgd\"\noptimiser = \"sgd\"\n", 18,
                "flow.optimiser: unknown key (did you mean 'optimizer'?) (allowed here: kind, kernel, median-sample, optimizer, adagrad-alpha, adagrad-fudge, summation, tolerance)"
            ),
            // In an array of tables.
            Row(
                "expect[1]", "at-most = 10\n", "at-most = 10\nbystep = 3\n", 25,
                "expect[1].bystep: unknown key (did you mean 'by-step'?) (allowed here: metric, at-most, by-step)"),
            // In an inline table.
            Row(
                "population.init", "std = 0.5 }", "std = 0.5, meen = [1, 2] }", 14,
                "population.init.meen: unknown key (did you mean 'mean'?) (allowed here: kind, mean, std)"),
            Row(
                "[output]", baseScenario + "\n[output]\ndir = \"x\"\n", 31,
                "output: unknown key (allowed here: \(Self.topLevelKeys))"),
            // MARK: Values of the wrong type
            Row(
                "string for a number", "step-size = 0.05", "step-size = \"fast\"", 4,
                "step-size: expected a number, found the string \"fast\" (a number > 0)"),
            Row(
                "real for an integer", "steps = 5", "steps = 5.0", 3,
                "steps: expected an integer, found the number 5.0 (an integer ≥ 0)"),
            Row(
                "integer for a string", "title = \"tiny\"", "title = 3", 1,
                "title: expected a string, found the integer 3 (a string)"),
            Row(
                "string in an array of numbers", "std = 0.6", "std = [0.6, \"x\"]", 10,
                "target.std: expected numbers, found the string \"x\" (an array of 2 numbers)"),
            Row("string for a table", noFlow, 3, "flow: expected a table, found the string \"svgd\""),
            Row(
                "string for an array", "metrics = [\"ksd\", \"mean-error\"]", "metrics = \"ksd\"", 20,
                "record.metrics: expected an array, found the string \"ksd\" (an array of: \(MetricRegistry.names.joined(separator: ", ")))"
            ),
            Row(
                "table for an array of tables", single, 22,
                "expect: expected an array of tables ([[expect]]), found a single table"),
            // MARK: Values out of range
            Row(
                "count 0", "count = 20", "count = 0", 13,
                "population.count: 0 is out of range (an integer from 1 to 2147483647)"),
            Row(
                "negative step", "step-size = 0.05", "step-size = -1", 4, "step-size: -1 is out of range (a number > 0)"
            ),
            Row(
                "negative std", "std = 0.6", "std = [0.6, -0.1]", 10,
                "target.std: -0.1 is out of range (a number in [1e-150, 1e+150]: its square must be a positive double)"),
            Row(
                "infinite step", "step-size = 0.05", "step-size = inf", 4,
                "step-size: inf is out of range (a number > 0)"),
            Row(
                "adagrad-alpha 1.5", "kind = \"svgd\"\n", "kind = \"svgd\"\nadagrad-alpha = 1.5\n", 18,
                "flow.adagrad-alpha: 1.5 is out of range (a number in [0, 1])"),
            Row(
                "momentum 1", "kind = \"svgd\"\n", "kind = \"svgd\"\noptimizer = \"momentum\"\nmomentum = 1\n", 19,
                "flow.momentum: 1 is out of range (a number in [0, 1))"),
            Row(
                "fresh directions without sliced sums", "kind = \"svgd\"\n",
                "kind = \"mmd\"\nfresh-directions = true\n", 18,
                "flow.fresh-directions: needs summation = \"sliced\" with a fixed number of directions (directions = P)"
            ),
            Row(
                "image of another dimension", "metrics = [\"ksd\", \"mean-error\"]\n",
                "metrics = [\"ksd\", \"mean-error\"]\n\n[plot]\nimage = [3, 3]\n", 23,
                "plot.image: 3 × 3 = 9 pixels, but the particles have d = 2 coordinates"),
            Row(
                "image side not an integer", "metrics = [\"ksd\", \"mean-error\"]\n",
                "metrics = [\"ksd\", \"mean-error\"]\n\n[plot]\nimage = [4, 0.5]\n", 23,
                "plot.image: 0.5 is out of range (an integer from 1 to", prefixOnly: true),
            Row("negative seed", "seed = 3", "seed = -1", 2, "seed: -1 is out of range (an integer ≥ 0)"),
            // MARK: Missing keys and tables
            Row("top level", "steps = 5\n", "", 1, "steps: missing (required: an integer ≥ 0)"),
            // Missing in a sub-table: located at the table's header.
            Row(
                "sub-table", "count = 20\n", "", 12,
                "population.count: missing (required: an integer from 1 to 2147483647)"),
            Row(
                "flow.kind", "kind = \"svgd\"\n", "", 16,
                "flow.kind: missing (required: one of: \(FlowRegistry.names.joined(separator: ", ")))"),
            // Missing in an inline table: located at its line.
            Row(
                "inline table", "mean = [0, 4], ", "", 14,
                "population.init.mean: missing (required: an array of 2 numbers)"),
            Row("[flow]", "[flow]\nkind = \"svgd\"\n", "", 1, "flow: missing (a table is required)"),
            Row(
                "population.init", "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }\n", "", 12,
                "population.init: missing (a table is required)"),
            // MARK: Unknown kinds and names
            Row(
                "target", "kind = \"gaussian-mixture\"", "kind = \"cauchy\"", 7,
                "target.kind: unknown value \"cauchy\" (one of: \(TargetRegistry.names.joined(separator: ", ")))",
                contains: "gaussian, gaussian-mixture, banana, samples"),
            Row(
                "flow", "kind = \"svgd\"", "kind = \"wfr\"", 17,
                "flow.kind: unknown value \"wfr\" (one of: \(FlowRegistry.names.joined(separator: ", ")))",
                contains: "svgd, accelerated-svgd, mirrored-svgd, svmd, ksd-descent, mmd, underdamped-mmd, langevin"),
            Row(
                "init", "init = { kind = \"gaussian\"", "init = { kind = \"sobol\"", 14,
                "population.init.kind: unknown value \"sobol\" (one of: gaussian, uniform, file, dirichlet)"),
            Row(
                "metric", "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"wasserstein\"]", 20,
                "record.metrics: unknown value \"wasserstein\" (an array of: \(MetricRegistry.names.joined(separator: ", ")))"
            ),
            Row(
                "metric twice", "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"ksd\"]", 20,
                "record.metrics: \"ksd\" is listed twice"),
            // MARK: record.format: csv or h5md; with h5md a population name must name an HDF5 group
            Row(
                "hdf5", "metrics = [\"ksd\", \"mean-error\"]", "metrics = [\"ksd\", \"mean-error\"]\nformat = \"hdf5\"",
                21, "record.format: unknown value \"hdf5\" (one of: csv, h5md)"),
            Row(
                "h5md with a/b",
                edit(
                    slash, "metrics = [\"ksd\", \"mean-error\"]",
                    "metrics = [\"ksd\", \"mean-error\"]\nformat = \"h5md\""), 22,
                "record.format: population name \"a/b\" cannot name an HDF5 group (no '/'): rename it, or record as csv"
            ),
            // MARK: Bad kernel specs
            Row(
                "negative sigma", kernel("gaussian:sigma=-1"), 18,
                "flow.kernel: kernel gaussian: sigma = -1 is out of range (", prefixOnly: true,
                suffix: " (or sigma=median)"),
            Row(
                "unknown kernel", kernel("cauchy:scale=1"), 18, "flow.kernel: unknown kernel 'cauchy' (known: ",
                prefixOnly: true),
            Row(
                "no value", kernel("gaussian:sigma"), 18,
                "flow.kernel: malformed parameter 'sigma' in kernel spec 'gaussian:sigma' (expected PARAM=VALUE)"),
            Row(
                "unknown parameter", kernel("gaussian:width=2"), 18,
                "flow.kernel: kernel gaussian has no parameter 'width' (allowed: ", prefixOnly: true),
            // In the record table (mmd-kernel).
            Row(
                "mmd-kernel", "\"mean-error\"]\n", "\"mean-error\", \"mmd\"]\nmmd-kernel = \"riesz:r=5\"\n", 21,
                "record.mmd-kernel: kernel riesz: r = 5 is out of range (", prefixOnly: true),
            // MARK: Covariances
            Row("not positive", text, 9, "target.covariance: not symmetric positive definite (\(spd))"),
            Row(
                "not symmetric", gaussianTarget(covariance: "[[1, 0.5], [0, 1]]"), 9,
                "target.covariance: not symmetric positive definite (\(spd))"),
            Row(
                "3 rows", gaussianTarget(covariance: "[[1, 0], [0, 1], [0, 0]]"), 9,
                "target.covariance: expected a 2×2 matrix (an array of rows), found an array of 3 values"),
            // MARK: Both std and covariance
            Row(
                "target", gaussianTarget(covariance: "[[1, 0], [0, 1]]\nstd = 2"), 10,
                "target.std: give either covariance or std, not both"),
            Row(
                "population.init", "std = 0.5 }", "std = 0.5, covariance = [[1, 0], [0, 1]] }", 14,
                "population.init.std: give either covariance or std, not both"),
            // MARK: Vectors of the wrong length
            Row(
                "inline table", "mean = [0, 4]", "mean = [0, 4, 1]", 14,
                "population.init.mean: expected an array of 2 numbers, found an array of 3 values"),
            Row(
                "table", "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }",
                "[population.init]\nkind = \"gaussian\"\nmean = [0]", 16,
                "population.init.mean: expected an array of 2 numbers, found an array of 1 value"),
            // MARK: Expectations
            Row(
                "both bounds", "at-most = 10\n", "at-most = 10\nat-least = 1\n", 25,
                "expect[1].at-least: give at-most or at-least, not both"),
            Row(
                "no bound", "at-most = 10\n", "", 22,
                "expect[1]: missing at-most or at-least (one threshold is required)"),
            Row(
                "not recorded", "metric = \"ksd\"", "metric = \"cov-error\"", 23,
                "expect[1].metric: \"cov-error\" is not recorded (add it to record.metrics; recorded: ksd, mean-error)"),
            Row(
                "by-step beyond the steps", "by-step = 4", "by-step = 6", 29,
                "expect[2].by-step: 6 is out of range (an integer in [0, 5] (the scenario's steps))"),
            Row("no metric", "metric = \"mean-error\"\n", "", 26, "expect[2].metric: missing (required: a string)"),
            Row(
                "string bound", "at-most = 10", "at-most = \"low\"", 24,
                "expect[1].at-most: expected a number, found the string \"low\" (any finite number)"),
            // Nothing recorded.
            Row(
                "nothing recorded", "metrics = [\"ksd\", \"mean-error\"]", "metrics = []", 23,
                "expect[1].metric: \"ksd\" is not recorded (add it to record.metrics; recorded: none)"),
            // MARK: Metrics the scenario cannot provide
            Row(
                "energy of svgd", "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"energy\"]", 20,
                "record.metrics: energy is not defined for this flow (svgd has no tractable objective; use ksd)"),
            // MARK: Uniform initialisations
            Row(
                "high = low", "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }",
                "init = { kind = \"uniform\", low = [0, 1], high = [1, 1] }", 14,
                "population.init.high: must exceed low in every coordinate (coordinate 2: low 1, high 1)"),
        ]
    }

    func testEveryErrorOfTheBaseScenarioIsLocated() { check(Self.baseScenarioErrors) }

    /// What the table relies on: the covariance's line, and the scenarios next to its rows that load.
    func testTheTablesNeighboursLoad() {
        XCTAssertEqual(lineOf("covariance", in: Self.notPositive), 9)
        XCTAssertNoThrow(
            try ScenarioLoader.load(path: dir.write("csv.toml", Self.slash), threads: 1), "a/b is a fine CSV name")
        // A valid covariance loads.
        let ok = dir.write("ok.toml", Self.gaussianTarget(covariance: "[[1, 0.5], [0.5, 2]]"))
        XCTAssertNoThrow(try ScenarioLoader.load(path: ok, threads: 1))
    }

    /// A samples target: `target.csv` next to the scenario, `data/` below it.
    func samplesScenario(
        file: String = "target.csv", flow: String = "mmd", metrics: String = "[\"mmd\"]",
        initialisation: String = "init = { kind = \"uniform\", low = -1, high = 1 }\ncount = 10"
    ) -> String {
        """
        steps = 2
        step-size = 0.1

        [target]
        kind = "samples"
        file = "\(file)"

        [population]
        \(initialisation)

        [flow]
        kind = "\(flow)"

        [record]
        metrics = \(metrics)

        """
    }

    /// ksd-descent takes the targets with an exact Hessian, formula and data targets included;
    /// another (banana) is an error at flow.kind.
    func testKSDDescentNeedsAnExactHessian() {
        func ksdDescent(_ target: String) -> String {
            edit(edit(baseScenario, Self.mixtureTarget, target), "kind = \"svgd\"\n", "kind = \"ksd-descent\"\n")
        }
        check([
            Row(
                "banana", ksdDescent("[target]\nkind = \"banana\"\n"), 14,
                "flow.kind: ksd-descent needs a target with an exact Hessian of log π "
                    + "(gaussian, gaussian-mixture, logistic-regression, formula, data)")
        ])
        let formula = ksdDescent(
            "[target]\nkind = \"formula\"\ndimension = 2\nlog-density = \"-0.5*norm2(x)\"\n"
                + "mean = [0, 0]\ncovariance = [[1, 0], [0, 1]]\n")
        XCTAssertNoThrow(try ScenarioLoader.load(path: dir.write("ok.toml", formula), threads: 1))
    }

    /// A sparse deconvolution scenario (no target: the flow sets d from its spikes).
    static func deconvolution(
        spikes: String = "[[0.1], [0.6]]", masses: String = "[1, 0.5]", measurements: String = "cutoff = 5",
        metrics: String = "[\"spike-mass-error\"]"
    ) -> String {
        """
        steps = 5
        step-size = 0.1

        [population]
        count = 10
        init = { kind = "uniform", low = 0, high = 1 }

        [flow]
        kind = "sparse-deconvolution"
        spikes = \(spikes)
        masses = \(masses)
        \(measurements)

        [record]
        metrics = \(metrics)

        """
    }

    /// Bad ground truths and measurements are located at their keys: spikes outside the torus,
    /// in 3-D, negative or missing masses, a cutoff whose measurements do not fit in memory, no
    /// grid points; the spike metrics need the flow.
    func testSparseDeconvolutionErrors() {
        check([
            Row(
                "spike outside", Self.deconvolution(spikes: "[[0.1], [1.5]]"), 10,
                "flow.spikes: spike 2, coordinate 1 is 1.5, outside the torus [0, 1)"),
            Row(
                "negative spike", Self.deconvolution(spikes: "[[-0.1], [0.5]]"), 10,
                "flow.spikes: spike 1, coordinate 1 is -0.1, outside the torus [0, 1)"),
            Row(
                "3-D spikes", Self.deconvolution(spikes: "[[0.1, 0.2, 0.3]]", masses: "[1]"), 10,
                "flow.spikes: spikes have 3 coordinates; the torus has dimension 1 or 2"),
            Row(
                "ragged spikes", Self.deconvolution(spikes: "[[0.1, 0.2], [0.3]]"), 10,
                "flow.spikes: rows of different lengths", prefixOnly: true),
            Row(
                "negative mass", Self.deconvolution(masses: "[1, -0.5]"), 11,
                "flow.masses: -0.5 is out of range (a number ≥ 0)"),
            Row(
                "masses too few", Self.deconvolution(masses: "[1]"), 11,
                "flow.masses: expected an array of 2 numbers", prefixOnly: true),
            Row(
                "masses missing", Self.deconvolution().replacingOccurrences(of: "masses = [1, 0.5]\n", with: ""), 8,
                "flow.masses: missing", prefixOnly: true),
            Row(
                "cutoff too large",
                Self.deconvolution(spikes: "[[0.1, 0.1]]", masses: "[1]", measurements: "cutoff = 1000000"),
                12, "flow.cutoff: ", prefixOnly: true, contains: "measurements"),
            Row(
                "cutoff zero", Self.deconvolution(measurements: "cutoff = 0"), 12,
                "flow.cutoff: 0 is out of range (an integer from 1 to 10⁶)"),
            Row(
                "no grid points",
                Self.deconvolution(measurements: "measurements = \"gaussian\"\ngrid = 0\nwidth = 0.1"), 13,
                "flow.grid: 0 is out of range (an integer from 1 to 10⁶)"),
            Row(
                "zero width",
                Self.deconvolution(measurements: "measurements = \"gaussian\"\ngrid = 10\nwidth = 0"), 14,
                "flow.width: 0 is out of range (a number > 0)"),
        ])
        let svgd = edit(baseScenario, "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"spike-mass-error\"]")
        check([
            Row(
                "metric without the flow", svgd, 20,
                "record.metrics: spike-mass-error needs the sparse-deconvolution flow (its ground truth)")
        ])
        XCTAssertNoThrow(try ScenarioLoader.load(path: dir.write("ok.toml", Self.deconvolution()), threads: 1))
    }

    func testScoreNeededButSamplesTarget() {
        dir.write("target.csv", "x1,x2\n0,0\n1,1\n2,0\n")
        check([
            Row(
                "ksd", samplesScenario(metrics: "[\"mmd\", \"ksd\"]"), 16,
                "record.metrics: ksd needs the target's score, and a samples target has none (use mmd, w2 or energy-distance)"
            ),
            Row(
                "svgd", samplesScenario(flow: "svgd"), 13,
                "flow.kind: svgd needs a target with a score (gaussian, gaussian-mixture, banana), not samples"),
        ])
        // The same scenario with the mmd flow and sample-based metrics loads.
        XCTAssertNoThrow(
            try ScenarioLoader.load(
                path: dir.write(
                    "ok.toml", samplesScenario(metrics: "[\"mmd\", \"mean-error\", \"cov-error\", \"energy\"]")),
                threads: 1))
    }

    /// `batches = "dpp"` refuses an R × B kernel over ``MinibatchSchedule/dppEntryLimit`` at
    /// `batch-size` before building it, and names the allowed `batches`; under the limit it loads.
    func testDPPBatchesAreRefusedOverTheLimit() {
        dir.write("rows.csv", "x1,x2\n" + (0..<5000).map { "\(Double($0) / 5000),\($0 % 2)\n" }.joined())
        func scenario(_ batchSize: Int, _ batches: String) -> String {
            """
            steps = 2
            step-size = 0.1

            [target]
            kind = "logistic-regression"
            data = "rows.csv"
            prior = "gaussian"
            batch-size = \(batchSize)
            batches = "\(batches)"

            [population]
            count = 4
            init = { kind = "gaussian", mean = [0, 0], std = 0.1 }

            [flow]
            kind = "svgd"

            """
        }
        check([
            Row(
                "over the limit", scenario(4000, "dpp"), 8,
                "target.batch-size: 4000 with batches = \"dpp\": the DPP's kernel keeps 5000 rows × 4000 values, over the limit of 16777216 (R × B); take a smaller batch-size or batches = \"epoch\""
            ),
            Row("unknown batches", scenario(50, "dp"), 9, "target.batches:", prefixOnly: true, contains: "dpp"),
        ])
        XCTAssertNoThrow(try ScenarioLoader.load(path: dir.write("ok.toml", scenario(50, "dpp")), threads: 1))
    }

    func testSampleFileErrors() {
        dir.write("ragged.csv", "x1,x2\n0,0\n1\n2,0\n")
        dir.write("data/words.csv", "x1,x2\n0,abc\n")
        dir.write("header.csv", "x,y\n0,0\n")
        dir.write("empty.csv", "x1\n")
        check([
            Row(
                "missing", samplesScenario(file: "nowhere.csv"), 6, "target.file: \(dir.path)/nowhere.csv: cannot read",
                prefixOnly: true),
            Row(
                "ragged", samplesScenario(file: "ragged.csv"), 6,
                "target.file: \(dir.path)/ragged.csv:3: 1 fields, the header has 2"),
            Row(
                "not a number", samplesScenario(file: "data/words.csv"), 6,
                "target.file: \(dir.path)/data/words.csv:2: column x2: 'abc' is not a number"),
            Row(
                "header", samplesScenario(file: "header.csv"), 6,
                "target.file: \(dir.path)/header.csv:1: header 'x,y' is not x1,...,xd"),
            Row("no rows", samplesScenario(file: "empty.csv"), 6, "target.file: \(dir.path)/empty.csv:2: no data rows"),
            Row(
                "integer for a path", edit(samplesScenario(), "file = \"target.csv\"", "file = 3"), 6,
                "target.file: expected a file path (a string), found the integer 3"),
        ])
    }

    func testInitFileErrors() {
        dir.write("target.csv", "x1,x2\n0,0\n1,1\n2,0\n")
        dir.write("one-column.csv", "x1\n0\n1\n")
        dir.write("five.csv", "x1,x2\n0,0\n1,0\n2,0\n3,0\n4,0\n")
        check([
            Row(
                "columns", samplesScenario(initialisation: "init = { kind = \"file\", file = \"one-column.csv\" }"), 9,
                "population.init.file: has 1 columns but the scenario is 2-dimensional (header x1,...,x2)"),
            Row(
                "count", samplesScenario(initialisation: "init = { kind = \"file\", file = \"five.csv\" }\ncount = 7"),
                10, "population.count: 7 differs from the 5 rows of init.file (omit count, or make them agree)"),
        ])
    }
}
