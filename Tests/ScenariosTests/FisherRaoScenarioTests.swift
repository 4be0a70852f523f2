import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// `fisher-rao`, `transport` and `birth-death` in a scenario (langevin; the refusals of mmd and
/// two-layer-network too): located errors for bad
/// input, the keys absent from scenarios that do not give them, and a resume from a checkpoint
/// that equals the uninterrupted run bit for bit while the weights evolve.
final class FisherRaoScenarioTests: XCTestCase {
    final class Sink: Recorder {
        func recordState(step: Int, time: Double, state: SimulationState) throws {}
        func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {}
        func synchronize() throws -> [String: Int] { [:] }
    }

    /// A tilted double well in d = 1, particles spread over both basins, Wasserstein–Fisher–Rao
    /// steps (the keys added from line 11).
    static let base = """
        steps = 40
        step-size = 0.01
        checkpoint-every = 15
        [population]
        count = 50
        dimension = 1
        init = { kind = "uniform", low = -2, high = 2 }
        [flow]
        kind = "langevin"
        potential = { kind = "formula", formula = "(x1^2 - 1)^2 + 0.5*x1" }

        """

    func load(_ text: String, overrides: [String] = []) throws -> LoadedScenario {
        try ScenarioLoader.load(
            path: "wfr.toml", contents: Array(text.utf8), overrides: overrides, threads: 2)
    }

    func testBadInputIsLocated() {
        let rows: [(String, Int, String)] = [
            ("temperature = 0\nfisher-rao = -1\n", 12, "flow.fisher-rao: -1 is out of range"),
            ("temperature = 0\ntransport = -0.5\n", 12, "flow.transport: -0.5 is out of range"),
            (
                "temperature = 0\nfisher-rao = 1\nbirth-death = true\n", 13,
                "flow.birth-death: is not combined with fisher-rao (the jumps keep the weights uniform)"
            ),
            (
                "temperature = 0\nbirth-death = true\n", 12,
                "flow.birth-death: needs temperature > 0 (the rates divide V by λ)"
            ),
            (
                "dynamics = \"underdamped\"\ntemperature = 0\ntransport = 0.5\n", 13,
                "flow.transport: needs dynamics = \"overdamped\" (not implemented for the underdamped step)"
            ),
        ]
        for (keys, line, message) in rows {
            let e = loadError("wfr.toml", contents: Array((Self.base + keys).utf8))
            XCTAssertTrue(e.hasPrefix("wfr.toml:\(line): \(message)"), "\(keys): \(e)")
        }
        // mmd: the witness at noise-injected points is not the first variation; two-layer-network:
        // the entropy's first variation is not implemented.
        let others: [(String, Int, String)] = [
            (
                "steps = 1\nstep-size = 0.1\n[target]\nkind = \"gaussian\"\nmean = [0]\n[population]\ncount = 10\n"
                    + "init = { kind = \"gaussian\", mean = [0], std = 1 }\n[flow]\nkind = \"mmd\"\nnoise = 0.1\n"
                    + "fisher-rao = 1\n", 12,
                "flow.fisher-rao: needs noise = 0 (the weights follow the witness at the particles, not at noise-injected points)"
            ),
            (
                "steps = 1\nstep-size = 0.1\n[population]\ncount = 10\ninit = { kind = \"gaussian\", mean = [0, 0, 0, 0], std = 1 }\n"
                    + "[flow]\nkind = \"two-layer-network\"\ninput-dimension = 2\ntemperature = 0.1\nfisher-rao = 1\n",
                10,
                "flow.fisher-rao: needs temperature = 0 (the entropy's first variation τ log ρ is not implemented; the temperature is 0.1)"
            ),
        ]
        for (text, line, message) in others {
            let e = loadError("wfr.toml", contents: Array(text.utf8))
            XCTAssertTrue(e.hasPrefix("wfr.toml:\(line): \(message)"), "\(text): \(e)")
        }
    }

