import Flows
import Foundation
import KernelSum
import XCTest

/// Keeps everything in memory.
final class MemoryRecorder: Recorder {
    var states: [(step: Int, time: Double, positions: [Double])] = []
    var metrics: [(step: Int, time: Double, values: [Double])] = []
    func recordState(step: Int, time: Double, state: SimulationState) throws {
        states.append((step, time, state.populations[0].positions))
    }
    func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {
        metrics.append((step, time, values))
    }
    func synchronize() throws -> [String: Int] { ["states": states.count, "metrics": metrics.count] }
}

/// Adds 1 to every coordinate each step; at `badStep` writes `badValue` into particle 1.
final class ShiftFlow: Flow {
    let badStep: Int?, badValue: Double
    var calls: [Int] = []
    init(badStep: Int? = nil, badValue: Double = .nan) {
        self.badStep = badStep
        self.badValue = badValue
    }
    func advance(_ state: inout SimulationState, step: Int, stepSize h: Double) {
        calls.append(step)
        for k in state.populations[0].positions.indices { state.populations[0].positions[k] += 1 }
        if step == badStep { state.populations[0].positions[2] = badValue }
    }
    var report: [String: String] { [:] }
}

/// The first coordinate of particle 0; NaN once it reaches `nanFrom`.
final class FirstCoordinate: Metric {
    let nanFrom: Double
    init(nanFrom: Double = .infinity) { self.nanFrom = nanFrom }
    func evaluate(_ state: SimulationState) -> Double {
        let v = state.populations[0].positions[0]
        return v >= nanFrom ? .nan : v
    }
}

final class SimulationTests: XCTestCase {
    func simulation(
        steps: Int, recordEvery: Int, flow: any Flow, metrics: [(name: String, metric: any Metric)]? = nil,
        positions: [Double] = [0, 0, 1, 1, 2, 2]
    ) -> Simulation {
        Simulation(
            title: "t", steps: steps, stepSize: 0.25, recordEvery: recordEvery, state: state(positions, dimension: 2),
            flow: flow, metrics: metrics ?? [("x", FirstCoordinate())], expectations: [])
    }

    func testRecordsAtZeroEveryKAndFinalStep() throws {
        let flow = ShiftFlow()
        let rec = MemoryRecorder()
        var progressSteps: [Int] = []
        let sim = simulation(steps: 10, recordEvery: 4, flow: flow)
        let summary = try sim.run(recorder: rec, progress: { progressSteps.append($0.step) })
        XCTAssertEqual(summary.end, .completed)
        XCTAssertEqual(rec.states.map(\.step), [0, 4, 8, 10])
        XCTAssertEqual(rec.metrics.map(\.step), [0, 4, 8, 10])
        XCTAssertEqual(rec.metrics.map(\.time), [0, 1, 2, 2.5])
        XCTAssertEqual(rec.metrics.map { $0.values[0] }, [0, 4, 8, 10])
        XCTAssertEqual(rec.states.last?.positions, [10, 10, 11, 11, 12, 12])
        XCTAssertEqual(summary.lastRecordedStep, 10)
        XCTAssertEqual(summary.stepsTaken, 10)
        XCTAssertEqual(flow.calls, Array(1...10))
        XCTAssertEqual(progressSteps, Array(1...10))
        XCTAssertEqual(summary.finalMetrics.first?.name, "x")
        XCTAssertEqual(summary.finalMetrics.first?.value, 10)
        // recordEvery dividing steps: no duplicate final record.
        let rec2 = MemoryRecorder()
        _ = try simulation(steps: 6, recordEvery: 3, flow: ShiftFlow()).run(recorder: rec2)
        XCTAssertEqual(rec2.states.map(\.step), [0, 3, 6])
    }

