import Flows
import Foundation

/// Streams a run's trajectory and metrics to an H5MD 1.1 file (layout: ``H5MD``), flushing
/// after every record, in HDF5's SWMR mode (see `HDF5File`) so that the file is consistent at
/// every moment: a killed run leaves every record flushed before the kill, and a reader may
/// follow a running one. Every HDF5 failure is an ``IOFailure`` naming the file; after one the
/// file is left as it is on disk, unclosed (see `HDF5File`), and a resume from the last
/// checkpoint continues it.
///
/// `resumeAfter: K` opens an existing file instead of creating one, keeps the records with
/// step ≤ K of every element and observable (what a checkpoint at step K has seen), drops
/// the rest, and appends after them.
public final class H5MDRecorder: Recorder {
    /// The file written.
    public let path: String
    let file: HDF5File
    /// Per population, its elements in `H5MDLayout.Population.elements` order.
    private(set) var particles: [[(element: H5MD.Element, series: H5MDTimeSeries)]]
    /// One per metric, then the wall clock.
    private(set) var observables: [H5MDTimeSeries]

    /// - Parameters:
    ///   - path: the file, `RUN_DIR/trajectory.h5`.
    ///   - layout: the populations, metrics and provenance; on resume, checked against the file.
    ///   - resumeAfter: nil to create the file (replacing any there); K to reopen it, keep the
    ///     records with step ≤ K and append after them (a killed writer's mark is cleared). A
    ///     file that is not HDF5 is then an ``InputFileError``.
    public init(path: String, layout: H5MDLayout, resumeAfter: Int? = nil) throws {
        self.path = path
        if let last = resumeAfter {
            guard FileManager.default.fileExists(atPath: path) else { throw IOFailure(path: path, .noSuchFile) }
            guard try HDF5File.isHDF5(path) else { throw InputFileError(path: path, line: nil, .notHDF5) }
            file = try HDF5File.open(path, writable: true)
            (particles, observables) = try Self.open(file, layout)
            for series in particles.flatMap({ $0.map(\.series) }) + observables { try series.truncate(after: last) }
        } else {
            file = try HDF5File.create(path)
            (particles, observables) = try Self.create(file, layout)
        }
        try file.flush()
        try file.startSWMRWrite()
    }

    deinit { try? close() }

    /// The h5md, particles, observables and parameters groups of a new file.
    static func create(
        _ file: HDF5File, _ layout: H5MDLayout
    ) throws
        -> ([[(element: H5MD.Element, series: H5MDTimeSeries)]], [H5MDTimeSeries])
    {
        let root = try file.root
        let h5md = try root.createGroup("h5md")
        try h5md.setAttribute("version", H5MD.version)
        try h5md.createGroup("author").setAttribute("name", layout.author)
        let creator = try h5md.createGroup("creator")
        try creator.setAttribute("name", "wgf")
        try creator.setAttribute("version", layout.creatorVersion)

        let particlesGroup = try root.createGroup(H5MD.particles, ordered: true)
        let particles = try layout.populations.map { p in
            guard !p.name.contains("/"), p.name != ".", p.name != ".." else {
                throw IOFailure(path: file.path, .populationNotAGroupName(p.name))
            }
            let g = try particlesGroup.createGroup(p.name)
            let box = try g.createGroup("box")
            try box.setAttribute("dimension", [Int32(p.dimension)], array: false)
            try box.setAttribute(
                "boundary", strings: [String](repeating: p.period == nil ? "none" : "periodic", count: p.dimension))
            if let l = p.period { try box.createArray("edges", [Double](repeating: l, count: p.dimension)) }
            return try p.elements.map { e in (e, try H5MDTimeSeries.create(in: g, e.rawValue, rowShape: p.rowShape(e)))
            }
        }
        let observablesGroup = try root.createGroup(H5MD.observables, ordered: true)
        let observables = try (layout.metricNames + [H5MD.wall]).map {
            try H5MDTimeSeries.create(in: observablesGroup, $0, rowShape: [])
        }
        try root.createGroup(H5MD.parameters).createText(H5MD.scenario, layout.scenario)
        return (particles, observables)
    }

    /// The elements and observables of an existing file, checked against `layout`.
    static func open(
        _ file: HDF5File, _ layout: H5MDLayout
    ) throws
        -> ([[(element: H5MD.Element, series: H5MDTimeSeries)]], [H5MDTimeSeries])
    {
        let root = try file.root
        let particlesGroup = try root.group(H5MD.particles)
        let particles = try layout.populations.map { p in
            let g = try particlesGroup.group(p.name)
            return try p.elements.map { e in
                let series = try H5MDTimeSeries.open(in: g, e.rawValue)
                let shape = try series.rowShape()
                guard shape == p.rowShape(e) else {
                    throw IOFailure(
                        path: file.path,
                        .recordShape(element: "\(g.name)/\(e.rawValue)", shape: shape, expected: p.rowShape(e)))
                }
                return (e, series)
            }
        }
        let observablesGroup = try root.group(H5MD.observables)
        let observables = try (layout.metricNames + [H5MD.wall]).map {
            try H5MDTimeSeries.open(in: observablesGroup, $0)
        }
        return (particles, observables)
    }

    /// Appends one record of every population's elements, flushed (see
    /// `H5MDTimeSeries.appendRecord`).
    ///
    /// - Throws: ``IOFailure`` when the state does not fit the layout or HDF5 fails.
    public func recordState(step: Int, time: Double, state: SimulationState) throws {
        guard state.populations.count == particles.count else {
            throw IOFailure(path: path, .populationCount(state: state.populations.count, file: particles.count))
        }
        var series: [H5MDTimeSeries] = []
        var rows: [[Double]] = []
        for (p, elements) in zip(state.populations, particles) {
            for (element, s) in elements {
                switch element {
                case .position: rows.append(p.positions)
                case .weight: rows.append(p.weights)
                case .velocity:
                    guard let v = p.velocities else { throw IOFailure(path: path, .noVelocities(population: p.name)) }
                    rows.append(v)
                }
                series.append(s)
            }
        }
        try H5MDTimeSeries.appendRecord(to: series, step: step, time: time, rows: rows, flush: file.flush)
    }

    /// Appends one value to each observable (the metrics in the layout's order, then `wall`), flushed.
    ///
    /// - Throws: ``IOFailure`` when the count differs from the layout's metrics or HDF5 fails.
    public func recordMetrics(step: Int, time: Double, wall: Double, values: [Double]) throws {
        guard values.count + 1 == observables.count else {
            throw IOFailure(path: path, .metricCount(values: values.count, file: observables.count - 1))
        }
        try H5MDTimeSeries.appendRecord(
            to: observables, step: step, time: time, rows: (values + [wall]).map { [$0] }, flush: file.flush)
    }

    /// Makes every record so far durable (flushed and fsynced) and returns how far the file
    /// reached, in records of its first element: the `synchronize()` a checkpoint asks of its
    /// recorder. A resume cuts the file back by step (`resumeAfter:` the checkpoint's last recorded step).
    public func synchronize() throws -> [String: Int] {
        try file.synchronize()
        return [H5MD.fileName: particles.first?.first?.series.records ?? 0]
    }

    /// Flushes and closes the file, which clears its "open for writing" mark (also done when the
    /// recorder goes, without reporting errors). Nothing can be recorded after.
    public func close() throws {
        particles = []
        observables = []
        try file.close()
    }
}
