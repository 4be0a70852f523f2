import Foundation

/// Writes `text` to stderr with write(2), retried when a signal interrupts it; a failed write
/// (the reader has gone: `wgf run ... 2>&1 | head`) is dropped, where FileHandle's write would
/// end the process. wgf's messages, warnings and progress bar all go through it.
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}
