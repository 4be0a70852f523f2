import ArgumentParser
import Flows
import Foundation
import InputText
import KernelSum
import Recording

/// `wgf sum`: one kernel sum s(y_j) = Σ_i w_i k(y_j − x_i) (and its gradient) from the terminal.
struct Sum: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute s(y_j) = Σ_i w_i k(y_j − x_i) (and ∇s with --gradient) for sources and targets.",
        discussion: """
            Sources and targets are CSV files with header x1,...,xd (the sources' may hold a w column: \
            weight 1 by default) or NumPy .npy arrays of shape (N, d); --weights gives the weights as \
            an .npy array of shape (N,) or a CSV with the one column w. The output (stdout without \
            --out) is CSV with header value (and g1,...,gd with --gradient), one row per target, in the \
            shortest form that reads back exactly; an --out path ending in .npy gets a float64 array \
            instead, of shape (M,), or (M, 1 + d) with --gradient (the value, then the gradient). A JSON \
            line on stderr gives the method (auto's choice, with "requested": "auto"), its parameters, N, M, d and the median seconds of the \
            summation alone over --repeat runs.
            """)

    @Option(help: "Kernel spec NAME or NAME:PARAM=VALUE,... (see `wgf list`), e.g. gaussian:sigma=0.5.")
    var kernel: String

    @Option(help: "Sources: CSV (x1,...,xd[,w]) or .npy (N × d).")
    var sources: String

    @Option(help: "Targets: CSV (x1,...,xd) or .npy (M × d).")
    var targets: String

    @Option(help: "The sources' weights: .npy (N values) or CSV (header w); default: the sources' w column, else 1.")
    var weights: String?

    @Option(help: "Summation method: \(SummationMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: String = "auto"

    @Option(
        help: """
            Relative tolerance max|error|/max|sum| asked of approximate methods (default 1e-6). \
            With --method sliced and no --directions, directions are added until the estimated \
            error meets it.
            """)
    var tolerance: Double?

    @Option(help: "Directions of the sliced method (rounded up to a multiple of d; default 256 without --tolerance).")
    var directions: Int?

    @Option(help: "Seed of the sliced method's directions.")
    var seed: Int = 0

    @Option(name: [.customShort("j"), .long], help: "Threads (default: all cores).")
    var threads: Int?

    @Option(
        help: ArgumentHelp(
            "Sum over the periodic box [0, L)^d, each pair through its minimum image (direct, mesh, auto).",
            valueName: "L"))
    var period: Double?

    @Flag(help: "Also compute the gradient ∇_y s.")
    var gradient = false

    @Option(
        name: .customLong("repeat"),
        help: ArgumentHelp("Repeat the summation K times and report the median time.", valueName: "K"))
    var repeatCount: Int = 1

    @Option(name: [.short, .long], help: "Output: CSV, or .npy when the path ends in .npy (default: CSV on stdout).")
    var out: String?

    func run() throws {
        guard let method = SummationMethod(rawValue: method) else {
            throw fail(
                "--method \(self.method): unknown (allowed: \(SummationMethod.allCases.map(\.rawValue).joined(separator: ", ")))",
                code: Exit.badInput)
        }
        if method == .sliced, tolerance != nil, directions != nil {
            throw fail(
                "--method sliced: give either --directions (a fixed count) or --tolerance (directions added until "
                    + "the estimated error meets it), not both", code: Exit.badInput)
        }
        let tolerance = self.tolerance ?? 1e-6
        let slicedDirections = method == .sliced && self.tolerance != nil ? nil : (directions ?? 256)
        guard tolerance > 0, tolerance.isFinite else {
            throw fail("--tolerance \(tolerance): must be a number > 0", code: Exit.badInput)
        }
        if method == .auto || method == .mesh || slicedDirections == nil,
            let problem = NumericRange.toleranceProblem(tolerance)
        {
            throw fail("--tolerance \(problem)", code: Exit.badInput)
        }
        guard repeatCount >= 1 else { throw fail("--repeat \(repeatCount): must be at least 1", code: Exit.badInput) }
        if let t = threads, t < 1 { throw fail("--threads \(t): must be at least 1", code: Exit.badInput) }
        if let l = period, let problem = NumericRange.periodProblem(l) {
            throw fail("--period \(problem)", code: Exit.badInput)
        }
        if let directions, !(1...SlicedSum.defaultMaximumDirections).contains(directions) {
            throw fail(
                "--directions \(directions): must be an integer from 1 to \(SlicedSum.defaultMaximumDirections)",
                code: Exit.badInput)
        }
        let k: any RadialKernel
        if kernel.hasPrefix("formula:") {
            do {
                k = FormulaKernel(
                    formula: try ScenarioFormula(compiling: String(kernel.dropFirst(8)), variables: .radius))
            } catch {
                throw fail("--kernel \(Excerpt.quote(kernel)): \(formulaMessage(error))", code: Exit.badInput)
            }
        } else {
            do { k = try KernelRegistry.make(kernel) } catch let e as KernelSpecError {
                throw fail(
                    "--kernel \(Excerpt.quote(kernel)): \(e.message) (or formula:EXPR, a formula in r)",
                    code: Exit.badInput)
            }
        }
        let (src, tgt, givenWeights) = try reporting {
            (
                try readPoints(path: sources, allowWeights: true), try readPoints(path: targets),
                try weights.map { try readValues(path: $0, name: "w") }
            )
        }
        guard src.dimension == tgt.dimension else {
            throw fail(
                "\(targets): \(tgt.dimension) coordinates but \(sources) has \(src.dimension)", code: Exit.badInput)
        }
        let d = src.dimension
        let n = src.points.count / d
        let m = tgt.points.count / d
        guard seed >= 0 else { throw fail("--seed \(seed): must be ≥ 0", code: Exit.badInput) }
        for (path, points) in [(sources, src.points), (targets, tgt.points)] {
            if let k = points.firstIndex(where: { !(abs($0) <= NumericRange.coordinate) }) {
                throw fail(
                    "\(path): row \(k / d + 1), x\(k % d + 1) = \(points[k]) is beyond ±\(formatNumber(NumericRange.coordinate)) "
                        + "(squared distances of such points overflow)", code: Exit.badInput)
            }
            if points.count / d > MemoryEstimate.maximumCount {
                throw fail("\(path): more than \(MemoryEstimate.maximumCount) points", code: Exit.badInput)
            }
        }
        let engine: any KernelSumEngine
        do {
            engine = try KernelSumEngines.make(
                method, kernel: k, dimension: d, tolerance: tolerance, threads: threads ?? Parallel.defaultThreads,
                directions: slicedDirections, seed: UInt64(seed), domain: Domain(period: period))
        } catch let e as SummationError {
            throw fail("--method \(method.rawValue): \(e.message)", code: Exit.badInput)
        }
        // Memory: the engine's buffers and outputs, and the output's text (about 25 characters
        // a number, and its copy as bytes); refused beyond what the machine has.
        let work = MemoryEstimate.kernelSum(
            engine, kernel: k, dimension: d, sources: n, targets: m, channels: 1,
            gradients: gradient ? 1 : 0, threads: threads ?? Parallel.defaultThreads)
        let need =
            MemoryEstimate.baseline + work.transient + work.persistent + 2 * 25 * Double(m)
            * Double(gradient ? d + 1 : 1)
        let limit = MemoryLimit.current
        guard need <= limit.bytes else {
            throw fail(
                "--method \(method.rawValue)\(method == .sliced ? slicedDirections.map { " --directions \($0)" } ?? " --tolerance \(formatNumber(tolerance))" : ""): the sum of \(n) sources onto \(m) targets "
                    + "needs about \(MemoryEstimate.format(need)) (engine buffers, outputs and their text); \(limit.description)",
                code: Exit.badInput)
        }
        if let given = givenWeights, let path = weights {
            guard given.count == n else {
                throw fail("\(path): \(given.count) weights for the \(n) sources of \(sources)", code: Exit.badInput)
            }
            guard src.weights == nil else {
                throw fail("--weights \(path): \(sources) has a w column already", code: Exit.badInput)
            }
        }
        let sourceWeights = givenWeights ?? src.weights ?? [Double](repeating: 1, count: n)
        var values: [Double] = []
        var gradients: [Double] = []
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<repeatCount {
            let t0 = clock.now
            engine.sum(
                k, dimension: d, sources: src.points, weights: sourceWeights, channels: 1, targets: tgt.points,
                gradientChannels: gradient ? [0] : [], values: &values, gradients: &gradients)
            let e = t0.duration(to: clock.now).components
            times.append(Double(e.seconds) + Double(e.attoseconds) * 1e-18)
        }
        times.sort()
        let median =
            times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2

        if let out, out.hasSuffix(".npy") {
            let width = gradient ? 1 + d : 1
            var table = [Double](repeating: 0, count: m * width)
            for j in 0..<m {
                table[j * width] = values[j]
                for a in 0..<(width - 1) { table[j * width + 1 + a] = gradients[j * d + a] }
            }
            let bytes = NPY.encode(table, shape: gradient ? [m, width] : [m])
            do { try AtomicFile.write([UInt8](bytes), to: out) } catch {
                throw fail("\(out): cannot write (\(error))", code: Exit.ioFailure)
            }
            return try report(engine: engine, kernel: k, n: n, m: m, d: d, seconds: median)
        }
        var text = gradient ? (["value"] + (1...d).map { "g\($0)" }).joined(separator: ",") + "\n" : "value\n"
        text.reserveCapacity(m * (gradient ? d + 1 : 1) * 24)
        for j in 0..<m {
            text += values[j].description
            if gradient {
                for a in 0..<d {
                    text += ","
                    text += gradients[j * d + a].description
                }
            }
            text += "\n"
        }
        if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw fail("\(out): cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
            }
        } else if let problem = writeStandardOutput(text) {
            throw fail("stdout: cannot write the sums (\(problem))", code: Exit.ioFailure)
        }
        try report(engine: engine, kernel: k, n: n, m: m, d: d, seconds: median)
    }

    /// The JSON line on stderr: the method that summed (for `auto`, its choice, with
    /// `"requested": "auto"`), its parameters, sizes and the median time.
    func report(engine: any KernelSumEngine, kernel k: any RadialKernel, n: Int, m: Int, d: Int, seconds: Double) throws
    {
        var parameters = engine.parameters
        let chosen = parameters.removeValue(forKey: "choice")
        var report: [String: Any] = [
            "method": chosen ?? engine.name, "parameters": parameters, "kernel": k.spec,
            "N": n, "M": m, "d": d, "gradient": gradient, "repeat": repeatCount, "seconds": seconds,
        ]
        if chosen != nil { report["requested"] = engine.name }
        if let period { report["period"] = period }
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        FileHandle.standardError.write(json + Data("\n".utf8))
        // A tolerance the sliced estimate does not meet, said aloud: either the cap of directions
        // stopped it, or the count its pilot chose on at most 1024 targets falls short on them all.
        if let sliced = engine as? SlicedSum, let last = sliced.lastEstimate, last.met == false {
            let cap = max(1, sliced.maximumDirections / d) * d
            let why =
                last.directions >= cap
                ? "drew its maximum of \(last.directions) directions"
                : "drew the \(last.directions) directions its pilot on \(SlicedSum.pilotTargetCount(m)) of the \(m) "
                    + "targets found enough"
            FileHandle.standardError.write(
                Data(
                    ("wgf sum: warning: sliced \(why) and estimates a relative error of \(formatNumber(last.error)) on "
                        + "all targets, above --tolerance \(formatNumber(last.tolerance!)); use --method direct for an "
                        + "exact sum\n").utf8))
        }
    }
}
