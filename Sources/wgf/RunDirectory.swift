import Foundation
import Recording

/// The rules of a run directory, so that what is in it always belongs to one run:
/// - `wgf run` writes only into a directory that is new or empty; `--force` first clears one
///   that holds an earlier run (and refuses any other non-empty directory: it never deletes
///   files that wgf did not write); `--resume` continues the run that is there.
/// - Without `--out`, the directory is `runs/<name>/`, or `runs/<name>-2/`, `-3/`, ... when that
///   one is taken: a rerun never lands on an earlier run.
/// - Outputs derived from a run (`plots/`, `npy/`) are removed when the run changes (a resume).
/// - One process at a time: a run holds an exclusive lock on `run.lock` while it writes, and
///   another `wgf run` into the directory (a second `--resume`, a `--force`) is refused.
enum RunDirectory {
    static let lockFile = "run.lock"

    /// Files and folders a run directory may hold: what `wgf run` writes and what `plot` and
    /// `export` derive from it.
    static let runFiles: Set<String> = [
        "run.json", "scenario.toml", "metrics.csv", "trajectory.csv", "trajectory.h5", CheckpointFile.name, lockFile,
        CheckpointFile.name + ".partial", "run.json.partial", "scenario.toml.partial",
    ]
    static let derived = ["plots", "npy"]

    /// What a directory holds: nothing (or does not exist), a run, or something else.
    enum Contents: Equatable { case empty, run, other(String) }

    static func contents(of path: String) throws -> Contents {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .empty }
        guard isDirectory.boolValue else { throw IOFailure(path: path, .notADirectory) }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw IOFailure(path: path, .cannotList(reason: error.localizedDescription))
        }
        if names.isEmpty { return .empty }
        guard names.contains("run.json") || names.contains("scenario.toml") else { return .other(names.sorted()[0]) }
        if let stranger = names.sorted().first(where: { !runFiles.contains($0) && !derived.contains($0) }) {
            return .other(stranger)
        }
        return .run
    }

    /// The directory a new run writes into, made ready (created, or cleared with `force`).
    static func prepareNew(explicit: String?, name: String, force: Bool) throws -> String {
        let path: String
        if let explicit {
            path = explicit
        } else {
            // runs/<name>, then runs/<name>-2, ...: the first that is free (or, with --force, the first).
            var k = 1
            var candidate = "runs/\(name)"
            while !force, try contents(of: candidate) != .empty {
                k += 1
                candidate = "runs/\(name)-\(k)"
            }
            path = candidate
        }
        var locked = false
        switch try contents(of: path) {
        case .empty: break
        case .run:
            guard force else {
                throw RunDirectoryRefusal.holdsEarlierRun(path)
            }
            try lock(path)
            locked = true
            try clear(path)
        case .other(let file):
            throw RunDirectoryRefusal.notARunDirectory(path, holding: file, force: force)
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw IOFailure(path: path, .cannotCreateDirectory(reason: error.localizedDescription))
        }
        guard access(path, W_OK) == 0 else { throw IOFailure(path: path, .directoryNotWritable) }
        if !locked { try lock(path) }
        return path
    }

    /// Takes the directory's lock for the rest of the process (the descriptor is never
    /// closed; the system releases the lock when the process ends, however it ends).
    static func lock(_ path: String) throws {
        let fd = open(path + "/" + lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw IOFailure(path: path + "/" + lockFile, .cannotOpen(reason: String(cString: strerror(errno))))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RunDirectoryRefusal.inUse(path)
        }
    }

    /// Removes every file of an earlier run (only those: ``contents(of:)`` said it is a run),
    /// but the lock this process holds.
    static func clear(_ path: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: path) where name != lockFile {
            do { try FileManager.default.removeItem(atPath: path + "/" + name) } catch {
                throw IOFailure(path: path + "/" + name, .cannotRemove(reason: error.localizedDescription))
            }
        }
    }

    /// Removes the outputs derived from the run (its figures and exported arrays), which a
    /// change of the run makes stale.
    static func removeDerived(_ path: String) throws {
        for name in derived where FileManager.default.fileExists(atPath: path + "/" + name) {
            do { try FileManager.default.removeItem(atPath: path + "/" + name) } catch {
                throw IOFailure(path: path + "/" + name, .cannotRemoveStale(reason: error.localizedDescription))
            }
        }
    }
}

/// A run directory that `wgf run` will not write into; the message says what to do instead.
enum RunDirectoryRefusal: Error, CustomStringConvertible, Equatable {
    /// The directory holds an earlier run, and `--force` was not given.
    case holdsEarlierRun(String)
    /// The directory is not empty and not a run's: it holds the file `holding`. `force`: whether
    /// `--force` was given (it clears run directories only).
    case notARunDirectory(String, holding: String, force: Bool)
    /// Another wgf process holds the directory's lock.
    case inUse(String)

    /// The directory, what is wrong, and what to do instead.
    var description: String {
        switch self {
        case .holdsEarlierRun(let path):
            "\(path) holds an earlier run: use --force to replace it, --resume \(path) to continue it, or another --out"
        case .notARunDirectory(let path, let file, let force):
            "\(path) is not empty and not a wgf run directory (it holds '\(file)'); wgf writes only into a new, empty or run directory"
                + (force ? " (--force clears run directories only)" : "")
        case .inUse(let path):
            "\(path) is in use by another wgf process (it holds \(RunDirectory.lockFile)); wait for it to end or stop it"
        }
    }
}
