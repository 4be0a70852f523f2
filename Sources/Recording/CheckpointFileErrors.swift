extension CheckpointFile {
    /// Why a checkpoint file cannot be used: there is none, it cannot be read, or its bytes
    /// do not decode. ``description`` renders it, in this one place, as `path: message`.
    public struct ReadError: Error, CustomStringConvertible, Equatable {
        /// What is wrong with the checkpoint.
        public enum Problem: Equatable, Sendable {
            /// There is no checkpoint file.
            case missing
            /// The file exists but cannot be read.
            case unreadable
            /// The file's bytes are not a checkpoint this build can use.
            case undecodable(DecodeFailure)
        }

        /// The checkpoint file.
        public let path: String
        /// What is wrong with it.
        public let problem: Problem

        /// What is wrong, without the path.
        public var message: String {
            switch problem {
            case .missing: "no checkpoint (the run wrote none, or is not a wgf run directory)"
            case .unreadable: "cannot read the checkpoint"
            case .undecodable(let failure): failure.message
            }
        }
        /// `path: message`.
        public var description: String { "\(path): \(message)" }
    }

    /// Why bytes are not a checkpoint (``decode(_:)``): each case with the offsets, counts or
    /// entry names at fault, and ``message`` to say it.
    public enum DecodeFailure: Error, Equatable, Sendable {
        /// The bytes do not start with `WGF-CKPT`.
        case noHeader
        /// The trailer's SHA-256 does not match the bytes before it.
        case checksumMismatch
        /// A length or count runs past the end, at byte `offset`.
        case truncated(offset: Int)
        /// The elements of the entry `name` run past the end.
        case entryTruncated(name: String)
        /// The file's format `version` is not the `supported` one.
        case version(UInt32, supported: UInt32)
        /// The entry `name` has an unknown `type` byte.
        case unknownEntryType(name: String, type: UInt8)
        /// `count` bytes follow the last entry.
        case strayBytes(count: Int)
        /// The entry `name` is absent or of the wrong type or length.
        case missingEntry(name: String)
        /// `timings` holds `count` numbers, not 5.
        case timings(count: Int)
        /// `population-count` is outside 0...64.
        case populationCount(Int)
        /// Population `index` has `coordinates` coordinates and `weights` weights, which do not fit `dimension`.
        case populationShape(index: Int, coordinates: Int, weights: Int, dimension: Int)
        /// Population `index` has `count` velocity components, not one per coordinate.
        case velocityCount(index: Int, count: Int)
        /// The entry name `name` is not `part/<key>/<type>/<field>`.
        case malformedEntryName(String)
        /// The part entry `name`'s type does not match its elements.
        case malformedEntry(String)

        /// What is wrong, for ``ReadError``'s message.
        public var message: String {
            switch self {
            case .noHeader: "not a wgf checkpoint (no WGF-CKPT header)"
            case .checksumMismatch: "damaged: its SHA-256 does not match its contents"
            case .truncated(let offset): "truncated at byte \(offset)"
            case .entryTruncated(let name): "\(name): truncated"
            case .version(let version, let supported): "format version \(version); this wgf reads version \(supported)"
            case .unknownEntryType(let name, let type): "\(name): unknown entry type \(type)"
            case .strayBytes(let count): "\(count) stray bytes after the last entry"
            case .missingEntry(let name): "lacks '\(name)'"
            case .timings: "timings: expected 5 numbers"
            case .populationCount(let count): "population-count \(count)"
            case .populationShape(let index, let coordinates, let weights, let dimension):
                "population \(index): \(coordinates) coordinates and \(weights) weights do not fit d = \(dimension)"
            case .velocityCount(let index, let count): "population \(index): \(count) velocity components"
            case .malformedEntryName(let name): "malformed entry name '\(name)'"
            case .malformedEntry(let name): "malformed entry '\(name)'"
            }
        }
    }
}
