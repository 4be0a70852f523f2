import Foundation

/// A file written line by line through a buffer, flushed on request so that an interrupted
/// run leaves complete records. Every byte is accounted for: a short `write(2)` is continued,
/// a failed one (a full disk, a file-size limit, an I/O error) throws ``IOFailure``, so that no
/// record is ever reported written that is not in the file.
public final class LineWriter {
    /// The file written.
    public let path: String
    let descriptor: Int32
    var buffer: [UInt8] = []
    /// Bytes in the file (what has been flushed).
    public private(set) var size: Int

    /// Creates (or empties) the file at `path`.
    public convenience init(path: String) throws {
        try self.init(path: path, keepingFirst: nil)
    }

    /// Opens `path` to append after its first `keep` bytes, cutting off the rest (a resume
    /// continues a run's output from its checkpoint); with `keep` nil, creates or empties it.
    public init(path: String, keepingFirst keep: Int?) throws {
        let flags = O_WRONLY | O_CLOEXEC | (keep == nil ? O_CREAT | O_TRUNC : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            throw IOFailure(path: path, .cannotOpenForWriting(reason: String(cString: strerror(errno))))
        }
        if let keep {
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                close(fd)
                throw IOFailure(path: path, .cannotReadSize(reason: String(cString: strerror(errno))))
            }
            guard Int(info.st_size) >= keep else {
                close(fd)
                throw IOFailure(path: path, .shorterThanCheckpoint(bytes: Int(info.st_size), expected: keep))
            }
            guard ftruncate(fd, off_t(keep)) == 0, lseek(fd, off_t(keep), SEEK_SET) == off_t(keep) else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw IOFailure(path: path, .cannotCutBack(bytes: keep, reason: reason))
            }
        }
        self.path = path
        descriptor = fd
        size = keep ?? 0
        buffer.reserveCapacity(1 << 16)
    }

    deinit { close(descriptor) }

    /// Appends `s` to the buffer (written by the next flush).
    public func write(_ s: String) { buffer.append(contentsOf: s.utf8) }

    /// Writes the buffer out once it holds `threshold` bytes: a record of 10⁶ particles then
    /// costs 1 MiB of memory, not its ~60 MB of text.
    public func flushIfFull(threshold: Int = 1 << 20) throws {
        if buffer.count >= threshold { try flush() }
    }

    /// One CSV field: a number in the shortest form that reads back exactly.
    @inline(__always) public func write(_ v: Double) { write(v.description) }

    /// Writes the buffer to the file, all of it or an error.
    public func flush() throws {
        var done = 0
        let total = buffer.count
        while done < total {
            let n = buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + done, total - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                size += done
                buffer.removeFirst(done)
                throw IOFailure(path: path, .writeFailedAfter(bytes: size, reason: reason))
            }
            done += n
        }
        size += total
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, then asks the system to put the file on disk (fsync): what a checkpoint refers
    /// to must survive a crash of the machine, not only of the process.
    public func synchronize() throws {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw IOFailure(path: path, .cannotSync(reason: String(cString: strerror(errno))))
        }
    }
}
