import Foundation
import Recording

/// A run's recorded trajectory, read one record at a time: trajectory.csv (``Trajectory``,
/// read whole) or trajectory.h5 (each record, or a few particles of it, read from the file
/// when asked; see ``openTrajectory(runDirectory:)``). The plots and the NumPy export see only this.
public protocol TrajectorySource {
    /// The largest dimension of the populations: the stride of ``PopulationFrame/positions``.
    var dimension: Int { get }
    /// Whether velocities were recorded (underdamped Langevin).
    var hasVelocities: Bool { get }
    /// Population names in order of first appearance.
    var populationNames: [String] { get }
    /// The step of every record, in order.
    var steps: [Int] { get }
    /// The simulated time of every record, in order.
    var times: [Double] { get }
    /// The records (indices) at which `population` was recorded.
    func records(of population: String) -> [Int]
    /// Record `record`: every population, with all its particles, or for a population named in
    /// `ids` only the particles with those ids; velocities filled in when `velocities` (where
    /// recorded).
    func frame(_ record: Int, ids: [String: [Int]]?, velocities: Bool) throws -> Frame
}

extension TrajectorySource {
    /// The number of records.
    public var recordCount: Int { steps.count }

    /// Record `record` with all particles, without velocities.
    public func frame(_ record: Int) throws -> Frame { try frame(record, ids: nil, velocities: false) }

    /// The records at or nearest to `steps` (default: first, middle, last), without repeats.
    public func snapshots(_ wanted: [Int]? = nil) -> [Int] {
        let steps = self.steps
        guard !steps.isEmpty else { return [] }
        let indices: [Int]
        if let wanted, !wanted.isEmpty {
            indices = wanted.map { s in steps.indices.min { abs(steps[$0] - s) < abs(steps[$1] - s) }! }
        } else {
            indices = [0, (steps.count - 1) / 2, steps.count - 1]
        }
        var out: [Int] = []
        for w in indices where !out.contains(w) { out.append(w) }
        return out
    }
}

/// The trajectory file of a run directory and its format: the one run.json lists among its
/// outputs when it lists one, else trajectory.h5 if present, else trajectory.csv if present.
public func trajectoryFile(runDirectory directory: String) -> (path: String, format: TrajectoryFormat)? {
    let fm = FileManager.default
    var formats: [TrajectoryFormat] = [.h5md, .csv]
    if let data = fm.contents(atPath: directory + "/run.json"),
        let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let outputs = info["outputs"] as? [String]
    {
        formats = formats.filter { outputs.contains($0.fileName) }
    }
    return formats.lazy.map { (directory + "/" + $0.fileName, $0) }.first { fm.fileExists(atPath: $0.0) }
}

/// Opens the trajectory of a run directory (see ``trajectoryFile(runDirectory:)``); nil when
/// the run recorded none.
///
/// - Throws: ``RunFileError`` or `InputFileError` for a malformed file, `IOFailure` for an
///   HDF5 file that cannot be read.
public func openTrajectory(runDirectory directory: String) throws -> (any TrajectorySource)? {
    guard let (path, format) = trajectoryFile(runDirectory: directory) else { return nil }
    switch format {
    case .csv: return try Trajectory.read(path: path)
    case .h5md: return try H5MDTrajectory(file: H5MDTrajectoryFile(path: path))
    }
}
