/// Strict UTF-8 decoding of one scalar at a time, so that readers can say where a file stops
/// being UTF-8 (line and column) instead of failing as a whole or repairing it silently.
public enum UTF8Scan {
    /// The scalar starting at `bytes[i]` and its length in bytes; nil if the bytes there are
    /// not well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF included).
    public static func scalar(in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int)? {
        let n = bytes.count
        guard i < n else { return nil }
        let b0 = bytes[i]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch b0 {
        case 0xC2...0xDF:
            length = 2
            minimum = 0x80
            value = UInt32(b0 & 0x1F)
        case 0xE0...0xEF:
            length = 3
            minimum = 0x800
            value = UInt32(b0 & 0x0F)
        case 0xF0...0xF4:
            length = 4
            minimum = 0x10000
            value = UInt32(b0 & 0x07)
        default: return nil
        }
        guard i + length <= n else { return nil }
        for k in 1..<length {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(b & 0x3F)
        }
        guard value >= minimum, let s = Unicode.Scalar(value) else { return nil }
        return (s, length)
    }

    /// The offset of the first byte that does not start a well-formed scalar, or nil.
    public static func firstInvalid(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            guard let (_, length) = scalar(in: bytes, at: i) else { return i }
            i += length
        }
        return nil
    }

    /// The offset of the first byte that does not start a well-formed scalar, or nil.
    public static func firstInvalid(in bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalid(in: $0) }
    }
}
