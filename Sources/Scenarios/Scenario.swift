import Communication
import Flows
import Foundation
import InputText
import KernelSum
import Recording

/// A scenario decoded and validated, its memory estimated and found to fit: nothing
/// proportional to the run (particles, samples, data sets) exists until ``load()`` draws it.
public struct ValidatedScenario {
    /// The file's stem (see ``LoadedScenario/name``).
    public let name: String
    /// The scenario file's path as given.
    public let path: String
    /// What the run will need, item by item (see `MemoryEstimate` in Flows).
    public let memory: MemoryEstimate
    /// `seed`, as ``LoadedScenario/seed`` will have it.
    public let seed: UInt64
    /// `steps`: the number of steps the run takes.
    public let steps: Int
    /// `record.metrics`, in order: the columns of metrics.csv after step, time and wall.
    public let metricNames: [String]
    /// The `[[expect]]` tables, in order.
    public let expectations: [Expectation]
    /// The identity the loaded scenario and its checkpoints will have (``LoadedScenario/identity``):
    /// a sweep compares it with a run directory's to tell whether the run is of this scenario.
    public let identity: String
    /// The scenario with every default filled in (``LoadedScenario/resolvedTOML``, the run
    /// directory's scenario.toml).
    public let resolvedTOML: String
    let build: () -> LoadedScenario

    /// Draws the initial state and builds the simulation (once: the simulation owns the flow
    /// and metrics read by validation).
    public func load() -> LoadedScenario { build() }
}

/// A scenario decoded, validated and built into a simulation.
public struct LoadedScenario {
    /// The file's stem: names the default output directory `runs/<name>/`.
    public let name: String
    /// The scenario file's path as given.
    public let path: String
    /// The step loop with its initial state, flow, metrics and expectations, ready to run.
    public let simulation: Simulation
    /// `seed`: keys every random stream of the run (initialisation, noise, subsamples).
    public let seed: UInt64
    /// Worker threads the flow and metrics were built for.
    public let threads: Int
    /// `record.trajectory`: whether particle states are written.
    public let writeTrajectory: Bool
    /// When the run writes checkpoints (`checkpoint-every`, `checkpoint-seconds`).
    public let checkpointSchedule: CheckpointSchedule
    /// `record.format`: the trajectory file's format.
    public let trajectoryFormat: TrajectoryFormat
    /// The scenario with every default filled in, as TOML: rerunning it gives the same run.
    public let resolvedTOML: String
    /// SHA-256 of ``resolvedTOML`` (hex), recorded in run.json.
    public var sha256: String { sha256Hex(Array(resolvedTOML.utf8)) }
    /// SHA-256 of the resolved scenario without its header and its `steps` (hex): what a
    /// checkpoint belongs to. A resume may extend `steps`; any other change is refused.
    public let identity: String
}

/// Reads scenario files (TOML) into simulations: the entry points of `wgf run`, `validate`, `check` and `plot`.
public enum ScenarioLoader {
    /// The largest scenario accepted, in bytes (4 MiB). A scenario holds settings; data (initial
    /// particles, target samples) belong in the files it names. The TOML reader holds about 40
    /// bytes per value and reads a few MB a second, so the bound keeps reading a scenario near
    /// 200 MB and a few seconds (a mean of d = 65536 numbers is 1.3 MB).
    public static let maximumFileSize = 4 << 20

    /// Reads and parses a scenario file (or `contents` given for it), then applies `--set`
    /// overrides (`KEY=VALUE`).
    static func parse(
        path: String, contents: [UInt8]? = nil, overrides: [String],
        memoryLimit: MemoryLimit = .current
    ) throws -> (ScenarioSource, TOMLTable) {
        let source = ScenarioSource(path: path, memoryLimit: memoryLimit)
        let bytes: [UInt8]
        if let contents {
            bytes = contents
        } else {
            do { bytes = try readInputFile(path: path, limit: maximumFileSize) } catch {
                throw ScenarioError.unreadable(path: path, reason: error.reason)
            }
        }
        guard bytes.count <= maximumFileSize else {
            throw ScenarioError.unreadable(path: path, reason: .tooLarge(bytes: bytes.count, limit: maximumFileSize))
        }
        let root: TOMLTable
        do { root = try TOMLParser.parse(bytes: bytes) } catch let e as TOMLSyntaxError {
            throw ScenarioError.syntax(path: path, e)
        }
        for o in overrides { try applyOverride(o, to: root, source: source) }
        return (source, root)
    }

