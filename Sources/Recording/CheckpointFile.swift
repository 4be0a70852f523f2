import Flows
import Foundation
import KernelSum

/// A checkpoint on disk (`checkpoint.wgf` in a run directory): one versioned binary file.
///
///     "WGF-CKPT"  format version (u32)  entry count (u32)
///     entries:    name length (u32), name (UTF-8), type (u8: 1 reals, 2 integers, 3 text),
///                 element count (u64), elements (f64 / i64 little-endian, or UTF-8 bytes)
///     trailer:    SHA-256 of everything before it, as 64 hex digits
///
/// Entries: `scenario-identity`, `step`, `last-recorded-step`, `timings` (stepping, metrics,
/// recording, checkpointing, total seconds), per population k `population/k/{name,dimension,
/// positions,weights,velocities}`, per output file `output/<file>` (its size in bytes), per part
/// `part/<key>/{real,integer,text}/<name>`. Reading checks every length against the bytes left
/// before allocating, so any file (torn, truncated, foreign) gives an error, never a crash.
/// Written to a temporary file, fsynced and renamed over the old one (``AtomicFile``), so
/// a checkpoint is either the old one or the new one, whole.
public enum CheckpointFile {
    /// The file's name in a run directory.
    public static let name = "checkpoint.wgf"
    static let magic = Array("WGF-CKPT".utf8)
    static let version: UInt32 = 1

    enum Entry: Equatable {
        case reals([Double]), integers([Int]), text(String)
    }

    // MARK: Writing

    /// The file's bytes for `c`, in the layout above.
    public static func encode(_ c: Checkpoint) -> [UInt8] {
        var entries: [(String, Entry)] = [
            ("scenario-identity", .text(c.scenarioIdentity)),
            ("step", .integers([c.step])),
            ("last-recorded-step", .integers([c.lastRecordedStep])),
            (
                "timings",
                .reals([
                    c.timings.stepping, c.timings.metrics, c.timings.recording,
                    c.timings.checkpointing, c.timings.total,
                ])
            ),
            ("population-count", .integers([c.populations.count])),
        ]
        for (k, p) in c.populations.enumerated() {
            entries += [
                ("population/\(k)/name", .text(p.name)), ("population/\(k)/dimension", .integers([p.dimension])),
                ("population/\(k)/positions", .reals(p.positions)), ("population/\(k)/weights", .reals(p.weights)),
            ]
            if let v = p.velocities { entries.append(("population/\(k)/velocities", .reals(v))) }
        }
        for (file, size) in c.outputs.sorted(by: { $0.key < $1.key }) {
            entries.append(("output/\(file)", .integers([size])))
        }
        for (key, state) in c.parts.sorted(by: { $0.key < $1.key }) {
            for (n, v) in state.reals.sorted(by: { $0.key < $1.key }) {
                entries.append(("part/\(key)/real/\(n)", .reals(v)))
            }
            for (n, v) in state.integers.sorted(by: { $0.key < $1.key }) {
                entries.append(("part/\(key)/integer/\(n)", .integers(v)))
            }
            for (n, v) in state.texts.sorted(by: { $0.key < $1.key }) {
                entries.append(("part/\(key)/text/\(n)", .text(v)))
            }
        }
        var out = magic
        append(&out, version)
        append(&out, UInt32(entries.count))
        for (name, entry) in entries {
            append(&out, UInt32(name.utf8.count))
            out += name.utf8
            switch entry {
            case .reals(let v):
                out.append(1)
                append(&out, UInt64(v.count))
                out.reserveCapacity(out.count + 8 * v.count + 64)
                for x in v { append(&out, x.bitPattern) }
            case .integers(let v):
                out.append(2)
                append(&out, UInt64(v.count))
                for x in v { append(&out, UInt64(bitPattern: Int64(x))) }
            case .text(let s):
                out.append(3)
                append(&out, UInt64(s.utf8.count))
                out += s.utf8
            }
        }
        out += sha256Hex(out).utf8
        return out
    }

    /// Writes `c` to `directory/checkpoint.wgf` atomically.
    public static func write(_ c: Checkpoint, directory: String) throws {
        try AtomicFile.write(encode(c), to: directory + "/" + name)
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ x: T) {
        withUnsafeBytes(of: x.littleEndian) { out += $0 }
    }

    // MARK: Reading

