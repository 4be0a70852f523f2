import Formula
import Foundation
import InputText
import KernelSum

/// The formulas of one scenario: the named parameters they may use (the `[parameters]` table)
/// and a watch per compiled formula, so that a run that diverges can say which formula gave a
/// non-finite value, where.
public final class FormulaScope: @unchecked Sendable {
    /// The `[parameters]` table: names and values every formula may use.
    public var parameters: [String: Double]
    let lock = NSLock()
    var watches: [FormulaWatch] = []

    /// A scope with these parameters and no formula yet.
    public init(parameters: [String: Double] = [:]) { self.parameters = parameters }

    func add(_ watch: FormulaWatch) {
        lock.lock()
        watches.append(watch)
        lock.unlock()
    }

    /// The first non-finite evaluation of any formula of the scenario, described; nil if none.
    public var firstFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return watches.lazy.compactMap(\.failure).first
    }
}

/// Remembers the first point where a formula evaluated to NaN or ±inf (value or gradient).
public final class FormulaWatch: @unchecked Sendable {
    /// The formula's text.
    public let formula: String
    /// Where it was read (the scenario key), or "formula" outside a scenario.
    public let location: String
    let lock = NSLock()
    var first: String?

    init(formula: String, location: String) {
        self.formula = formula
        self.location = location
    }

    var failure: String? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }

    func note(_ point: UnsafePointer<Double>, count: Int, value: Double, what: String) {
        lock.lock()
        defer { lock.unlock() }
        guard first == nil else { return }
        let p = (0..<count).map { formatNumber(point[$0]) }.joined(separator: ", ")
        first = "the formula \"\(Excerpt.quote(formula, limit: 120))\" (\(location)) gave \(what) \(value) at (\(p))"
    }
}

/// A compiled formula and its watch: evaluation checks every value and gradient it returns.
public struct ScenarioFormula: Sendable {
    /// The compiled formula.
    public let formula: Formula
    let watch: FormulaWatch

    /// A formula outside a scenario (e.g. `wgf sum --kernel formula:…`): no parameters.
    public init(
        compiling text: String, variables: FormulaVariables, parameters: [String: Double] = [:]
    ) throws(FormulaError) {
        formula = try Formula(text, variables: variables, parameters: parameters)
        watch = FormulaWatch(formula: text, location: "formula")
    }

    init(formula: Formula, watch: FormulaWatch) {
        self.formula = formula
        self.watch = watch
    }

    /// Scalar inputs per point (see `Formula.inputCount`).
    public var inputCount: Int { formula.inputCount }
    /// The formula text as given.
    public var source: String { formula.source }

    /// Batched value (and gradient) at `count` points, as `Formula.evaluate`; a non-finite
    /// result is recorded for the divergence report (the caller's NaN then stops the run).
    public func evaluate(
        inputs: UnsafePointer<Double>, count: Int, values: UnsafeMutablePointer<Double>,
        gradients: UnsafeMutablePointer<Double>?, workspace: inout FormulaWorkspace
    ) {
        formula.evaluate(inputs: inputs, count: count, values: values, gradients: gradients, workspace: &workspace)
        let k = formula.inputCount
        for j in 0..<count {
            var bad = !values[j].isFinite
            var what = "the value"
            var shown = values[j]
            if !bad, let g = gradients {
                for a in 0..<k where !g[j * k + a].isFinite {
                    bad = true
                    what = "a gradient component"
                    shown = g[j * k + a]
                    break
                }
            }
            if bad { watch.note(inputs + j * k, count: k, value: shown, what: what) }
        }
    }

    /// Batched Hessian-vector products ∇²_x f v, x the first `varying` inputs, as
    /// `Formula.hessianVectorProducts`; a non-finite product is recorded for the divergence report.
    public func hessianVectorProducts(
        inputs: UnsafePointer<Double>, directions: UnsafePointer<Double>, count: Int, varying: Int,
        products: UnsafeMutablePointer<Double>, workspace: inout FormulaWorkspace
    ) {
        formula.hessianVectorProducts(
            inputs: inputs, directions: directions, count: count, varying: varying, products: products,
            workspace: &workspace)
        for j in 0..<count {
            for a in 0..<varying where !products[j * varying + a].isFinite {
                let k = formula.inputCount
                watch.note(
                    inputs + j * k, count: k, value: products[j * varying + a],
                    what: "a Hessian-vector product component")
                break
            }
        }
    }

    /// Scratch memory for ``evaluate(inputs:count:values:gradients:workspace:)``, one per thread.
    public func makeWorkspace(batch: Int = 64) -> FormulaWorkspace { FormulaWorkspace(for: formula, batch: batch) }
}

/// Reads the formula at `key` and compiles it for `variables` with the scenario's parameters.
/// A formula error becomes a scenario error at the key, with the formula and a caret under
/// the offending column on the following lines.
public func readFormula(_ s: Settings, _ key: String, variables: FormulaVariables) throws -> ScenarioFormula {
    try compileFormula(try s.string(key), s, key, variables: variables)
}

/// Compiles `text` (read from `key` of `s`) for `variables`; errors located at the key.
public func compileFormula(
    _ text: String, _ s: Settings, _ key: String, variables: FormulaVariables
) throws -> ScenarioFormula {
    do {
        let formula = try Formula(text, variables: variables, parameters: s.formulaScope.parameters)
        let watch = FormulaWatch(formula: text, location: key)
        s.formulaScope.add(watch)
        return ScenarioFormula(formula: formula, watch: watch)
    } catch {
        throw s.fail(key, formulaMessage(error))
    }
}

/// One line, then (for positioned errors) the formula and a caret under the column.
public func formulaMessage(_ e: FormulaError) -> String {
    guard e.column > 0 else { return e.message }
    let (line, caret) = e.excerpt
    return "\(e.message) (column \(e.column))\n    \(line)\n    \(String(repeating: " ", count: caret))^"
}
