import Foundation

/// An input file that cannot be read at all, with the reason ("no such file", "is a directory").
public struct UnreadableFile: Error, CustomStringConvertible, Equatable {
    /// Why a file cannot be read: what the message says in a few words.
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        /// Nothing is at the path.
        case noSuchFile
        /// The path names a directory.
        case directory
        /// A device, FIFO or socket: reading it would block or never end.
        case notRegular
        /// The system refused to open, inspect or read the file: its message (`strerror`).
        case system(String)
        /// The file holds `bytes` bytes, more than `limit`.
        case tooLarge(bytes: Int, limit: Int)
        /// The file's size was not known beforehand (a file under /proc), and reading it went
        /// past `limit` bytes.
        case beyondLimit(Int)

        /// "no such file", "12 bytes; at most 10", ...
        public var description: String {
            switch self {
            case .noSuchFile: "no such file"
            case .directory: "a directory, not a file"
            case .notRegular: "not a regular file: a device, FIFO or socket cannot be an input"
            case .system(let message): message
            case .tooLarge(let bytes, let limit): "\(bytes) bytes; at most \(limit)"
            case .beyondLimit(let limit): "more than \(limit) bytes; at most \(limit)"
            }
        }
    }

    /// The file named as an input.
    public let path: String
    /// Why it cannot be read.
    public let reason: Reason
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
    func failure(_ reason: UnreadableFile.Reason) -> UnreadableFile { UnreadableFile(path: path, reason: reason) }
    func systemError() -> UnreadableFile.Reason { .system(String(cString: strerror(errno))) }
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw failure(errno == ENOENT ? .noSuchFile : systemError()) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw failure(systemError()) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw failure(.directory)
    default: throw failure(.notRegular)
    }
    guard info.st_size <= limit else { throw failure(.tooLarge(bytes: Int(info.st_size), limit: limit)) }
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
        guard n <= limit - bytes.count else { throw failure(.beyondLimit(limit)) }
        bytes.append(contentsOf: chunk[0..<n])
    }
}
