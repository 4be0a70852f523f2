import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// With a communicator of several ranks, the flows share their kernel sums (exchange blocks of
/// results); with one rank they exchange nothing. A flow that forgot its communicator would
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
        // Every flow family whose step sums a kernel: SVGD, the MMD flow, Langevin's kernel
        // interaction, the game's kernel payoff.
        for name in [
            "svgd-gaussian-2d.toml", "mmd-gaussian-plain.toml", "swarm-attraction-repulsion-2d.toml",
            "game-gan-mixture.toml",
        ] {
            XCTAssertGreaterThan(try exchanges(name, ranks: 2), 0, name)
            XCTAssertEqual(try exchanges(name, ranks: 1), 0, name)
        }
    }
}
