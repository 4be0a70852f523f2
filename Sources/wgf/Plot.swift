import ArgumentParser
import Flows
import Foundation
import KernelSum
import Plotting
import Recording
import Scenarios

/// A run directory read for plotting: trajectory (if recorded), metrics, and the context
/// (title, target density, window, expectations) from its scenario.toml and run.json.
struct LoadedRun {
    let directory: String
    let trajectory: (any TrajectorySource)?
    let metrics: MetricSeries
    let context: PlotContext
    let flowKind: String?
    let info: [String: Any]

    /// Reads `directory` (the trajectory through ``openTrajectory(runDirectory:)``, which reads
    /// trajectory.h5 record by record when asked); a missing directory or metrics.csv, or a
    /// malformed file, is bad input (exit 3), an unreadable HDF5 file an I/O failure (exit 5).
    static func load(_ directory: String, needTrajectory: Bool) throws -> LoadedRun {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw fail("\(directory): no such run directory", code: Exit.badInput)
        }
        let metricsPath = directory + "/metrics.csv"
        guard FileManager.default.fileExists(atPath: metricsPath) else {
            throw fail("\(directory): no metrics.csv (not a run directory written by `wgf run`)", code: Exit.badInput)
        }
        let metrics = try reporting { try MetricSeries.read(path: metricsPath) }
        var trajectory: (any TrajectorySource)? = nil
        if needTrajectory {
            trajectory = try reporting { try openTrajectory(runDirectory: directory) }
            if trajectory == nil {
                printError(
                    "wgf: \(directory): no trajectory.csv or trajectory.h5 (recorded with record.trajectory = false?): only the metrics are drawn"
                )
            }
        }
        var info: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: directory + "/run.json"),
            let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            info = obj
        }
        var title = ((info["scenario"] as? [String: Any])?["title"] as? String)
        var thresholds: [Threshold] = []
        var flowKind: String? = nil
        var context = PlotContext(title: "")
        let scenarioPath = directory + "/scenario.toml"
        if FileManager.default.fileExists(atPath: scenarioPath) {
            do {
                let p = try ScenarioLoader.plotInfo(path: scenarioPath)
                title = title ?? p.title
                flowKind = p.flowKind
                context.imageShape = p.imageShape
                if let l = p.period, let d = trajectory?.dimension {
                    context.box = [ClosedRange<Double>](repeating: 0...l, count: d)
                }
                if let target = p.target, trajectory.map({ $0.dimension == target.dimension }) ?? true {
                    if let density = target.density {
                        context.logDensity = { x in density.logDensity(x) }
                    }
                    if let m = target.moments {
                        let d = target.dimension
                        context.window = (0..<d).map { a in
                            let sd = max(m.covariance[a * d + a], 0).squareRoot()
                            return (m.mean[a] - 3 * sd)...(m.mean[a] + 3 * sd)
                        }
                        if d > 2 {
                            var rng = RandomStream(seed: 7, .initialisation, 0)
                            context.referenceSamples = target.sample(count: 400, using: &rng)
                        }
                    }
                    // A target known by its points (`samples`): a light cloud under 2-D snapshots.
                    if target.density == nil, target.dimension == 2, target.canSample {
                        var rng = RandomStream(seed: 7, .initialisation, 0)
                        context.referenceSamples = target.sample(
                            count: min(target.naturalSampleCount ?? 2000, 2000), using: &rng)
                    }
                }
                // A Langevin run: its Gibbs density ∝ exp(−V/λ) when the particles do not interact
                // (normalised where log Z is known, as the 1-D curve needs), else V's level sets.
                if context.logDensity == nil, let g = ScenarioLoader.langevinPlotInfo(path: scenarioPath),
                    trajectory.map({ $0.dimension == g.dimension }) ?? true
                {
                    let v = g.potential
                    let lambda = g.temperature
                    let logZ = v.logPartition(temperature: lambda, dimension: g.dimension)
                    if !g.interacting && lambda > 0 && (logZ != nil || g.dimension == 2) {
                        context.logDensity = { x in -v.value(x) / lambda - (logZ ?? 0) }
                        context.densityLabel = "Gibbs density ∝ exp(−V/λ)"
                    } else {
                        context.potential = { x in v.value(x) }
                    }
                }
            } catch let e as ScenarioError {
                printError("wgf: \(e.description) (drawn without the target)")
            } catch {}
            if let es = try? ScenarioLoader.expectations(path: scenarioPath) {
                thresholds = es.map { e in
                    switch e.bound {
                    case .atMost(let v): return Threshold(metric: e.metric, value: v, atMost: true, byStep: e.byStep)
                    case .atLeast(let v): return Threshold(metric: e.metric, value: v, atMost: false, byStep: e.byStep)
                    }
                }
            }
        }
        context.title = title ?? (directory as NSString).lastPathComponent
        context.thresholds = thresholds
        return LoadedRun(
            directory: directory, trajectory: trajectory, metrics: metrics, context: context, flowKind: flowKind,
            info: info)
    }
}