    /// `fisher-rao` with a temperature and an interaction (refused before their first variations
    /// were implemented) loads and runs: the weights move, stay positive and sum to 1, and the
    /// report names the keys.
    func testEntropyAndInteractionAreAccepted() throws {
        let loaded = try load(Self.base + "temperature = 0.3\nfisher-rao = 2\ninteraction = \"quadratic\"\n")
        XCTAssertEqual(try loaded.simulation.run(recorder: Sink()).end, .completed)
        let w = loaded.simulation.state.populations[0].weights
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(w.min()!, 0)
        XCTAssertGreaterThan(w.max()! / w.min()!, 1.2, "the weights have moved")
    }

    /// Resumed from step 15, the run ends where the uninterrupted one does (positions and
    /// weights, bit for bit); the checkpoint's weights matter: restarted uniform, it does not.
    func testResumeWithEvolvingWeightsIsBitForBit() throws {
        let text = Self.base + "temperature = 0\nfisher-rao = 3\ntransport = 0.5\n"
        let whole = try load(text)
        var saved: [Checkpoint] = []
        let writer = CheckpointWriter(schedule: whole.checkpointSchedule, scenarioIdentity: whole.identity) {
            saved.append($0)
        }
        XCTAssertEqual(try whole.simulation.run(recorder: Sink(), checkpoints: writer).end, .completed)
        let middle = try XCTUnwrap(saved.first { $0.step == 15 })
        let w = middle.populations[0].weights
        XCTAssertGreaterThan(w.max()! / w.min()!, 1.5, "the weights have moved by step 15")
        let resumed = try load(text)
        _ = try resumed.simulation.run(recorder: Sink(), resumingFrom: middle)
        XCTAssertTrue(resumed.simulation.state == whole.simulation.state, "resumed = uninterrupted")
        var uniform = middle
        uniform.populations[0].weights = [Double](repeating: 1.0 / Double(w.count), count: w.count)
        let other = try load(text)
        _ = try other.simulation.run(recorder: Sink(), resumingFrom: uniform)
        XCTAssertFalse(other.simulation.state == whole.simulation.state, "the weights are state that matters")
    }

    /// Without the keys nothing changes: the resolved scenario does not name them, and
    /// fisher-rao = 0 with transport = 1 given explicitly runs the same states bit for bit.
    func testDefaultsAreThePlainFlow() throws {
        let plain = try load(Self.base + "temperature = 0.2\n")
        XCTAssertFalse(plain.resolvedTOML.contains("fisher-rao"))
        XCTAssertFalse(plain.resolvedTOML.contains("transport"))
        let explicit = try load(Self.base + "temperature = 0.2\nfisher-rao = 0\ntransport = 1\n")
        _ = try plain.simulation.run(recorder: Sink())
        _ = try explicit.simulation.run(recorder: Sink())
        XCTAssertTrue(plain.simulation.state == explicit.simulation.state)
    }

    /// The `effective-sample-size` metric is 1/Σ w_i² of the run's weights (summed here): 50 at
    /// the uniform start, 36.5 after 40 weighted steps (asserted < 40).
    func testEffectiveSampleSizeMetric() throws {
        let text = Self.base + "temperature = 0\nfisher-rao = 3\n[record]\nmetrics = [\"effective-sample-size\"]\n"
        let loaded = try load(text)
        let metric = try XCTUnwrap(loaded.simulation.metrics.first { $0.name == "effective-sample-size" }?.metric)
        XCTAssertEqual(metric.evaluate(loaded.simulation.state), 50, accuracy: 1e-12)
        _ = try loaded.simulation.run(recorder: Sink())
        let w = loaded.simulation.state.populations[0].weights
        let ess = 1 / w.reduce(0) { $0 + $1 * $1 }
        XCTAssertEqual(metric.evaluate(loaded.simulation.state), ess, accuracy: 1e-12 * ess)
        XCTAssertLessThan(ess, 40)
    }
}
