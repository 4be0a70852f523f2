import Flows
import Foundation
import Recording
import Scenarios

/// One expectation of one variant judged over its seeds.
public struct SweepVerdict: Sendable {
    /// The variant's label.
    public let variant: String
    /// The expectation's position in the scenario's `[[expect]]` (from 1).
    public let index: Int
    /// The expectation, with its `fraction`.
    public let expectation: Expectation
    /// The seeds whose run met it.
    public let holding: Int
    /// The variant's seeds.
    public let total: Int
    /// The seeds it must hold in: ⌈fraction · total⌉.
    public var required: Int { Int((expectation.fraction * Double(total) - 1e-9).rounded(.up)) }
    /// Whether it held in at least ``required`` seeds (and there was at least one).
    public var passed: Bool { total > 0 && holding >= required }
    /// Runs that could not be judged at all (no scenario.toml or metrics.csv), counted as not holding.
    public let unreadable: [String]
}

/// `wgf check SWEEP_DIR`: each run judged on its own scenario.toml and metrics.csv (as
/// `wgf check RUN_DIR` does), then each expectation counted over a variant's seeds.
public enum SweepCheck {
    /// The verdicts, variant by variant, expectations in order.
    public static func judge(_ sweep: SweepDirectory) -> [SweepVerdict] {
        var verdicts: [SweepVerdict] = []
        for variant in sweep.variants {
            let entries = sweep.runs.filter { $0.variant == variant }
            var expectations: [Expectation]? = nil
            var passes: [[Bool]] = []
            var unreadable: [String] = []
            for e in entries {
                let directory = sweep.runDirectory(e)
                do {
                    let own = try ScenarioLoader.expectations(path: directory + "/scenario.toml")
                    if expectations == nil { expectations = own }
                    let metrics = try NumericTable.read(path: directory + "/metrics.csv", ending: .completeRowsOnly)
                    passes.append(Recording.judge(own, metrics: metrics).map(\.passed))
                } catch {
                    unreadable.append("seed \(e.seed): \(error)")
                    passes.append([])
                }
            }
            for (k, x) in (expectations ?? []).enumerated() {
                let holding = passes.filter { k < $0.count && $0[k] }.count
                verdicts.append(
                    SweepVerdict(
                        variant: variant, index: k + 1, expectation: x, holding: holding,
                        total: entries.count, unreadable: unreadable))
            }
        }
        return verdicts
    }
}