    func testNaNDivergesAndIsNotRecorded() throws {
        let rec = MemoryRecorder()
        let summary = try simulation(steps: 10, recordEvery: 1, flow: ShiftFlow(badStep: 3)).run(recorder: rec)
        guard case .diverged(let step, let population, let cause) = summary.end else {
            return XCTFail("\(summary.end)")
        }
        XCTAssertEqual(step, 3)
        XCTAssertEqual(population, "particles")
        XCTAssertTrue(cause.contains("NaN") && cause.contains("particle 1"), cause)
        XCTAssertEqual(rec.states.map(\.step), [0, 1, 2])
        XCTAssertEqual(rec.metrics.map(\.step), [0, 1, 2])
        XCTAssertEqual(summary.lastRecordedStep, 2)
        XCTAssertEqual(summary.stepsTaken, 3)
        // Infinity and overflow-in-progress (beyond 1e150) count too, also between records.
        let rec2 = MemoryRecorder()
        let s2 = try simulation(steps: 10, recordEvery: 5, flow: ShiftFlow(badStep: 7, badValue: 1e200)).run(
            recorder: rec2)
        guard case .diverged(let step2, _, let cause2) = s2.end else { return XCTFail("\(s2.end)") }
        XCTAssertEqual(step2, 7)
        XCTAssertTrue(cause2.contains("beyond"), cause2)
        XCTAssertEqual(rec2.states.map(\.step), [0, 5])
        let s3 = try simulation(steps: 10, recordEvery: 5, flow: ShiftFlow(badStep: 2, badValue: -.infinity)).run(
            recorder: MemoryRecorder())
        XCTAssertEqual(s3.end, .diverged(step: 2, population: "particles", cause: "infinite coordinate in particle 1"))
    }

    func testInvalidInitialStateAndNaNMetric() throws {
        let rec = MemoryRecorder()
        let s = try simulation(steps: 5, recordEvery: 1, flow: ShiftFlow(), positions: [0, 0, .nan, 1]).run(
            recorder: rec)
        guard case .diverged(0, _, _) = s.end else { return XCTFail("\(s.end)") }
        XCTAssertTrue(rec.states.isEmpty)
        XCTAssertEqual(s.stepsTaken, 0)
        // A metric turning NaN at a recorded step ends the run there, unrecorded.
        let rec2 = MemoryRecorder()
        let s2 = try simulation(
            steps: 10, recordEvery: 2, flow: ShiftFlow(),
            metrics: [("x", FirstCoordinate(nanFrom: 4))]
        ).run(recorder: rec2)
        guard case .diverged(let step, _, let cause) = s2.end else { return XCTFail("\(s2.end)") }
        XCTAssertEqual(step, 4)
        XCTAssertTrue(cause.contains("metric x"), cause)
        XCTAssertEqual(rec2.states.map(\.step), [0, 2])
        XCTAssertEqual(s2.lastRecordedStep, 2)
    }

    func testShouldStopInterrupts() throws {
        let rec = MemoryRecorder()
        let flow = ShiftFlow()
        var asked = 0
        let s = try simulation(steps: 10, recordEvery: 1, flow: flow).run(
            recorder: rec,
            shouldStop: {
                asked += 1
                return asked == 3  // asked before steps 1, 2, 3: stop before step 3
            })
        XCTAssertEqual(s.end, .interrupted(step: 2))
        XCTAssertEqual(flow.calls, [1, 2])
        XCTAssertEqual(rec.states.map(\.step), [0, 1, 2])
        XCTAssertEqual(s.stepsTaken, 2)
        let s0 = try simulation(steps: 10, recordEvery: 1, flow: ShiftFlow()).run(
            recorder: MemoryRecorder(), shouldStop: { true })
        XCTAssertEqual(s0.end, .interrupted(step: 0))
    }

    /// SVGD with an absurd step size on a narrow Gaussian blows up; the run says so.
    func testSVGDHugeStepDiverges() throws {
        let target = GaussianTarget(mean: [0, 0], covariance: SPDMatrix.diagonal([1e-4, 1e-4])!)
        let flow = SteinVariationalGradientDescent(
            density: target, kernel: GaussianKernel(sigma: 1), bandwidth: .fixed,
            optimizer: Optimizer(rule: .sgd), engine: DirectSum(threads: 1), threads: 1)
        let sim = Simulation(
            title: "boom", steps: 200, stepSize: 1e3, recordEvery: 1,
            state: state([1, 0, 0, 1, -1, 0.5], dimension: 2),
            flow: flow, metrics: [], expectations: [])
        let rec = MemoryRecorder()
        let s = try sim.run(recorder: rec)
        guard case .diverged(let step, _, _) = s.end else { return XCTFail("\(s.end)") }
        XCTAssertEqual(rec.states.last?.step, step - 1)
        XCTAssertTrue(rec.states.allSatisfy { $0.positions.allSatisfy { abs($0) <= 1e150 } })
    }
}
