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

/// A group of an open file; `name` is its HDF5 path, used in messages.
struct HDF5Group {
    let file: HDF5File
    let handle: HDF5Handle
    let name: String

    func path(_ child: String) -> String { "\(name)/\(child)" }

    /// A new subgroup. `ordered`: links inside it are indexed by creation order, so readers
    /// list them in the order they were written (populations in the state's order).
    func createGroup(_ child: String, ordered: Bool = false) throws -> HDF5Group {
        let what = "cannot create the group \(path(child))"
        var gcpl = wgf_H5P_DEFAULT()
        var properties: HDF5Handle? = nil
        if ordered {
            gcpl = try HDF5.check(H5Pcreate(wgf_H5P_GROUP_CREATE()), file.path, what)
            properties = HDF5Handle(gcpl, H5Pclose)
            try HDF5.check(H5Pset_link_creation_order(gcpl, wgf_H5P_CRT_ORDER_TRACKED_INDEXED()), file.path, what)
        }
        let id = try HDF5.check(H5Gcreate2(handle.id, child, wgf_H5P_DEFAULT(), gcpl, wgf_H5P_DEFAULT()), file.path, what)
        withExtendedLifetime(properties) {}
        return HDF5Group(file: file, handle: HDF5Handle(id, H5Gclose), name: path(child))
    }

    func group(_ child: String) throws -> HDF5Group {
        let id = try HDF5.check(H5Gopen2(handle.id, child, wgf_H5P_DEFAULT()), file.path, "cannot open the group \(path(child))")
        return HDF5Group(file: file, handle: HDF5Handle(id, H5Gclose), name: path(child))
    }

    func contains(_ child: String) throws -> Bool {
        try HDF5.check(H5Lexists(handle.id, child, wgf_H5P_DEFAULT()), file.path, "cannot look up \(path(child))") > 0
    }

