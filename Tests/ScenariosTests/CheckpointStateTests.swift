import Flows
import Foundation
import KernelSum
import Scenarios
import XCTest

/// A simulation resumed in memory from one of its checkpoints ends in the uninterrupted state,
/// bit for bit, because the checkpoint holds every stateful part the scenario built (here
/// AdaGrad's history and the mesh's grid choice); without them it does not.
final class CheckpointStateTests: XCTestCase {
    final class Sink: Recorder {
        func recordState(step: Int, time: Double, state: SimulationState) throws {}
        func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {}
        func synchronize() throws -> [String: Int] { [:] }
    }

    func load(_ sets: [String]) throws -> LoadedScenario {
        try ScenarioLoader.load(
            path: bundled("quickstart"),
            overrides: [
                "steps=40", "checkpoint-every=15", "expect=[]", "population.count=2500",
                "flow.summation=mesh", "flow.tolerance=1e-4",
            ] + sets, threads: 2)
    }

    func bundled(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/\(name).toml").path
    }

    /// The momentum optimizer's u (mmd-digits: the MMD flow with sliced sums and momentum 0.9)
    /// is in the checkpoint: resumed from step 15, the run ends where the uninterrupted one
    /// does, bit for bit; without it (u restarted at the force) it does not.
    func testMomentumIsResumedBitForBit() throws {
        func load() throws -> LoadedScenario {
            try ScenarioLoader.load(
                path: bundled("mmd-digits"),
                overrides: ["steps=40", "checkpoint-every=15", "expect=[]", "population.count=60"], threads: 2)
        }
        let whole = try load()
        XCTAssertEqual(whole.simulation.parts.parts.map(\.key), ["flow.optimizer"])
        var saved: [Checkpoint] = []
        let writer = CheckpointWriter(schedule: whole.checkpointSchedule, scenarioIdentity: whole.identity) {
            saved.append($0)
        }
        XCTAssertEqual(try whole.simulation.run(recorder: Sink(), checkpoints: writer).end, .completed)
        let middle = try XCTUnwrap(saved.first { $0.step == 15 })
        XCTAssertEqual(middle.parts["flow.optimizer"]?.isEmpty, false)
        let resumed = try load()
        _ = try resumed.simulation.run(recorder: Sink(), resumingFrom: middle)
        XCTAssertTrue(resumed.simulation.state == whole.simulation.state, "resumed = uninterrupted")
        var partial = middle
        partial.parts["flow.optimizer"] = nil
        let other = try load()
        _ = try other.simulation.run(recorder: Sink(), resumingFrom: partial)
        XCTAssertFalse(other.simulation.state == whole.simulation.state, "the momentum is state that matters")
    }

    /// The sparse deconvolution's state is its positions and unnormalised masses (the
    /// population's weights, not summing to 1): resumed from step 15, the run ends where the
    /// uninterrupted one does, bit for bit, on another thread count.
    func testDeconvolutionMassesAreResumedBitForBit() throws {
        func load(threads: Int) throws -> LoadedScenario {
            try ScenarioLoader.load(
                path: bundled("deconvolution-spikes-1d"),
                overrides: ["steps=40", "checkpoint-every=15", "expect=[]"], threads: threads)
        }
        let whole = try load(threads: 2)
        var saved: [Checkpoint] = []
        let writer = CheckpointWriter(schedule: whole.checkpointSchedule, scenarioIdentity: whole.identity) {
            saved.append($0)
        }
        XCTAssertEqual(try whole.simulation.run(recorder: Sink(), checkpoints: writer).end, .completed)
        let middle = try XCTUnwrap(saved.first { $0.step == 15 })
        let total = middle.populations[0].weights.reduce(0, +)
        XCTAssertGreaterThan(abs(total - 1), 0.5, "masses, not probabilities: \(total)")
        XCTAssertFalse(middle.populations == whole.simulation.state.populations, "the run moves after step 15")
        let resumed = try load(threads: 1)
        _ = try resumed.simulation.run(recorder: Sink(), resumingFrom: middle)
        XCTAssertTrue(resumed.simulation.state == whole.simulation.state, "resumed = uninterrupted")
    }

    func testResumingFromACheckpointEndsInTheSameState() throws {
        let whole = try load([])
        XCTAssertEqual(whole.simulation.parts.parts.map(\.key), ["flow.optimizer", "flow.summation"])
        var saved: [Checkpoint] = []
        let writer = CheckpointWriter(schedule: whole.checkpointSchedule, scenarioIdentity: whole.identity) {
            saved.append($0)
        }
        let summary = try whole.simulation.run(recorder: Sink(), checkpoints: writer)
        XCTAssertEqual(summary.end, .completed)
        XCTAssertEqual(saved.map(\.step), [0, 15, 30, 40])
        let middle = saved[1]
        XCTAssertFalse(middle.parts["flow.optimizer"]?.isEmpty ?? true)
        XCTAssertFalse(middle.parts["flow.summation"]?.isEmpty ?? true)
        XCTAssertEqual(middle.scenarioIdentity, whole.identity)

        let resumed = try load([])
        _ = try resumed.simulation.run(recorder: Sink(), resumingFrom: middle)
        XCTAssertTrue(resumed.simulation.state == whole.simulation.state, "resumed = uninterrupted")

        // Without AdaGrad's history it is not (MeshStateTests shows the mesh's grid choice matters).
        var partial = middle
        partial.parts["flow.optimizer"] = nil
        let other = try load([])
        _ = try other.simulation.run(recorder: Sink(), resumingFrom: partial)
        XCTAssertFalse(
            other.simulation.state == whole.simulation.state, "the optimizer's history is state that matters")
        // A checkpoint of another scenario's parts is refused.
        var foreign = middle
        foreign.parts["flow.interaction[1].summation"] = PartState(reals: ["x": [1]])
        XCTAssertThrowsError(try load([]).simulation.restore(foreign))
        // The identity ignores steps, and nothing else.
        XCTAssertEqual(try load(["steps=80"]).identity, whole.identity)
        XCTAssertNotEqual(try load(["step-size=0.04"]).identity, whole.identity)
    }
}
