import CHDF5
import Foundation

/// HDF5 through checked calls. Every HDF5 call returns a negative value on failure; `check`
/// turns that into an ``IOFailure`` naming the file, what was being done, and HDF5's own
/// outermost and innermost messages on one line (e.g. "unable to flush file's cached
/// information: file write failed: File too large"), so no failure passes silently. HDF5's
/// automatic printing of its error stack is turned off.
enum HDF5 {
    /// Set up once, before the library's first call (``HDF5File`` does it): HDF5 prints no error
    /// stack (`check` renders the errors), and it registers no exit handler (`H5dont_atexit`).
    ///
    /// The exit handler would close every file still open when the process exits, and HDF5
    /// 1.10 (up to 1.14.0) cannot close a file twice: when a close fails (a file whose writes
    /// fail: a full disk, a file-size limit), `H5F__dest` frees the file's structures but
    /// leaves its identifier registered, and the handler's second close of it reads freed
    /// memory (SIGSEGV in `H5F__close_cb`; HDF5 issue #2257, CVE-2020-10812). wgf closes its
    /// files itself, and leaves a file whose writes failed unclosed (``HDF5File``): what it
    /// wrote before stays on disk, and the process's end releases the rest.
    static let setUp: Void = {
        _ = H5dont_atexit()
        _ = H5Eset_auto2(wgf_H5E_DEFAULT(), nil, nil)
    }()

    /// `result` if it is ≥ 0; otherwise an IOFailure `path: what (HDF5: message)`.
    @discardableResult
    static func check<T: BinaryInteger>(_ result: T, _ path: String, _ what: @autoclosure () -> String) throws -> T {
        guard result >= 0 else { throw IOFailure(path: path, .hdf5(operation: what(), message: stackMessage())) }
        return result
    }

    /// The outermost and innermost descriptions on HDF5's error stack of this thread, each on
    /// one line (``readable(_:)``).
    static func stackMessage() -> String {
        var messages: [String] = []
        _ = withUnsafeMutablePointer(to: &messages) { box in
            H5Ewalk2(
                wgf_H5E_DEFAULT(), H5E_WALK_DOWNWARD,
                { _, error, data in
                    if let text = error?.pointee.desc, let data {
                        data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: text))
                    }
                    return 0
                }, box)
        }
        guard let first = messages.first, let last = messages.last else { return "no error message" }
        let outer = readable(first)
        let inner = readable(last)
        return outer == inner || inner.hasPrefix(outer + ":") ? inner : "\(outer): \(inner)"
    }

    /// One line of an HDF5 error description. A failed system call is described as `what:
    /// key = value, ..., errno = N, error message = 'reason', ...` (for a write, `time = ` a
    /// date ending in a newline, buffer addresses and byte counts among the keys): that becomes
    /// `what: reason` ("file write failed: File too large"). Other descriptions keep their text,
    /// on one line.
    static func readable(_ description: String) -> String {
        let line = description.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        guard let marker = line.range(of: "error message = '"),
            let end = line[marker.upperBound...].firstIndex(of: "'")
        else { return line }
        let reason = line[marker.upperBound..<end]
        // What failed: the text before the first `key = value` field (after ':' or ',').
        var what = line[..<marker.lowerBound]
        if let field = what.range(of: #"[:,] *[A-Za-z_][A-Za-z_ ]* = "#, options: .regularExpression) {
            what = what[..<field.lowerBound]
        }
        let lead = what.trimmingCharacters(in: CharacterSet(charactersIn: " ,:"))
        return lead.isEmpty ? String(reason) : "\(lead): \(reason)"
    }

    /// `dims` as HDF5 sizes.
    static func sizes(_ dims: [Int]) -> [hsize_t] { dims.map { hsize_t($0) } }
}

/// Whether an open file's HDF5 state is sound, shared by the handles of the file and of the
/// objects in it (groups, datasets, attributes). After a failed HDF5 call on the file it is
/// `failed`, and none of those identifiers is released: closing them would flush what could
/// not be written, and HDF5 1.10 cannot recover from a failed file close (``HDF5/setUp``).
final class HDF5FileState {
    var failed = false
}

/// An HDF5 identifier (file, group, dataset, dataspace, type, property list), released by its
/// close function when the last reference goes, unless it belongs to a file whose state has
/// `failed` (it is then left to the process's end). Closing a file is checked separately
/// (``HDF5File/close()``); closing the other objects cannot lose data.
final class HDF5Handle {
    let id: hid_t
    private let release: (hid_t) -> herr_t
    private let file: HDF5FileState?
    private var open = true
    /// `of`: the state of the file the identifier belongs to (nil for dataspaces, types and
    /// property lists, which belong to none).
    init(_ id: hid_t, _ release: @escaping (hid_t) -> herr_t, of file: HDF5FileState? = nil) {
        self.id = id
        self.release = release
        self.file = file
    }
    /// Releases the identifier now; HDF5's return value (negative on failure). The identifier
    /// of a failed file is not released (0).
    func close() -> herr_t {
        guard open else { return 0 }
        open = false
        if file?.failed == true { return 0 }
        return release(id)
    }
    deinit { _ = close() }
}