    /// `KEY=VALUE`: KEY a dotted path (`population.count`, `expect[1].at-most`), VALUE a TOML
    /// value, or else taken as a string (so `flow.kernel=gaussian:sigma=2` needs no quotes).
    static func applyOverride(_ text: String, to root: TOMLTable, source: ScenarioSource) throws {
        func fail(_ problem: ScenarioError.OverrideProblem) -> ScenarioError { .override(text: text, problem) }
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw fail(.notKeyValue) }
        let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let valueText = String(text[text.index(after: eq)...])
        let value = (try? TOMLParser.parseValue(valueText)) ?? .string(valueText)
        var table = root
        var display: [String] = []
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= TOMLParser.maxNesting else {
            throw fail(.tooManySegments(parts.count, limit: TOMLParser.maxNesting))
        }
        for (k, part) in parts.enumerated() {
            var name = part
            var index: Int? = nil
            if let open = part.firstIndex(of: "["), part.hasSuffix("]") {
                name = String(part[..<open])
                index = Int(part[part.index(after: open)..<part.index(before: part.endIndex)])
                guard index != nil else { throw fail(.badIndex(segment: part)) }
            }
            guard !name.isEmpty else { throw fail(.emptySegment) }
            let last = k == parts.count - 1
            if last && index == nil {
                display.append(name)
                table.set(name, TOMLTable.entry(for: value, line: 0), line: 0)
                source.overrides[display.joined(separator: ".")] = text
                return
            }
            switch (table.entries[name], index) {
            case (.table(let t)?, nil): table = t
            case (nil, nil):
                let t = TOMLTable(line: 0, explicit: true)
                table.set(name, .table(t), line: 0)
                source.overrides[(display + [name]).joined(separator: ".")] = text
                table = t
            case (.tables(let ts)?, let i?) where i >= 1 && i <= ts.count: table = ts[i - 1]
            case (.tables(let ts)?, let i?):
                throw fail(.indexOutOfRange(name: name, index: i, count: ts.count))
            default:
                throw fail(.notATable(path: (display + [part]).joined(separator: ".")))
            }
            display.append(part)
            if last { throw fail(.wholeTable) }
        }
    }

    /// Decodes, validates and builds a scenario: the file at `path`, or `contents` given for it
    /// (in-memory checks such as the fuzz tests; `path` then only names it in messages and
    /// anchors the relative paths inside it).
    ///
    /// - Parameters:
    ///   - path: The scenario file; relative paths inside it are relative to its directory.
    ///   - contents: The file's bytes when given in memory; nil reads `path`.
    ///   - overrides: `--set KEY=VALUE` texts, applied in order after parsing.
    ///   - threads: Worker threads for the flow and the metrics.
    ///   - memoryLimit: The scenario is refused if its estimated memory exceeds this.
    ///   - communicator: The ranks that run the scenario together (the flow's kernel sums are
    ///     shared; each holds the whole state, or its slab's particles while a flow that
    ///     distributes them steps), one process by default.
    /// - Throws: ``ScenarioError`` naming the file, line and key of the first problem.
    public static func load(
        path: String, contents: [UInt8]? = nil, overrides: [String] = [],
        threads: Int = Parallel.defaultThreads, memoryLimit: MemoryLimit = .current,
        communicator: any Communicator = SerialCommunicator()
    ) throws -> LoadedScenario {
        try validate(
            path: path, contents: contents, overrides: overrides, threads: threads, memoryLimit: memoryLimit,
            communicator: communicator
        ).load()
    }

    /// Decodes and validates a scenario and estimates its memory (refused beyond `memoryLimit`),
    /// without drawing anything proportional to the run: what `wgf validate` does. The
    /// parameters are those of ``load(path:contents:overrides:threads:memoryLimit:communicator:)``.
    ///
    /// - Throws: ``ScenarioError`` naming the file, line and key of the first problem.
    public static func validate(
        path: String, contents: [UInt8]? = nil, overrides: [String] = [],
        threads: Int = Parallel.defaultThreads, memoryLimit: MemoryLimit = .current,
        communicator: any Communicator = SerialCommunicator()
    ) throws -> ValidatedScenario {
        let (source, toml) = try parse(path: path, contents: contents, overrides: overrides, memoryLimit: memoryLimit)
        let root = ScenarioTable(source: source, table: toml, path: "")
        do {
            return try build(root, source: source, threads: threads, communicator: communicator)
        } catch let e as SettingsError {
            throw ScenarioError.settings(e)
        }
    }

    /// The expectations of a (resolved) scenario, without building it: what `wgf check` needs.
    /// The file is a run's scenario.toml, whose steps may have been cut from the command line
    /// (`wgf run --steps 30` of a scenario with `by-step = 100`): a by-step beyond its steps is
    /// then judged failed ("the run ended at step 30, before step 100"), not refused.
    ///
    /// - Throws: ``ScenarioError`` for a file that cannot be read, parsed, or whose `[[expect]]` are invalid.
    public static func expectations(path: String) throws -> [Expectation] {
        let (source, toml) = try parse(path: path, overrides: [])
        let root = ScenarioTable(source: source, table: toml, path: "")
        do {
            let steps = try root.integer("steps", .nonNegativeInteger)
            let metrics = try root.optionalTable("record").map { try $0.strings("metrics", default: []) } ?? []
            return try readExpectations(root, steps: steps, metrics: metrics, stepsMayBeCut: true)
        } catch let e as SettingsError {
            throw ScenarioError.settings(e)
        }
    }

    static func readExpectations(
        _ root: ScenarioTable, steps: Int, metrics: [String], stepsMayBeCut: Bool = false
    ) throws -> [Expectation] {
        try root.tables("expect").map { e in
            // Read only when given, so that the resolved scenario of a file without it is unchanged.
            let kind =
                e.contains("kind")
                ? Expectation.Kind(
                    rawValue: try e.string("kind", oneOf: [Expectation.Kind.threshold, .twoSample].map(\.rawValue)))!
                : .threshold
            if kind == .twoSample {
                return try readTwoSampleExpectation(
                    e, root: root, steps: steps, metrics: metrics, stepsMayBeCut: stepsMayBeCut)
            }
            let metric = try e.string("metric")
            guard metrics.contains(metric) else {
                throw e.fail(
                    "metric",
                    "\"\(Excerpt.quote(metric))\" is not recorded (add it to record.metrics; recorded: \(metrics.isEmpty ? "none" : metrics.joined(separator: ", ")))"
                )
            }
            let bound: Expectation.Bound
            switch (e.contains("at-most"), e.contains("at-least")) {
            case (true, false): bound = .atMost(try e.real("at-most"))
            case (false, true): bound = .atLeast(try e.real("at-least"))
            case (true, true): throw e.fail("at-least", "give at-most or at-least, not both")
            case (false, false): throw e.fail("", "missing at-most or at-least (one threshold is required)")
            }
            let (byStep, fraction) = try readStepAndFraction(e, root: root, steps: steps, stepsMayBeCut: stepsMayBeCut)
            return Expectation(metric: metric, bound: bound, byStep: byStep, fraction: fraction)
        }
    }

    /// `kind = "two-sample"`: the `two-sample` metric's p-value ≥ `alpha` (default 0.05) by
    /// `by-step`; it takes no `metric` or threshold.
    static func readTwoSampleExpectation(
        _ e: ScenarioTable, root: ScenarioTable, steps: Int, metrics: [String], stepsMayBeCut: Bool
    ) throws -> Expectation {
        let name = Expectation.twoSampleMetric
        guard metrics.contains(name) else {
            throw e.fail(
                "kind",
                "kind = \"\(name)\" judges the \(name) metric's p-value: add \"\(name)\" to record.metrics (recorded: \(metrics.isEmpty ? "none" : metrics.joined(separator: ", ")))"
            )
        }
        let alpha = try e.real("alpha", default: 0.05, Allowed("a level in (0, 1), e.g. 0.05") { $0 > 0 && $0 < 1 })
        // p ≥ 1/(B + 1) always: a smaller α could never fail. (B is checked by the metric itself.)
        // (Read raw: the [record] table is resolved where the metrics are built.)
        var given: Double? = nil
        if case .table(let record)? = root.raw("record") {
            given = record.first { $0.0 == "two-sample-permutations" }?.1.asReal
        }
        let b = given.map { Int(exactly: $0) ?? TwoSampleTest.defaultPermutations } ?? TwoSampleTest.defaultPermutations
        guard alpha * Double(b + 1) >= 1 else {
            throw e.fail(
                "alpha",
                "\(formatNumber(alpha)) is below 1/(B + 1) = \(formatNumber(1 / Double(b + 1))), the smallest p-value of B = \(b) permutations: the test could never reject (set record.two-sample-permutations to at least \(Int((1 / alpha).rounded(.up)) - 1))"
            )
        }
        let (byStep, fraction) = try readStepAndFraction(e, root: root, steps: steps, stepsMayBeCut: stepsMayBeCut)
        return .twoSample(alpha: alpha, byStep: byStep, fraction: fraction)
    }

    /// An expectation's `by-step` (default: the scenario's steps) and `fraction` (default 1).
    static func readStepAndFraction(
        _ e: ScenarioTable, root: ScenarioTable, steps: Int, stepsMayBeCut: Bool
    ) throws -> (byStep: Int, fraction: Double) {
        // Beyond the scenario's steps is a mistake in the file, but not when the steps were
        // cut from the command line (a short trial run, the first leg of a resumed one): the
        // expectation then fails as "the run ended before step N" if judged.
        let shortened = stepsMayBeCut || root.source.overrides["steps"] != nil
        let byStep = try e.integer(
            "by-step", default: steps,
            shortened
                ? .nonNegativeInteger
                : Allowed("an integer in [0, \(steps)] (the scenario's steps)") { $0 >= 0 && $0 <= steps })
        // Read only when given, so that the resolved scenario of a file without it is unchanged.
        let fraction =
            try e.optionalReal(
                "fraction",
                Allowed("a number in (0, 1]: the share of a sweep's seeds in which it must hold") {
                    $0 > 0 && $0 <= 1
                }) ?? 1
        return (byStep, fraction)
    }

    /// The `[parameters]` table into the scenario's formula scope.
    static func readParameters(_ root: ScenarioTable) throws {
        guard let parameters = try root.optionalTable("parameters") as? ScenarioTable else { return }
        for key in parameters.table.keys {
            root.formulaScope.parameters[key] = try parameters.real(key, .any)
        }
    }

    static func kind<E>(_ t: Settings, _ entries: [E], name: (E) -> String) throws -> E {
        let k = try t.string("kind", oneOf: entries.map(name))
        return entries.first { name($0) == k }!
    }

    static func build(
        _ root: ScenarioTable, source: ScenarioSource, threads: Int,
        communicator: any Communicator
    ) throws -> ValidatedScenario {
        let memory = source.memory
        let stem = ((source.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let title = try root.string("title", default: stem)
        let seed = UInt64(try root.integer("seed", default: 1, .nonNegativeInteger))
        let steps = try root.integer("steps", .nonNegativeInteger)
        let stepSize = try root.real("step-size", .positive)
        let recordEvery = try root.integer("record-every", default: max(1, steps / 100), .positiveInteger)
        let checkpointSchedule = CheckpointSchedule(
            steps: try root.integer("checkpoint-every", default: 0, .nonNegativeInteger),
            seconds: try root.real("checkpoint-seconds", default: CheckpointSchedule.standard.seconds, .nonNegative))
        // Formula parameters first: any formula below may use them.
        try readParameters(root)

        // The flow's kind, peeked without resolving it (the flow table is read in its turn below):
        // whether a [target] is required, and whether the flow fixes the particles' dimension.
        var peekedFlow: FlowEntry? = nil
        if case .table(let items)? = root.raw("flow"), case .string(let k)? = items.first(where: { $0.0 == "kind" })?.1
        {
            peekedFlow = FlowRegistry.entries.first { $0.name == k }
        }
        let target: any Target
        var earlyPopulation: Settings? = nil
        var earlyFlow: Settings? = nil
        if let targetTable = try root.optionalTable("target") {
            target = try kind(targetTable, TargetRegistry.entries, name: \.name).make(targetTable)
        } else if let flowEntry = peekedFlow, !flowEntry.needsTarget {
            let dimension: Int
            earlyPopulation = try root.table("population")
            if let fixed = flowEntry.particleDimension {
                earlyFlow = try root.table("flow")
                dimension = try fixed(earlyFlow!)
            } else {
                dimension = try earlyPopulation!.integer("dimension", .dimension)
            }
            target = NoTarget(dimension: dimension)
        } else {
            // An unknown or missing flow kind is reported as such rather than as a missing target.
            guard let flowEntry = peekedFlow else {
                _ = try kind(root.table("flow"), FlowRegistry.entries, name: \.name)
                throw root.missing("target", "a table is required")
            }
            throw root.missing("target", "the \(flowEntry.name) flow needs a target")
        }
        let d = target.dimension

        let populationTable = try earlyPopulation ?? root.table("population")
        let name = try populationTable.string("name", default: "particles")
        guard !name.isEmpty, !name.contains(where: { ",\"\n\r".contains($0) }) else {
            throw populationTable.fail(
                "name",
                "\"\(Excerpt.quote(name))\" cannot name a CSV column value (a non-empty name without commas, quotes or line breaks)"
            )
        }
        let initTable = try populationTable.table("init")
        let initialisation = try kind(initTable, InitialisationRegistry.entries, name: \.name).make(initTable, d)
        let count: Int
        if let fixed = initialisation.fixedCount {
            count = try populationTable.integer("count", default: fixed, .count)
            guard count == fixed else {
                throw populationTable.fail(
                    "count", "\(count) differs from the \(fixed) rows of init.file (omit count, or make them agree)")
            }
        } else {
            count = try populationTable.integer("count", .count)
        }
        memory.population(0, populationTable, "count", count: count, dimension: d)

        let flowTable = try earlyFlow ?? root.table("flow")
        let flow = try kind(flowTable, FlowRegistry.entries, name: \.name)
            .make(
                flowTable,
                FlowContext(
                    target: target, dimension: d, particleCount: count, seed: seed, threads: threads,
                    communicator: communicator))

        let recordTable =
            try root.optionalTable("record") as? ScenarioTable
            ?? {
                let t = ScenarioTable(source: source, table: TOMLTable(line: 1, explicit: true), path: "record")
                root.put("record", .table(t))
                return t
            }()
        let metricNames = try recordTable.strings("metrics", default: [], oneOf: MetricRegistry.names)
        let writeTrajectory = try recordTable.bool("trajectory", default: true)
        let trajectoryFormat = TrajectoryFormat(
            rawValue: try recordTable.string(
                "format", default: TrajectoryFormat.csv.rawValue,
                oneOf: TrajectoryFormat.allCases.map(\.rawValue)))!
        let context = MetricContext(
            target: target, flow: flow, dimension: d, particleCount: count, seed: seed, threads: threads,
            communicator: communicator)
        let metrics = try metricNames.map { n in
            (name: n, metric: try MetricRegistry.entries.first { $0.name == n }!.make(recordTable, context))
        }
        let expectations = try readExpectations(root, steps: steps, metrics: metricNames)
        _ = try readPlotTable(root, dimension: d)
        try root.rejectUnknownKeys()
        if writeTrajectory { memory.addTrajectoryRecord(recordTable, "trajectory") }
        try memory.check()

        if trajectoryFormat == .h5md, name.contains("/") || name == "." {
            throw recordTable.fail(
                "format", "population name \"\(name)\" cannot name an HDF5 group (no '/'): rename it, or record as csv")
        }
        // A comment holds no line break or other control character (TOML): a title or path
        // holding one is shown with spaces there.
        func commented(_ text: String) -> String {
            String(
                String.UnicodeScalarView(
                    text.unicodeScalars.map {
                        $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
                    }))
        }
        let header =
            "# \(commented(title)): resolved by wgf from \(commented(source.path)), every default filled in.\n# Rerunning this file alone repeats the run.\n"
        let resolvedTOML = TOMLWriter.write(root.resolvedValue, header: header)
        guard case .table(let entries) = root.resolvedValue else { preconditionFailure("the root is a table") }
        let identity = sha256Hex(Array(TOMLWriter.write(.table(entries.filter { $0.0 != "steps" })).utf8))
        return ValidatedScenario(
            name: stem, path: source.path, memory: memory, seed: seed, steps: steps,
            metricNames: metricNames, expectations: expectations, identity: identity, resolvedTOML: resolvedTOML
        ) {
            var rng = RandomStream(seed: seed, .initialisation, 0)
            let population = Population(
                name: name, dimension: d, positions: initialisation.positions(count: count, using: &rng))
            var initialState = SimulationState(populations: [population])
            flow.prepare(&initialState)
            let simulation = Simulation(
                title: title, steps: steps, stepSize: stepSize, recordEvery: recordEvery,
                state: initialState, flow: flow,
                metrics: metrics, expectations: expectations)
            simulation.formulaScope = source.formulaScope
            simulation.parts = source.parts
            simulation.communicator = communicator
            simulation.recordsStates = writeTrajectory
            return LoadedScenario(
                name: stem, path: source.path, simulation: simulation, seed: seed, threads: threads,
                writeTrajectory: writeTrajectory, checkpointSchedule: checkpointSchedule,
                trajectoryFormat: trajectoryFormat, resolvedTOML: resolvedTOML, identity: identity)
        }
    }
}
