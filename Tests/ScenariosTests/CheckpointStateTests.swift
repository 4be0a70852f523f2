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
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try ScenarioLoader.load(
            path: root.appendingPathComponent("scenarios/quickstart.toml").path,
            overrides: [
                "steps=40", "checkpoint-every=15", "expect=[]", "population.count=2500",
                "flow.summation=mesh", "flow.tolerance=1e-4",
            ] + sets, threads: 2)
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
