import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// `--set KEY=VALUE`: the `overrides:` parameter of ScenarioLoader.load.
final class OverrideTests: XCTestCase {
    var dir: TempDirectory!
    var path: String!

    override func setUp() {
        dir = TempDirectory()
        path = dir.write("tiny.toml", baseScenario)
    }
    override func tearDown() { dir = nil }

    func load(_ overrides: [String]) throws -> LoadedScenario {
        try ScenarioLoader.load(path: path, overrides: overrides, threads: 1)
    }

    /// Loads the base scenario with each row's override, which must fail with the row's error;
    /// a failure names the override.
    func assertRefused(_ rows: [(override: String, error: String)], file: StaticString = #filePath, line: UInt = #line)
    {
        for row in rows {
            XCTAssertEqual(
                loadError(path, overrides: [row.override], file: file, line: line), row.error, "--set \(row.override)",
                file: file, line: line)
        }
    }

    func testOverrideChangesAValue() throws {
        let s = try load(["population.count=7"])
        XCTAssertEqual(s.simulation.state.populations[0].count, 7)
        XCTAssertTrue(lines(s.resolvedTOML).contains("count = 7"), s.resolvedTOML)
        XCTAssertFalse(lines(s.resolvedTOML).contains("count = 20"), s.resolvedTOML)
        // Several overrides, the last one wins; spaces around the key are ignored.
        let t = try load(["steps=8", " steps =9", "step-size=0.5", "title=\"new title\""])
        XCTAssertEqual(t.simulation.steps, 9)
        XCTAssertEqual(t.simulation.stepSize, 0.5)
        XCTAssertEqual(t.simulation.title, "new title")
        XCTAssertTrue(lines(t.resolvedTOML).contains("steps = 9"))
    }

    func testInvalidOverrideIsLocatedAtTheOverride() {
        assertRefused([
            (
                "population.count=0",
                "--set population.count=0: population.count: 0 is out of range (an integer from 1 to 2147483647)"
            ),
            (
                "step-size=\"big\"",
                "--set step-size=\"big\": step-size: expected a number, found the string \"big\" (a number > 0)"
            ),
            // An unquoted word is a string.
            ("steps=many", "--set steps=many: steps: expected an integer, found the string \"many\" (an integer ≥ 0)"),
            (
                "target.kind=cauchy",
                "--set target.kind=cauchy: target.kind: unknown value \"cauchy\" (one of: \(TargetRegistry.names.joined(separator: ", ")))"
            ),
            // Errors elsewhere keep their file and line.
            (
                "record.metrics=[\"ksd\"]",
                "\(path!):27: expect[2].metric: \"mean-error\" is not recorded (add it to record.metrics; recorded: ksd)"
            ),
        ])
    }

    /// A standard deviation whose square underflows is refused (found by fuzzing: the
    /// covariance was not positive definite and release builds read past it).
    func testStandardDeviationsWhoseSquareUnderflowAreRefused() {
        let range = "a number in [1e-150, 1e+150]: its square must be a positive double"
        assertRefused([
            ("target.std=1e-300", "--set target.std=1e-300: target.std: 1e-300 is out of range (\(range))"),
            (
                "population.init.std=1e-200",
                "--set population.init.std=1e-200: population.init.std: 1e-200 is out of range (\(range))"
            ),
        ])
        XCTAssertNoThrow(try ScenarioLoader.load(path: path, overrides: ["target.std=1e-150"], threads: 1))
    }

    /// Steps cut from the command line (a trial run, the first leg of a resumed run) may leave
    /// an expectation beyond the end: it loads, and is judged failed if checked.
    func testShortenedStepsKeepLaterExpectations() throws {
        let s = try load(["steps=3"])
        XCTAssertEqual(s.simulation.expectations[1].byStep, 4)
        XCTAssertFalse(s.simulation.expectations[1].judge([(0, 1.0), (3, 1.0)]).passed)
    }

    func testUnquotedStrings() throws {
        let s = try load(["flow.kernel=gaussian:sigma=2"])
        XCTAssertTrue(lines(s.resolvedTOML).contains(#"kernel = "gaussian:sigma=2""#), s.resolvedTOML)
        let t = try load(["title=hello world", "flow.optimizer=sgd"])
        XCTAssertEqual(t.simulation.title, "hello world")
        XCTAssertTrue(lines(t.resolvedTOML).contains(#"optimizer = "sgd""#), t.resolvedTOML)
        XCTAssertFalse(t.resolvedTOML.contains("adagrad"), t.resolvedTOML)
        // gaussian's std and mean are not read by uniform: they become unknown keys.
        let e = loadError(
            path, overrides: ["population.init.kind=uniform", "population.init.low=-1", "population.init.high=1"])
        XCTAssertEqual(e, "\(path!):14: population.init.mean: unknown key (allowed here: kind, low, high)")
    }

    /// A whole table given as an inline-table value (`--set population.init={...}`).
    func testOverrideWithAnInlineTable() throws {
        let u: LoadedScenario
        do { u = try load([#"population.init={ kind = "uniform", low = -1, high = [1, 2] }"#]) } catch {
            return XCTFail("an inline-table value given with --set must be accepted: \(error)")
        }
        XCTAssertTrue(lines(u.resolvedTOML).contains(#"kind = "uniform""#), u.resolvedTOML)
        XCTAssertTrue(lines(u.resolvedTOML).contains("high = [1, 2]"), u.resolvedTOML)
        let x = u.simulation.state.populations[0].positions
        for i in 0..<20 {
            XCTAssertTrue(x[2 * i] >= -1 && x[2 * i] <= 1)
            XCTAssertTrue(x[2 * i + 1] >= -1 && x[2 * i + 1] <= 2)
        }
    }

    func testOverrideInsideAnArrayOfTables() throws {
        let s = try load(["expect[1].at-most=0.5", "expect[2].by-step=2"])
        XCTAssertEqual(
            s.simulation.expectations,
            [
                Expectation(metric: "ksd", bound: .atMost(0.5), byStep: 5),
                Expectation(metric: "mean-error", bound: .atLeast(0.001), byStep: 2),
            ])
        XCTAssertTrue(lines(s.resolvedTOML).contains("at-most = 0.5"), s.resolvedTOML)
        XCTAssertEqual(
            loadError(path, overrides: ["expect[2].by-step=9"]),
            "--set expect[2].by-step=9: expect[2].by-step: 9 is out of range (an integer in [0, 5] (the scenario's steps))"
        )
    }

    func testEmptyArrayRemovesExpectations() throws {
        let s = try load(["expect=[]"])
        XCTAssertEqual(s.simulation.expectations, [])
        XCTAssertTrue(lines(s.resolvedTOML).contains("expect = []"), s.resolvedTOML)
        // And the resolved scenario loads again.
        let again = try ScenarioLoader.load(path: dir.write("r.toml", s.resolvedTOML), threads: 1)
        XCTAssertEqual(again.simulation.expectations, [])
        XCTAssertEqual(resolvedBody(again.resolvedTOML), resolvedBody(s.resolvedTOML))
    }

    func testBadOverrides() {
        assertRefused([
            ("expect[5].x=1", "--set expect[5].x=1: expect has 2 entries (index from 1 to 2), not 5"),
            ("expect[0].at-most=1", "--set expect[0].at-most=1: expect has 2 entries (index from 1 to 2), not 0"),
            ("expect[x].at-most=1", "--set expect[x].at-most=1: bad index in 'expect[x]' (expected NAME[N], N from 1)"),
            ("population.count", "--set population.count: expected KEY=VALUE, e.g. population.count=500"),
            ("=3", "--set =3: expected KEY=VALUE, e.g. population.count=500"),
            ("population..count=3", "--set population..count=3: empty key segment"),
            ("steps.x=1", "--set steps.x=1: 'steps' is not a table of the scenario"),
            ("population.count.x=1", "--set population.count.x=1: 'population.count' is not a table of the scenario"),
            ("expect[1]=3", "--set expect[1]=3: the key names a whole table; name one of its keys"),
            ("flow[1].kind=svgd", "--set flow[1].kind=svgd: 'flow[1]' is not a table of the scenario"),
        ])
    }

    func testNewUnknownKeyIsRejected() {
        assertRefused([
            (
                "flow.optimiser=sgd",
                "--set flow.optimiser=sgd: flow.optimiser: unknown key (did you mean 'optimizer'?) (allowed here: kind, kernel, median-sample, optimizer, adagrad-alpha, adagrad-fudge, summation, tolerance)"
            ),
            (
                "stpes=3",
                "--set stpes=3: stpes: unknown key (did you mean 'steps'?) (allowed here: title, seed, steps, step-size, record-every, checkpoint-every, checkpoint-seconds, target, population, flow, record, expect)"
            ),
        ])
    }

    func testNewUnknownTableIsRejectedAtTheOverride() throws {
        let e = loadError(path, overrides: ["output.dir=runs"])
        XCTAssertTrue(e.contains("output: unknown key") || e.contains("output.dir: unknown key"), e)
        XCTAssertTrue(e.hasPrefix("--set output.dir=runs: "), e)
    }

    /// A population name is written into trajectory.csv: commas, quotes and line breaks are refused.
    func testPopulationNameMustBeACSVValue() throws {
        let e = loadError(path, overrides: ["population.name=a,b"])
        XCTAssertTrue(
            e.hasPrefix("--set population.name=a,b: population.name: \"a,b\" cannot name a CSV column value"), e)
    }

    func testNewKeyInANewKnownTable() throws {
        // [record] is optional: --set creates it.
        let text = String(baseScenario[..<baseScenario.range(of: "[record]")!.lowerBound])
        let p = dir.write("norecord.toml", text)
        let s = try ScenarioLoader.load(
            path: p, overrides: ["record.metrics=[\"mmd\"]", "record.mmd-samples=20"], threads: 1)
        XCTAssertEqual(s.simulation.metricNames, ["mmd"])
        XCTAssertTrue(lines(s.resolvedTOML).contains("mmd-samples = 20"), s.resolvedTOML)
    }
}
