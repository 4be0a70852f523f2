import ArgumentParser
import Flows
import Foundation
import InputText
import KernelSum
import Recording
import Scenarios
import Sweeps

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files without running them.")

    @Argument(help: "Scenario files (or names of bundled scenarios).")
    var files: [String]

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a scenario key by its dotted path, as `wgf run --set` does (repeatable).",
            valueName: "KEY=VALUE"))
    var overrides: [String] = []

    @Flag(
        help: """
            Print each resolved scenario (every default filled in, the overrides applied: the run \
            directory's scenario.toml) on stdout; the verdicts then go to stderr.
            """)
    var print = false

    func run() throws {
        var bad = 0
        for f in files.map(BundledScenarios.resolve) {
            do {
                // Validation allocates nothing proportional to the run: nothing is drawn.
                let v = try ScenarioLoader.validate(path: f, overrides: overrides, threads: 1)
                let verdict =
                    "ok  \(f) (about \(MemoryEstimate.format(v.memory.total)) of memory; \(v.memory.limit.description))"
                if print {
                    if let problem = writeStandardOutput(v.resolvedTOML) {
                        throw fail("stdout: cannot write \(f)'s resolved scenario (\(problem))", code: Exit.ioFailure)
                    }
                    printError(verdict)
                } else {
                    Swift.print(verdict)
                }
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

    @Option(
        help: ArgumentHelp(
            "Output format on stdout: table, csv or json (one row per expectation: metric, bound, threshold, by-step, step, value, passed, detail).",
            valueName: "format"))
    var format = "table"

    func run() throws {
        guard ["table", "csv", "json"].contains(format) else {
            throw fail("--format \(Excerpt.quote(format)): unknown (allowed: table, csv, json)", code: Exit.usage)
        }
        if SweepDirectory.isSweep(runDirectory) {
            guard format == "table" else {
                throw fail("--format \(format): a sweep's check prints its table only", code: Exit.usage)
            }
            return try checkSweep(runDirectory)
        }
        let (expectations, table) = try reporting {
            (
                try ScenarioLoader.expectations(path: runDirectory + "/scenario.toml"),
                try NumericTable.read(path: runDirectory + "/metrics.csv", ending: .completeRowsOnly)
            )
        }
        let verdicts = judge(expectations, metrics: table)
        let failed = verdicts.filter { !$0.passed }.count
        switch format {
        case "csv", "json":
            let header = ["metric", "bound", "threshold", "by-step", "step", "value", "passed", "detail"]
            let rows: [[TableCell]] = verdicts.map { v in
                let (bound, threshold) =
                    switch v.expectation.bound {
                    case .atMost(let t): ("at-most", t)
                    case .atLeast(let t): ("at-least", t)
                    }
                return [
                    .text(v.expectation.metric), .text(bound), .number(threshold), .integer(v.expectation.byStep),
                    .integer(v.record?.step), .number(v.record?.value), .text(v.passed ? "true" : "false"),
                    .text(v.detail),
                ]
            }
            if format == "csv" {
                printCSV(header: header, rows: rows)
            } else {
                let objects: [[String: Any]] = zip(verdicts, rows).map { v, r in
                    var o: [String: Any] = [:]
                    for (name, cell) in zip(header, r) { o[name] = cell.json }
                    o["passed"] = v.passed
                    return o
                }
                let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        default:
            if expectations.isEmpty {
                print("\(runDirectory): no expectations to check")
                return
            }
            for v in verdicts { print(v.line) }
            print("\(runDirectory): \(verdicts.count - failed) passed, \(failed) failed")
        }
        if failed > 0 { throw ExitCode(Exit.expectationFailed) }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            List every flow, kernel, target, initialisation, potential, interaction, payoff, optimizer, \
            metric, summation method and bundled scenario, one line each (or those of one kind: \
            `wgf list scenarios`).
            """
    )

    @Argument(
        help: ArgumentHelp(
            "Only this kind: flows, kernels, targets, initialisations, potentials, interactions, payoffs, optimizers, metrics, summation, scenarios (singular or plural).",
            valueName: "kind"))
    var kind: String?

    @Option(
        help: ArgumentHelp("text (aligned columns) or json (an array of {kind, name, summary}).", valueName: "format"))
    var format = "text"

    /// The kinds, in the order they are listed.
    static var kinds: [String] {
        rows.map(\.kind).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
    }

    func validate() throws {
        if let kind, List.kind(named: kind) == nil {
            throw ValidationError(
                "unknown kind \(Excerpt.quote(kind)) (allowed: \(List.kinds.joined(separator: ", ")), or their plurals)"
            )
        }
    }

    /// The kind `name` means: a kind, its plural, or `initialization`.
    static func kind(named name: String) -> String? {
        let n = name.lowercased()
        if kinds.contains(n) { return n }
        if n.hasSuffix("s"), kinds.contains(String(n.dropLast())) { return String(n.dropLast()) }
        if n.hasPrefix("initializ") { return kind(named: "initialis" + n.dropFirst("initializ".count)) }
        return nil
    }

    /// Every name a scenario may use, by kind, in registry order.
    static var rows: [(kind: String, name: String, summary: String)] {
        var rows: [(kind: String, name: String, summary: String)] = []
        func add(_ kind: String, _ entries: [(String, String)]) { rows += entries.map { (kind, $0.0, $0.1) } }
        add("flow", FlowRegistry.entries.map { ($0.name, $0.summary) })
        add(
            "kernel",
            KernelRegistry.entries.map { e in
                let params = e.parameters.map { "\($0.name)=\(formatNumber($0.defaultValue)): \($0.meaning)" }
                return (e.name, params.isEmpty ? e.summary : "\(e.summary)  [\(params.joined(separator: "; "))]")
            } + [("formula:EXPR", "a radial kernel as a formula in r, wherever a kernel spec is taken")])
        add("target", TargetRegistry.entries.map { ($0.name, $0.summary) })
        add("initialisation", InitialisationRegistry.entries.map { ($0.name, $0.summary) })
        add("potential", PotentialRegistry.entries.map { ($0.name, $0.summary) })
        add(
            "interaction",
            InteractionRegistry.entries.map { ($0.name, $0.summary) } + [
                ("KERNEL SPEC", "any kernel above (or formula:EXPR) as W, e.g. \"gaussian:sigma=1\"")
            ])
        add("payoff", GameFlow.payoffs.map { ($0.name, $0.summary) })
        add("optimizer", Optimizer.rules.map { ($0.name, $0.summary) })
        add("metric", MetricRegistry.entries.map { ($0.name, $0.summary) })
        let methods: [SummationMethod: String] = [
            .auto:
                "per call: direct if N·M ≤ 4e6, else mesh (d ≤ 3) where its plan's cost model beats direct's pairs, sliced (d > 3: riesz:r=1 if cheaper at the tolerance; gaussian, matern, imq, laplace, other riesz exponents if a pilot finds the directions that meet it cost less than half of direct) or direct",
            .direct: "exact O(N·M) sums, multi-threaded",
            .mesh:
                "every kernel, d ≤ 3: ES-window NUFFT convolution (FFTW) + exact near field by spatial hash, from the tolerance",
            .sliced:
                "riesz (r in (1/2, 2)), gaussian, matern, imq, laplace, any d: 1-D sums along P random orthonormal directions (riesz:r=1 by sorting, relative error ≈ 0.12 √(d/P) values, 0.85 √(d/P) gradients; other riesz exponents by the 1-D mesh; gaussian, matern and imq by their 1-D profile's cosine series, laplace by that of its profile less an exponential summed by sorting; a quartic control variate fitted per output cuts the error 6–12× for smooth kernels in high dimension); or as many as a given tolerance needs, from the spread between blocks",
        ]
        add("summation", SummationMethod.allCases.map { ($0.rawValue, methods[$0]!) })
        add("scenario", BundledScenarios.names.map { ($0, BundledScenarios.resolve($0)) })
        return rows
    }

    func run() throws {
        let only = kind.flatMap(List.kind(named:))
        let rows = Self.rows.filter { only == nil || $0.kind == only }
        switch format {
        case "text":
            // Columns as wide as their longest entry, two spaces apart.
            let kindWidth = rows.map(\.kind.count).max()! + 2
            let nameWidth = rows.map(\.name.count).max()! + 2
            let text = rows.map {
                $0.kind.padding(toLength: kindWidth, withPad: " ", startingAt: 0)
                    + $0.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + $0.summary + "\n"
            }.joined()
            if let problem = writeStandardOutput(text) {
                throw fail("stdout: cannot write the list (\(problem))", code: Exit.ioFailure)
            }
        case "json":
            let objects = rows.map { ["kind": $0.kind, "name": $0.name, "summary": $0.summary] }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
            if let problem = writeStandardOutput(String(decoding: data, as: UTF8.self) + "\n") {
                throw fail("stdout: cannot write the list (\(problem))", code: Exit.ioFailure)
            }
        default:
            throw fail("--format \(Excerpt.quote(format)): unknown (allowed: text, json)", code: Exit.usage)
        }
    }
}
