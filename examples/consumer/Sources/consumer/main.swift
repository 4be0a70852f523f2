// wgf as a library: a Gaussian kernel sum checked against a plain double loop, a formula
// evaluated with its gradient, and a scenario (written here as TOML) run in-process with a
// recorder of our own, its expectations judged on the last record. Exits 1 on any mismatch.
import Flows
import Formula
import Foundation
import KernelSum
import Scenarios

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("consumer: \(message)\n".utf8))
    exit(1)
}

// 1. s(y) = Σ_i w_i exp(−|y − x_i|²/(2σ²)), σ = 0.5, on 500 sources and 300 targets in 2-D, by `auto`.
var rng = RandomStream(seed: 1, .initialisation, 0)
let sources = (0..<1000).map { _ in rng.normal() }
let targets = (0..<600).map { _ in rng.normal() }
let weights = [Double](repeating: 1.0 / 500, count: 500)
let kernel = try KernelRegistry.make("gaussian:sigma=0.5")
let engine = try KernelSumEngines.make(.auto, kernel: kernel, dimension: 2, tolerance: 1e-9, threads: 1)
var values: [Double] = []
var gradients: [Double] = []
engine.sum(
    kernel, dimension: 2, sources: sources, weights: weights, channels: 1, targets: targets,
    gradientChannels: [0], values: &values, gradients: &gradients)
var worst = 0.0
for j in 0..<300 {
    var s = 0.0
    for i in 0..<500 {
        let dx = targets[2 * j] - sources[2 * i]
        let dy = targets[2 * j + 1] - sources[2 * i + 1]
        s += weights[i] * exp(-(dx * dx + dy * dy) / (2 * 0.25))
    }
    worst = max(worst, abs(values[j] - s) / abs(s))
}
guard worst < 1e-8 else { fail("kernel sum off by \(worst) (relative)") }
print("kernel sum: 300 targets, largest relative difference from a double loop \(worst)")

// 2. A formula and its exact gradient: f = x1² x2 at (3, 2) is 18, ∇f = (12, 9).
let formula = try Formula("x1^2 * x2", variables: .position(dimension: 2))
let (f, grad) = formula.valueAndGradient(at: [3, 2])
guard f == 18, grad == [12, 9] else { fail("formula gave \(f), \(grad)") }
print("formula: x1^2 * x2 at (3, 2) = \(f), gradient \(grad)")

// 3. A scenario run in-process: SVGD towards a 2-D Gaussian, 200 steps.
let scenario = """
    title = "consumer: SVGD to a Gaussian"
    seed = 3
    steps = 200
    step-size = 0.05
    record-every = 50

    [target]
    kind = "gaussian"
    mean = [1, -1]
    covariance = [[1, 0], [0, 1]]

    [population]
    count = 100
    init = { kind = "gaussian", mean = [0, 0], std = 0.5 }

    [flow]
    kind = "svgd"
    kernel = "gaussian:sigma=median"
    optimizer = "adagrad"

    [record]
    metrics = ["mean-error"]

    [[expect]]
    metric = "mean-error"
    at-most = 0.05
    """
final class LastMetrics: Recorder {
    var last: (step: Int, values: [Double]) = (-1, [])
    func recordState(step: Int, time: Double, state: SimulationState) throws {}
    func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws { last = (step, values) }
    func synchronize() throws -> [String: Int] { [:] }
}
let loaded = try ScenarioLoader.load(path: "consumer.toml", contents: Array(scenario.utf8), threads: 1)
let recorder = LastMetrics()
let summary = try loaded.simulation.run(recorder: recorder)
guard summary.end == .completed, recorder.last.step == 200 else { fail("run ended \(summary.end)") }
for e in loaded.simulation.expectations {
    let value = recorder.last.values[loaded.simulation.metrics.firstIndex { $0.name == e.metric }!]
    guard e.holds(value) else { fail("\(e.description): \(value)") }
    print("scenario: \(e.description): \(formatSignificant(value)) after \(recorder.last.step) steps")
}
