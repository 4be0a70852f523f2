/// An I/O failure, with the path involved: a file or directory that could not be created,
/// written, synced, cut back or read as the run needs, or an HDF5 file that failed or does not
/// fit the run. Its ``problem`` carries the data (byte counts, shapes, the system's reason);
/// ``description`` renders it, in this one place, as `path: message`.
public struct IOFailure: Error, CustomStringConvertible, Equatable {
    /// What failed. `reason` is the system's (or Foundation's) message for the failed call.
    public enum Problem: Equatable, Sendable {
        // MARK: Directories

        /// The path exists and is not a directory.
        case notADirectory
        /// The directory cannot be listed.
        case cannotList(reason: String)
        /// The directory cannot be created.
        case cannotCreateDirectory(reason: String)
        /// The directory exists but cannot be written into.
        case directoryNotWritable
        /// A file of an earlier run cannot be removed.
        case cannotRemove(reason: String)
        /// An output derived from the run (plots, arrays) cannot be removed when the run changes.
        case cannotRemoveStale(reason: String)

        // MARK: Files

        /// Nothing is at the path.
        case noSuchFile
        /// The file cannot be opened (the run directory's lock).
        case cannotOpen(reason: String)
        /// The file cannot be opened (created or emptied) for writing.
        case cannotOpenForWriting(reason: String)
        /// The file cannot be written at all.
        case cannotWrite(reason: String)
        /// A write failed part way.
        case writeFailed(reason: String)
        /// A write failed with `bytes` bytes in the file.
        case writeFailedAfter(bytes: Int, reason: String)
        /// fsync failed: what was written may not survive a crash of the machine.
        case cannotSync(reason: String)
        /// The temporary file cannot be renamed over the file.
        case cannotReplace(reason: String)
        /// The size of the file (continued on resume) cannot be read.
        case cannotReadSize(reason: String)
        /// The file (continued on resume) holds `bytes` bytes, fewer than the `expected` it had at the checkpoint.
        case shorterThanCheckpoint(bytes: Int, expected: Int)
        /// The file (continued on resume) cannot be cut back to its first `bytes` bytes.
        case cannotCutBack(bytes: Int, reason: String)
        /// The checkpoint has no mark for the file, so it cannot be continued.
        case noCheckpointMark

        // MARK: HDF5 files

        /// An HDF5 call failed while doing `operation` ("cannot flush"); `message` is HDF5's error stack on one line.
        case hdf5(operation: String, message: String)
        /// The file cannot be extended to the `bytes` its superblock says were allocated.
        case cannotExtend(bytes: Int, reason: String)
        /// The HDF5 file was used after it was closed.
        case hdf5FileClosed
        /// An earlier HDF5 call on the file failed: nothing more is done with it.
        case earlierHDF5Failure
        /// The HDF5 file cannot be put on the disk (fsync).
        case cannotWriteToDisk(reason: String)
        /// The HDF5 file is not closed, an earlier call on it having failed.
        case notClosedAfterFailure
        /// The dataset `name` is scalar where a series (rows) is expected.
        case scalarDataset(name: String)
        /// `operation` was given `values` values for rows of `perRow`.
        case rowLength(operation: String, values: Int, perRow: Int)
        /// `operation` asked for `asked` rows of a dataset that has `present`.
        case rowsBeyondEnd(operation: String, asked: Int, present: Int)
        /// `operation` asked for a row that a dataset of this `shape` does not have.
        case rowOutsideShape(operation: String, shape: [Int])
        /// `operation` asked for entries outside `0..<count`.
        case entriesOutside(operation: String, count: Int)

        // MARK: A trajectory.h5 that does not fit the run

        /// The population's name cannot name an HDF5 group.
        case populationNotAGroupName(String)
        /// The element `element` (`group/element`) holds records of `shape`, the run's are `expected`.
        case recordShape(element: String, shape: [Int], expected: [Int])
        /// The state has `state` populations, the file `file`.
        case populationCount(state: Int, file: Int)
        /// The population has no velocities, and the file records them.
        case noVelocities(population: String)
        /// `values` metric values came, the file records `file` metrics.
        case metricCount(values: Int, file: Int)

        /// What failed, without the path.
        public var message: String {
            switch self {
            case .notADirectory: "exists and is not a directory"
            case .cannotList(let reason): "cannot list (\(reason))"
            case .cannotCreateDirectory(let reason): "cannot create the directory (\(reason))"
            case .directoryNotWritable: "the directory is not writable"
            case .cannotRemove(let reason): "cannot remove (\(reason))"
            case .cannotRemoveStale(let reason): "cannot remove this stale output (\(reason))"
            case .noSuchFile: "no such file"
            case .cannotOpen(let reason): "cannot open (\(reason))"
            case .cannotOpenForWriting(let reason): "cannot open for writing (\(reason))"
            case .cannotWrite(let reason): "cannot write (\(reason))"
            case .writeFailed(let reason): "write failed (\(reason))"
            case .writeFailedAfter(let bytes, let reason): "write failed after \(bytes) bytes (\(reason))"
            case .cannotSync(let reason): "cannot sync to disk (\(reason))"
            case .cannotReplace(let reason): "cannot replace (\(reason))"
            case .cannotReadSize(let reason): "cannot read its size (\(reason))"
            case .shorterThanCheckpoint(let bytes, let expected):
                "holds \(bytes) bytes, fewer than the \(expected) it had at the checkpoint: it was changed or cut after the run"
            case .cannotCutBack(let bytes, let reason): "cannot cut back to \(bytes) bytes (\(reason))"
            case .noCheckpointMark: "the checkpoint does not say how far it reached"
            case .hdf5(let operation, let message): "\(operation) (HDF5: \(message))"
            case .cannotExtend(let bytes, let reason):
                "cannot extend the file to the \(bytes) bytes it had allocated (\(reason))"
            case .hdf5FileClosed: "the HDF5 file is closed"
            case .earlierHDF5Failure: "an earlier HDF5 operation on the file failed"
            case .cannotWriteToDisk(let reason): "cannot write to the disk (\(reason))"
            case .notClosedAfterFailure:
                "not closed: an earlier HDF5 operation on the file failed (what was written before it stays)"
            case .scalarDataset(let name): "\(name) is scalar, not a series"
            case .rowLength(let operation, let values, let perRow):
                "\(operation): \(values) values for rows of \(perRow)"
            case .rowsBeyondEnd(let operation, let asked, let present):
                "\(operation): \(asked) rows asked, \(present) present"
            case .rowOutsideShape(let operation, let shape): "\(operation): the dataset has shape \(shape)"
            case .entriesOutside(let operation, let count): "\(operation): entries outside 0..<\(count)"
            case .populationNotAGroupName(let name): "population name '\(name)' cannot name an HDF5 group"
            case .recordShape(let element, let shape, let expected):
                "\(element) holds records of shape \(shape), the run's are \(expected)"
            case .populationCount(let state, let file): "the state has \(state) populations, the file \(file)"
            case .noVelocities(let population): "population '\(population)' has no velocities to record"
            case .metricCount(let values, let file): "\(values) metric values, the file records \(file) metrics"
            }
        }
    }

    /// The file that could not be written, read or synced.
    public let path: String
    /// What failed.
    public let problem: Problem

    /// A failure at `path`.
    ///
    /// - Parameters:
    ///   - path: The file or directory involved.
    ///   - problem: What failed, with its data.
    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// What failed, with the system's reason, without the path.
    public var message: String { problem.message }
    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}
