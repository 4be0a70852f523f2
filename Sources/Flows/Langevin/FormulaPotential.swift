import Formula
import Foundation
import KernelSum

/// V written as a formula in x (or x1 … xd): `potential = { kind = "formula", formula = "…" }`,
/// e.g. the double well `(x1^2 - 1)^2 + 0.5*x2^2`, with `[parameters]`. ∇V is the formula's exact
/// gradient; a non-finite value or gradient stops the run, naming the formula and the point.
public struct FormulaPotential: Potential {
    /// V as a formula in x1 … xd.
    public let formula: ScenarioFormula

    /// `formula:EXPR`.
    public var spec: String { "formula:\(formula.source)" }

    /// The formula's values and exact gradients, 64 points per pass.
    public func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension d: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?
    ) {
        var workspace = formula.makeWorkspace()
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { scratch in
            var i = 0
            while i < count {
                let k = min(64, count - i)
                formula.evaluate(
                    inputs: x + i * d, count: k, values: values.map { $0 + i } ?? scratch.baseAddress!,
                    gradients: gradients.map { $0 + i * d }, workspace: &workspace)
                i += k
            }
        }
    }

    static let entry = PotentialEntry(name: "formula", summary: "V given as a formula in x (exact gradient)") {
        s, ctx in
        FormulaPotential(formula: try readFormula(s, "formula", variables: .position(dimension: ctx.dimension)))
    }
}
