import Foundation

/// run.json as it must read if rank 0 of an MPI job is ended after a SIGTERM. When a rank
/// dies, mpirun sends the others SIGTERM and, about a second later, SIGKILL: rank 0 may be in
/// the middle of a long step and never reach the end of the run, where run.json is written.
/// So rank 0 keeps the bytes of an `interrupted` run.json ready (rendered when the run starts
/// and after each checkpoint) and its SIGTERM handler writes them with async-signal-safe calls
/// only (open, write, fsync, close, rename). A Ctrl-C, which mpirun forwards as SIGTERM to every
/// rank, ends the run normally afterwards and replaces them with the full record.
enum LastWords {
    /// A prepared file: path, temporary path (C strings) and bytes.
    typealias Record = (
        path: UnsafeMutablePointer<CChar>, temporary: UnsafeMutablePointer<CChar>, bytes: UnsafeMutableRawPointer,
        count: Int
    )
    /// Two slots: ``prepare(_:path:)`` fills the one not in use, then makes it current with one
    /// store, so a handler running on any thread (a process-directed signal may land on a worker
    /// thread) reads either the old record or the new one, never half of one.
    nonisolated(unsafe) private static var slot0: Record? = nil
    nonisolated(unsafe) private static var slot1: Record? = nil
    /// The current slot, or −1 for none.
    nonisolated(unsafe) private static var current: sig_atomic_t = -1
    nonisolated(unsafe) private static var written: sig_atomic_t = 0

    /// Keeps `bytes` to be written to `path` by ``write()``, replacing what was kept.
    static func prepare(_ bytes: [UInt8], path: String) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        buffer.copyMemory(from: bytes, byteCount: bytes.count)
        let record: Record = (strdup(path)!, strdup(path + ".partial")!, buffer, bytes.count)
        if current == 0 {
            release(&slot1)
            slot1 = record
            current = 1
        } else {
            release(&slot0)
            slot0 = record
            current = 0
        }
    }

    /// Forgets the prepared record (the run has written its own).
    static func clear() { current = -1 }

    /// Writes the prepared record once (from the SIGTERM handler): a temporary file beside
    /// run.json, renamed over it. Nothing here allocates or takes a lock.
    static func write() {
        guard written == 0, current >= 0, let (path, temporary, bytes, count) = current == 0 ? slot0 : slot1
        else { return }
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

    private static func release(_ slot: inout Record?) {
        guard let (path, temporary, bytes, _) = slot else { return }
        free(path)
        free(temporary)
        bytes.deallocate()
        slot = nil
    }
}