    /// The names of the group's members, in creation order where the group tracks it, else by name.
    func memberNames() throws -> [String] {
        var info = H5G_info_t()
        try HDF5.check(H5Gget_info(handle.id, &info), file.path, "cannot list \(name.isEmpty ? "/" : name)")
        let index = try isOrdered() ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
        return try (0..<Int(info.nlinks)).map { k in
            let what = "cannot list \(name.isEmpty ? "/" : name)"
            let length = try HDF5.check(H5Lget_name_by_idx(handle.id, ".", index, H5_ITER_INC, hsize_t(k), nil, 0, wgf_H5P_DEFAULT()),
                                        file.path, what)
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try HDF5.check(H5Lget_name_by_idx(handle.id, ".", index, H5_ITER_INC, hsize_t(k), &buffer, buffer.count, wgf_H5P_DEFAULT()),
                           file.path, what)
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    private func isOrdered() throws -> Bool {
        let gcpl = try HDF5.check(H5Gget_create_plist(handle.id), file.path, "cannot read the properties of \(name)")
        defer { H5Pclose(gcpl) }
        var flags: UInt32 = 0
        try HDF5.check(H5Pget_link_creation_order(gcpl, &flags), file.path, "cannot read the properties of \(name)")
        return flags & wgf_H5P_CRT_ORDER_TRACKED_INDEXED() == wgf_H5P_CRT_ORDER_TRACKED_INDEXED()
    }

    // MARK: attributes

    /// An integer attribute: a scalar for one value unless `array`, else a 1-D array.
    func setAttribute(_ key: String, _ values: [Int32], array: Bool = true) throws {
        try values.withUnsafeBytes { bytes in
            try writeAttribute(key, fileType: wgf_H5T_STD_I32LE(), memoryType: wgf_H5T_NATIVE_INT(),
                               shape: array ? [values.count] : nil, bytes: bytes.baseAddress!)
        }
    }

    /// A string attribute (UTF-8, fixed length): a scalar.
    func setAttribute(_ key: String, _ value: String) throws { try setAttribute(key, strings: [value], array: false) }

    /// A 1-D array of strings (UTF-8, fixed length: the longest, shorter ones null-padded).
    func setAttribute(_ key: String, strings: [String], array: Bool = true) throws {
        let (type, bytes) = try HDF5String.pack(strings, file.path)
        try bytes.withUnsafeBytes { b in
            try writeAttribute(key, fileType: type.id, memoryType: type.id, shape: array ? [strings.count] : nil, bytes: b.baseAddress!)
        }
    }

    private func writeAttribute(_ key: String, fileType: hid_t, memoryType: hid_t, shape: [Int]?, bytes: UnsafeRawPointer) throws {
        let what = "cannot write the attribute \(key) of \(name.isEmpty ? "/" : name)"
        let space = try HDF5Space.make(shape, file.path, what)
        let id = try HDF5.check(H5Acreate2(handle.id, key, fileType, space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT()), file.path, what)
        let attribute = HDF5Handle(id, H5Aclose)
        try HDF5.check(H5Awrite(attribute.id, memoryType, bytes), file.path, what)
    }

    // MARK: datasets

    /// A scalar string dataset (UTF-8, fixed length) holding `text`.
    func createText(_ child: String, _ text: String) throws {
        let what = "cannot write the dataset \(path(child))"
        let (type, bytes) = try HDF5String.pack([text], file.path)
        let space = try HDF5Space.make(nil, file.path, what)
        let id = try HDF5.check(H5Dcreate2(handle.id, child, type.id, space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT()),
                                file.path, what)
        let dataset = HDF5Handle(id, H5Dclose)
        _ = try bytes.withUnsafeBytes { b in
            try HDF5.check(H5Dwrite(dataset.id, type.id, wgf_H5S_ALL(), wgf_H5S_ALL(), wgf_H5P_DEFAULT(), b.baseAddress!), file.path, what)
        }
    }

    /// A fixed 1-D float64 dataset holding `values`.
    func createArray(_ child: String, _ values: [Double]) throws {
        let what = "cannot write the dataset \(path(child))"
        let space = try HDF5Space.make([values.count], file.path, what)
        let id = try HDF5.check(H5Dcreate2(handle.id, child, wgf_H5T_IEEE_F64LE(), space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT(),
                                           wgf_H5P_DEFAULT()), file.path, what)
        let dataset = HDF5Handle(id, H5Dclose)
        _ = try values.withUnsafeBytes { b in
            try HDF5.check(H5Dwrite(dataset.id, wgf_H5T_NATIVE_DOUBLE(), wgf_H5S_ALL(), wgf_H5S_ALL(), wgf_H5P_DEFAULT(), b.baseAddress!),
                           file.path, what)
        }
    }

    func dataset(_ child: String) throws -> HDF5Dataset {
        let id = try HDF5.check(H5Dopen2(handle.id, child, wgf_H5P_DEFAULT()), file.path, "cannot open the dataset \(path(child))")
        return HDF5Dataset(file: file, handle: HDF5Handle(id, H5Dclose), name: path(child))
    }
}

/// A dataspace: scalar (`shape` nil) or simple with the given dimensions and maximum
/// dimensions (`HDF5Space.unlimited` for an extendible one).
enum HDF5Space {
    static var unlimited: Int { -1 }

    static func make(_ shape: [Int]?, maximum: [Int]? = nil, _ path: String, _ what: String) throws -> HDF5Handle {
        guard let shape else { return HDF5Handle(try HDF5.check(H5Screate(H5S_SCALAR), path, what), H5Sclose) }
        let dims = HDF5.sizes(shape)
        let id: hid_t
        if let maximum {
            let max = maximum.map { $0 == unlimited ? wgf_H5S_UNLIMITED() : hsize_t($0) }
            id = try HDF5.check(H5Screate_simple(Int32(dims.count), dims, max), path, what)
        } else {
            id = try HDF5.check(H5Screate_simple(Int32(dims.count), dims, nil), path, what)
        }
        return HDF5Handle(id, H5Sclose)
    }
}

/// Fixed-length UTF-8 strings: the type (size of the longest, at least 1, null-padded) and the
/// packed bytes.
enum HDF5String {
    static func pack(_ strings: [String], _ path: String) throws -> (HDF5Handle, [UInt8]) {
        let size = max(1, strings.map(\.utf8.count).max() ?? 1)
        let what = "cannot make a string type"
        let type = HDF5Handle(try HDF5.check(H5Tcopy(wgf_H5T_C_S1()), path, what), H5Tclose)
        try HDF5.check(H5Tset_size(type.id, size), path, what)
        try HDF5.check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), path, what)
        try HDF5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), path, what)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size * strings.count)
        for s in strings { bytes += Array(s.utf8) + [UInt8](repeating: 0, count: size - s.utf8.count) }
        return (type, bytes)
    }
}

