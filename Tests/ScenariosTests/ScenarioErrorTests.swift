import Foundation
import Flows
import Scenarios
import XCTest

/// Every error names `FILE:LINE: key.path: what (allowed)`.
final class ScenarioErrorTests: XCTestCase {
    var dir: TempDirectory!

    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    /// Writes `text` and returns (path, the load error).
    func fails(_ text: String, overrides: [String] = [], name: String = "s.toml",
               file: StaticString = #filePath, line: UInt = #line) -> (String, String) {
        let path = dir.write(name, text)
        return (path, loadError(path, overrides: overrides, file: file, line: line))
    }

    func testUnknownTopLevelKey() {
        let (p, e) = fails(edit(baseScenario, "step-size = 0.05\n", "step-size = 0.05\nrecord-evry = 2\n"))
        XCTAssertEqual(e, "\(p):5: record-evry: unknown key (did you mean 'record-every'?) (allowed here: title, seed, steps, step-size, record-every, checkpoint-every, checkpoint-seconds, target, population, flow, record, expect)")
        // Far from every key: no suggestion.
        let (p2, e2) = fails(edit(baseScenario, "seed = 3\n", "seed = 3\nzzzzzzzz = 1\n"))
        XCTAssertEqual(e2, "\(p2):3: zzzzzzzz: unknown key (allowed here: title, seed, steps, step-size, record-every, checkpoint-every, checkpoint-seconds, target, population, flow, record, expect)")
    }

