import Foundation
import InputText
import KernelSum

extension GameFlow {
    /// The payoff kinds `flow.payoff.kind` may name, each with its line for `wgf list`.
    public static let payoffs: [(name: String, summary: String)] = [
        ("bilinear", "c·θ·φ or θᵀAφ (coupling, or a d×e matrix), exact through the weighted means"),
        ("kernel", "weight·k(θ − φ) for a kernel spec, summed by the kernel-sum engine (d = e, R^d)"),
        ("gan", "c(φ) − k(θ − φ), c the kernel mean of a target sample: an MMD GAN on measures"),
        ("formula", "any payoff in x (θ) and y (φ), summed directly over all pairs"),
    ]
    static let payoffKinds = payoffs.map(\.name)

    /// A player's dynamics from `[flow.min]` / `[flow.max]` (every key optional).
    static func readPlayer(_ t: Settings?) throws -> GamePlayer {
        guard let t else { return GamePlayer() }
        return GamePlayer(
            stepScale: try t.real("step-scale", default: 1, .positive),
            transport: try t.real("transport", default: 1, .nonNegative),
            temperature: try t.real("temperature", default: 0, .nonNegative),
            fisherRao: try t.real("fisher-rao", default: 0, .nonNegative),
            confinement: try t.real("confinement", default: 0, .nonNegative),
            domain: try t.optionalReal("period", .period).map { .periodic(length: $0) } ?? .free)
    }

    /// The payoff between N min particles in R^d and M max particles in R^e.
    static func readPayoff(
        _ s: Settings, d: Int, e: Int, n: Int, m: Int, ctx: FlowContext, domains: [Domain]
    ) throws -> any GamePayoff {
        guard let t = try s.optionalTable("payoff") else {
            throw s.missing("payoff", "a table { kind = \"bilinear\" | \"kernel\" | \"gan\" | \"formula\", ... }")
        }
        let kind = try t.string("kind", oneOf: payoffKinds)
        switch kind {
        case "bilinear":
            if t.contains("matrix") {
                return try BilinearPayoff(
                    matrix: try t.matrix("matrix", rows: d, columns: e).flatMap { $0 }, minDimension: d, maxDimension: e
                )
            }
            let c = try t.real("coupling", default: 1)
            guard d == e else {
                throw t.fail("coupling", "the players have dimensions \(d) and \(e): give a \(d)×\(e) matrix instead")
            }
            try t.memory.reserve(
                t, "coupling", "a \(d)×\(d) coupling matrix", parts: "c·I, dense", bytes: 8 * Double(d) * Double(d))
            return BilinearPayoff(coupling: c, dimension: d)
        case "formula":
            let f = try readFormula(t, "formula", variables: .payoff(dimension: d, secondDimension: e))
            return try FormulaPayoff(
                formula: f, minDimension: d, maxDimension: e, threads: ctx.threads, communicator: ctx.communicator)
        default:  // kernel, gan
            guard d == e else {
                throw t.fail("kind", "a \(kind) payoff needs players of the same dimension (found \(d) and \(e))")
            }
            guard domains.allSatisfy({ $0 == .free }) else {
                throw t.fail(
                    "kind",
                    "a \(kind) payoff is summed by the engine in R^d: remove period, or write the payoff as a formula")
            }
            let kernel = try readKernel(t, "kernel", default: "gaussian:sigma=1")
            let engine = try readEngine(
                t, kernel: kernel, dimension: d, threads: ctx.threads, seed: ctx.seed,
                communicator: ctx.communicator)
            // Memory: one sum each way between the players (the scaled weights kept).
            for (sources, targets) in [(m, n), (n, m)] {
                t.memory.addKernelSum(
                    t, "summation", engine, kernel: kernel, dimension: d, sources: sources, targets: targets,
                    channels: 1, gradients: 1, threads: ctx.threads)
            }
            t.memory.addWork(population: 0, doubles: Double(n))
            t.memory.addWork(population: 1, doubles: Double(m))
            if kind == "kernel" {
                return KernelPayoff(
                    kernel: kernel, weight: try t.real("weight", default: 1), dimension: d, engine: engine)
            }
            guard !ctx.target.isAbsent, ctx.target.canSample else {
                throw t.fail(
                    "kind",
                    "the gan payoff takes its data from a [target] that can be sampled (e.g. gaussian-mixture or samples)"
                )
            }
            let samples = try t.integer("data-samples", default: ctx.target.naturalSampleCount ?? 1000, .count)
            let target = ctx.target
            let seed = ctx.seed
            let data = Deferred<[Double]?> {
                var rng = RandomStream(seed: seed, .targetSample)
                return target.sample(count: samples, using: &rng)
            }
            // Memory: the data with its weights, the data term's sum onto the max player.
            t.memory.add(
                t, "data-samples", "\(samples) data sample\(samples == 1 ? "" : "s") in d = \(d)",
                parts: "the samples and their weights", bytes: 8 * Double(samples) * Double(d + 1))
            t.memory.addKernelSum(
                t, "summation", engine, kernel: kernel, dimension: d, sources: samples, targets: m,
                channels: 1, gradients: 1, threads: ctx.threads)
            return KernelPayoff(kernel: kernel, weight: -1, dimension: d, engine: engine, data: data, dataWeight: 1)
        }
    }

