import CHDF5
import Foundation

/// An open HDF5 file. Files are written in HDF5's default (earliest) format, which has no
/// "open for writing" flag: a file whose writer was killed after a flush opens normally.
final class HDF5File {
    let path: String
    private var handle: HDF5Handle?

    private init(path: String, id: hid_t) {
        self.path = path
        handle = HDF5Handle(id, H5Fclose)
    }

    /// Creates `path`, replacing any file there.
    static func create(_ path: String) throws -> HDF5File {
        _ = HDF5.quiet
        let id = try HDF5.check(H5Fcreate(path, wgf_H5F_ACC_TRUNC(), wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT()), path,
                                "cannot create the HDF5 file")
        return HDF5File(path: path, id: id)
    }

    /// Whether the file `path` has HDF5's signature.
    static func isHDF5(_ path: String) throws -> Bool {
        _ = HDF5.quiet
        return try HDF5.check(H5Fis_hdf5(path), path, "cannot read") > 0
    }

    /// Opens an existing file, read-only unless `writable`.
    static func open(_ path: String, writable: Bool) throws -> HDF5File {
        _ = HDF5.quiet
        guard FileManager.default.fileExists(atPath: path) else { throw IOFailure(path: path, "no such file") }
        let flags = writable ? wgf_H5F_ACC_RDWR() : wgf_H5F_ACC_RDONLY()
        let id = try HDF5.check(H5Fopen(path, flags, wgf_H5P_DEFAULT()), path, "cannot open the HDF5 file")
        return HDF5File(path: path, id: id)
    }

    func id() throws -> hid_t {
        guard let handle else { throw IOFailure(path: path, "the HDF5 file is closed") }
        return handle.id
    }

    var root: HDF5Group {
        get throws {
            let id = try HDF5.check(H5Gopen2(try id(), "/", wgf_H5P_DEFAULT()), path, "cannot open the root group")
            return HDF5Group(file: self, handle: HDF5Handle(id, H5Gclose), name: "")
        }
    }

    /// Writes every buffered change (metadata and raw data) to the file.
    func flush() throws {
        try HDF5.check(H5Fflush(try id(), H5F_SCOPE_LOCAL), path, "cannot flush")
    }

    /// Flushes and closes the file (objects of it still open keep it open until they go).
    func close() throws {
        guard let h = handle else { return }
        try flush()
        handle = nil
        try HDF5.check(h.close(), path, "cannot close")
    }
}