/// The numbers HDF5 datasets hold here: float64 and int64, little-endian in the file.
protocol HDF5Number {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    init()
}

extension Double: HDF5Number {
    static var memoryType: hid_t { wgf_H5T_NATIVE_DOUBLE() }
    static var fileType: hid_t { wgf_H5T_IEEE_F64LE() }
}

extension Int64: HDF5Number {
    static var memoryType: hid_t { wgf_H5T_NATIVE_INT64() }
    static var fileType: hid_t { wgf_H5T_STD_I64LE() }
}

/// A dataset of rows: shape [rows] + row shape, extendible along the rows, written and read
/// one row (or a selection of one row's entries) at a time.
final class HDF5Dataset {
    let file: HDF5File
    let handle: HDF5Handle
    let name: String

    init(file: HDF5File, handle: HDF5Handle, name: String) {
        self.file = file
        self.handle = handle
        self.name = name
    }

    /// A new dataset of `T` with no rows yet, rows of `rowShape`, chunks of `chunk` (rows
    /// first): maximum shape [unlimited] + rowShape.
    static func create<T: HDF5Number>(_ type: T.Type, in group: HDF5Group, _ child: String, rowShape: [Int], chunk: [Int]) throws -> HDF5Dataset {
        let path = group.file.path
        let what = "cannot create the dataset \(group.path(child))"
        let space = try HDF5Space.make([0] + rowShape, maximum: [HDF5Space.unlimited] + rowShape, path, what)
        let dcpl = HDF5Handle(try HDF5.check(H5Pcreate(wgf_H5P_DATASET_CREATE()), path, what), H5Pclose)
        try HDF5.check(H5Pset_chunk(dcpl.id, Int32(chunk.count), HDF5.sizes(chunk)), path, what)
        let id = try HDF5.check(H5Dcreate2(group.handle.id, child, T.fileType, space.id, wgf_H5P_DEFAULT(), dcpl.id, wgf_H5P_DEFAULT()),
                                path, what)
        return HDF5Dataset(file: group.file, handle: HDF5Handle(id, H5Dclose), name: group.path(child))
    }

    /// The current shape.
    func shape() throws -> [Int] {
        let what = "cannot read the shape of \(name)"
        let space = HDF5Handle(try HDF5.check(H5Dget_space(handle.id), file.path, what), H5Sclose)
        let rank = try HDF5.check(H5Sget_simple_extent_ndims(space.id), file.path, what)
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try HDF5.check(H5Sget_simple_extent_dims(space.id, &dims, nil), file.path, what)
        return dims.map { Int($0) }
    }

    /// Grows or shrinks the dataset to `rows` rows (rows past it are discarded).
    func setRows(_ rows: Int) throws {
        var dims = try shape()
        guard !dims.isEmpty else { throw IOFailure(path: file.path, "\(name) is scalar, not a series") }
        dims[0] = rows
        try HDF5.check(H5Dset_extent(handle.id, HDF5.sizes(dims)), file.path, "cannot resize \(name) to \(rows) rows")
    }