    /// Reads and checks `directory/checkpoint.wgf`.
    ///
    /// - Throws: ``ReadError`` when there is none, or it is damaged or of another version.
    public static func read(directory: String) throws -> Checkpoint {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(path: path, problem: FileManager.default.fileExists(atPath: path) ? .unreadable : .missing)
        }
        do { return try decode([UInt8](data)) } catch let e as DecodeFailure {
            throw ReadError(path: path, problem: .undecodable(e))
        }
    }

    /// The checkpoint in `bytes`, after checking the header, version, SHA-256 and every length.
    ///
    /// - Throws: ``DecodeFailure`` saying what is wrong (``read(directory:)`` turns it into a ``ReadError``).
    public static func decode(_ bytes: [UInt8]) throws -> Checkpoint {
        guard bytes.count >= magic.count + 8 + 64, Array(bytes[0..<magic.count]) == magic else {
            throw DecodeFailure.noHeader
        }
        let body = Array(bytes[0..<(bytes.count - 64)])
        guard String(decoding: bytes[(bytes.count - 64)...], as: UTF8.self) == sha256Hex(body) else {
            throw DecodeFailure.checksumMismatch
        }
        var at = magic.count
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let n = MemoryLayout<T>.size
            guard body.count - at >= n else { throw DecodeFailure.truncated(offset: at) }
            var x = T.zero
            for k in 0..<n { x |= T(truncatingIfNeeded: body[at + k]) << (8 * k) }
            at += n
            return x
        }
        func take(_ n: UInt64) throws -> ArraySlice<UInt8> {
            guard n <= UInt64(body.count - at) else { throw DecodeFailure.truncated(offset: at) }
            defer { at += Int(n) }
            return body[at..<(at + Int(n))]
        }
        let version = try integer(UInt32.self)
        guard version == CheckpointFile.version else {
            throw DecodeFailure.version(version, supported: CheckpointFile.version)
        }
        let count = try integer(UInt32.self)
        var entries: [String: Entry] = [:]
        for _ in 0..<count {
            let nameLength = try integer(UInt32.self)
            let name = String(decoding: try take(UInt64(nameLength)), as: UTF8.self)
            let type = try integer(UInt8.self)
            let n = try integer(UInt64.self)
            switch type {
            case 1, 2:
                guard n <= UInt64(body.count - at) / 8 else { throw DecodeFailure.entryTruncated(name: name) }
                let raw = try take(n * 8)
                var v = [UInt64](repeating: 0, count: Int(n))
                v.withUnsafeMutableBytes { $0.copyBytes(from: raw) }
                entries[name] =
                    type == 1
                    ? .reals(v.map { Double(bitPattern: UInt64(littleEndian: $0)) })
                    : .integers(v.map { Int(Int64(bitPattern: UInt64(littleEndian: $0))) })
            case 3:
                entries[name] = .text(String(decoding: try take(n), as: UTF8.self))
            default:
                throw DecodeFailure.unknownEntryType(name: name, type: type)
            }
        }
        guard at == body.count else { throw DecodeFailure.strayBytes(count: body.count - at) }

        func reals(_ key: String) throws -> [Double] {
            guard case .reals(let v)? = entries[key] else { throw DecodeFailure.missingEntry(name: key) }
            return v
        }
        func integers(_ key: String, count: Int? = nil) throws -> [Int] {
            guard case .integers(let v)? = entries[key], count.map({ v.count == $0 }) ?? true else {
                throw DecodeFailure.missingEntry(name: key)
            }
            return v
        }
        func text(_ key: String) throws -> String {
            guard case .text(let v)? = entries[key] else { throw DecodeFailure.missingEntry(name: key) }
            return v
        }
        let t = try reals("timings")
        guard t.count == 5 else { throw DecodeFailure.timings(count: t.count) }
        var timings = RunTimings()
        (timings.stepping, timings.metrics, timings.recording, timings.checkpointing, timings.total) = (
            t[0], t[1], t[2], t[3], t[4]
        )
        var populations: [Population] = []
        let populationCount = try integers("population-count", count: 1)[0]
        guard (0...64).contains(populationCount) else { throw DecodeFailure.populationCount(populationCount) }
        for k in 0..<populationCount {
            let d = try integers("population/\(k)/dimension", count: 1)[0]
            let positions = try reals("population/\(k)/positions")
            let weights = try reals("population/\(k)/weights")
            guard d >= 1, positions.count % d == 0, weights.count == positions.count / d else {
                throw DecodeFailure.populationShape(
                    index: k, coordinates: positions.count, weights: weights.count, dimension: d)
            }
            var p = Population(name: try text("population/\(k)/name"), dimension: d, positions: positions)
            p.weights = weights
            if entries["population/\(k)/velocities"] != nil {
                let v = try reals("population/\(k)/velocities")
                guard v.count == positions.count else { throw DecodeFailure.velocityCount(index: k, count: v.count) }
                p.velocities = v
            }
            populations.append(p)
        }
        var outputs: [String: Int] = [:]
        var parts: [String: PartState] = [:]
        for (name, entry) in entries {
            if name.hasPrefix("output/"), case .integers(let v) = entry, v.count == 1, v[0] >= 0 {
                outputs[String(name.dropFirst("output/".count))] = v[0]
            } else if name.hasPrefix("part/") {
                // part/<key>/<type>/<field>: the key may hold dots and brackets, not slashes.
                let pieces = name.split(separator: "/", omittingEmptySubsequences: false)
                guard pieces.count == 4 else { throw DecodeFailure.malformedEntryName(name) }
                let key = String(pieces[1])
                let field = String(pieces[3])
                var s = parts[key] ?? PartState()
                switch (pieces[2], entry) {
                case ("real", .reals(let v)): s.reals[field] = v
                case ("integer", .integers(let v)): s.integers[field] = v
                case ("text", .text(let v)): s.texts[field] = v
                default: throw DecodeFailure.malformedEntry(name)
                }
                parts[key] = s
            }
        }
        return Checkpoint(
            step: try integers("step", count: 1)[0], lastRecordedStep: try integers("last-recorded-step", count: 1)[0],
            populations: populations, parts: parts, outputs: outputs, timings: timings,
            scenarioIdentity: try text("scenario-identity"))
    }
}
