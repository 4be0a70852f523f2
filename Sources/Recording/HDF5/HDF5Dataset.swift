import CHDF5

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
    static func create<T: HDF5Number>(
        _ type: T.Type, in group: HDF5Group, _ child: String, rowShape: [Int], chunk: [Int]
    ) throws -> HDF5Dataset {
        let path = group.file.path
        let what = "cannot create the dataset \(group.path(child))"
        let space = try HDF5Space.make([0] + rowShape, maximum: [HDF5Space.unlimited] + rowShape, path, what)
        let dcpl = HDF5Handle(try HDF5.check(H5Pcreate(wgf_H5P_DATASET_CREATE()), path, what), H5Pclose)
        try HDF5.check(H5Pset_chunk(dcpl.id, Int32(chunk.count), HDF5.sizes(chunk)), path, what)
        let id = try group.file.check(
            H5Dcreate2(group.handle.id, child, T.fileType, space.id, wgf_H5P_DEFAULT(), dcpl.id, wgf_H5P_DEFAULT()),
            what)
        return HDF5Dataset(
            file: group.file, handle: HDF5Handle(id, H5Dclose, of: group.file.state), name: group.path(child))
    }

    /// The current shape.
    func shape() throws -> [Int] {
        let what = "cannot read the shape of \(name)"
        let space = HDF5Handle(try file.check(H5Dget_space(handle.id), what), H5Sclose)
        let rank = try file.check(H5Sget_simple_extent_ndims(space.id), what)
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try file.check(H5Sget_simple_extent_dims(space.id, &dims, nil), what)
        return dims.map { Int($0) }
    }

    /// Grows or shrinks the dataset to `rows` rows (rows past it are discarded).
    func setRows(_ rows: Int) throws {
        var dims = try shape()
        guard !dims.isEmpty else { throw IOFailure(path: file.path, .scalarDataset(name: name)) }
        dims[0] = rows
        try file.check(H5Dset_extent(handle.id, HDF5.sizes(dims)), "cannot resize \(name) to \(rows) rows")
    }

    /// Writes row `row` (which must exist) from `values` (the row's entries in C order).
    func write<T: HDF5Number>(row: Int, _ values: UnsafeBufferPointer<T>) throws {
        let dims = try shape()
        let what = "cannot write row \(row) of \(name)"
        let perRow = dims.dropFirst().reduce(1, *)
        guard values.count == perRow, row < dims[0], let base = values.baseAddress else {
            throw IOFailure(path: file.path, .rowLength(operation: what, values: values.count, perRow: perRow))
        }
        let fileSpace = try rowSelection(row, dims, what)
        let memory = try HDF5Space.make([perRow], file.path, what)
        try file.check(H5Dwrite(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), base), what)
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
        guard rows <= dims[0] else {
            throw IOFailure(path: file.path, .rowsBeyondEnd(operation: what, asked: rows, present: dims[0]))
        }
        var out = [T](repeating: T(), count: rows * dims.dropFirst().reduce(1, *))
        guard !out.isEmpty else { return out }
        let fileSpace = HDF5Handle(try file.check(H5Dget_space(handle.id), what), H5Sclose)
        var start = [hsize_t](repeating: 0, count: dims.count)
        var count = HDF5.sizes(dims)
        count[0] = hsize_t(rows)
        start[0] = 0
        try file.check(H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, start, nil, count, nil), what)
        let memory = try HDF5Space.make([out.count], file.path, what)
        _ = try out.withUnsafeMutableBytes { b in
            try file.check(
                H5Dread(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), b.baseAddress!), what)
        }
        return out
    }

    /// Row `row`: all its entries, or only entries `entries` along the second dimension (the
    /// particles), in the order given, each with its trailing coordinates.
    func read<T: HDF5Number>(_ type: T.Type, row: Int, entries: [Int]? = nil) throws -> [T] {
        let dims = try shape()
        let what = "cannot read row \(row) of \(name)"
        guard row < dims[0], dims.count >= 2 else {
            throw IOFailure(path: file.path, .rowOutsideShape(operation: what, shape: dims))
        }
        let trailing = dims.dropFirst(2).reduce(1, *)
        let fileSpace: HDF5Handle
        let count: Int
        if let entries {
            guard entries.allSatisfy({ $0 >= 0 && $0 < dims[1] }) else {
                throw IOFailure(path: file.path, .entriesOutside(operation: what, count: dims[1]))
            }
            count = entries.count * trailing
            fileSpace = HDF5Handle(try file.check(H5Dget_space(handle.id), what), H5Sclose)
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
                try file.check(H5Sselect_elements(fileSpace.id, H5S_SELECT_SET, count, coordinates), what)
            }
        } else {
            count = dims[1] * trailing
            fileSpace = try rowSelection(row, dims, what)
        }
        var out = [T](repeating: T(), count: count)
        guard count > 0 else { return out }
        let memory = try HDF5Space.make([count], file.path, what)
        _ = try out.withUnsafeMutableBytes { b in
            try file.check(
                H5Dread(handle.id, T.memoryType, memory.id, fileSpace.id, wgf_H5P_DEFAULT(), b.baseAddress!), what)
        }
        return out
    }

    /// The file dataspace with row `row` selected whole.
    private func rowSelection(_ row: Int, _ dims: [Int], _ what: String) throws -> HDF5Handle {
        let space = HDF5Handle(try file.check(H5Dget_space(handle.id), what), H5Sclose)
        var start = [hsize_t](repeating: 0, count: dims.count)
        var count = HDF5.sizes(dims)
        start[0] = hsize_t(row)
        count[0] = 1
        try file.check(H5Sselect_hyperslab(space.id, H5S_SELECT_SET, start, nil, count, nil), what)
        return space
    }
}
