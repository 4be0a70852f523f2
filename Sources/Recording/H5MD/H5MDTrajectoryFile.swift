import Foundation

/// An H5MD trajectory (``H5MD``) opened for reading one record at a time: positions,
/// velocities and weights of one population at one record, all particles or a chosen few, are
/// read as a hyperslab (or point selection) of their `value` dataset, never the whole file.
///
/// The records are those every element holds: the steps of the first population's positions,
/// cut to the shortest element (a killed writer may have flushed a population's positions but
/// not yet another's weights). A file whose elements disagree on a step is refused.
public final class H5MDTrajectoryFile {
    /// One group under `particles/`.
    public struct Population {
        /// The group's name: the population's.
        public let name: String
        /// N, the particles per record.
        public let count: Int
        /// d, the coordinates per particle.
        public let dimension: Int
        let position: H5MDTimeSeries
        let velocity: H5MDTimeSeries?
        let weight: H5MDTimeSeries?
        /// Whether the file holds its velocities.
        public var hasVelocities: Bool { velocity != nil }
    }

    /// The file read.
    public let path: String
    let file: HDF5File
    /// The populations, in creation order where the file tracks it (wgf's do), else by name.
    public let populations: [Population]
    /// The step of each record.
    public let steps: [Int]
    /// The simulated time of each record.
    public let times: [Double]

    /// Opens `path`; a file without the H5MD layout is an ``InputFileError``, one HDF5 cannot
    /// read an ``IOFailure``.
    public init(path: String) throws {
        self.path = path
        guard try HDF5File.isHDF5(path) else { throw InputFileError(path: path, line: nil, .notHDF5) }
        file = try HDF5File.open(path, writable: false)
        let root = try file.root
        guard try root.contains("h5md") else { throw InputFileError(path: path, line: nil, .notH5MD) }
        guard try root.contains(H5MD.particles) else { throw InputFileError(path: path, line: nil, .noParticlesGroup) }
        let group = try root.group(H5MD.particles)
        var populations: [Population] = []
        for name in try group.memberNames() {
            let g = try group.group(name)
            func element(_ e: H5MD.Element) throws -> H5MDTimeSeries? {
                try g.contains(e.rawValue) ? try H5MDTimeSeries.open(in: g, e.rawValue) : nil
            }
            guard let position = try element(.position) else {
                throw InputFileError(path: path, line: nil, .noPosition(group: g.name))
            }
            let shape = try position.rowShape()
            guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
                throw InputFileError(path: path, line: nil, .positionShape(group: g.name, shape: shape))
            }
            let velocity = try element(.velocity)
            let weight = try element(.weight)
            if let velocity, try velocity.rowShape() != shape {
                throw InputFileError(
                    path: path, line: nil,
                    .velocityShape(group: g.name, shape: try velocity.rowShape(), positions: shape))
            }
            if let weight, try weight.rowShape() != [shape[0]] {
                throw InputFileError(
                    path: path, line: nil,
                    .weightShape(group: g.name, shape: try weight.rowShape(), particles: shape[0]))
            }
            populations.append(
                Population(
                    name: name, count: shape[0], dimension: shape[1], position: position, velocity: velocity,
                    weight: weight))
        }
        guard let first = populations.first else { throw InputFileError(path: path, line: nil, .noPopulation) }
        let elements = populations.flatMap { [$0.position, $0.velocity, $0.weight].compactMap { $0 } }
        let records = elements.map(\.records).min()!
        let steps = Array(try first.position.steps().prefix(records))
        for series in elements where Array(try series.steps().prefix(records)) != steps {
            throw InputFileError(
                path: path, line: nil, .stepsDiffer(element: series.step.name, reference: first.position.step.name))
        }
        self.populations = populations
        self.steps = steps
        times = Array(try first.position.times().prefix(records))
    }

    /// Row-major positions (N × d, or `rows.count` × d) of population `k` at record `record`.
    public func positions(_ k: Int, record: Int, rows: [Int]? = nil) throws -> [Double] {
        try populations[k].position.value.read(Double.self, row: record, entries: rows)
    }

    /// Velocities like ``positions(_:record:rows:)``; nil when the population has none.
    public func velocities(_ k: Int, record: Int, rows: [Int]? = nil) throws -> [Double]? {
        try populations[k].velocity?.value.read(Double.self, row: record, entries: rows)
    }

    /// Weights of population `k` at `record`; uniform 1/N when the file records none.
    public func weights(_ k: Int, record: Int, rows: [Int]? = nil) throws -> [Double] {
        let p = populations[k]
        guard let w = p.weight else { return [Double](repeating: 1 / Double(p.count), count: rows?.count ?? p.count) }
        return try w.value.read(Double.self, row: record, entries: rows)
    }
}
