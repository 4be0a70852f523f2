import Foundation

/// NumPy `.npy` files (format version 1.0): little-endian float64 (`<f8`) or int64 (`<i8`)
/// arrays in C order.
public enum NPY {
    /// The bytes of an .npy file holding `values` with `shape`.
    public static func encode(_ values: [Double], shape: [Int]) -> Data { encode(descr: "<f8", shape: shape, count: values.count) { d in
        for v in values { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { d.append(contentsOf: $0) } } } }

    public static func encode(_ values: [Int64], shape: [Int]) -> Data { encode(descr: "<i8", shape: shape, count: values.count) { d in
        for v in values { var b = v.littleEndian; withUnsafeBytes(of: &b) { d.append(contentsOf: $0) } } } }

    static func encode(descr: String, shape: [Int], count: Int, body: (inout Data) -> Void) -> Data {
        precondition(shape.reduce(1, *) == count, "shape does not match the number of values")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + "\n" is a multiple of 64.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        d.append(UInt8(n & 0xff)); d.append(UInt8(n >> 8))
        d.append(contentsOf: Array(header.utf8))
        d.reserveCapacity(d.count + count * 8)
        body(&d)
        return d
    }

    /// Reads an .npy file written by `encode` (`<f8` or `<i8`, C order): shape and values as doubles.
    public static func decode(_ data: Data) throws -> (descr: String, shape: [Int], values: [Double]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw NPYError("not an .npy file") }
        let len = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + len, let header = String(bytes: bytes[10..<(10 + len)], encoding: .ascii) else { throw NPYError("truncated header") }
        guard let dr = header.range(of: "'descr': '"), let de = header[dr.upperBound...].firstIndex(of: "'") else { throw NPYError("no descr") }
        let descr = String(header[dr.upperBound..<de])
        guard header.contains("'fortran_order': False") else { throw NPYError("Fortran order") }
        guard let sr = header.range(of: "'shape': ("), let se = header[sr.upperBound...].firstIndex(of: ")") else { throw NPYError("no shape") }
        let shape = header[sr.upperBound..<se].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let start = 10 + len
        guard bytes.count == start + 8 * count else { throw NPYError("\(bytes.count - start) data bytes, expected \(8 * count)") }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var u: UInt64 = 0
            for b in 0..<8 { u |= UInt64(bytes[start + 8 * i + b]) << (8 * UInt64(b)) }
            switch descr {
            case "<f8": values[i] = Double(bitPattern: u)
            case "<i8": values[i] = Double(Int64(bitPattern: u))
            default: throw NPYError("unsupported dtype \(descr)")
            }
        }
        return (descr, shape, values)
    }
}

public struct NPYError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

extension Trajectory {
    /// The trajectory as arrays for `wgf export`, one set per population (records × particles ×
    /// d positions, records × particles weights, the records' steps and times). Particles are
    /// ordered by id; a population whose particle set changes between records cannot be
    /// exported as a rectangular array and is reported by name.
    public func arrays(population name: String) throws
        -> (positions: [Double], velocities: [Double], weights: [Double], steps: [Int64], times: [Double], particles: Int) {
        var positions: [Double] = [], velocities: [Double] = [], weights: [Double] = [], steps: [Int64] = [], times: [Double] = []
        var ids: [Int]? = nil
        let d = dimension
        for f in frames {
            guard let p = f.populations.first(where: { $0.name == name }) else { continue }
            let order = p.ids.indices.sorted { p.ids[$0] < p.ids[$1] }
            let sortedIDs = order.map { p.ids[$0] }
            if let ids, ids != sortedIDs {
                throw NPYError("population '\(name)': the particles at step \(f.step) differ from those of step \(steps.first ?? 0)")
            }
            ids = sortedIDs
            for i in order {
                weights.append(p.weights[i])
                positions.append(contentsOf: p.positions[(i * d)..<(i * d + d)])
                if !p.velocities.isEmpty { velocities.append(contentsOf: p.velocities[(i * d)..<(i * d + d)]) }
            }
            steps.append(Int64(f.step)); times.append(f.time)
        }
        return (positions, velocities, weights, steps, times, ids?.count ?? 0)
    }
}
