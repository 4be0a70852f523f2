import Foundation
import Recording

/// One population at one record: particle ids, weights and row-major positions.
public struct PopulationFrame: Sendable {
    /// The population's name.
    public var name: String
    /// The particle ids (trajectory.csv's `particle` column; row indices in trajectory.h5).
    public var ids: [Int] = []
    /// One weight per particle.
    public var weights: [Double] = []
    /// x1..xd per particle, row-major, d the trajectory's ``TrajectorySource/dimension``.
    public var positions: [Double] = []
    /// v1..vd per particle when the run recorded velocities (underdamped Langevin), else empty.
    public var velocities: [Double] = []
    /// The number of particles.
    public var count: Int { ids.count }
    /// A frame of one population; see the properties.
    public init(
        name: String, ids: [Int] = [], weights: [Double] = [], positions: [Double] = [], velocities: [Double] = []
    ) {
        self.name = name
        self.ids = ids
        self.weights = weights
        self.positions = positions
        self.velocities = velocities
    }
}

/// The state at one record of a trajectory.
public struct Frame: Sendable {
    /// The record's step.
    public var step: Int
    /// The record's simulated time.
    public var time: Double
    /// Every population recorded at this step, in order of first appearance.
    public var populations: [PopulationFrame]
    /// A record; see the properties.
    public init(step: Int, time: Double, populations: [PopulationFrame]) {
        self.step = step
        self.time = time
        self.populations = populations
    }
}

/// A trajectory.csv read back: `step,time,population,particle,weight,x1,...,xd`, and
/// `v1,...,vd` after them when the run recorded velocities.
public struct Trajectory: Sendable {
    /// d: the number of x columns.
    public var dimension: Int
    /// Whether the file has velocity columns.
    public var hasVelocities: Bool
    /// Every record, in file order.
    public var frames: [Frame]
    /// Population names in order of first appearance.
    public var populationNames: [String]

    /// A trajectory of `frames`; the population names are collected from them.
    public init(dimension: Int, frames: [Frame], hasVelocities: Bool = false) {
        self.dimension = dimension
        self.hasVelocities = hasVelocities
        self.frames = frames
        var names: [String] = []
        for f in frames { for p in f.populations where !names.contains(p.name) { names.append(p.name) } }
        populationNames = names
    }

    /// Reads trajectory.csv; a malformed file is a ``RunFileError`` naming the line. A last
    /// row without its "\n" (a run killed while writing) is dropped with a warning, and with
    /// it a last record left shorter than the one before.
    public static func read(path: String) throws -> Trajectory {
        let file: CSVFile
        do { file = try CSVFile(path: path, ending: .completeRowsOnly) } catch let e as InputFileError {
            throw RunFileError(e)
        }
        func fail(_ line: Int, _ problem: RunFileProblem) -> RunFileError {
            RunFileError(path: path, line: line, problem)
        }
        guard let headerLine = file.lines.first else { throw fail(1, .csv(.empty)) }
        let header = file.fields(headerLine.range).map(file.text)
        // x1..xd after the five fixed columns, then v1..vd if velocities were recorded.
        var d = 0
        while 5 + d < header.count && header[5 + d] == "x\(d + 1)" { d += 1 }
        let velocities =
            d >= 1 && header.count == 5 + 2 * d && (0..<d).allSatisfy { header[5 + d + $0] == "v\($0 + 1)" }
        guard d >= 1, Array(header.prefix(5)) == ["step", "time", "population", "particle", "weight"] else {
            throw fail(1, .trajectoryHeader(line: file.text(headerLine.range)))
        }
        var frames: [Frame] = []
        var popIndex: [String: Int] = [:]
        for (number, line) in file.lines.dropFirst() {
            let f = file.fields(line)
            guard f.count == header.count else {
                throw fail(number, .csv(.fieldCount(fields: f.count, header: header.count)))
            }
            guard let step = file.integer(f[0]), let time = file.number(f[1]), let id = file.integer(f[3]),
                let w = file.number(f[4])
            else {
                throw fail(number, .rowNotNumbers)
            }
            if frames.last?.step != step {
                frames.append(Frame(step: step, time: time, populations: []))
                popIndex = [:]
            }
            let name = file.text(f[2])
            let fi = frames.count - 1
            let pi: Int
            if let p = popIndex[name] {
                pi = p
            } else {
                pi = frames[fi].populations.count
                popIndex[name] = pi
                frames[fi].populations.append(PopulationFrame(name: name))
            }
            frames[fi].populations[pi].ids.append(id)
            frames[fi].populations[pi].weights.append(w)
            for a in 0..<d {
                guard let v = file.number(f[5 + a]) else {
                    throw fail(number, .csv(.notANumber(column: "x\(a + 1)", field: file.text(f[5 + a]))))
                }
                frames[fi].populations[pi].positions.append(v)
            }
            if velocities {
                for a in 0..<d {
                    guard let v = file.number(f[5 + d + a]) else {
                        throw fail(number, .csv(.notANumber(column: "v\(a + 1)", field: file.text(f[5 + d + a]))))
                    }
                    frames[fi].populations[pi].velocities.append(v)
                }
            }
        }
        guard !frames.isEmpty else { throw fail(2, .csv(.noDataRows)) }
        // A cut last row leaves its record short of particles: drop that record as well.
        if file.droppedLastRow != nil, frames.count >= 2,
            frames[frames.count - 1].populations.map(\.count) != frames[frames.count - 2].populations.map(\.count)
        {
            CSVFile.warn("\(path): ignoring the incomplete last record (step \(frames[frames.count - 1].step))")
            frames.removeLast()
        }
        return Trajectory(dimension: d, frames: frames, hasVelocities: velocities)
    }
}

