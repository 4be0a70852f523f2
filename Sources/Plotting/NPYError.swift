/// An ``NPYExport`` that wrote more or fewer values than its shape or met a population whose
/// particles changed. Each case carries its data; ``description`` renders it in this one place.
public enum NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The array at `path` was given more values than its shape's `capacity`.
    case tooManyValues(path: String, capacity: Int)
    /// The array at `path` was given `written` values, its shape holds `capacity`.
    case valueCount(path: String, written: Int, capacity: Int)
    /// The `population`'s particles at `step` differ from those at `firstStep`.
    case particlesDiffer(population: String, step: Int, firstStep: Int)

    /// What is wrong.
    public var description: String {
        switch self {
        case .tooManyValues(let path, let capacity): "\(path): more values than the shape holds (\(capacity))"
        case .valueCount(let path, let written, let capacity):
            "\(path): \(written) values written, the shape holds \(capacity)"
        case .particlesDiffer(let population, let step, let firstStep):
            "population '\(population)': the particles at step \(step) differ from those of step \(firstStep)"
        }
    }
}
