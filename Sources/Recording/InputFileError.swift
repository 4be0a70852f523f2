import InputText

/// A bad input file (a CSV of points or metrics, a trajectory.h5), located by path and line
/// where known; its ``InputFileProblem`` carries the data (counts, the field and column at
/// fault, shapes), rendered as `path:line: message` (``FileError``).
public typealias InputFileError = FileError<InputFileProblem>

/// What is wrong with an input file (``InputFileError``). Quoted input (fields, header names)
/// is kept as read and shortened only in the message (see `Excerpt`).
public enum InputFileProblem: FileProblem {
    // MARK: Any CSV file

    /// The file cannot be read at all.
    case unreadable(UnreadableFile.Reason)
    /// The file holds `byte` (a NUL byte, or one that is not UTF-8) at `column` of its line.
    case notText(byte: UInt8, column: Int)
    /// No line at all: not even a header.
    case empty
    /// A row has `fields` fields where the header has `header`.
    case fieldCount(fields: Int, header: Int)
    /// The `field` of `column` is not a number.
    case notANumber(column: String, field: String)

    // MARK: A CSV file of points

    /// The header is not `x1,...,xd` (and `w`, when weights are allowed).
    case pointsHeader([String], weightsAllowed: Bool)
    /// The header of a file of values (weights) is not the one column `expected`.
    case valuesHeader([String], expected: String)
    /// A header and no data rows.
    case noDataRows
    /// A value is NaN or infinite.
    case nonFinite

    // MARK: An .npy file of points

    /// The bytes are not an .npy array wgf reads.
    case npy(NPY.FormatError)
    /// The array's shape is not (N, d) or (N,) for points (`columns`: what it should be, when known).
    case npyShape([Int], expected: String)

    // MARK: A trajectory.h5

    /// The file is not an HDF5 file.
    case notHDF5
    /// The HDF5 file has no `h5md` group.
    case notH5MD
    /// The H5MD file has no `particles` group.
    case noParticlesGroup
    /// The population `group` has no position element.
    case noPosition(group: String)
    /// The positions of `group` are recorded with `shape` instead of N × d.
    case positionShape(group: String, shape: [Int])
    /// The velocities of `group` are recorded with `shape`, unlike its `positions`.
    case velocityShape(group: String, shape: [Int], positions: [Int])
    /// The weights of `group` are recorded with `shape` instead of one per each of its `particles`.
    case weightShape(group: String, shape: [Int], particles: Int)
    /// The `particles` group holds no population.
    case noPopulation
    /// The `element`'s steps differ from the `reference` element's.
    case stepsDiffer(element: String, reference: String)

    /// What is wrong, without the location.
    public var message: String {
        switch self {
        case .unreadable(let reason): "cannot read (\(reason))"
        case .notText(let byte, let column):
            "not a CSV text file: byte \(Excerpt.byte(byte)) at column \(column) (expected UTF-8 text without NUL bytes)"
        case .empty: "empty file (expected a header line)"
        case .fieldCount(let fields, let header): "\(fields) fields, the header has \(header)"
        case .notANumber(let column, let field):
            "column \(Excerpt.quote(column)): '\(Excerpt.quote(field))' is not a number"
        case .pointsHeader(let names, let weightsAllowed):
            "header '\(Excerpt.quote(names.joined(separator: ",")))' is not x1,...,xd\(weightsAllowed ? " and optionally w" : "")"
        case .valuesHeader(let names, let expected):
            "header '\(Excerpt.quote(names.joined(separator: ",")))' is not \(expected) (one column)"
        case .noDataRows: "no data rows"
        case .nonFinite: "contains NaN or infinite values"
        case .npy(let problem): problem.description
        case .npyShape(let shape, let expected):
            "an array of shape (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")); expected \(expected)"
        case .notHDF5: "not an HDF5 file"
        case .notH5MD: "not an H5MD file (no h5md group)"
        case .noParticlesGroup: "no particles group"
        case .noPosition(let group): "\(group) has no position element"
        case .positionShape(let group, let shape):
            "\(group)/position/value has records of shape \(shape), expected N × d"
        case .velocityShape(let group, let shape, let positions):
            "\(group)/velocity/value has records of shape \(shape), the positions \(positions)"
        case .weightShape(let group, let shape, let particles):
            "\(group)/weight/value has records of shape \(shape), expected [\(particles)]"
        case .noPopulation: "no population under particles"
        case .stepsDiffer(let element, let reference):
            "\(element) differs from \(reference): elements recorded at different steps"
        }
    }
}
