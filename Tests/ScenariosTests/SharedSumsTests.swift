import Communication
import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// With a communicator of several ranks, the flows share their kernel sums and their other
/// O(N²) or O(N·n) parts (exchange blocks of results); with one rank they exchange nothing. A flow that forgot its communicator would
/// still give the right answer on K ranks, only K times the work: this is what catches it.
final class SharedSumsTests: XCTestCase {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scenarios")

    func exchanges(_ name: String, ranks: Int) throws -> Int {
        let peers = PeerCommunicator(rank: 0, of: ranks, fill: 0)
        let loaded = try ScenarioLoader.load(
            path: SharedSumsTests.scenarios.appendingPathComponent(name).path,
            threads: 1, communicator: peers)
        var state = loaded.simulation.state
        loaded.simulation.flow.prepare(&state)
        loaded.simulation.flow.advance(&state, step: 1, stepSize: loaded.simulation.stepSize)
        return peers.gathers
    }

    func testFlowsWithKernelSumsShareThemAcrossRanks() throws {
        // Every flow family whose step sums a kernel or pairs: SVGD, the MMD flow, Langevin's
        // kernel and formula interactions, the game's kernel and formula payoffs, the two-layer
        // network's output over its neurons; and Langevin's potential alone (its evaluations).
        for name in [
            "svgd-gaussian-2d.toml", "mmd-gaussian-plain.toml", "swarm-attraction-repulsion-2d.toml",
            "game-gan-mixture.toml", "formula-swarm-2d.toml", "game-circle-cos.toml",
            "two-layer-student-teacher.toml", "formula-double-well-langevin.toml",
        ] {
            XCTAssertGreaterThan(try exchanges(name, ranks: 2), 0, name)
            XCTAssertEqual(try exchanges(name, ranks: 1), 0, name)
        }
    }

    /// Every population's positions, weights and velocities after `steps` steps of scenario
    /// `name` on `communicator`'s rank, and the flow's energy then.
    static func stepped(
        _ name: String, overrides: [String] = [], steps: Int = 2, communicator: any Communicator
    ) throws -> [Double] {
        let loaded = try ScenarioLoader.load(
            path: SharedSumsTests.scenarios.appendingPathComponent(name).path, overrides: overrides, threads: 1,
            communicator: communicator)
        var state = loaded.simulation.state
        loaded.simulation.flow.prepare(&state)
        for step in 1...steps {
            loaded.simulation.flow.advance(&state, step: step, stepSize: loaded.simulation.stepSize)
        }
        return state.populations.flatMap { $0.positions + $0.weights + ($0.velocities ?? []) } + [
            loaded.simulation.flow.energy(state)
        ]
    }

    /// On K = 2, 3 ranks (threads of this process whose collectives really exchange), the flows
    /// whose pair or neuron sums, scores or potentials are shared by blocks step to one
    /// process's state bit for bit: the formula interaction, the formula payoff, the two-layer
    /// network (also with fewer blocks of neurons than ranks, so that a rank holds none, and a
    /// last block cut short), SVGD's scores of a formula target, Langevin's formula potential,
    /// and Langevin's moves (each rank moves its block: overdamped, and underdamped with its
    /// velocities).
    func testFlowsSharingBlocksStepAsOneProcess() throws {
        let cases: [(String, [String])] = [
            ("formula-swarm-2d.toml", ["population.count=150"]),
            ("game-circle-cos.toml", []),
            ("two-layer-student-teacher.toml", ["flow.train-samples=300"]),
            ("two-layer-student-teacher.toml", ["flow.train-samples=300", "population.count=100"]),
            // Entropic fictitious play: its inner steps share the network's blocks, and its outer
            // update (every step here) sums the second moment by the same blocks.
            ("two-layer-efp-student-teacher.toml", ["flow.train-samples=300", "flow.inner-steps=1"]),
            ("formula-banana-svgd.toml", ["population.count=300"]),
            ("formula-double-well-langevin.toml", ["population.count=300"]),
            ("langevin-underdamped-ou.toml", ["population.count=300"]),
        ]
        for (name, overrides) in cases {
            let alone = try SharedSumsTests.stepped(name, overrides: overrides, communicator: SerialCommunicator())
            for k in [2, 3] {
                let ranks = ThreadJob(size: k).run { communicator in
                    (try? SharedSumsTests.stepped(name, overrides: overrides, communicator: communicator)) ?? []
                }
                for (rank, state) in ranks.enumerated() {
                    XCTAssertEqual(state.count, alone.count, "\(name) \(overrides), rank \(rank) of \(k)")
                    // Bit for bit (NaN included: SVGD has no energy).
                    XCTAssertTrue(
                        state.map(\.bitPattern) == alone.map(\.bitPattern), "\(name) \(overrides), rank \(rank) of \(k)"
                    )
                }
            }
        }
    }
}