/// trajectory.csv held in memory, as a ``TrajectorySource``.
extension Trajectory: TrajectorySource {
    /// The step of every frame.
    public var steps: [Int] { frames.map(\.step) }
    /// The simulated time of every frame.
    public var times: [Double] { frames.map(\.time) }

    /// The frames in which `population` appears.
    public func records(of population: String) -> [Int] {
        frames.indices.filter { k in frames[k].populations.contains { $0.name == population } }
    }

    /// The stored frame, or only the rows of `ids` (in file order) for the populations named there.
    public func frame(_ record: Int, ids: [String: [Int]]?, velocities: Bool) throws -> Frame {
        var f = frames[record]
        guard let ids else { return f }
        let d = dimension
        for k in f.populations.indices {
            let p = f.populations[k]
            guard let wanted = ids[p.name].map(Set.init) else { continue }
            var q = PopulationFrame(name: p.name)
            for (row, id) in p.ids.enumerated() where wanted.contains(id) {
                q.ids.append(id)
                q.weights.append(p.weights[row])
                q.positions += p.positions[(row * d)..<(row * d + d)]
                if !p.velocities.isEmpty { q.velocities += p.velocities[(row * d)..<(row * d + d)] }
            }
            f.populations[k] = q
        }
        return f
    }
}

/// A metrics.csv read back.
public struct MetricSeries: Sendable {
    /// The `step` column.
    public var steps: [Double]
    /// The `time` column (the steps when absent).
    public var times: [Double]
    /// The `wall` column, seconds since the run's start (NaN when absent).
    public var walls: [Double]
    /// Metric columns in file order (step, time and wall excluded).
    public var metrics: [(name: String, values: [Double])]

    /// A series; see the properties.
    public init(steps: [Double], times: [Double], walls: [Double], metrics: [(name: String, values: [Double])]) {
        self.steps = steps
        self.times = times
        self.walls = walls
        self.metrics = metrics
    }

    /// Reads metrics.csv (a cut last row is dropped with a warning).
    ///
    /// - Throws: `InputFileError` for a malformed file, ``RunFileError`` without a `step` column.
    public static func read(path: String) throws -> MetricSeries {
        let t = try NumericTable.read(path: path, ending: .completeRowsOnly)
        guard let steps = t.column("step") else { throw RunFileError(path: path, line: 1, .noStepColumn) }
        let times = t.column("time") ?? steps
        let walls = t.column("wall") ?? [Double](repeating: .nan, count: steps.count)
        let names = t.header.filter { !["step", "time", "wall"].contains($0) }
        return MetricSeries(steps: steps, times: times, walls: walls, metrics: names.map { ($0, t.column($0)!) })
    }

    /// The values of metric `name`; nil when it was not recorded.
    public func values(_ name: String) -> [Double]? { metrics.first { $0.name == name }?.values }
}

/// A threshold from the scenario's expectations: metric ≤ (or ≥) value by step.
public struct Threshold: Sendable {
    /// The metric's name.
    public var metric: String
    /// The bound.
    public var value: Double
    /// True for ≤ (`at-most`), false for ≥ (`at-least`).
    public var atMost: Bool
    /// The step by which the bound must hold.
    public var byStep: Int
    /// A threshold; see the properties.
    public init(metric: String, value: Double, atMost: Bool, byStep: Int) {
        self.metric = metric
        self.value = value
        self.atMost = atMost
        self.byStep = byStep
    }
    /// "mmd ≤ 0.05 by step 500", for legends.
    public var label: String { "\(metric) \(atMost ? "≤" : "≥") \(shortNumber(value)) by step \(byStep)" }
}

/// What the plots may know beyond the recorded data, all optional: the scenario's title, the
/// target's (unnormalised) log-density or a potential for contours, samples of the target,
/// a periodic box, a plotting window, and the expectations.
public struct PlotContext {
    /// The figures' title: the scenario's.
    public var title: String
    /// log π(x), x of the run's dimension (contours in 2-D, curve in 1-D).
    public var logDensity: (([Double]) -> Double)?
    /// A potential V(x) whose level sets are drawn when there is no density.
    public var potential: (([Double]) -> Double)?
    /// Points of the target (row-major): a light cloud under 2-D snapshots (a `samples`
    /// target), faint points in the projections of d > 2.
    public var referenceSamples: [Double]?
    /// A periodic domain: the box is drawn and is the plotting window; paths break at wrap-arounds.
    public var box: [ClosedRange<Double>]?
    /// A window that should be visible (e.g. the target's mean ± 3.5 sd).
    public var window: [ClosedRange<Double>]?
    /// The expectations, drawn as dashed lines in the metrics figure.
    public var thresholds: [Threshold]
    /// What the legend calls the density ("target density" when nil), e.g. a Langevin run's
    /// "Gibbs density ∝ exp(−V/λ)".
    public var densityLabel: String?
    /// The particles are images of `width` × `height` pixels (d = width · height, row by row
    /// from the top left): the scenario's `[plot] image`, drawn by ``RunPlots/imagesDrawing()``.
    public var imageShape: (width: Int, height: Int)?

    /// A context; only the title is required.
    public init(
        title: String, logDensity: (([Double]) -> Double)? = nil, potential: (([Double]) -> Double)? = nil,
        referenceSamples: [Double]? = nil, box: [ClosedRange<Double>]? = nil, window: [ClosedRange<Double>]? = nil,
        thresholds: [Threshold] = []
    ) {
        self.title = title
        self.logDensity = logDensity
        self.potential = potential
        self.referenceSamples = referenceSamples
        self.box = box
        self.window = window
        self.thresholds = thresholds
    }
}
