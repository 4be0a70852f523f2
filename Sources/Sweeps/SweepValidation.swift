import Flows
import Scenarios

/// What validation found of one run's scenario: enough to judge its directory and read its
/// records back, without building it.
public struct ValidatedRun: Sendable {
    /// The scenario's identity (`LoadedScenario.identity`): SHA-256 of the resolved scenario without `steps`.
    public let identity: String
    /// The steps the run takes.
    public let steps: Int
    /// `record.metrics`.
    public let metricNames: [String]
    /// `[[expect]]`, in order.
    public let expectations: [Expectation]
    /// The memory the run is estimated to need, in bytes.
    public let memory: Double
}

/// Every run of a sweep validated in this process (no child, nothing drawn) before any starts.
public enum SweepValidation {
    /// Validates each run's scenario: the file with `--seed S`, the common `--set`s and the
    /// variant's, exactly as its `wgf run` will read them.
    ///
    /// - Parameters:
    ///   - plan: The sweep's runs.
    ///   - jobs: Runs at once (per rank): their memory together must fit in `memoryLimit`.
    ///   - ranks: The ranks the runs are dealt to (run i to rank i mod K): a rank has at most
    ///     ⌈runs/K⌉, so no more than that run at once on it.
    ///   - memoryLimit: What the machine allows this process (each run alone, and the runs at
    ///     once together).
    /// - Returns: One ``ValidatedRun`` per run of `plan`, in order.
    /// - Throws: ``SweepError``: `.badInput` naming every variant whose scenario is
    ///   invalid (a bad `--vary` key or value: the scenario's own located message follows
    ///   the variant), or too large for `jobs` at once; `.usage` for two variants that give the
    ///   same scenario (two spellings of one value).
    public static func validate(
        _ plan: SweepPlan, jobs: Int, ranks: Int = 1, memoryLimit: MemoryLimit = .current
    ) throws(SweepError) -> [ValidatedRun] {
        var out: [ValidatedRun] = []
        out.reserveCapacity(plan.runs.count)
        var problems: [String] = []
        var failedVariants: Set<Int> = []
        for run in plan.runs where !failedVariants.contains(run.variant) {
            do {
                let v = try ScenarioLoader.validate(
                    path: plan.scenario, overrides: ["seed=\(run.seed)"] + plan.overrides(run),
                    threads: 1, memoryLimit: memoryLimit)
                out.append(
                    ValidatedRun(
                        identity: v.identity, steps: v.steps, metricNames: v.metricNames,
                        expectations: v.expectations, memory: v.memory.total))
            } catch let e as ScenarioError {
                problems.append("variant \(plan.variants[run.variant].label): \(e.description)")
                failedVariants.insert(run.variant)
            } catch {
                problems.append("variant \(plan.variants[run.variant].label): \(error)")
                failedVariants.insert(run.variant)
            }
        }
        guard problems.isEmpty else { throw SweepError(.badInput, problems.joined(separator: "\n")) }

        // Two values that read the same (0.1 and 0.10) would run one scenario twice under two names.
        var byIdentity: [String: Int] = [:]
        for run in plan.runs where run.seed == plan.seeds[0] {
            if let other = byIdentity.updateValue(run.variant, forKey: out[run.index].identity) {
                throw SweepError(
                    .usage,
                    "variants '\(plan.variants[other].label)' and '\(plan.variants[run.variant].label)' give the same scenario (the same value written two ways?); give each value once"
                )
            }
        }
        let atOnce = min(max(1, jobs), (plan.runs.count + max(1, ranks) - 1) / max(1, ranks))
        if let largest = out.indices.max(by: { out[$0].memory < out[$1].memory }),
            Double(atOnce) * out[largest].memory > memoryLimit.bytes
        {
            throw SweepError(
                .badInput,
                "\(atOnce) runs at once (--jobs) would need about \(MemoryEstimate.format(Double(atOnce) * out[largest].memory)) (\(MemoryEstimate.format(out[largest].memory)) for variant \(plan.variants[plan.runs[largest].variant].label)), and \(memoryLimit.description): lower --jobs"
            )
        }
        return out
    }
}
