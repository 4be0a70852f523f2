import Foundation
import InputText

/// A problem with a kernel spec such as `gaussian:sigma=-1`.
public struct KernelSpecError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, quoting the spec.
    public let message: String
    /// - Parameter message: what is wrong, quoting the spec.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A parsed kernel spec: `NAME` or `NAME:PARAM=VALUE,...` (e.g. `gaussian:sigma=0.5`).
public struct KernelSpec: Equatable, Sendable {
    /// The registry name (`gaussian`).
    public var name: String
    /// Parameter texts in the order written.
    public var parameters: [(String, String)]

    /// - Parameters:
    ///   - name: the registry name.
    ///   - parameters: (name, value text) pairs, in order.
    public init(name: String, parameters: [(String, String)] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// Parses `NAME` or `NAME:PARAM=VALUE,...` (spaces around the parts are ignored); throws a
    /// ``KernelSpecError`` for an empty name, a parameter without `=` or a name, or one given
    /// twice. Values stay text: the kernel's entry reads and checks them.
    /// - Parameter text: the spec as written.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            throw KernelSpecError(
                "empty kernel name in '\(Excerpt.quote(text))' (expected NAME or NAME:PARAM=VALUE,...)")
        }
        parameters = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = kv[0].trimmingCharacters(in: .whitespaces)
                guard kv.count == 2, !key.isEmpty else {
                    throw KernelSpecError(
                        "malformed parameter '\(Excerpt.quote(item))' in kernel spec '\(Excerpt.quote(text))' (expected PARAM=VALUE)"
                    )
                }
                guard !parameters.contains(where: { $0.0 == key }) else {
                    throw KernelSpecError(
                        "parameter '\(Excerpt.quote(key))' given twice in kernel spec '\(Excerpt.quote(text))'")
                }
                parameters.append((key, kv[1].trimmingCharacters(in: .whitespaces)))
            }
        }
    }

    /// The value text of parameter `key`, or nil; setting nil removes it, setting a value moves
    /// the parameter last.
    /// - Parameter key: the parameter's name.
    public subscript(_ key: String) -> String? {
        get { parameters.first { $0.0 == key }?.1 }
        set {
            parameters.removeAll { $0.0 == key }
            if let newValue { parameters.append((key, newValue)) }
        }
    }

    /// Equal names and equal parameters in the same order (tuples are not `Equatable`).
    /// - Parameters:
    ///   - a: a spec.
    ///   - b: another spec.
    public static func == (a: KernelSpec, b: KernelSpec) -> Bool {
        a.name == b.name && a.parameters.map(\.0) == b.parameters.map(\.0)
            && a.parameters.map(\.1) == b.parameters.map(\.1)
    }
}

/// Reads a kernel's parameters from a spec; every parameter read is checked, and
/// `KernelRegistry.make` rejects the ones never read.
struct KernelParameters {
    let spec: KernelSpec
    var read: Set<String> = []

    /// A real parameter with a default, validated by `valid`; `allowed` describes the valid values.
    mutating func real(
        _ key: String, default value: Double,
        where valid: (Double) -> Bool, allowed: String
    ) throws -> Double {
        read.insert(key)
        guard let text = spec[key] else { return value }
        guard let v = Double(text), v.isFinite else {
            throw KernelSpecError("kernel \(spec.name): \(key) = '\(Excerpt.quote(text))' is not a number (\(allowed))")
        }
        guard valid(v) else {
            throw KernelSpecError("kernel \(spec.name): \(key) = \(Excerpt.quote(text)) is out of range (\(allowed))")
        }
        return v
    }

    /// A length-like parameter or a rate (default 1) in ``NumericRange/scale`` (symmetric
    /// under inversion), refused outside with the reason.
    mutating func scale(_ key: String) throws -> Double {
        try real(
            key, default: 1, where: NumericRange.scale.contains,
            allowed: NumericRange.describe(NumericRange.scale)
                + ": its square and inverse square must be normal doubles, or the kernel's values or slopes are NaN or lost"
        )
    }
}

/// One kernel of the registry: how to build it from a spec, and what to tell `wgf list`.
public struct KernelEntry: Sendable {
    /// One parameter of the kernel, as `wgf list` shows it.
    public struct Parameter: Sendable {
        /// Its name in a spec (`sigma`).
        public let name: String
        /// What it is and its range.
        public let meaning: String
        /// Its value when the spec leaves it out.
        public let defaultValue: Double
    }
    /// The registry name (`gaussian`).
    public let name: String
    /// The kernel's formula, one line.
    public let summary: String
    /// The parameters a spec may give.
    public let parameters: [Parameter]
    let make: @Sendable (inout KernelParameters) throws -> any RadialKernel
}

/// The kernels a spec may name, and the parser that builds one from its spec.
public enum KernelRegistry {
    /// Every kernel wgf knows. A new kernel adds one line here.
    public static let entries: [KernelEntry] = [
        GaussianKernel.entry,
        InverseMultiquadricKernel.entry,
        LaplaceKernel.entry,
        RieszKernel.entry,
        MaternKernel.entry,
        LogarithmicKernel.entry,
        CoulombKernel.entry,
    ]

    /// The kernels' names, in registry order.
    public static var names: [String] { entries.map(\.name) }

    /// The kernel a parsed spec names, its parameters read and checked by its entry; throws a
    /// ``KernelSpecError`` for an unknown name, a value out of range or a parameter the kernel
    /// does not take.
    /// - Parameter spec: the parsed spec.
    public static func make(_ spec: KernelSpec) throws -> any RadialKernel {
        guard let entry = entries.first(where: { $0.name == spec.name }) else {
            throw KernelSpecError(
                "unknown kernel '\(Excerpt.quote(spec.name))' (known: \(names.joined(separator: ", ")))")
        }
        var p = KernelParameters(spec: spec)
        let kernel = try entry.make(&p)
        if let extra = spec.parameters.first(where: { !p.read.contains($0.0) }) {
            let allowed = entry.parameters.map(\.name).joined(separator: ", ")
            throw KernelSpecError(
                "kernel \(spec.name) has no parameter '\(Excerpt.quote(extra.0))' (\(allowed.isEmpty ? "it takes none" : "allowed: " + allowed))"
            )
        }
        return kernel
    }

    /// The kernel a spec names (`gaussian:sigma=0.5`): parsed, then as ``make(_:)-(KernelSpec)``.
    /// - Parameter text: the spec as written.
    public static func make(_ text: String) throws -> any RadialKernel {
        try make(KernelSpec(parsing: text))
    }
}
