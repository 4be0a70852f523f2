import CHDF5

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
