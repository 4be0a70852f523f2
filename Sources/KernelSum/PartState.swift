/// The state a part of a run carries from one step to the next beyond the particles (an
/// optimizer's accumulators, the mesh's grid choice with its hysteresis), as named arrays.
/// A checkpoint stores one per part; restoring it makes the next steps bit-identical to an
/// uninterrupted run. Randomness is keyed by (seed, purpose, step, particle), so no generator
/// state needs saving.
public struct PartState: Sendable, Equatable {
    /// Real arrays by name.
    public var reals: [String: [Double]] = [:]
    /// Integer arrays by name.
    public var integers: [String: [Int]] = [:]
    /// Texts by name (a kernel spec, an engine's choice).
    public var texts: [String: String] = [:]
    /// - Parameters:
    ///   - reals: real arrays by name.
    ///   - integers: integer arrays by name.
    ///   - texts: texts by name.
    public init(reals: [String: [Double]] = [:], integers: [String: [Int]] = [:], texts: [String: String] = [:]) {
        self.reals = reals
        self.integers = integers
        self.texts = texts
    }
    /// Whether nothing is held (a part with no state yet).
    public var isEmpty: Bool { reals.isEmpty && integers.isEmpty && texts.isEmpty }
}

/// Why a saved state does not fit the part it is restored into.
public struct PartStateError: Error, CustomStringConvertible {
    /// What is missing or wrong, naming the part.
    public let message: String
    /// - Parameter message: what is missing or wrong, naming the part.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A part whose state outlives a step. Implementations hold their state behind a reference,
/// so a copy of the value restores the same part.
public protocol StatefulPart {
    /// The state now (empty when there is none yet, e.g. before the first step).
    func saveState() -> PartState
    /// Puts back a state from ``saveState()``; throws when it cannot belong to this part.
    /// - Parameter state: a state this kind of part saved.
    func restoreState(_ state: PartState) throws
}

extension PartState {
    /// The integer array `key`, or an error naming the part.
    /// - Parameters:
    ///   - key: the array's name.
    ///   - count: its length, when it must have one.
    ///   - part: the part's name, for the error.
    public func integers(_ key: String, count: Int? = nil, part: String) throws -> [Int] {
        guard let v = integers[key], count.map({ v.count == $0 }) ?? true else {
            throw PartStateError("\(part): checkpoint lacks '\(key)'\(count.map { " (\($0) integers)" } ?? "")")
        }
        return v
    }
    /// The real array `key`, or an error naming the part.
    /// - Parameters:
    ///   - key: the array's name.
    ///   - count: its length, when it must have one.
    ///   - part: the part's name, for the error.
    public func reals(_ key: String, count: Int? = nil, part: String) throws -> [Double] {
        guard let v = reals[key], count.map({ v.count == $0 }) ?? true else {
            throw PartStateError("\(part): checkpoint lacks '\(key)'\(count.map { " (\($0) numbers)" } ?? "")")
        }
        return v
    }
}
