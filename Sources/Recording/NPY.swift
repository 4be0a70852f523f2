import Foundation

/// An array read from an .npy file (``NPY/decode(_:)``): its dtype, shape, and values in C
/// order as doubles.
public struct NPYArray: Equatable, Sendable {
    /// The dtype as the header names it (`<f8`, `<i4`, ...).
    public let descr: String
    /// The shape (empty: a scalar).
    public let shape: [Int]
    /// The values in C (row-major) order.
    public let values: [Double]

    /// An array; see the properties.
    public init(descr: String, shape: [Int], values: [Double]) {
        self.descr = descr
        self.shape = shape
        self.values = values
    }
}

/// NumPy `.npy` files: wgf writes little-endian float64 (`<f8`) and int64 (`<i8`) arrays in C
/// order (format 1.0), and reads what `numpy.save` writes for a numeric array: format 1.0, 2.0
/// or 3.0; `f8`, `f4`, `i8`, `i4`, `i2`, `i1`, `u8`, `u4`, `u2`, `u1` in either byte order; C or
/// Fortran order.
public enum NPY {
    /// The bytes of an .npy file holding `values` with `shape`.
    public static func encode(_ values: [Double], shape: [Int]) -> Data {
        encode(descr: "<f8", shape: shape, count: values.count) { d in
            for v in values {
                var b = v.bitPattern.littleEndian
                withUnsafeBytes(of: &b) { d.append(contentsOf: $0) }
            }
        }
    }

    /// The bytes of an int64 .npy file holding `values` with `shape` (steps.npy).
    public static func encode(_ values: [Int64], shape: [Int]) -> Data {
        encode(descr: "<i8", shape: shape, count: values.count) { d in
            for v in values {
                var b = v.littleEndian
                withUnsafeBytes(of: &b) { d.append(contentsOf: $0) }
            }
        }
    }

    static func encode(descr: String, shape: [Int], count: Int, body: (inout Data) -> Void) -> Data {
        guard shape.reduce(1, *) == count else { fatalError("NPY: shape \(shape) does not hold \(count) values") }
        var d = header(descr: descr, shape: shape)
        d.reserveCapacity(d.count + count * 8)
        body(&d)
        return d
    }

