/// An .npy file that cannot be read (``NPY/decode(_:)``), or a ``NPYExport`` that wrote more
/// or fewer values than its shape or met a population whose particles changed. Each case
/// carries its data; ``description`` renders it in this one place.
public enum NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes do not start with the .npy magic.
    case notNPY
    /// The header runs past the end, or is not ASCII.
    case truncatedHeader
    /// The header has no `descr`.
    case noDescription
    /// The array is in Fortran order.
    case fortranOrder
    /// The header has no `shape`.
    case noShape
    /// The data holds `bytes` bytes where the shape needs `expected`.
    case dataBytes(Int, expected: Int)
    /// The dtype `descr` is neither `<f8` nor `<i8`.
    case unsupportedDType(String)
    /// The array at `path` was given more values than its shape's `capacity`.
    case tooManyValues(path: String, capacity: Int)
    /// The array at `path` was given `written` values, its shape holds `capacity`.
    case valueCount(path: String, written: Int, capacity: Int)
    /// The `population`'s particles at `step` differ from those at `firstStep`.
    case particlesDiffer(population: String, step: Int, firstStep: Int)

    /// What is wrong.
    public var description: String {
        switch self {
        case .notNPY: "not an .npy file"
        case .truncatedHeader: "truncated header"
        case .noDescription: "no descr"
        case .fortranOrder: "Fortran order"
        case .noShape: "no shape"
        case .dataBytes(let bytes, let expected): "\(bytes) data bytes, expected \(expected)"
        case .unsupportedDType(let descr): "unsupported dtype \(descr)"
        case .tooManyValues(let path, let capacity): "\(path): more values than the shape holds (\(capacity))"
        case .valueCount(let path, let written, let capacity):
            "\(path): \(written) values written, the shape holds \(capacity)"
        case .particlesDiffer(let population, let step, let firstStep):
            "population '\(population)': the particles at step \(step) differ from those of step \(firstStep)"
        }
    }
}
