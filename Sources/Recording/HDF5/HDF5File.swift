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
///
/// A failed HDF5 call on the file (a write past a file-size limit or onto a full disk, above
/// all) marks it failed (``HDF5FileState``): from then on it is neither used nor closed, its
/// identifiers and those of its objects are left to the process's end, and the file on disk
/// keeps what was written before, like that of a killed writer. HDF5 1.10 cannot close such a
/// file safely: the close flushes again, fails again, and leaves the library holding freed
/// memory (``HDF5/setUp``).
final class HDF5File {
    let path: String
    /// Shared with the handles of the file's objects.
    let state = HDF5FileState()
    private var handle: HDF5Handle?

    private init(path: String, id: hid_t) {
        self.path = path
        handle = HDF5Handle(id, H5Fclose, of: state)
    }

    /// `result` if it is ≥ 0; otherwise the file is marked failed and an IOFailure `path: what
    /// (HDF5: message)` is thrown.
    @discardableResult
    func check<T: BinaryInteger>(_ result: T, _ what: @autoclosure () -> String) throws -> T {
        if result < 0 { state.failed = true }
        return try HDF5.check(result, path, what())
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
        _ = HDF5.setUp
        let fapl = try latestFormat(path)
        let id = try HDF5.check(
            H5Fcreate(path, wgf_H5F_ACC_TRUNC(), wgf_H5P_DEFAULT(), fapl.id), path, "cannot create the HDF5 file")
        return HDF5File(path: path, id: id)
    }

    /// Whether the file `path` has HDF5's signature.
    static func isHDF5(_ path: String) throws -> Bool {
        _ = HDF5.setUp
        return try HDF5.check(H5Fis_hdf5(path), path, "cannot read") > 0
    }

    /// Opens an existing file. Read-only: plainly, or in SWMR read mode when the file is marked
    /// open for writing (a run in progress, or killed). `writable`: clearing a killed writer's
    /// mark, with the end of allocated space moved to the end of the file (a killed SWMR
    /// writer's stored end may lag behind data it wrote; new space must come after that data).
    /// A file shorter than its stored end (a writer whose writes failed: see
    /// ``extendToStoredEnd(_:)``) is first extended to it.
    static func open(_ path: String, writable: Bool) throws -> HDF5File {
        _ = HDF5.setUp
        guard FileManager.default.fileExists(atPath: path) else { throw IOFailure(path: path, .noSuchFile) }
        let what = "cannot open the HDF5 file"
        if writable {
            let fapl = try latestFormat(path, clearingStatusFlags: true)
            var id = H5Fopen(path, wgf_H5F_ACC_RDWR(), fapl.id)
            if id < 0 {
                let failure = IOFailure(path: path, .hdf5(operation: what, message: HDF5.stackMessage()))
                guard try extendToStoredEnd(path) else { throw failure }
                id = try HDF5.check(H5Fopen(path, wgf_H5F_ACC_RDWR(), fapl.id), path, what)
            }
            let file = HDF5File(path: path, id: id)
            try file.check(
                H5Fincrement_filesize(try file.id(), 0), "cannot extend the allocated space to the end of the file")
            return file
        }
        let plain = H5Fopen(path, wgf_H5F_ACC_RDONLY(), wgf_H5P_DEFAULT())
        if plain >= 0 { return HDF5File(path: path, id: plain) }
        let fapl = try latestFormat(path)
        return HDF5File(
            path: path,
            id: try HDF5.check(H5Fopen(path, wgf_H5F_ACC_RDONLY() | wgf_H5F_ACC_SWMR_READ(), fapl.id), path, what))
    }

    /// Extends the file `path` (with zeros) to the end of allocated space its superblock
    /// stores, if it is shorter; whether it did. A writer whose writes failed (a file-size
    /// limit, a full disk) leaves such a file: its last flush stored the end of the space it
    /// had allocated, but could write neither the data meant for that space nor the file's
    /// extension to it, and HDF5 opens a file shorter than its stored end for reading only (in
    /// SWMR mode). What the missing part was to hold was written after the last successful
    /// flush, so after the last checkpoint: a resume cuts those records. Should a structure
    /// the resume reads lie there all the same, its checksum (every metadata block of the
    /// latest format has one) fails on the zeros: an IOFailure, not a misread.
    static func extendToStoredEnd(_ path: String) throws -> Bool {
        let fapl = try latestFormat(path)
        let id = H5Fopen(path, wgf_H5F_ACC_RDONLY() | wgf_H5F_ACC_SWMR_READ(), fapl.id)
        guard id >= 0 else { return false }
        var end: haddr_t = 0
        let found = H5Fget_eoa(id, &end)
        try HDF5.check(H5Fclose(id), path, "cannot close")
        guard found >= 0, let info = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (info[.size] as? NSNumber)?.uint64Value, size < end, end < UInt64(Int64.max)
        else { return false }
        guard truncate(path, off_t(end)) == 0 else {
            throw IOFailure(path: path, .cannotExtend(bytes: Int(end), reason: String(cString: strerror(errno))))
        }
        return true
    }

    /// The file's identifier, while it is open and sound.
    func id() throws -> hid_t {
        guard let handle else { throw IOFailure(path: path, .hdf5FileClosed) }
        guard !state.failed else { throw IOFailure(path: path, .earlierHDF5Failure) }
        return handle.id
    }

    var root: HDF5Group {
        get throws {
            let id = try check(H5Gopen2(try id(), "/", wgf_H5P_DEFAULT()), "cannot open the root group")
            return HDF5Group(file: self, handle: HDF5Handle(id, H5Gclose, of: state), name: "")
        }
    }

    /// Switches to SWMR writing (after every object is created: groups, datasets and attributes
    /// can no longer be added, datasets only grow).
    func startSWMRWrite() throws {
        try check(H5Fstart_swmr_write(try id()), "cannot start SWMR writing")
    }

    /// Writes every buffered change (metadata and raw data) to the file.
    func flush() throws {
        try check(H5Fflush(try id(), H5F_SCOPE_LOCAL), "cannot flush")
    }

    /// Flushes, then has the kernel write the file to the disk (`fsync`): what a checkpoint
    /// needs of its outputs.
    func synchronize() throws {
        try flush()
        var handle: UnsafeMutableRawPointer? = nil
        try check(H5Fget_vfd_handle(try id(), wgf_H5P_DEFAULT(), &handle), "cannot reach the file's descriptor")
        guard let fd = handle?.assumingMemoryBound(to: Int32.self).pointee, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            state.failed = true
            throw IOFailure(path: path, .cannotWriteToDisk(reason: reason))
        }
    }

    /// Flushes and closes the file (objects of it still open keep it open until they go). A
    /// file whose HDF5 state has failed is not closed (see the type's notes): that is an
    /// IOFailure, and the file keeps what was written before the failure.
    func close() throws {
        guard let h = handle else { return }
        handle = nil
        guard !state.failed else {
            _ = h.close()  // leaves the identifier to the process's end
            throw IOFailure(path: path, .notClosedAfterFailure)
        }
        do {
            try check(H5Fflush(h.id, H5F_SCOPE_LOCAL), "cannot flush")
        } catch {
            _ = h.close()
            throw error
        }
        try check(h.close(), "cannot close")
    }
}
