import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// `[[expect]] kind = "two-sample"` and the `two-sample` metric in a scenario: parsing, located
/// errors, the resolved scenario's round trip, values keyed by the step.
final class TwoSampleScenarioTests: XCTestCase {
    /// Particles drawn from the target itself (N(0, I₂)), SVGD on it, the two-sample metric.
    let scenario = """
        seed = 3
        steps = 4
        step-size = 0.01

        [target]
        kind = "gaussian"
        mean = [0, 0]
        std = 1

        [population]
        count = 300
        init = { kind = "gaussian", mean = [0, 0], std = 1 }

        [flow]
        kind = "svgd"

        [record]
        metrics = ["mean-error", "two-sample"]

        [[expect]]
        kind = "two-sample"
        alpha = 0.01
        by-step = 2

        """

    func testExpectationParsesDescribesAndRoundTrips() throws {
        let dir = TempDirectory()
        let loaded = try ScenarioLoader.load(path: dir.write("t.toml", scenario), threads: 1)
        let want = Expectation.twoSample(alpha: 0.01, byStep: 2)
        XCTAssertEqual(loaded.simulation.expectations, [want])
        XCTAssertEqual(want.description, "two-sample test (two-sample) does not reject at α = 0.01 by step 2")
        XCTAssertEqual(want.metric, "two-sample")
        XCTAssertTrue(want.holds(0.01))
        XCTAssertFalse(want.holds(0.0099))
        // The resolved scenario (what wgf run writes and wgf check reads) gives it back.
        let again = try ScenarioLoader.load(path: dir.write("r.toml", loaded.resolvedTOML), threads: 1)
        XCTAssertEqual(again.simulation.expectations, [want])
        XCTAssertEqual(try ScenarioLoader.expectations(path: dir.write("c.toml", loaded.resolvedTOML)), [want])
        // α defaults to 0.05, written back.
        let plain = try ScenarioLoader.load(
            path: dir.write("d.toml", edit(scenario, "alpha = 0.01\n", "")), threads: 1)
        XCTAssertEqual(plain.simulation.expectations, [Expectation.twoSample(alpha: 0.05, byStep: 2)])
        XCTAssertTrue(plain.resolvedTOML.contains("alpha = 0.05"), plain.resolvedTOML)
        // Without kind: today's threshold expectations, nothing added to the resolved scenario.
        let threshold = edit(
            scenario, "kind = \"two-sample\"\nalpha = 0.01\n", "metric = \"two-sample\"\nat-least = 0.01\n")
        let t = try ScenarioLoader.load(path: dir.write("e.toml", threshold), threads: 1)
        XCTAssertEqual(t.simulation.expectations, [Expectation(metric: "two-sample", bound: .atLeast(0.01), byStep: 2)])
        XCTAssertNotEqual(t.simulation.expectations, [want])
        XCTAssertFalse(t.resolvedTOML.contains("kind = \"threshold\""))
    }

    func testErrorsAreLocated() throws {
        let dir = TempDirectory()
        let missing = edit(scenario, "metrics = [\"mean-error\", \"two-sample\"]", "metrics = [\"mean-error\"]")
        let m = loadError(dir.write("m.toml", missing))
        XCTAssertTrue(m.contains(":\(lineOf("kind = \"two-sample\"", in: missing)): expect[1].kind: "), m)
        XCTAssertTrue(m.contains("add \"two-sample\" to record.metrics"), m)
        for bad in ["1.5", "0", "1", "-0.1"] {
            let text = edit(scenario, "alpha = 0.01", "alpha = \(bad)")
            let e = loadError(dir.write("a.toml", text))
            XCTAssertTrue(e.contains(":\(lineOf("alpha", in: text)): expect[1].alpha: "), e)
            XCTAssertTrue(e.contains("(0, 1)"), e)
        }
        // α below 1/(B + 1): the test could never reject.
        let small = edit(scenario, "alpha = 0.01", "alpha = 0.001")
        let sm = loadError(dir.write("s.toml", small))
        XCTAssertTrue(sm.contains(":\(lineOf("alpha", in: small)): expect[1].alpha: "), sm)
        XCTAssertTrue(sm.contains("B = 199") && sm.contains("at least 999"), sm)
        let more = edit(
            small, "metrics = [\"mean-error\", \"two-sample\"]",
            "metrics = [\"two-sample\"]\ntwo-sample-permutations = 999")
        XCTAssertEqual(
            try ScenarioLoader.load(path: dir.write("s2.toml", more), threads: 1).simulation.expectations,
            [Expectation.twoSample(alpha: 0.001, byStep: 2)])
        let kind = edit(scenario, "kind = \"two-sample\"", "kind = \"two-samples\"")
        XCTAssertTrue(loadError(dir.write("k.toml", kind)).contains("one of: threshold, two-sample"))
        // A threshold has no place in a two-sample expectation.
        let extra = edit(scenario, "alpha = 0.01", "alpha = 0.01\nat-least = 0.5")
        XCTAssertTrue(loadError(dir.write("x.toml", extra)).contains("at-least"))
        // The permutation test is capped: a clear error pointing to ctt.
        let big = edit(
            scenario, "metrics = [\"mean-error\", \"two-sample\"]",
            "metrics = [\"two-sample\"]\ntwo-sample-method = \"permutation\"\ntwo-sample-samples = 9000")
        let b = loadError(dir.write("b.toml", big))
        XCTAssertTrue(b.contains("ctt") && b.contains("8192"), b)
    }

    /// The metric's value at a step does not depend on the thread count or on what was
    /// evaluated before (a resumed run records the same); another step draws a fresh sample.
    func testValueIsKeyedByTheStep() throws {
        let dir = TempDirectory()
        let path = dir.write("t.toml", scenario)
        func metric(threads: Int) throws -> (any Metric, SimulationState) {
            let sim = try ScenarioLoader.load(path: path, threads: threads).simulation
            return (try XCTUnwrap(sim.metrics.first { $0.name == "two-sample" }?.metric), sim.state)
        }
        let (one, state) = try metric(threads: 1)
        let (two, _) = try metric(threads: 2)
        let first = (0..<6).map { one.evaluate(state, step: $0) }
        let again = (0..<6).reversed().map { two.evaluate(state, step: $0) }.reversed()
        XCTAssertEqual(first.map(\.bitPattern), again.map(\.bitPattern))
        XCTAssertGreaterThan(Set(first).count, 3, "\(first)")
        XCTAssertEqual(one.evaluate(state).bitPattern, first[0].bitPattern)
        // Exact samples: no rejection at 1 % on these steps.
        XCTAssertTrue(first.allSatisfy { $0 >= 0.01 }, "\(first)")
    }
}