    /// Writes row `row` (which must exist) from `values` (the row's entries in C order).
    func write<T: HDF5Number>(row: Int, _ values: UnsafeBufferPointer<T>) throws {
        let dims = try shape()
        let what = "cannot write row \(row) of \(name)"
        let perRow = dims.dropFirst().reduce(1, *)
        guard values.count == perRow, row < dims[0], let base = values.baseAddress else {
            throw IOFailure(path: file.path, "\(what): \(values.count) values for rows of \(perRow)")
        }
        let fileSpace = try rowSelection(row, dims, what)
        let memory = try HDF5Space.make([perRow], file.path, what)
        try HDF5.check(H5Dwrite(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), base), file.path, what)
    }

    /// Appends `values` as row `row` (the dataset has `row` rows before).
    func append<T: HDF5Number>(row: Int, _ values: UnsafeBufferPointer<T>) throws {
        try setRows(row + 1)
        try write(row: row, values)
    }

    /// Every value of rows `0..<rows`, in C order.
    func read<T: HDF5Number>(_ type: T.Type, rows: Int) throws -> [T] {
        let dims = try shape()
        let what = "cannot read \(name)"
        guard rows <= dims[0] else { throw IOFailure(path: file.path, "\(what): \(rows) rows asked, \(dims[0]) present") }
        var out = [T](repeating: T(), count: rows * dims.dropFirst().reduce(1, *))
        guard !out.isEmpty else { return out }
        let fileSpace = HDF5Handle(try HDF5.check(H5Dget_space(handle.id), file.path, what), H5Sclose)
        var start = [hsize_t](repeating: 0, count: dims.count), count = HDF5.sizes(dims)
        count[0] = hsize_t(rows)
        start[0] = 0
        try HDF5.check(H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, start, nil, count, nil), file.path, what)
        let memory = try HDF5Space.make([out.count], file.path, what)
        _ = try out.withUnsafeMutableBytes { b in
            try HDF5.check(H5Dread(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), b.baseAddress!), file.path, what)
        }
        return out
    }

    /// Row `row`: all its entries, or only entries `entries` along the second dimension (the
    /// particles), in the order given, each with its trailing coordinates.
    func read<T: HDF5Number>(_ type: T.Type, row: Int, entries: [Int]? = nil) throws -> [T] {
        let dims = try shape()
        let what = "cannot read row \(row) of \(name)"
        guard row < dims[0], dims.count >= 2 else { throw IOFailure(path: file.path, "\(what): the dataset has shape \(dims)") }
        let trailing = dims.dropFirst(2).reduce(1, *)
        let fileSpace: HDF5Handle
        let count: Int
        if let entries {
            guard entries.allSatisfy({ $0 >= 0 && $0 < dims[1] }) else {
                throw IOFailure(path: file.path, "\(what): entries outside 0..<\(dims[1])")
            }
            count = entries.count * trailing
            fileSpace = HDF5Handle(try HDF5.check(H5Dget_space(handle.id), file.path, what), H5Sclose)
            if count > 0 {
                // One coordinate tuple (row, entry, trailing index...) per value, in memory order.
                var coordinates: [hsize_t] = []
                coordinates.reserveCapacity(count * dims.count)
                let trailingDims = Array(dims.dropFirst(2))
                for e in entries {
                    for t in 0..<trailing {
                        coordinates += [hsize_t(row), hsize_t(e)]
                        var rest = t
                        var index = [hsize_t](repeating: 0, count: trailingDims.count)
                        for k in stride(from: trailingDims.count - 1, through: 0, by: -1) {
                            index[k] = hsize_t(rest % trailingDims[k])
                            rest /= trailingDims[k]
                        }
                        coordinates += index
                    }
                }
                try HDF5.check(H5Sselect_elements(fileSpace.id, H5S_SELECT_SET, count, coordinates), file.path, what)
            }
        } else {
            count = dims[1] * trailing
            fileSpace = try rowSelection(row, dims, what)
        }
        var out = [T](repeating: T(), count: count)
        guard count > 0 else { return out }
        let memory = try HDF5Space.make([count], file.path, what)
        _ = try out.withUnsafeMutableBytes { b in
            try HDF5.check(H5Dread(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), b.baseAddress!), file.path, what)
        }
        return out
    }

    /// The file dataspace with row `row` selected whole.
    private func rowSelection(_ row: Int, _ dims: [Int], _ what: String) throws -> HDF5Handle {
        let space = HDF5Handle(try HDF5.check(H5Dget_space(handle.id), file.path, what), H5Sclose)
        var start = [hsize_t](repeating: 0, count: dims.count), count = HDF5.sizes(dims)
        start[0] = hsize_t(row)
        count[0] = 1
        try HDF5.check(H5Sselect_hyperslab(space.id, H5S_SELECT_SET, start, nil, count, nil), file.path, what)
        return space
    }
}
