import Communication
import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// The spatial domain decomposition (`ParticleDecomposition`): on K ranks a Langevin run holds
/// each rank's slab of particles while it steps, moves particles across the cuts as they
/// diffuse, and records, checkpoints and resumes exactly the states of one process.
final class DecompositionTests: XCTestCase {
    /// Keeps every recorded state, and what this rank held at that moment.
    final class Keeper: Recorder {
        weak var simulation: Simulation?
        var states: [SimulationState] = []
        var held: [[Int]] = []
        var firstCoordinates: [[Double]] = []
        func recordState(step: Int, time: Double, state: SimulationState) throws {
            states.append(state)
            let p = simulation!.state.populations[0]
            held.append(p.share?.ids ?? Array(0..<p.count))
            firstCoordinates.append((0..<p.count).map { p.positions[$0 * p.dimension] })
        }
        func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {}
        func synchronize() throws -> [String: Int] { [:] }
    }

    struct Outcome {
        var states: [SimulationState]
        var held: [[Int]]
        var firstCoordinates: [[Double]]
        var final: SimulationState
        var checkpoints: [Checkpoint]
    }

    /// Runs scenario `name` on `communicator`'s rank; rank 0 saves a checkpoint every
    /// `checkpointEvery` steps (kept in memory), as `wgf run` does.
    static func run(
        _ name: String, _ overrides: [String], communicator: any Communicator, checkpointEvery: Int = 0,
        resumingFrom checkpoint: Checkpoint? = nil
    ) throws -> Outcome {
        let loaded = try ScenarioLoader.load(
            path: SharedSumsTests.scenarios.appendingPathComponent(name).path, overrides: overrides, threads: 1,
            communicator: communicator)
        let keeper = Keeper()
        keeper.simulation = loaded.simulation
        var saved: [Checkpoint] = []
        let writer =
            communicator.isRoot && checkpointEvery > 0
            ? CheckpointWriter(schedule: CheckpointSchedule(steps: checkpointEvery), scenarioIdentity: "test") {
                saved.append($0)
            } : nil
        let summary = try loaded.simulation.run(recorder: keeper, resumingFrom: checkpoint, checkpoints: writer)
        XCTAssertEqual(summary.end, .completed)
        return Outcome(
            states: keeper.states, held: keeper.held, firstCoordinates: keeper.firstCoordinates,
            final: loaded.simulation.state, checkpoints: saved)
    }

    static func bits(_ s: SimulationState) -> [UInt64] {
        s.populations.flatMap { $0.positions + $0.weights + ($0.velocities ?? []) }.map(\.bitPattern)
    }

    /// Asserts that two states are equal bit for bit, reporting how many values differ.
    func assertSame(_ a: SimulationState, _ b: SimulationState, _ label: String, line: UInt = #line) {
        let (x, y) = (Self.bits(a), Self.bits(b))
        let differing = x.count == y.count ? zip(x, y).filter { $0 != $1 }.count : max(x.count, y.count)
        XCTAssertEqual(differing, 0, "\(label): values that differ from one process's", line: line)
    }

    /// The swarm on the mesh (its near field included), with noise so that particles cross the
    /// cuts every step, overdamped and underdamped; and a formula potential with the quadratic
    /// interaction (a term that gathers the particles).
    let cases: [(name: String, overrides: [String])] = [
        (
            "swarm-attraction-repulsion-2d.toml",
            ["population.count=2000", "steps=12", "record-every=3", "flow.summation=mesh", "flow.temperature=0.05"]
        ),
        (
            "swarm-attraction-repulsion-2d.toml",
            [
                "population.count=1500", "steps=9", "record-every=3", "flow.summation=mesh", "flow.temperature=0.05",
                "flow.dynamics=underdamped",
            ]
        ),
        ("formula-double-well-langevin.toml", ["population.count=900", "steps=9", "record-every=3"]),
        // SVGD: AdaGrad's history moves with the particles; the median's subsample is sent by
        // its holders (all particles, then a strided subsample); the scores of a formula target.
        ("svgd-gaussian-2d.toml", ["population.count=2000", "steps=9", "record-every=3", "flow.summation=mesh"]),
        ("svgd-gaussian-2d.toml", ["population.count=3000", "steps=6", "record-every=3", "flow.median-sample=700"]),
        ("formula-banana-svgd.toml", ["population.count=800", "steps=6", "record-every=3"]),
        // The MMD flow: the target samples dealt to the ranks as sources; noise injection in 1-D
        // (the sum gathers: no mesh in 1-D), the mesh in 2-D with AdaGrad.
        ("mmd-gaussian-noise.toml", ["population.count=600", "steps=6", "record-every=3", "flow.target-samples=500"]),
        (
            "mmd-riesz-mixture.toml",
            ["population.count=1500", "steps=6", "record-every=3", "flow.summation=mesh", "flow.optimizer=adagrad"]
        ),
    ]