    static let entry = FlowEntry(
        name: "game",
        summary:
            "two-player zero-sum game on measures: descent-ascent with Langevin noise and Wasserstein–Fisher–Rao weights (Domingo-Enrich et al. 2020)",
        make: { s, ctx in
            let dynamics = Dynamics(
                rawValue: try s.string("dynamics", default: "simultaneous", oneOf: Dynamics.allCases.map(\.rawValue)))!
            let minPlayer = try readPlayer(try s.optionalTable("min"))
            guard let maxTable = try s.optionalTable("max") else {
                throw s.missing("max", "the max player's table: count, init, and its dynamics")
            }
            let maxPlayer = try readPlayer(maxTable)
            let name = try maxTable.string("name", default: "max")
            guard !name.isEmpty, !name.contains(where: { ",\"\n\r".contains($0) }) else {
                throw maxTable.fail(
                    "name",
                    "\"\(Excerpt.quote(name))\" cannot name a CSV column value (a non-empty name without commas, quotes or line breaks)"
                )
            }
            let e = try maxTable.integer("dimension", default: ctx.dimension, .dimension)
            let initTable = try maxTable.table("init")
            let initKind = try initTable.string("kind", oneOf: InitialisationRegistry.names)
            let initEntry = InitialisationRegistry.entries.first { $0.name == initKind }!
            let initialisation = try initEntry.make(initTable, e)
            let count: Int
            if let fixed = initialisation.fixedCount {
                count = try maxTable.integer("count", default: fixed, .count)
                guard count == fixed else {
                    throw maxTable.fail(
                        "count", "\(count) differs from the \(fixed) rows of init.file (omit count, or make them agree)"
                    )
                }
            } else {
                count = try maxTable.integer("count", default: ctx.particleCount, .count)
            }
            let seed = ctx.seed
            let population = Deferred<Population> {
                var rng = RandomStream(seed: seed, .initialisation, 1)
                return Population(
                    name: name, dimension: e, positions: initialisation.positions(count: count, using: &rng))
            }
            // Memory: the max player's particles; per particle of each player, every step, its
            // field (values and gradients) and its moved copy, twice for extragradient.
            s.memory.population(1, maxTable, "count", count: count, dimension: e)
            let copies = dynamics == .extragradient ? 4.0 : 2.0
            s.memory.addWork(population: 0, doubles: copies * Double(ctx.particleCount) * Double(ctx.dimension + 1))
            s.memory.addWork(population: 1, doubles: copies * Double(count) * Double(e + 1))
            let payoff = try readPayoff(
                s, d: ctx.dimension, e: e, n: ctx.particleCount, m: count, ctx: ctx,
                domains: [minPlayer.domain, maxPlayer.domain])
            return GameFlow(
                payoff: payoff, min: minPlayer, max: maxPlayer, dynamics: dynamics, initialMax: population,
                maxCount: count,
                seed: ctx.seed, threads: ctx.threads)
        }, needsTarget: false)
}
