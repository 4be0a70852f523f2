import Foundation

/// Writes `text` to stderr with write(2), retried when a signal interrupts it; a failed write
/// (the reader has gone: `wgf run ... 2>&1 | head`) is dropped, where FileHandle's write would
/// end the process. wgf's messages, warnings and progress bar all go through it.
public func writeStandardError(_ text: String) {
    _ = writeAll(STDERR_FILENO, text)
}

/// Writes `text` to stdout with write(2), retried when a signal interrupts it: nil once all of
/// it is written, else the reason it is not (a full disk behind `> file`, a reader gone). For
/// a command's product on stdout, whose loss must not pass for success.
public func writeStandardOutput(_ text: String) -> String? {
    writeAll(STDOUT_FILENO, text).map { String(cString: strerror($0)) }
}

/// write(2) until `text` is out; nil, or the errno of the failure.
private func writeAll(_ descriptor: Int32, _ text: String) -> Int32? {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return errno }
        if n == 0 { return EIO }
        bytes = bytes.dropFirst(n)
    }
    return nil
}
