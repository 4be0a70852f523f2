import Foundation

/// One run of a sweep: a variant with a seed, in its own run directory.
public struct SweepRun: Sendable, Equatable {
    /// The run's position in ``SweepPlan/runs``: what a rank's share (`index % size == rank`) is taken by.
    public let index: Int
    /// The index of its variant in ``SweepPlan/variants``.
    public let variant: Int
    /// The seed (`wgf run --seed`).
    public let seed: Int
    /// Its run directory: `DIR/<variant directory name>/seed-<seed>`.
    public let directory: String
}

/// Everything a sweep will do, as a pure function of its command line: the variants (the
/// cartesian product of the `--vary` values, the first `--vary` varying slowest) and the runs
/// (every variant with every seed, variant by variant, seeds in the order given).
///
/// The plan does not look at the file system: every process of a sweep (several jobs, or
/// the ranks of an MPI job) computes the same runs in the same order, and takes its share of
/// them by index.
public struct SweepPlan: Sendable {
    /// The scenario file, as given.
    public let scenario: String
    /// `--set` overrides common to every run, applied before the variant's.
    public let baseOverrides: [String]
    /// The `--vary` options, in command-line order.
    public let varies: [Vary]
    /// The seeds, in the order given.
    public let seeds: [Int]
    /// The sweep directory.
    public let directory: String
    /// Every combination of the varied values.
    public let variants: [Variant]
    /// Every (variant, seed), variant-major.
    public let runs: [SweepRun]

    /// The most runs one sweep takes.
    public static let maximumRuns = 1_000_000

    /// The plan of a sweep.
    ///
    /// - Throws: ``SweepError`` (`.usage`) for varies given together badly (see
    ///   ``Vary/checkTogether(_:sets:)``), no seeds, more than ``maximumRuns`` runs, or two
    ///   variants with one directory name.
    public init(
        scenario: String, baseOverrides: [String], varies: [Vary], seeds: [Int], directory: String
    ) throws(SweepError) {
        try Vary.checkTogether(varies, sets: baseOverrides)
        guard !seeds.isEmpty else { throw SweepError(.usage, "--seeds: no seeds") }
        var count = seeds.count
        for v in varies {
            let (product, overflow) = count.multipliedReportingOverflow(by: v.values.count)
            guard !overflow, product <= SweepPlan.maximumRuns else {
                throw SweepError(
                    .usage, "the sweep has more than \(SweepPlan.maximumRuns) runs (variants × seeds); split it")
            }
            count = product
        }
        self.scenario = scenario
        self.baseOverrides = baseOverrides
        self.varies = varies
        self.seeds = seeds
        self.directory = directory
        var variants: [[Variant.Assignment]] = [[]]
        for v in varies {
            variants = variants.flatMap { prefix in
                v.values.map { prefix + [Variant.Assignment(key: v.key, value: $0)] }
            }
        }
        self.variants = variants.map(Variant.init)
        var byName: [String: String] = [:]
        for v in self.variants {
            if let other = byName.updateValue(v.label, forKey: v.directoryName) {
                throw SweepError(
                    .usage,
                    "variants '\(other)' and '\(v.label)' get the same directory name \(v.directoryName); change one value"
                )
            }
        }
        var runs: [SweepRun] = []
        runs.reserveCapacity(count)
        for (k, v) in self.variants.enumerated() {
            for s in seeds {
                runs.append(
                    SweepRun(
                        index: runs.count, variant: k, seed: s,
                        directory: SweepPlan.runDirectory(directory, variant: v, seed: s)))
            }
        }
        self.runs = runs
    }

    /// `DIR/<variant>/seed-<seed>`.
    public static func runDirectory(_ directory: String, variant: Variant, seed: Int) -> String {
        (directory as NSString).appendingPathComponent(variant.directoryName + "/seed-\(seed)")
    }

    /// The default sweep directory of a scenario file: `runs/<stem>-sweep`.
    public static func defaultDirectory(scenario: String) -> String {
        "runs/" + ((scenario as NSString).lastPathComponent as NSString).deletingPathExtension + "-sweep"
    }

    /// The overrides of a run, as `wgf run --set` takes them: the common ones, then the variant's.
    public func overrides(_ run: SweepRun) -> [String] { baseOverrides + variants[run.variant].overrides }
}
