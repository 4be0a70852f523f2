import Foundation

/// run.json as it must read if rank 0 of an MPI job is ended after a SIGTERM. When a rank
/// dies, mpirun sends the others SIGTERM and, about a second later, SIGKILL: rank 0 may be in
/// the middle of a long step and never reach the end of the run, where run.json is written.
/// So rank 0 keeps the bytes of an `interrupted` run.json ready (rendered when the run starts
/// and after each checkpoint) and its SIGTERM handler writes them with async-signal-safe calls
/// only (open, write, fsync, close, rename). A Ctrl-C, which mpirun forwards as SIGTERM to every
/// rank, ends the run normally afterwards and replaces them with the full record.
enum LastWords {
    /// The prepared file: path, temporary path (C strings) and bytes, or nil.
    nonisolated(unsafe) private static var prepared:
        (
            path: UnsafeMutablePointer<CChar>, temporary: UnsafeMutablePointer<CChar>, bytes: UnsafeMutableRawPointer,
            count: Int
        )? = nil
    nonisolated(unsafe) private static var written: sig_atomic_t = 0

    /// Keeps `bytes` to be written to `path` by ``write()``, replacing what was kept. SIGTERM is
    /// blocked meanwhile, so the handler never sees a half-replaced record.
    static func prepare(_ bytes: [UInt8], path: String) {
        withSignalBlocked {
            release()
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
            buffer.copyMemory(from: bytes, byteCount: bytes.count)
            prepared = (strdup(path)!, strdup(path + ".partial")!, buffer, bytes.count)
        }
    }

    /// Forgets the prepared record (the run has written its own).
    static func clear() { withSignalBlocked { release() } }

    /// Writes the prepared record once (from the SIGTERM handler): a temporary file beside
    /// run.json, renamed over it. Nothing here allocates or takes a lock.
    static func write() {
        guard written == 0, let (path, temporary, bytes, count) = prepared else { return }
        written = 1
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var done = 0
        while done < count {
            let n = Glibc.write(fd, bytes + done, count - done)
            if n <= 0 { break }
            done += n
        }
        let complete = done == count && fsync(fd) == 0
        close(fd)
        if complete { rename(temporary, path) } else { unlink(temporary) }
    }

    private static func release() {
        guard let (path, temporary, bytes, _) = prepared else { return }
        free(path)
        free(temporary)
        bytes.deallocate()
        prepared = nil
    }

    private static func withSignalBlocked(_ body: () -> Void) {
        var set = sigset_t()
        var old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        body()
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }
}