    func testEachRankHoldsItsSlabAndTheRunIsOneProcesss() throws {
        for c in cases {
            let alone = try DecompositionTests.run(c.name, c.overrides, communicator: SerialCommunicator())
            let n = alone.final.populations[0].count
            // Particles changed hands between records (on some rank count: a deterministic
            // flow may keep the median of x₁ uncrossed).
            var moved = 0
            for k in [2, 3] {
                let label = "\(c.name) \(c.overrides.last!) on \(k) ranks"
                let ranks = ThreadJob(size: k).run { comm in
                    Result { try DecompositionTests.run(c.name, c.overrides, communicator: comm) }
                }.map { try? $0.get() }
                let outcomes = try XCTUnwrap(ranks as? [Outcome], label)
                for o in outcomes {
                    XCTAssertEqual(o.states.count, alone.states.count, label)
                    for (a, b) in zip(o.states, alone.states) { assertSame(a, b, label) }
                    assertSame(o.final, alone.final, label)
                }
                // At every record the ranks held disjoint slabs of x₁, every particle once, none
                // holding them all.
                for record in 1..<alone.states.count {
                    let held = outcomes.map { $0.held[record] }
                    XCTAssertEqual(held.flatMap { $0 }.sorted(), Array(0..<n), label)
                    XCTAssertTrue(held.allSatisfy { $0.count < n }, label)
                    for r in 1..<k {
                        let below = outcomes[r - 1].firstCoordinates[record].max() ?? -.infinity
                        let above = outcomes[r].firstCoordinates[record].min() ?? .infinity
                        XCTAssertLessThanOrEqual(below, above, "\(label): slabs \(r - 1) and \(r) overlap")
                    }
                    if record > 1 {
                        for r in 0..<k { moved += Set(held[r]).subtracting(outcomes[r].held[record - 1]).count }
                    }
                }
            }
            XCTAssertGreaterThan(moved, 0, "\(c.name) \(c.overrides.last!): no particle crossed a cut")
        }
    }

    /// The two-layer network deals fixed blocks of 64 neurons (none moves): each rank holds its
    /// run of whole blocks, N/K to within a block, and every record, the final state and the
    /// losses are one process's bit for bit (the outputs' partial sums added in block order);
    /// so for entropic fictitious play, whose outer updates (every 2 steps) mix the shares' estimates.
    func testTheNetworkHoldsItsBlocksOfNeuronsAndIsOneProcesss() throws {
        for (name, more) in [
            ("two-layer-student-teacher.toml", [String]()),
            ("two-layer-efp-student-teacher.toml", ["flow.inner-steps=2"]),
        ] {
            try networkHoldsItsBlocks(
                name, ["population.count=300", "steps=6", "record-every=2", "flow.temperature=0.001"] + more)
        }
    }