    func testUnknownKeyInASubtable() {
        let (p, e) = fails(edit(baseScenario, "count = 20\n", "count = 20\ncuont = 20\n"))
        XCTAssertEqual(e, "\(p):14: population.cuont: unknown key (did you mean 'count'?) (allowed here: name, init, count)")
        let (p2, e2) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\noptimiser = \"sgd\"\n"))
        XCTAssertEqual(e2, "\(p2):18: flow.optimiser: unknown key (did you mean 'optimizer'?) (allowed here: kind, kernel, median-sample, optimizer, adagrad-alpha, adagrad-fudge, summation, tolerance)")
        // In an array of tables.
        let (p3, e3) = fails(edit(baseScenario, "at-most = 10\n", "at-most = 10\nbystep = 3\n"))
        XCTAssertEqual(e3, "\(p3):25: expect[1].bystep: unknown key (did you mean 'by-step'?) (allowed here: metric, at-most, by-step)")
    }

    func testUnknownKeyInAnInlineTable() {
        let (p, e) = fails(edit(baseScenario, "std = 0.5 }", "std = 0.5, meen = [1, 2] }"))
        XCTAssertEqual(e, "\(p):14: population.init.meen: unknown key (did you mean 'mean'?) (allowed here: kind, mean, std)")
    }

    func testUnknownTable() {
        let (p, e) = fails(baseScenario + "\n[output]\ndir = \"x\"\n")
        XCTAssertEqual(e, "\(p):31: output: unknown key (allowed here: title, seed, steps, step-size, record-every, checkpoint-every, checkpoint-seconds, target, population, flow, record, expect)")
    }

    func testWrongType() {
        let (p, e) = fails(edit(baseScenario, "step-size = 0.05", "step-size = \"fast\""))
        XCTAssertEqual(e, "\(p):4: step-size: expected a number, found the string \"fast\" (a number > 0)")
        let (p2, e2) = fails(edit(baseScenario, "steps = 5", "steps = 5.0"))
        XCTAssertEqual(e2, "\(p2):3: steps: expected an integer, found the number 5.0 (an integer ≥ 0)")
        let (p3, e3) = fails(edit(baseScenario, "title = \"tiny\"", "title = 3"))
        XCTAssertEqual(e3, "\(p3):1: title: expected a string, found the integer 3 (a string)")
        let (p4, e4) = fails(edit(baseScenario, "std = 0.6", "std = [0.6, \"x\"]"))
        XCTAssertEqual(e4, "\(p4):10: target.std: expected numbers, found the string \"x\" (an array of 2 numbers)")
        let noFlow = edit(edit(baseScenario, "[flow]\nkind = \"svgd\"\n", ""), "seed = 3\n", "seed = 3\nflow = \"svgd\"\n")
        let (p5, e5) = fails(noFlow)
        XCTAssertEqual(e5, "\(p5):3: flow: expected a table, found the string \"svgd\"")
        let (p6, e6) = fails(edit(baseScenario, "metrics = [\"ksd\", \"mean-error\"]", "metrics = \"ksd\""))
        XCTAssertEqual(e6, "\(p6):20: record.metrics: expected an array, found the string \"ksd\" (an array of: \(MetricRegistry.names.joined(separator: ", ")))")
        let single = String(baseScenario[..<baseScenario.range(of: "[[expect]]")!.lowerBound]) + "[expect]\nmetric = \"ksd\"\nat-most = 1\n"
        let (p7, e7) = fails(single)
        XCTAssertEqual(e7, "\(p7):22: expect: expected an array of tables ([[expect]]), found a single table")
    }

    func testOutOfRange() {
        let (p, e) = fails(edit(baseScenario, "count = 20", "count = 0"))
        XCTAssertEqual(e, "\(p):13: population.count: 0 is out of range (an integer from 1 to 2147483647)")
        let (p2, e2) = fails(edit(baseScenario, "step-size = 0.05", "step-size = -1"))
        XCTAssertEqual(e2, "\(p2):4: step-size: -1 is out of range (a number > 0)")
        let (p3, e3) = fails(edit(baseScenario, "std = 0.6", "std = [0.6, -0.1]"))
        XCTAssertEqual(e3, "\(p3):10: target.std: -0.1 is out of range (a number in [1e-150, 1e+150]: its square must be a positive double)")
        let (p4, e4) = fails(edit(baseScenario, "step-size = 0.05", "step-size = inf"))
        XCTAssertEqual(e4, "\(p4):4: step-size: inf is out of range (a number > 0)")
        let (p5, e5) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nadagrad-alpha = 1.5\n"))
        XCTAssertEqual(e5, "\(p5):18: flow.adagrad-alpha: 1.5 is out of range (a number in [0, 1])")
        let (p6, e6) = fails(edit(baseScenario, "seed = 3", "seed = -1"))
        XCTAssertEqual(e6, "\(p6):2: seed: -1 is out of range (an integer ≥ 0)")
    }

    func testMissingRequiredKey() {
        let (p, e) = fails(edit(baseScenario, "steps = 5\n", ""))
        XCTAssertEqual(e, "\(p):1: steps: missing (required: an integer ≥ 0)")
        // Missing in a sub-table: located at the table's header.
        let (p2, e2) = fails(edit(baseScenario, "count = 20\n", ""))
        XCTAssertEqual(e2, "\(p2):12: population.count: missing (required: an integer from 1 to 2147483647)")
        let (p3, e3) = fails(edit(baseScenario, "kind = \"svgd\"\n", ""))
        XCTAssertEqual(e3, "\(p3):16: flow.kind: missing (required: one of: \(FlowRegistry.names.joined(separator: ", ")))")
        // Missing in an inline table: located at its line.
        let (p4, e4) = fails(edit(baseScenario, "mean = [0, 4], ", ""))
        XCTAssertEqual(e4, "\(p4):14: population.init.mean: missing (required: an array of 2 numbers)")
    }

    func testMissingTable() {
        let (p, e) = fails(edit(baseScenario, "[flow]\nkind = \"svgd\"\n", ""))
        XCTAssertEqual(e, "\(p):1: flow: missing (a table is required)")
        let (p2, e2) = fails(edit(baseScenario, "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }\n", ""))
        XCTAssertEqual(e2, "\(p2):12: population.init: missing (a table is required)")
    }

    func testUnknownKind() {
        let (p, e) = fails(edit(baseScenario, "kind = \"gaussian-mixture\"", "kind = \"cauchy\""))
        XCTAssertEqual(e, "\(p):7: target.kind: unknown value \"cauchy\" (one of: \(TargetRegistry.names.joined(separator: ", ")))")
        XCTAssertTrue(e.contains("gaussian, gaussian-mixture, banana, samples"), e)
        let (p2, e2) = fails(edit(baseScenario, "kind = \"svgd\"", "kind = \"wfr\""))
        XCTAssertEqual(e2, "\(p2):17: flow.kind: unknown value \"wfr\" (one of: \(FlowRegistry.names.joined(separator: ", ")))")
        XCTAssertTrue(e2.contains("svgd, mmd, langevin, two-layer-network"), e2)
        let (p3, e3) = fails(edit(baseScenario, "init = { kind = \"gaussian\"", "init = { kind = \"sobol\""))
        XCTAssertEqual(e3, "\(p3):14: population.init.kind: unknown value \"sobol\" (one of: gaussian, uniform, file)")
        let (p4, e4) = fails(edit(baseScenario, "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"wasserstein\"]"))
        XCTAssertEqual(e4, "\(p4):20: record.metrics: unknown value \"wasserstein\" (an array of: \(MetricRegistry.names.joined(separator: ", ")))")
        let (p5, e5) = fails(edit(baseScenario, "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"ksd\"]"))
        XCTAssertEqual(e5, "\(p5):20: record.metrics: \"ksd\" is listed twice")
    }

    /// `record.format` is csv or h5md; with h5md a population name must name an HDF5 group.
    func testRecordFormat() {
        let (p, e) = fails(edit(baseScenario, "metrics = [\"ksd\", \"mean-error\"]", "metrics = [\"ksd\", \"mean-error\"]\nformat = \"hdf5\""))
        XCTAssertEqual(e, "\(p):21: record.format: unknown value \"hdf5\" (one of: csv, h5md)")
        let slash = edit(baseScenario, "count = 20\n", "count = 20\nname = \"a/b\"\n")
        XCTAssertNoThrow(try ScenarioLoader.load(path: dir.write("csv.toml", slash), threads: 1), "a/b is a fine CSV name")
        let (p2, e2) = fails(edit(slash, "metrics = [\"ksd\", \"mean-error\"]", "metrics = [\"ksd\", \"mean-error\"]\nformat = \"h5md\""))
        XCTAssertEqual(e2, "\(p2):22: record.format: population name \"a/b\" cannot name an HDF5 group (no '/'): rename it, or record as csv")
    }

    func testBadKernelSpec() {
        let (p, e) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nkernel = \"gaussian:sigma=-1\"\n"))
        XCTAssertTrue(e.hasPrefix("\(p):18: flow.kernel: kernel gaussian: sigma = -1 is out of range ("), e)
        XCTAssertTrue(e.hasSuffix(" (or sigma=median)"), e)
        let (p2, e2) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nkernel = \"cauchy:scale=1\"\n"))
        XCTAssertTrue(e2.hasPrefix("\(p2):18: flow.kernel: unknown kernel 'cauchy' (known: "), e2)
        let (p3, e3) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nkernel = \"gaussian:sigma\"\n"))
        XCTAssertEqual(e3, "\(p3):18: flow.kernel: malformed parameter 'sigma' in kernel spec 'gaussian:sigma' (expected PARAM=VALUE)")
        let (p4, e4) = fails(edit(baseScenario, "kind = \"svgd\"\n", "kind = \"svgd\"\nkernel = \"gaussian:width=2\"\n"))
        XCTAssertTrue(e4.hasPrefix("\(p4):18: flow.kernel: kernel gaussian has no parameter 'width' (allowed: "), e4)
        // In the record table (mmd-kernel).
        let (p5, e5) = fails(edit(baseScenario, "\"mean-error\"]\n", "\"mean-error\", \"mmd\"]\nmmd-kernel = \"riesz:r=5\"\n"))
        XCTAssertTrue(e5.hasPrefix("\(p5):21: record.mmd-kernel: kernel riesz: r = 5 is out of range ("), e5)
    }

    static let gaussianTarget = "[target]\nkind = \"gaussian\"\nmean = [0, 0]\n"
    static let mixtureTarget = "[target]\nkind = \"gaussian-mixture\"\nweights = [0.5, 0.5]\nmeans = [[-2, 0], [2, 0]]\nstd = 0.6\n"

    func testCovarianceNotSPD() {
        let text = edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = [[1, 2], [2, 1]]\n")
        let (p, e) = fails(text)
        XCTAssertEqual(lineOf("covariance", in: text), 9)
        XCTAssertEqual(e, "\(p):9: target.covariance: not symmetric positive definite (a symmetric 2×2 matrix with positive eigenvalues)")
        let (p2, e2) = fails(edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = [[1, 0.5], [0, 1]]\n"))
        XCTAssertEqual(e2, "\(p2):9: target.covariance: not symmetric positive definite (a symmetric 2×2 matrix with positive eigenvalues)")
        let (p3, e3) = fails(edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = [[1, 0], [0, 1], [0, 0]]\n"))
        XCTAssertEqual(e3, "\(p3):9: target.covariance: expected a 2×2 matrix (an array of rows), found an array of 3 values")
        // A valid covariance loads.
        let ok = dir.write("ok.toml", edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = [[1, 0.5], [0.5, 2]]\n"))
        XCTAssertNoThrow(try ScenarioLoader.load(path: ok, threads: 1))
    }

    func testBothStdAndCovariance() {
        let (p, e) = fails(edit(baseScenario, Self.mixtureTarget, Self.gaussianTarget + "covariance = [[1, 0], [0, 1]]\nstd = 2\n"))
        XCTAssertEqual(e, "\(p):10: target.std: give either covariance or std, not both")
        let (p2, e2) = fails(edit(baseScenario, "std = 0.5 }", "std = 0.5, covariance = [[1, 0], [0, 1]] }"))
        XCTAssertEqual(e2, "\(p2):14: population.init.std: give either covariance or std, not both")
    }

    func testInitMeanOfWrongLength() {
        let (p, e) = fails(edit(baseScenario, "mean = [0, 4]", "mean = [0, 4, 1]"))
        XCTAssertEqual(e, "\(p):14: population.init.mean: expected an array of 2 numbers, found an array of 3 values")
        let (p2, e2) = fails(edit(baseScenario, "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }",
                                  "[population.init]\nkind = \"gaussian\"\nmean = [0]"))
        XCTAssertEqual(e2, "\(p2):16: population.init.mean: expected an array of 2 numbers, found an array of 1 value")
    }

    func testExpectationErrors() {
        let (p, e) = fails(edit(baseScenario, "at-most = 10\n", "at-most = 10\nat-least = 1\n"))
        XCTAssertEqual(e, "\(p):25: expect[1].at-least: give at-most or at-least, not both")
        let (p2, e2) = fails(edit(baseScenario, "at-most = 10\n", ""))
        XCTAssertEqual(e2, "\(p2):22: expect[1]: missing at-most or at-least (one threshold is required)")
        let (p3, e3) = fails(edit(baseScenario, "metric = \"ksd\"", "metric = \"cov-error\""))
        XCTAssertEqual(e3, "\(p3):23: expect[1].metric: \"cov-error\" is not recorded (add it to record.metrics; recorded: ksd, mean-error)")
        let (p4, e4) = fails(edit(baseScenario, "by-step = 4", "by-step = 6"))
        XCTAssertEqual(e4, "\(p4):29: expect[2].by-step: 6 is out of range (an integer in [0, 5] (the scenario's steps))")
        let (p5, e5) = fails(edit(baseScenario, "metric = \"mean-error\"\n", ""))
        XCTAssertEqual(e5, "\(p5):26: expect[2].metric: missing (required: a string)")
        let (p6, e6) = fails(edit(baseScenario, "at-most = 10", "at-most = \"low\""))
        XCTAssertEqual(e6, "\(p6):24: expect[1].at-most: expected a number, found the string \"low\" (any finite number)")
        // Nothing recorded.
        let (p7, e7) = fails(edit(baseScenario, "metrics = [\"ksd\", \"mean-error\"]", "metrics = []"))
        XCTAssertEqual(e7, "\(p7):23: expect[1].metric: \"ksd\" is not recorded (add it to record.metrics; recorded: none)")
    }

    func testMetricsThatTheScenarioCannotProvide() {
        let (p, e) = fails(edit(baseScenario, "[\"ksd\", \"mean-error\"]", "[\"ksd\", \"energy\"]"))
        XCTAssertEqual(e, "\(p):20: record.metrics: energy is not defined for this flow (svgd has no tractable objective; use ksd)")
    }

    /// A samples target: `target.csv` next to the scenario, `data/` below it.
    func samplesScenario(file: String = "target.csv", flow: String = "mmd", metrics: String = "[\"mmd\"]",
                         initialisation: String = "init = { kind = \"uniform\", low = -1, high = 1 }\ncount = 10") -> String {
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

    func testScoreNeededButSamplesTarget() {
        dir.write("target.csv", "x1,x2\n0,0\n1,1\n2,0\n")
        let (p, e) = fails(samplesScenario(metrics: "[\"mmd\", \"ksd\"]"))
        XCTAssertEqual(e, "\(p):16: record.metrics: ksd needs a target with a score (not samples)")
        let (p2, e2) = fails(samplesScenario(flow: "svgd"))
        XCTAssertEqual(e2, "\(p2):13: flow.kind: svgd needs a target with a score (gaussian, gaussian-mixture, banana), not samples")
        // The same scenario with the mmd flow and sample-based metrics loads.
        XCTAssertNoThrow(try ScenarioLoader.load(path: dir.write("ok.toml", samplesScenario(metrics: "[\"mmd\", \"mean-error\", \"cov-error\", \"energy\"]")), threads: 1))
    }

    func testSampleFileErrors() {
        let missing = dir.path + "/nowhere.csv"
        let (p, e) = fails(samplesScenario(file: "nowhere.csv"))
        XCTAssertTrue(e.hasPrefix("\(p):6: target.file: \(missing): cannot read"), e)

        dir.write("ragged.csv", "x1,x2\n0,0\n1\n2,0\n")
        let (p2, e2) = fails(samplesScenario(file: "ragged.csv"))
        XCTAssertEqual(e2, "\(p2):6: target.file: \(dir.path)/ragged.csv:3: 1 fields, the header has 2")

        dir.write("data/words.csv", "x1,x2\n0,abc\n")
        let (p3, e3) = fails(samplesScenario(file: "data/words.csv"))
        XCTAssertEqual(e3, "\(p3):6: target.file: \(dir.path)/data/words.csv:2: column x2: 'abc' is not a number")

        dir.write("header.csv", "x,y\n0,0\n")
        let (p4, e4) = fails(samplesScenario(file: "header.csv"))
        XCTAssertEqual(e4, "\(p4):6: target.file: \(dir.path)/header.csv:1: header 'x,y' is not x1,...,xd")

        dir.write("empty.csv", "x1\n")
        let (p5, e5) = fails(samplesScenario(file: "empty.csv"))
        XCTAssertEqual(e5, "\(p5):6: target.file: \(dir.path)/empty.csv:2: no data rows")

        let (p6, e6) = fails(edit(samplesScenario(), "file = \"target.csv\"", "file = 3"))
        XCTAssertEqual(e6, "\(p6):6: target.file: expected a file path (a string), found the integer 3")
    }

    func testInitFileErrors() {
        dir.write("target.csv", "x1,x2\n0,0\n1,1\n2,0\n")
        dir.write("one-column.csv", "x1\n0\n1\n")
        let (p, e) = fails(samplesScenario(initialisation: "init = { kind = \"file\", file = \"one-column.csv\" }"))
        XCTAssertEqual(e, "\(p):9: population.init.file: has 1 columns but the scenario is 2-dimensional (header x1,...,x2)")

        dir.write("five.csv", "x1,x2\n0,0\n1,0\n2,0\n3,0\n4,0\n")
        let (p2, e2) = fails(samplesScenario(initialisation: "init = { kind = \"file\", file = \"five.csv\" }\ncount = 7"))
        XCTAssertEqual(e2, "\(p2):10: population.count: 7 differs from the 5 rows of init.file (omit count, or make them agree)")
    }

    func testUniformInitErrors() {
        let (p, e) = fails(edit(baseScenario, "init = { kind = \"gaussian\", mean = [0, 4], std = 0.5 }",
                                "init = { kind = \"uniform\", low = [0, 1], high = [1, 1] }"))
        XCTAssertEqual(e, "\(p):14: population.init.high: must exceed low in every coordinate (coordinate 2: low 1, high 1)")
    }
}
