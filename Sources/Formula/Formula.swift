/// A formula parsed, validated for a variable set, and compiled to an instruction tape that
/// evaluates its value and exact gradient (reverse-mode AD) over batches of points.
///
///     let f = try Formula("-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)", variables: .position(dimension: 2))
///     var ws = FormulaWorkspace(for: f)
///     f.evaluate(inputs: xs, count: n, values: v, gradients: g, workspace: &ws)
///
/// See docs/formulas.md for the language.
public struct Formula: Sendable, CustomStringConvertible {
    /// The formula text as given.
    public let source: String
    /// The variables the formula may use, which fix its inputs' layout.
    public let variables: FormulaVariables
    /// The named constants folded into the tape at compilation (the scenario's `[parameters]`).
    public let parameters: [String: Double]
    let program: Program

    /// The longest formula accepted, in UTF-8 bytes (1 MiB: a quarter-million-term sum fits).
    /// Parsing and compiling hold about a hundred bytes per byte of text (tokens, tree, tape),
    /// so the bound keeps a formula's memory near 100 MB and its compilation near a second.
    public static let maximumLength = 1 << 20

    /// Parses and compiles `source`. Parameters are folded in as constants.
    ///
    /// - Parameters:
    ///   - source: The formula text (at most ``maximumLength`` UTF-8 bytes).
    ///   - variables: Which variables it may use: `x` (position), `x` and `y` (payoff) or `r` (radius).
    ///   - parameters: Named constants; names must be valid and not clash with variables or built-ins.
    /// - Throws: ``FormulaError`` with the column of the first problem.
    public init(
        _ source: String, variables: FormulaVariables,
        parameters: [String: Double] = [:]
    ) throws(FormulaError) {
        var compiler = try Compiler(source: source, variables: variables, parameters: parameters)
        let expr = try Parser.parse(source)
        let out = try compiler.compile(expr)
        self.source = source
        self.variables = variables
        self.parameters = parameters
        self.program = Program(graph: compiler.graph, output: out, inputCount: variables.inputCount)
    }

    /// Scalar inputs per point: d (position), d + e (payoff: x then y), 1 (radius).
    public var inputCount: Int { program.inputCount }

    /// Number of instructions on the compiled tape (after folding and sharing).
    public var instructionCount: Int { program.tape.count }

    /// Human-readable listing of the compiled tape (for debugging).
    public var tapeListing: String { program.listing }

    /// True if the formula does not depend on any input (its gradient is identically 0).
    public var isConstant: Bool { program.tape.allSatisfy { $0.op == .const } && program.output >= inputCount }

    /// The formula text as given.
    public var description: String { source }

    /// Batch evaluation of `count` points.
    ///
    /// - Parameters:
    ///   - inputs: `inputs[k * inputCount + a]` is coordinate `a` of point `k` (payoffs: x then y per row).
    ///   - count: The number of points.
    ///   - values: Receives `values[k]`, the formula's value at point `k`.
    ///   - gradients: If not nil, receives `gradients[k * inputCount + a]`, the partial derivative in
    ///     coordinate `a` at point `k`.
    ///   - workspace: Scratch memory, one per thread.
    ///
    /// No allocation: scratch memory comes from `workspace` (one per thread). If the workspace
    /// was made for a smaller formula it is enlarged once (that call allocates).
    /// Singular points (log 0, 1/0, sqrt'(0), ...) yield ±inf or NaN, never a trap.
    public func evaluate(
        inputs: UnsafePointer<Double>, count: Int, values: UnsafeMutablePointer<Double>,
        gradients: UnsafeMutablePointer<Double>?, workspace: inout FormulaWorkspace
    ) {
        guard count > 0 else { return }
        if workspace.storage.slotCapacity < program.slotCount {
            workspace.storage = WorkspaceStorage(batch: workspace.storage.batch, slots: program.slotCount)
        }
        program.run(
            inputs: inputs, count: count, values: values, gradients: gradients,
            storage: workspace.storage)
    }

    /// Value at one point (`point.count == inputCount`). Allocates; for tests and tools.
    public func value(at point: [Double]) -> Double {
        valueAndGradient(at: point, wantGradient: false).value
    }

    /// Gradient at one point. Allocates; for tests and tools.
    public func gradient(at point: [Double]) -> [Double] {
        valueAndGradient(at: point, wantGradient: true).gradient
    }

    /// Value and gradient at one point. Allocates; for tests and tools.
    public func valueAndGradient(at point: [Double]) -> (value: Double, gradient: [Double]) {
        valueAndGradient(at: point, wantGradient: true)
    }

    private func valueAndGradient(at point: [Double], wantGradient: Bool) -> (value: Double, gradient: [Double]) {
        if point.count != inputCount {  // fatalError, not precondition: kept under -Ounchecked
            fatalError("formula '\(source)' takes \(inputCount) inputs, got \(point.count)")
        }
        var ws = FormulaWorkspace(for: self, batch: 1)
        var v = 0.0
        var g = [Double](repeating: 0, count: inputCount)
        point.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer { gp in
                // A zero-input formula has no meaningful input pointer; use a dummy.
                var dummy = 0.0
                withUnsafeMutablePointer(to: &dummy) { d in
                    let inp = p.baseAddress ?? UnsafePointer(d)
                    evaluate(
                        inputs: inp, count: 1, values: &v,
                        gradients: wantGradient ? (gp.baseAddress ?? d) : nil, workspace: &ws)
                }
            }
        }
        return (v, g)
    }
}

/// Per-thread scratch memory for `Formula.evaluate`. Do not share one workspace (or copies
/// of it) between threads evaluating concurrently.
public struct FormulaWorkspace {
    var storage: WorkspaceStorage
    /// The Hessian-vector product's tangents, allocated on its first use.
    var tangents: TangentStorage? = nil

    /// Scratch for `formula`, evaluating `batch` points per block (64 is a good default:
    /// large enough to amortise dispatch, small enough to stay in L1/L2).
    public init(for formula: Formula, batch: Int = 64) {
        storage = WorkspaceStorage(batch: batch, slots: formula.program.slotCount)
    }

    /// Points per block.
    public var batch: Int { storage.batch }
}
