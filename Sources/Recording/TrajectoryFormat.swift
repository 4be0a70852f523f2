/// The format of a run's trajectory file (`record.format`): CSV text, or an H5MD (HDF5) file
/// of binary doubles, chunked by record. metrics.csv is written in both cases.
public enum TrajectoryFormat: String, CaseIterable, Sendable {
    case csv, h5md

    /// The trajectory's file name in the run directory.
    public var fileName: String {
        switch self {
        case .csv: return "trajectory.csv"
        case .h5md: return H5MD.fileName
        }
    }
}