    /// The bytes before the values: magic, version 1.0, the header's length, and the header
    /// dictionary padded with spaces so that the values start at a multiple of 64 bytes.
    public static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + "\n" is a multiple of 64.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        d.append(UInt8(n & 0xff))
        d.append(UInt8(n >> 8))
        d.append(contentsOf: Array(header.utf8))
        return d
    }

    /// Whether `bytes` start with the .npy magic (`\x93NUMPY`).
    public static func hasMagic<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])
    }

    /// The array in an .npy file's bytes. Any bytes at all give an array or a ``FormatError``:
    /// the header is parsed as the Python literal it is (no more), and the shape's count is
    /// checked against the data's bytes before anything is allocated.
    public static func decode(_ bytes: [UInt8]) throws(FormatError) -> NPYArray {
        guard hasMagic(bytes) else { throw .notNPY }
        guard bytes.count >= 10 else { throw .truncatedHeader }
        let major = bytes[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw .version(major, bytes[7])
        }
        let fixed = 8 + lengthBytes
        guard bytes.count >= fixed else { throw .truncatedHeader }
        var length = 0
        for k in (0..<lengthBytes).reversed() { length = length << 8 | Int(bytes[8 + k]) }
        guard length <= bytes.count - fixed else { throw .truncatedHeader }
        var parser = HeaderParser(bytes: bytes[fixed..<(fixed + length)])
        let (descr, fortranOrder, shape) = try parser.parse()
        guard let type = ElementType(descr) else { throw .unsupportedDType(descr) }
        // The count of values, checked against the bytes there are before any allocation.
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= bytes.count else { throw .dataBytes(bytes.count - fixed - length, shape) }
            count = product
        }
        let start = fixed + length
        guard bytes.count - start == count * type.size else { throw .dataBytes(bytes.count - start, shape) }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count { values[i] = type.value(bytes, at: start + i * type.size) }
        if fortranOrder && shape.count > 1 { values = transposedToC(values, shape: shape) }
        return NPYArray(descr: descr, shape: shape, values: values)
    }

    /// Values stored in Fortran (column-major) order, put in C (row-major) order.
    static func transposedToC(_ values: [Double], shape: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<values.count {
            // `index` is the C-order multi-index of c; its Fortran offset has axis 0 fastest.
            var f = 0
            var stride = 1
            for a in 0..<shape.count {
                f += index[a] * stride
                stride *= shape[a]
            }
            out[c] = values[f]
            var a = shape.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < shape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return out
    }

    /// A numeric dtype: its size, byte order and kind.
    struct ElementType {
        let size: Int
        let littleEndian: Bool
        let kind: UInt8  // f, i or u

        init?(_ descr: String) {
            let u = Array(descr.utf8)
            guard u.count == 3, let size = Int(String(UnicodeScalar(u[2]))) else { return nil }
            switch (u[0], u[1], size) {
            case (_, UInt8(ascii: "f"), 4), (_, UInt8(ascii: "f"), 8): break
            case (_, UInt8(ascii: "i"), 1), (_, UInt8(ascii: "i"), 2), (_, UInt8(ascii: "i"), 4),
                (_, UInt8(ascii: "i"), 8):
                break
            case (_, UInt8(ascii: "u"), 1), (_, UInt8(ascii: "u"), 2), (_, UInt8(ascii: "u"), 4),
                (_, UInt8(ascii: "u"), 8):
                break
            default: return nil
            }
            // '<' little, '>' big, '|' not applicable (one byte), '=' native (little here).
            switch u[0] {
            case UInt8(ascii: "<"), UInt8(ascii: "="): littleEndian = true
            case UInt8(ascii: ">"): littleEndian = false
            case UInt8(ascii: "|") where size == 1: littleEndian = true
            default: return nil
            }
            self.size = size
            kind = u[1]
        }

        func value(_ bytes: [UInt8], at offset: Int) -> Double {
            var u: UInt64 = 0
            for b in 0..<size {
                let byte = UInt64(bytes[offset + (littleEndian ? b : size - 1 - b)])
                u |= byte << (8 * UInt64(b))
            }
            switch (kind, size) {
            case (UInt8(ascii: "f"), 8): return Double(bitPattern: u)
            case (UInt8(ascii: "f"), _): return Double(Float(bitPattern: UInt32(u)))
            case (UInt8(ascii: "i"), _):
                // Sign-extend from `size` bytes.
                let shift = UInt64(64 - 8 * size)
                return Double(Int64(bitPattern: u << shift) >> shift)
            default: return Double(u)
            }
        }
    }

    /// Why bytes are not an .npy array wgf reads.
    public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The bytes do not start with `\x93NUMPY`.
        case notNPY
        /// The header runs past the end of the file.
        case truncatedHeader
        /// A format version other than 1.0, 2.0 or 3.0.
        case version(UInt8, UInt8)
        /// The header dictionary is not the literal numpy writes: what is wrong, and where.
        case header(String, offset: Int)
        /// The dtype is not a plain number (a structured, string, complex or object array).
        case unsupportedDType(String)
        /// The data holds `bytes` bytes, not what `shape` needs.
        case dataBytes(Int, [Int])

        /// What is wrong.
        public var description: String {
            switch self {
            case .notNPY: "not an .npy file (no \\x93NUMPY magic)"
            case .truncatedHeader: "not an .npy file: its header runs past the end"
            case .version(let major, let minor): "an .npy file of format \(major).\(minor) (wgf reads 1.0, 2.0 and 3.0)"
            case .header(let what, let offset):
                "an .npy header wgf cannot read: \(what) at byte \(offset) of the header"
            case .unsupportedDType(let descr):
                "dtype '\(String(descr.prefix(40)))' is not a number type wgf reads (float64, float32, integers)"
            case .dataBytes(let bytes, let shape):
                "\(bytes) bytes of data do not hold an array of shape (\(shape.map(String.init).joined(separator: ", ")))"
            }
        }
    }

    /// The header: a Python dict literal with the keys `descr` (a string), `fortran_order` (a
    /// bool) and `shape` (a tuple of non-negative integers), as `numpy.lib.format` writes it.
    struct HeaderParser {
        let bytes: ArraySlice<UInt8>
        var at: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            at = bytes.startIndex
        }

        func fail(_ what: String) -> FormatError { .header(what, offset: at - bytes.startIndex) }

        mutating func skipSpace() {
            while at < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
        }

        mutating func expect(_ c: Character) throws(FormatError) {
            skipSpace()
            guard at < bytes.endIndex, bytes[at] == c.asciiValue! else { throw fail("expected '\(c)'") }
            at += 1
        }

        mutating func peek(_ c: Character) -> Bool {
            skipSpace()
            return at < bytes.endIndex && bytes[at] == c.asciiValue!
        }

        mutating func string() throws(FormatError) -> String {
            skipSpace()
            guard at < bytes.endIndex, bytes[at] == 0x27 || bytes[at] == 0x22 else { throw fail("expected a string") }
            let quote = bytes[at]
            at += 1
            let start = at
            while at < bytes.endIndex, bytes[at] != quote {
                guard bytes[at] >= 0x20, bytes[at] < 0x7F else { throw fail("a string that is not printable ASCII") }
                at += 1
            }
            guard at < bytes.endIndex else { throw fail("a string without its closing quote") }
            at += 1
            return String(decoding: bytes[start..<(at - 1)], as: UTF8.self)
        }

        mutating func word() -> String {
            skipSpace()
            let start = at
            while at < bytes.endIndex,
                (bytes[at] >= 0x41 && bytes[at] <= 0x5A) || (bytes[at] >= 0x61 && bytes[at] <= 0x7A)
            {
                at += 1
            }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func integer() throws(FormatError) -> Int {
            skipSpace()
            let start = at
            while at < bytes.endIndex, bytes[at] >= 0x30, bytes[at] <= 0x39, at - start < 19 { at += 1 }
            // numpy may write a long as 3L (format 1.0 from Python 2).
            guard at > start, let n = Int(String(decoding: bytes[start..<at], as: UTF8.self)) else {
                throw fail("expected a non-negative integer of at most 19 digits")
            }
            if at < bytes.endIndex, bytes[at] == UInt8(ascii: "L") { at += 1 }
            return n
        }

        mutating func parse() throws(FormatError) -> (descr: String, fortranOrder: Bool, shape: [Int]) {
            var descr: String?
            var fortranOrder: Bool?
            var shape: [Int]?
            try expect("{")
            while !peek("}") {
                let key = try string()
                try expect(":")
                switch key {
                case "descr":
                    guard !peek("[") else { throw .unsupportedDType("a structured dtype") }
                    descr = try string()
                case "fortran_order":
                    switch word() {
                    case "True": fortranOrder = true
                    case "False": fortranOrder = false
                    default: throw fail("fortran_order is not True or False")
                    }
                case "shape":
                    try expect("(")
                    var dims: [Int] = []
                    while !peek(")") {
                        guard dims.count < 32 else { throw fail("a shape of more than 32 dimensions") }
                        dims.append(try integer())
                        if !peek(")") { try expect(",") }
                    }
                    try expect(")")
                    shape = dims
                default: throw fail("an unknown key '\(String(key.prefix(40)))'")
                }
                if !peek("}") { try expect(",") }
            }
            try expect("}")
            guard let descr else { throw fail("no 'descr'") }
            guard let fortranOrder else { throw fail("no 'fortran_order'") }
            guard let shape else { throw fail("no 'shape'") }
            return (descr, fortranOrder, shape)
        }
    }
}