/// Writes `text` to `path`, an I/O failure exiting with code 5.
func writeText(_ text: String, to path: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
        throw fail("\(path): cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
    }
}

func makeDirectory(_ path: String) throws {
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        throw fail("\(path): cannot create the directory (\(error.localizedDescription))", code: Exit.ioFailure)
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw figures of a run (SVG, PDF or PNG): particles, paths, metrics and an animation.",
        discussion: """
            Writes into DIR (default RUN_DIR/plots/): particles.svg (snapshots at equal aspect over the \
            target's density contours in 2-D, a Langevin run's Gibbs density ∝ exp(−V/λ), a samples target \
            as a light cloud; histograms over its density in 1-D; a matrix of 2-D projections in d > 2, \
            --coords to choose them; populations in distinct colours and markers, marker area proportional \
            to weight), paths.svg (a subsample of trajectories, thinned in time), metrics.svg (each metric \
            against step, time on the top axis, log scale where positive, each expectation as a bar at its \
            bound at its by-step), images.svg (a scenario whose particles are images, [plot] image = [w, h]: \
            the last record's particles as grayscale tiles beside the target's samples) and animation.svg \
            (animated SVG, d ≤ 2). Reads trajectory.csv or \
            trajectory.h5 (only the records drawn), metrics.csv, scenario.toml and run.json. With --format \
            pdf or png the figures are drawn by Cairo from the same calls; the animation is SVG only (left \
            out with a note, an error when asked for by --kinds). See docs/figures.md.
            """)

    @Argument(help: "A run directory written by `wgf run`.")
    var runDirectory: String

    @Option(name: [.short, .long], help: "Output directory (default: RUN_DIR/plots).")
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Steps of the particle snapshots, comma-separated (nearest records; default: first, middle, last).",
            valueName: "S1,S2,..."))
    var steps: String?

    @Option(
        help:
            "Figures to draw, comma-separated: particles, paths, metrics, images (a scenario with [plot] image), animation (default: all)."
    )
    var kinds: String?

    @Option(help: "File format: svg, pdf (vector, for papers) or png (raster at twice the SVG's size).")
    var format: String = "svg"

    @Option(
        help: ArgumentHelp(
            "In d > 2, the coordinates shown, 1-based: the projections' rows and columns (2 to 5), the first two the plane of the paths (default: x1..x5; x1, x2).",
            valueName: "I,J,..."))
    var coords: String?

    @Option(
        help:
            "Particles per population drawn in paths.svg (default: 40; 8 for Langevin runs, whose noisy paths cross).")
    var pathParticles: Int?

    @Option(help: "At most this many points per path in paths.svg (records evenly spaced, the last always).")
    var pathPoints: Int = 200

    @Flag(
        inversion: .prefixedNo,
        help: "2-D figures at equal aspect: one unit the same length on both axes (--no-equal-aspect: square panels).")
    var equalAspect = true

    @Option(help: "Particles per population in animation.svg.")
    var animatedParticles: Int = 300

    @Option(help: "Records (frames) in animation.svg.")
    var frames: Int = 60

    func run() throws {
        let allowed = ["particles", "paths", "metrics", "images", "animation"]
        let wanted = (kinds ?? allowed.joined(separator: ",")).split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let fileFormat = FigureFormat(rawValue: format) else {
            throw fail("--format \(format): expected svg, pdf or png", code: Exit.badInput)
        }
        if fileFormat != .svg && kinds != nil && wanted.contains("animation") {
            throw fail(
                "--kinds animation: the animation is SVG only (drop it from --kinds, or use --format svg)",
                code: Exit.badInput)
        }
        if let bad = wanted.first(where: { !allowed.contains($0) }) {
            throw fail(
                "--kinds: unknown figure '\(bad)' (allowed: \(allowed.joined(separator: ", ")))", code: Exit.badInput)
        }
        var snapshot: [Int]? = nil
        if let steps {
            let parsed = steps.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw fail("--steps \(steps): expected comma-separated steps ≥ 0, e.g. 0,100,500", code: Exit.badInput)
            }
            snapshot = parsed.map { $0! }
        }
        guard (pathParticles ?? 1) >= 1, animatedParticles >= 1, frames >= 2, pathPoints >= 2 else {
            throw fail(
                "--path-particles and --animated-particles must be ≥ 1, --frames and --path-points ≥ 2",
                code: Exit.badInput)
        }
        var coordinates: [Int]? = nil
        if let coords {
            let parsed = coords.split(separator: ",", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard (2...5).contains(parsed.count), parsed.allSatisfy({ ($0 ?? 0) >= 1 }),
                Set(parsed).count == parsed.count
            else {
                throw fail(
                    "--coords \(coords): expected 2 to 5 distinct coordinates ≥ 1, comma-separated, e.g. 1,3",
                    code: Exit.badInput)
            }
            coordinates = parsed.map { $0! - 1 }
        }
        let needTrajectory = wanted.contains { $0 != "metrics" }
        let run = try LoadedRun.load(runDirectory, needTrajectory: needTrajectory)
        if let coordinates, let coords, let d = run.trajectory?.dimension {
            if d <= 2 {
                printError("wgf: --coords: the run has d = \(d): its figures show every coordinate")
            } else if let bad = coordinates.first(where: { $0 >= d }) {
                throw fail("--coords \(coords): x\(bad + 1) is not a coordinate (d = \(d))", code: Exit.badInput)
            }
        }
        var plots = RunPlots(trajectory: run.trajectory, metrics: run.metrics, context: run.context)
        plots.snapshotSteps = snapshot
        if (run.trajectory?.dimension ?? 0) > 2 { plots.coordinates = coordinates }
        plots.maxPathParticles = pathParticles ?? (run.flowKind == "langevin" ? 8 : 40)
        plots.maxPathPoints = pathPoints
        plots.equalAspectIn2D = equalAspect
        plots.maxAnimatedParticles = animatedParticles
        plots.maxAnimationFrames = frames
        let directory = out ?? runDirectory + "/plots"
        try makeDirectory(directory)
        var written: [String] = []
        for kind in allowed where wanted.contains(kind) {
            let file = "\(kind).\(fileFormat.rawValue)"
            if let figureKind = RunPlots.Kind(rawValue: kind) {
                guard let figure = try reporting({ try plots.drawing(of: figureKind) }) else { continue }
                do { try figure.write(to: directory + "/" + file, format: fileFormat) } catch let e as FigureWriteError
                {
                    throw fail(e.description, code: Exit.ioFailure)
                }
                written.append(file)
            } else if fileFormat == .svg {
                guard let svg = try reporting({ try plots.animation() }) else { continue }
                try writeText(svg, to: directory + "/" + file)
                written.append(file)
            } else {
                printError("wgf: the animation is SVG only: not drawn for --format \(fileFormat.rawValue)")
            }
        }
        print(
            "\(runDirectory): \(written.isEmpty ? "nothing to draw" : written.joined(separator: ", ")) → \(directory)/")
    }
}
