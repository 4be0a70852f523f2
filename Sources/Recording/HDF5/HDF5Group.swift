import CHDF5
import Foundation

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
        let id = try file.check(H5Gcreate2(handle.id, child, wgf_H5P_DEFAULT(), gcpl, wgf_H5P_DEFAULT()), what)
        withExtendedLifetime(properties) {}
        return HDF5Group(file: file, handle: HDF5Handle(id, H5Gclose, of: file.state), name: path(child))
    }

    func group(_ child: String) throws -> HDF5Group {
        let id = try file.check(H5Gopen2(handle.id, child, wgf_H5P_DEFAULT()), "cannot open the group \(path(child))")
        return HDF5Group(file: file, handle: HDF5Handle(id, H5Gclose, of: file.state), name: path(child))
    }

    func contains(_ child: String) throws -> Bool {
        try file.check(H5Lexists(handle.id, child, wgf_H5P_DEFAULT()), "cannot look up \(path(child))") > 0
    }

    /// The names of the group's members, in creation order where the group tracks it, else by name.
    func memberNames() throws -> [String] {
        var info = H5G_info_t()
        try file.check(H5Gget_info(handle.id, &info), "cannot list \(name.isEmpty ? "/" : name)")
        let index = try isOrdered() ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
        return try (0..<Int(info.nlinks)).map { k in
            let what = "cannot list \(name.isEmpty ? "/" : name)"
            let length = try file.check(
                H5Lget_name_by_idx(handle.id, ".", index, H5_ITER_INC, hsize_t(k), nil, 0, wgf_H5P_DEFAULT()), what)
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try file.check(
                H5Lget_name_by_idx(
                    handle.id, ".", index, H5_ITER_INC, hsize_t(k), &buffer, buffer.count, wgf_H5P_DEFAULT()), what)
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    private func isOrdered() throws -> Bool {
        let gcpl = try file.check(H5Gget_create_plist(handle.id), "cannot read the properties of \(name)")
        defer { H5Pclose(gcpl) }
        var flags: UInt32 = 0
        try file.check(H5Pget_link_creation_order(gcpl, &flags), "cannot read the properties of \(name)")
        return flags & wgf_H5P_CRT_ORDER_TRACKED_INDEXED() == wgf_H5P_CRT_ORDER_TRACKED_INDEXED()
    }

    // MARK: attributes

    /// An integer attribute: a scalar for one value unless `array`, else a 1-D array.
    func setAttribute(_ key: String, _ values: [Int32], array: Bool = true) throws {
        try values.withUnsafeBytes { bytes in
            try writeAttribute(
                key, fileType: wgf_H5T_STD_I32LE(), memoryType: wgf_H5T_NATIVE_INT(),
                shape: array ? [values.count] : nil, bytes: bytes.baseAddress!)
        }
    }

    /// A string attribute (UTF-8, fixed length): a scalar.
    func setAttribute(_ key: String, _ value: String) throws { try setAttribute(key, strings: [value], array: false) }

    /// A 1-D array of strings (UTF-8, fixed length: the longest, shorter ones null-padded).
    func setAttribute(_ key: String, strings: [String], array: Bool = true) throws {
        let (type, bytes) = try HDF5String.pack(strings, file.path)
        try bytes.withUnsafeBytes { b in
            try writeAttribute(
                key, fileType: type.id, memoryType: type.id, shape: array ? [strings.count] : nil, bytes: b.baseAddress!
            )
        }
    }

    private func writeAttribute(
        _ key: String, fileType: hid_t, memoryType: hid_t, shape: [Int]?, bytes: UnsafeRawPointer
    ) throws {
        let what = "cannot write the attribute \(key) of \(name.isEmpty ? "/" : name)"
        let space = try HDF5Space.make(shape, file.path, what)
        let id = try file.check(
            H5Acreate2(handle.id, key, fileType, space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT()), what)
        let attribute = HDF5Handle(id, H5Aclose, of: file.state)
        try file.check(H5Awrite(attribute.id, memoryType, bytes), what)
    }

    // MARK: datasets

    /// A scalar string dataset (UTF-8, fixed length) holding `text`.
    func createText(_ child: String, _ text: String) throws {
        let what = "cannot write the dataset \(path(child))"
        let (type, bytes) = try HDF5String.pack([text], file.path)
        let space = try HDF5Space.make(nil, file.path, what)
        let id = try file.check(
            H5Dcreate2(handle.id, child, type.id, space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT()),
            what)
        let dataset = HDF5Handle(id, H5Dclose, of: file.state)
        _ = try bytes.withUnsafeBytes { b in
            try file.check(
                H5Dwrite(dataset.id, type.id, wgf_H5S_ALL(), wgf_H5S_ALL(), wgf_H5P_DEFAULT(), b.baseAddress!), what)
        }
    }

    /// A fixed 1-D float64 dataset holding `values`.
    func createArray(_ child: String, _ values: [Double]) throws {
        let what = "cannot write the dataset \(path(child))"
        let space = try HDF5Space.make([values.count], file.path, what)
        let id = try file.check(
            H5Dcreate2(
                handle.id, child, wgf_H5T_IEEE_F64LE(), space.id, wgf_H5P_DEFAULT(), wgf_H5P_DEFAULT(),
                wgf_H5P_DEFAULT()), what)
        let dataset = HDF5Handle(id, H5Dclose, of: file.state)
        _ = try values.withUnsafeBytes { b in
            try file.check(
                H5Dwrite(
                    dataset.id, wgf_H5T_NATIVE_DOUBLE(), wgf_H5S_ALL(), wgf_H5S_ALL(), wgf_H5P_DEFAULT(), b.baseAddress!
                ), what)
        }
    }

    func dataset(_ child: String) throws -> HDF5Dataset {
        let id = try file.check(H5Dopen2(handle.id, child, wgf_H5P_DEFAULT()), "cannot open the dataset \(path(child))")
        return HDF5Dataset(file: file, handle: HDF5Handle(id, H5Dclose, of: file.state), name: path(child))
    }
}
