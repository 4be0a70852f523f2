import Foundation

/// Replaces a file all at once: the bytes go to a temporary file beside it, which is fsynced
/// and renamed over the target, and the directory is fsynced. A reader (or a run killed at
/// any instant) sees the old file or the new one, never a mixture or a torn one.
public enum AtomicFile {
    /// Replaces the file at `path` with `bytes` (via `path.partial`).
    ///
    /// - Throws: ``IOFailure`` when the temporary file cannot be written, synced or renamed
    ///   (the temporary file is removed; the old file is untouched).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IOFailure(path: path, .cannotWrite(reason: String(cString: strerror(errno)))) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw IOFailure(path: path, .writeFailed(reason: reason))
            }
            done += n
        }
        let synced = fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard synced else {
            unlink(temporary)
            throw IOFailure(path: path, .cannotSync(reason: reason))
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw IOFailure(path: path, .cannotReplace(reason: reason))
        }
        syncDirectory(of: path)
    }

    /// Replaces the file at `path` with `text` as UTF-8, like the bytes' version.
    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    /// fsync of the directory makes a rename durable; a failure here loses nothing a process
    /// crash could see, so it is not an error.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
