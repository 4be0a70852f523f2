import CHDF5
import Foundation

/// An open HDF5 file.
///
/// Written files use the latest format (HDF5 1.10) and, once their objects exist, SWMR
/// (single writer, multiple readers) mode (``startSWMRWrite()``): HDF5 then orders its metadata
/// writes (new data before the index that points to it, the index before the extent) so that
/// the file on disk is consistent at every moment, and a process killed in the middle of a
/// flush leaves every record flushed before. Without SWMR a kill during a flush can leave a
/// dataset's extent ahead of its chunk index (a record of zeros) or an index pointing past the
/// stored end of file. The price: a file whose writer was killed keeps the writer's "open for
/// writing" mark, so it must be opened in SWMR read mode (h5py: `swmr=True`; `open` does it
/// when a plain open is refused) or cleared with `h5clear -s`. A file closed normally opens
/// plainly.
final class HDF5File {
    let path: String
    private var handle: HDF5Handle?

    private init(path: String, id: hid_t) {
        self.path = path
        handle = HDF5Handle(id, H5Fclose)
    }

    /// A file access property list for the latest format (which SWMR needs); with
    /// `clearingStatusFlags`, opening clears the "open for writing" mark of a killed writer (the
    /// library's `clear_status_flags` property, as `h5clear -s` sets it).
    private static func latestFormat(_ path: String, clearingStatusFlags: Bool = false) throws -> HDF5Handle {
        let what = "cannot set up file access"
        let fapl = HDF5Handle(try HDF5.check(H5Pcreate(wgf_H5P_FILE_ACCESS()), path, what), H5Pclose)
        try HDF5.check(H5Pset_libver_bounds(fapl.id, wgf_H5F_LIBVER_LATEST(), wgf_H5F_LIBVER_LATEST()), path, what)
        if clearingStatusFlags {
            var clear = true
            try HDF5.check(H5Pset(fapl.id, "clear_status_flags", &clear), path, what)
        }
        return fapl
    }

    /// Creates `path`, replacing any file there.
    static func create(_ path: String) throws -> HDF5File {
        _ = HDF5.quiet
        let fapl = try latestFormat(path)
        let id = try HDF5.check(H5Fcreate(path, wgf_H5F_ACC_TRUNC(), wgf_H5P_DEFAULT(), fapl.id), path, "cannot create the HDF5 file")
        return HDF5File(path: path, id: id)
    }

    /// Whether the file `path` has HDF5's signature.
    static func isHDF5(_ path: String) throws -> Bool {
        _ = HDF5.quiet
        return try HDF5.check(H5Fis_hdf5(path), path, "cannot read") > 0
    }

    /// Opens an existing file. Read-only: plainly, or in SWMR read mode when the file is marked
    /// open for writing (a run in progress, or killed). `writable`: clearing a killed writer's
    /// mark, with the end of allocated space moved to the end of the file (a killed SWMR
    /// writer's stored end may lag behind data it wrote; new space must come after that data).
    static func open(_ path: String, writable: Bool) throws -> HDF5File {
        _ = HDF5.quiet
        guard FileManager.default.fileExists(atPath: path) else { throw IOFailure(path: path, "no such file") }
        let what = "cannot open the HDF5 file"
        if writable {
            let fapl = try latestFormat(path, clearingStatusFlags: true)
            let file = HDF5File(path: path, id: try HDF5.check(H5Fopen(path, wgf_H5F_ACC_RDWR(), fapl.id), path, what))
            try HDF5.check(H5Fincrement_filesize(try file.id(), 0), path, "cannot extend the allocated space to the end of the file")
            return file
        }
        let plain = H5Fopen(path, wgf_H5F_ACC_RDONLY(), wgf_H5P_DEFAULT())
        if plain >= 0 { return HDF5File(path: path, id: plain) }
        let fapl = try latestFormat(path)
        return HDF5File(path: path, id: try HDF5.check(H5Fopen(path, wgf_H5F_ACC_RDONLY() | wgf_H5F_ACC_SWMR_READ(), fapl.id), path, what))
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

    /// Switches to SWMR writing (after every object is created: groups, datasets and attributes
    /// can no longer be added, datasets only grow).
    func startSWMRWrite() throws {
        try HDF5.check(H5Fstart_swmr_write(try id()), path, "cannot start SWMR writing")
    }

    /// Writes every buffered change (metadata and raw data) to the file.
    func flush() throws {
        try HDF5.check(H5Fflush(try id(), H5F_SCOPE_LOCAL), path, "cannot flush")
    }

    /// Flushes, then has the kernel write the file to the disk (`fsync`): what a checkpoint
    /// needs of its outputs.
    func synchronize() throws {
        try flush()
        var handle: UnsafeMutableRawPointer? = nil
        try HDF5.check(H5Fget_vfd_handle(try id(), wgf_H5P_DEFAULT(), &handle), path, "cannot reach the file's descriptor")
        guard let fd = handle?.assumingMemoryBound(to: Int32.self).pointee, fsync(fd) == 0 else {
            throw IOFailure(path: path, "cannot write to the disk (\(String(cString: strerror(errno))))")
        }
    }

    /// Flushes and closes the file (objects of it still open keep it open until they go).
    func close() throws {
        guard let h = handle else { return }
        try flush()
        handle = nil
        try HDF5.check(h.close(), path, "cannot close")
    }
}
