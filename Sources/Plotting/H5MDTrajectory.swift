import Foundation
import Recording

/// A trajectory.h5 as a ``TrajectorySource``: each frame is read from the file when asked
/// (one hyperslab per element and population, or a point selection of the particles asked
/// for), so memory holds one record, not the run. Particle ids are the row indices 0..<N.
/// A population of smaller dimension than the largest has its missing coordinates NaN.
final class H5MDTrajectory: TrajectorySource {
    let file: H5MDTrajectoryFile
    let dimension: Int
    var hasVelocities: Bool { file.populations.contains { $0.hasVelocities } }
    var populationNames: [String] { file.populations.map(\.name) }
    var steps: [Int] { file.steps }
    var times: [Double] { file.times }

    init(file: H5MDTrajectoryFile) {
        self.file = file
        dimension = file.populations.map(\.dimension).max() ?? 1
    }

    /// Every record: each element holds every population at every record.
    func records(of population: String) -> [Int] { Array(steps.indices) }

    /// The record read from the file, rows `ids` only for the populations named there.
    func frame(_ record: Int, ids: [String: [Int]]?, velocities: Bool) throws -> Frame {
        guard steps.indices.contains(record) else {
            throw RunFileError(path: file.path, line: nil, .noRecord(record, count: steps.count))
        }
        let populations = try file.populations.enumerated().map { k, p in
            let rows = ids?[p.name]
            var frame = PopulationFrame(
                name: p.name, ids: rows ?? Array(0..<p.count),
                weights: try file.weights(k, record: record, rows: rows),
                positions: widened(try file.positions(k, record: record, rows: rows), from: p.dimension))
            if velocities, let v = try file.velocities(k, record: record, rows: rows) {
                frame.velocities = widened(v, from: p.dimension)
            }
            return frame
        }
        return Frame(step: steps[record], time: times[record], populations: populations)
    }

    /// Rows of `d` coordinates as rows of `dimension`, the missing ones NaN.
    func widened(_ rows: [Double], from d: Int) -> [Double] {
        guard d < dimension else { return rows }
        var out = [Double](repeating: .nan, count: rows.count / d * dimension)
        for i in 0..<(rows.count / d) { for a in 0..<d { out[i * dimension + a] = rows[i * d + a] } }
        return out
    }
}
