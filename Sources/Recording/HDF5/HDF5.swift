import CHDF5
import Foundation

/// HDF5 through checked calls. Every HDF5 call returns a negative value on failure; `check`
/// turns that into an ``IOFailure`` naming the file, what was being done, and HDF5's own
/// innermost and outermost messages (e.g. "unable to open file ... Permission denied"), so
/// no failure passes silently. HDF5's automatic printing of its error stack is turned off.
enum HDF5 {
    /// Turns off HDF5's printing of its error stack to stderr: errors are rendered by `check`.
    static let quiet: Void = { _ = H5Eset_auto2(wgf_H5E_DEFAULT(), nil, nil) }()

    /// `result` if it is ≥ 0; otherwise an IOFailure `path: what (HDF5: message)`.
    @discardableResult
    static func check<T: BinaryInteger>(_ result: T, _ path: String, _ what: @autoclosure () -> String) throws -> T {
        guard result >= 0 else { throw IOFailure(path: path, "\(what()) (HDF5: \(stackMessage()))") }
        return result
    }

    /// The outermost and innermost descriptions on HDF5's error stack of this thread.
    static func stackMessage() -> String {
        var messages: [String] = []
        _ = withUnsafeMutablePointer(to: &messages) { box in
            H5Ewalk2(wgf_H5E_DEFAULT(), H5E_WALK_DOWNWARD, { _, error, data in
                if let text = error?.pointee.desc, let data {
                    data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: text))
                }
                return 0
            }, box)
        }
        guard let outer = messages.first, let inner = messages.last else { return "no error message" }
        return outer == inner ? outer : "\(outer): \(inner)"
    }

    /// `dims` as HDF5 sizes.
    static func sizes(_ dims: [Int]) -> [hsize_t] { dims.map { hsize_t($0) } }
}

/// An HDF5 identifier (file, group, dataset, dataspace, type, property list), released by its
/// close function when the last reference goes. Closing a file is checked separately
/// (``HDF5File/close()``); closing the other objects cannot lose data.
final class HDF5Handle {
    let id: hid_t
    private let release: (hid_t) -> herr_t
    private var open = true
    init(_ id: hid_t, _ release: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.release = release
    }
    /// Releases the identifier now; HDF5's return value (negative on failure).
    func close() -> herr_t {
        guard open else { return 0 }
        open = false
        return release(id)
    }
    deinit { _ = close() }
}
