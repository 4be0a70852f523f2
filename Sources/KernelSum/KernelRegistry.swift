import Foundation
import InputText

/// A problem with a kernel spec such as `gaussian:sigma=-1`.
public struct KernelSpecError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed kernel spec: `NAME` or `NAME:PARAM=VALUE,...` (e.g. `gaussian:sigma=0.5`).
public struct KernelSpec: Equatable, Sendable {
    public var name: String
    /// Parameter texts in the order written.
    public var parameters: [(String, String)]

    public init(name: String, parameters: [(String, String)] = []) {
        self.name = name
        self.parameters = parameters
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw KernelSpecError("empty kernel name in '\(Excerpt.quote(text))' (expected NAME or NAME:PARAM=VALUE,...)") }
        parameters = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = kv[0].trimmingCharacters(in: .whitespaces)
                guard kv.count == 2, !key.isEmpty else {
                    throw KernelSpecError("malformed parameter '\(Excerpt.quote(item))' in kernel spec '\(Excerpt.quote(text))' (expected PARAM=VALUE)")
                }
                guard !parameters.contains(where: { $0.0 == key }) else {
                    throw KernelSpecError("parameter '\(Excerpt.quote(key))' given twice in kernel spec '\(Excerpt.quote(text))'")
                }
                parameters.append((key, kv[1].trimmingCharacters(in: .whitespaces)))
            }
        }
    }

    public subscript(_ key: String) -> String? {
        get { parameters.first { $0.0 == key }?.1 }
        set {
            parameters.removeAll { $0.0 == key }
            if let newValue { parameters.append((key, newValue)) }
        }
    }

    public static func == (a: KernelSpec, b: KernelSpec) -> Bool {
        a.name == b.name && a.parameters.map(\.0) == b.parameters.map(\.0) && a.parameters.map(\.1) == b.parameters.map(\.1)
    }
}

/// Reads a kernel's parameters from a spec; every parameter read is checked, and
/// ``KernelRegistry/make(_:)`` rejects the ones never read.
public struct KernelParameters {
    let spec: KernelSpec
    var read: Set<String> = []

    /// A real parameter with a default, validated by `valid`; `allowed` describes the valid values.
    public mutating func real(_ key: String, default value: Double,
                              where valid: (Double) -> Bool, allowed: String) throws -> Double {
        read.insert(key)
        guard let text = spec[key] else { return value }
        guard let v = Double(text), v.isFinite else {
            throw KernelSpecError("kernel \(spec.name): \(key) = '\(Excerpt.quote(text))' is not a number (\(allowed))")
        }
        guard valid(v) else { throw KernelSpecError("kernel \(spec.name): \(key) = \(Excerpt.quote(text)) is out of range (\(allowed))") }
        return v
    }

    /// A length-like parameter or a rate (default 1) in ``NumericRange/scale`` (symmetric
    /// under inversion), refused outside with the reason.
    public mutating func scale(_ key: String) throws -> Double {
        try real(key, default: 1, where: NumericRange.scale.contains,
                 allowed: NumericRange.describe(NumericRange.scale)
                    + ": its square and inverse square must be normal doubles, or the kernel's values or slopes are NaN or lost")
    }
}

/// One kernel of the registry: how to build it from a spec, and what to tell `wgf list`.
public struct KernelEntry: Sendable {
    public struct Parameter: Sendable {
        public let name: String
        public let meaning: String
        public let defaultValue: Double
    }
    public let name: String
    public let summary: String
    public let parameters: [Parameter]
    let make: @Sendable (inout KernelParameters) throws -> any RadialKernel
}

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

    public static var names: [String] { entries.map(\.name) }

    public static func make(_ spec: KernelSpec) throws -> any RadialKernel {
        guard let entry = entries.first(where: { $0.name == spec.name }) else {
            throw KernelSpecError("unknown kernel '\(Excerpt.quote(spec.name))' (known: \(names.joined(separator: ", ")))")
        }
        var p = KernelParameters(spec: spec)
        let kernel = try entry.make(&p)
        if let extra = spec.parameters.first(where: { !p.read.contains($0.0) }) {
            let allowed = entry.parameters.map(\.name).joined(separator: ", ")
            throw KernelSpecError("kernel \(spec.name) has no parameter '\(Excerpt.quote(extra.0))' (\(allowed.isEmpty ? "it takes none" : "allowed: " + allowed))")
        }
        return kernel
    }

    public static func make(_ text: String) throws -> any RadialKernel {
        try make(KernelSpec(parsing: text))
    }
}
