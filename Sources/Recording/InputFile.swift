import Foundation

/// An input file that cannot be read at all, with the reason ("no such file", "is a directory").
public struct UnreadableFile: Error, CustomStringConvertible {
    /// The file named as an input.
    public let path: String
    /// Why it cannot be read, in a few words.
    public let reason: String
    /// `path: cannot read (reason)`.
    public var description: String { "\(path): cannot read (\(reason))" }
}

/// Reads a whole input file (a scenario, a CSV) as bytes.
///
/// Only regular files are read: a FIFO, a device (`/dev/zero`, `/dev/stdin`) or a directory
/// named as an input would block, never end, or fail obscurely. The file is opened without
/// blocking, checked, and then read to its end (files under /proc report a size of 0). With a
/// `limit`, a file of more bytes is refused before (or, when its size is not known, while) it
/// is read, with the reason "N bytes; at most LIMIT".
///
/// - Throws: ``UnreadableFile`` with the reason.
public func readInputFile(path: String, limit: Int = Int.max) throws(UnreadableFile) -> [UInt8] {
    func failure(_ reason: String) -> UnreadableFile { UnreadableFile(path: path, reason: reason) }
    func systemError() -> String { String(cString: strerror(errno)) }
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw failure(errno == ENOENT ? "no such file" : systemError()) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw failure(systemError()) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw failure("a directory, not a file")
    default: throw failure("not a regular file: a device, FIFO or socket cannot be an input")
    }
    func tooLarge(_ size: Int, atLeast: Bool = false) -> UnreadableFile {
        failure("\(atLeast ? "more than " : "")\(size) bytes; at most \(limit)")
    }
    guard info.st_size <= limit else { throw tooLarge(Int(info.st_size)) }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(max(0, info.st_size)) + 1)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return bytes }
        if n < 0 {
            if errno == EINTR { continue }
            throw failure(systemError())
        }
        guard n <= limit - bytes.count else { throw tooLarge(limit, atLeast: true) }
        bytes.append(contentsOf: chunk[0..<n])
    }
}