    func networkHoldsItsBlocks(_ name: String, _ overrides: [String]) throws {
        let alone = try DecompositionTests.run(name, overrides, communicator: SerialCommunicator())
        for k in [2, 3] {
            let outcomes = try ThreadJob(size: k).run { comm in
                try? DecompositionTests.run(name, overrides, communicator: comm)
            }.map { try XCTUnwrap($0, "\(k) ranks") }
            // Blocks of 64 among 300 neurons (5 blocks): 3 + 2 on two ranks, 2 + 2 + 1 on three.
            let expected: [[Range<Int>]] = [[0..<192, 192..<300], [0..<128, 128..<256, 256..<300]]
            for (r, o) in outcomes.enumerated() {
                for (a, b) in zip(o.states, alone.states) { assertSame(a, b, "network on \(k) ranks") }
                XCTAssertEqual(o.states.count, alone.states.count)
                assertSame(o.final, alone.final, "network on \(k) ranks")
                for held in o.held { XCTAssertEqual(held, Array(expected[k - 2][r]), "rank \(r) of \(k)") }
            }
        }
    }

    /// Checkpoints gather the whole state (rank 0's writer decides when; the others follow), and a
    /// run resumed from one on K ranks ends with the uninterrupted run's state, bit for bit.
    func testCheckpointsAndResumesOnRanksAreOneProcesss() throws {
        for c in [cases[1], cases[3]] { try checkpointsAndResumes(c) }
    }

    func checkpointsAndResumes(_ c: (name: String, overrides: [String])) throws {
        let alone = try DecompositionTests.run(
            c.name, c.overrides, communicator: SerialCommunicator(), checkpointEvery: 4)
        for k in [2, 3] {
            let outcomes = ThreadJob(size: k).run { comm in
                try? DecompositionTests.run(c.name, c.overrides, communicator: comm, checkpointEvery: 4)
            }
            let root = try XCTUnwrap(outcomes[0])
            XCTAssertEqual(root.checkpoints.map(\.step), alone.checkpoints.map(\.step))
            for (a, b) in zip(root.checkpoints, alone.checkpoints) {
                XCTAssertTrue(a.parts == b.parts, "\(c.name) on \(k) ranks: the parts' state (AdaGrad's history)")
                assertSame(
                    SimulationState(populations: a.populations), SimulationState(populations: b.populations),
                    "\(c.name) on \(k) ranks: checkpoint at step \(a.step)")
            }
            let middle = try XCTUnwrap(alone.checkpoints.first { $0.step == 4 })
            let resumed = ThreadJob(size: k).run { comm in
                try? DecompositionTests.run(c.name, c.overrides, communicator: comm, resumingFrom: middle)
            }
            for o in resumed { assertSame(try XCTUnwrap(o).final, alone.final, "\(c.name) resumed on \(k) ranks") }
        }
    }

    /// The slabs hold N/K particles each even when one particle lies far from the rest (equal
    /// bins over [min, max] alone would put the bulk in one slab), and x₁ spanning only a few
    /// subnormals, or nothing at all, deals the particles out without a trap.
    func testSlabsBalanceAroundAnOutlierAndTinySpans() {
        var rng = TestRNG(4)
        let bulk = (0..<999).flatMap { _ in [rng.uniform(-1, 1), rng.uniform(-1, 1)] }
        // The largest slab allowed (as a fraction of N beyond N/K): three values of x₁ in equal
        // numbers cannot be cut finer than thirds.
        let layouts: [(String, [Double], (Int, Int) -> Int)] = [
            ("an outlier at 1e6", bulk + [1e6, 0], { n, k in n / k + n / (10 * k) }),
            (
                "a subnormal span", (0..<400).flatMap { [Double($0 % 3) * Double.leastNonzeroMagnitude, 0] },
                { n, _ in (2 * n + 2) / 3 }
            ),
            ("one point", (0..<300).flatMap { _ in [0.25, 0.5] }, { n, _ in n }),
        ]
        for (label, x, largest) in layouts {
            let whole = SimulationState(populations: [Population(name: "p", dimension: 2, positions: x)])
            let n = x.count / 2
            for k in [2, 4] {
                let held = ThreadJob(size: k).run { comm in
                    ParticleDecomposition(communicator: comm).share(of: whole).populations[0].share!.ids
                }
                XCTAssertEqual(held.flatMap { $0 }.sorted(), Array(0..<n), "\(label), \(k) ranks")
                XCTAssertLessThanOrEqual(
                    held.map(\.count).max()!, largest(n, k), "\(label), \(k) ranks: \(held.map(\.count))")
            }
        }
    }
}
