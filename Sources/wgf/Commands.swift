import ArgumentParser
import Flows
import Foundation
import KernelSum
import Recording
import Scenarios
import Sweeps

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files without running them.")

    @Argument(help: "Scenario files.")
    var files: [String]

    func run() throws {
        var bad = 0
        for f in files {
            do {
                // Validation allocates nothing proportional to the run: nothing is drawn.
                let v = try ScenarioLoader.validate(path: f, threads: 1)
                print(
                    "ok  \(f) (about \(MemoryEstimate.format(v.memory.total)) of memory; \(v.memory.limit.description))"
                )
            } catch let e as ScenarioError {
                printError(e.description)
                bad += 1
            }
        }
        if bad > 0 { throw ExitCode(Exit.badInput) }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a run's expectations (from its scenario.toml) on its metrics.csv; exit 1 if one fails.")

    @Argument(help: "A run directory written by `wgf run`.")
    var runDirectory: String

    func run() throws {
        if SweepDirectory.isSweep(runDirectory) { return try checkSweep(runDirectory) }
        let (expectations, table) = try reporting {
            (
                try ScenarioLoader.expectations(path: runDirectory + "/scenario.toml"),
                try NumericTable.read(path: runDirectory + "/metrics.csv", ending: .completeRowsOnly)
            )
        }
        if expectations.isEmpty {
            print("\(runDirectory): no expectations to check")
            return
        }
        let verdicts = judge(expectations, metrics: table)
        for v in verdicts { print(v.line) }
        let failed = verdicts.filter { !$0.passed }.count
        print("\(runDirectory): \(verdicts.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(Exit.expectationFailed) }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every flow, kernel, target, initialisation and metric, one line each.")

    func run() throws {
        func row(_ kind: String, _ name: String, _ summary: String) {
            print(
                kind.padding(toLength: 15, withPad: " ", startingAt: 0)
                    + name.padding(toLength: max(18, name.count + 1), withPad: " ", startingAt: 0) + summary)
        }
        for e in FlowRegistry.entries { row("flow", e.name, e.summary) }
        for e in KernelRegistry.entries {
            let params = e.parameters.map { "\($0.name)=\(formatNumber($0.defaultValue)): \($0.meaning)" }.joined(
                separator: "; ")
            row("kernel", e.name, "\(e.summary)  [\(params)]")
        }
        for e in TargetRegistry.entries { row("target", e.name, e.summary) }
        for e in InitialisationRegistry.entries { row("initialisation", e.name, e.summary) }
        for e in MetricRegistry.entries { row("metric", e.name, e.summary) }
        let methods: [SummationMethod: String] = [
            .auto:
                "per call: direct if N·M ≤ 4e6, else mesh (d ≤ 3), sliced (riesz:r=1, d > 3, if cheaper at the tolerance) or direct",
            .direct: "exact O(N·M) sums, multi-threaded",
            .mesh:
                "every kernel, d ≤ 3: ES-window NUFFT convolution (FFTW) + exact near field by spatial hash, from the tolerance",
            .sliced:
                "riesz:r=1 only: 1-D sorted sums along P random orthonormal directions, relative error ≈ 0.2 √(d/P) (values), 1.0 √(d/P) (gradients)",
        ]
        for m in SummationMethod.allCases { row("summation", m.rawValue, methods[m]!) }
    }
}
