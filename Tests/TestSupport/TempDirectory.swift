import Foundation

/// A fresh temporary directory, removed with everything in it when the value is released.
package final class TempDirectory {
    /// The directory's path.
    package let path: String

    /// The directory as a file URL.
    package var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// A directory named `PREFIX-UUID` in the temporary directory (`TMPDIR`), or in `/dev/shm`
    /// when `inMemory` and it is writable (a tmpfs: tests that rewrite thousands of small files
    /// spend most of their time on a disk).
    package init(prefix: String = "wgf-test", inMemory: Bool = false) {
        let base =
            inMemory && FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = (base as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name`, relative to the directory.
    package func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `text` to `name` (relative to the directory, sub-directories created); returns the path.
    @discardableResult
    package func write(_ name: String, _ text: String) -> String {
        let file = file(name)
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The text of `name` ("<unreadable>" if it cannot be read as UTF-8).
    package func read(_ name: String) -> String {
        (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "<unreadable>"
    }
}
