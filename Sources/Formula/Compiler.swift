import Foundation
import InputText

/// Which variables a formula may use, and how its inputs are laid out.
public enum FormulaVariables: Sendable, Equatable, Hashable {
    /// Potentials, interactions, log-densities: vector `x` with components `x1 ... xd`.
    case position(dimension: Int)
    /// Game payoffs l(x, y): `x`/`x1..xd` and the second player's `y`/`y1..ye`.
    /// Inputs are x then y, concatenated.
    case payoff(dimension: Int, secondDimension: Int)
    /// Radial kernels k(r): the scalar `r` only.
    case radius

    /// Number of scalar inputs per point: d, d + e, or 1.
    public var inputCount: Int {
        switch self {
        case .position(let d): return d
        case .payoff(let d, let e): return d + e
        case .radius: return 1
        }
    }
}

/// Built-in functions: name, arity (nil = at least 2), argument kind.
enum Builtin: String, CaseIterable {
    case exp, log, sqrt, abs, sin, cos, tan, tanh, atan, sinh, cosh, sigmoid, softplus
    case min, max
    case norm, norm2, dot

    var arity: Int? {
        switch self {
        case .min, .max: return nil
        case .dot: return 2
        default: return 1
        }
    }
    var takesVectors: Bool { self == .norm || self == .norm2 || self == .dot }
    var unaryOp: Op? { Op(name: rawValue) }
}

extension Op {
    init?(name: String) {
        switch name {
        case "exp": self = .exp
        case "log": self = .log
        case "sqrt": self = .sqrt
        case "abs": self = .abs
        case "sin": self = .sin
        case "cos": self = .cos
        case "tan": self = .tan
        case "tanh": self = .tanh
        case "atan": self = .atan
        case "sinh": self = .sinh
        case "cosh": self = .cosh
        case "sigmoid": self = .sigmoid
        case "softplus": self = .softplus
        default: return nil
        }
    }
}

let builtinConstants: [(String, Double)] = [("pi", Double.pi), ("e", M_E)]

/// A typed value during lowering: a scalar node or the component nodes of a vector.
enum Value {
    case scalar(NodeID)
    case vector([NodeID])
}

struct Compiler {
    let source: String
    let variables: FormulaVariables
    let parameters: [String: Double]
    var graph: Graph
    /// The formula being lowered (set by `compile`).
    private var tree = SyntaxTree()

    init(source: String, variables: FormulaVariables, parameters: [String: Double]) throws(FormulaError) {
        self.source = source
        self.variables = variables
        self.parameters = parameters
        self.graph = Graph(inputCount: variables.inputCount)
        try validateSetup()
    }

    private func fail(_ kind: FormulaError.Kind, _ message: String, _ column: Int) -> FormulaError {
        FormulaError(kind: kind, message: message, column: column, source: source)
    }

    private func text(_ span: Span) -> String {
        let s = Array(source.unicodeScalars)
        let lo = Swift.max(0, Swift.min(span.lower, s.count))
        let hi = Swift.max(lo, Swift.min(span.upper, s.count))
        return String(String.UnicodeScalarView(s[lo..<hi]))
    }

    // MARK: setup checks

    private func validateSetup() throws(FormulaError) {
        switch variables {
        case .position(let d) where d < 1:
            throw fail(.parameter, "the dimension must be at least 1 (got \(d))", 0)
        case .payoff(let d, let e) where d < 1 || e < 1:
            throw fail(.parameter, "the dimensions must be at least 1 (got \(d) and \(e))", 0)
        default: break
        }
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            let scalars = Array(name.unicodeScalars)
            let ok =
                !scalars.isEmpty
                && scalars.allSatisfy {
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
                }
                && !("0"..."9").contains(scalars[0])
            guard ok else {
                throw fail(
                    .parameter,
                    "parameter name '\(Excerpt.quote(name))' is not a valid name (letters, digits and _, not starting with a digit)",
                    0)
            }
            if Builtin(rawValue: name) != nil {
                throw fail(.parameter, "parameter '\(Excerpt.quote(name))' has the name of a built-in function", 0)
            }
            if builtinConstants.contains(where: { $0.0 == name }) {
                throw fail(.parameter, "parameter '\(Excerpt.quote(name))' has the name of a built-in constant", 0)
            }
            if case .some = variableValue(name) {
                throw fail(
                    .parameter, "parameter '\(Excerpt.quote(name))' has the name of a variable of this formula", 0)
            }
            guard value.isFinite else {
                throw fail(.parameter, "parameter '\(Excerpt.quote(name))' is not finite (\(value))", 0)
            }
        }
    }

    // MARK: names

    /// The variable `name` denotes in this kind of formula, if it is one.
    private func variableValue(_ name: String) -> Value? {
        func component(_ prefix: Character, _ count: Int, _ offset: Int) -> Value? {
            guard name.first == prefix else { return nil }
            let rest = name.dropFirst()
            if rest.isEmpty { return .vector((0..<count).map { NodeID(offset + $0) }) }
            guard rest.first != "0", let k = Int(rest), k >= 1, k <= count else { return nil }
            return .scalar(NodeID(offset + k - 1))
        }
        switch variables {
        case .position(let d):
            return component("x", d, 0)
        case .payoff(let d, let e):
            return component("x", d, 0) ?? component("y", e, d)
        case .radius:
            return name == "r" ? .scalar(0) : nil
        }
    }

    /// Explains why `name` (a variable of the language) is not available here, if it is one.
    private func unavailableVariableMessage(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first else { return nil }
        let digits = String(String.UnicodeScalarView(scalars.dropFirst()))
        let isIndexed = !digits.isEmpty && digits.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
        guard (first == "x" || first == "y") && (digits.isEmpty || isIndexed) || name == "r" else { return nil }

        if name == "r" {
            return
                "'r' (the distance) is only available in radial kernel formulas; here the variables are \(variableSummary())"
        }
        let isY = first == "y"
        let shown = Excerpt.quote(name)
        switch variables {
        case .radius:
            return "'\(shown)' is not available in a radial kernel formula: its only variable is r (the distance)"
        case .position(let d):
            if isY {
                return
                    "'\(shown)' is the second player's position, only available in payoff formulas; here the variables are \(variableSummary())"
            }
            return indexMessage(shown, "x", digits, d)
        case .payoff(let d, let e):
            return indexMessage(shown, isY ? "y" : "x", digits, isY ? e : d)
        }
    }

    private func indexMessage(_ name: String, _ v: String, _ digits: String, _ dim: Int) -> String {
        if digits.first == "0" {
            return "'\(name)': components are numbered from 1 (\(v)1..\(v)\(dim))"
        }
        return
            "'\(name)' is out of range: \(v) has dimension \(dim), so its components are \(dim == 1 ? "\(v)1" : "\(v)1..\(v)\(dim)")"
    }

    private func variableSummary() -> String {
        func comps(_ v: String, _ n: Int) -> String {
            n <= 3 ? ([v] + (1...n).map { "\(v)\($0)" }).joined(separator: ", ") : "\(v), \(v)1..\(v)\(n)"
        }
        switch variables {
        case .position(let d): return comps("x", d)
        case .payoff(let d, let e): return comps("x", d) + ", " + comps("y", e)
        case .radius: return "r"
        }
    }

    /// All names valid here, in the order shown in error messages.
    private func knownNames() -> [String] {
        var names: [String] = []
        switch variables {
        // Components beyond the first hundred are not suggested: a typo is rarely x4711.
        case .position(let d): names += ["x"] + (1...Swift.min(d, 100)).map { "x\($0)" }
        case .payoff(let d, let e):
            names += ["x"] + (1...Swift.min(d, 100)).map { "x\($0)" } + ["y"] + (1...Swift.min(e, 100)).map { "y\($0)" }
        case .radius: names += ["r"]
        }
        names += parameters.keys.sorted()
        names += builtinConstants.map(\.0)
        names += Builtin.allCases.map(\.rawValue)
        return names
    }

    private func knownList() -> String {
        var parts = [variableSummary()]
        parts += builtinConstants.map(\.0)
        parts += parameters.keys.sorted()
        parts += Builtin.allCases.map(\.rawValue)
        return parts.joined(separator: ", ")
    }

    private static let aliases: [String: String] = [
        "ln": "log", "arctan": "atan", "exp2": "exp", "sqr": "norm2", "abs2": "norm2",
        "PI": "pi", "Pi": "pi", "E": "e", "logistic": "sigmoid", "sgn": "abs", "pow": "^",
    ]

    private func closest(_ name: String) -> String? {
        if let a = Compiler.aliases[name] { return a }
        guard name.count <= 64 else { return nil }  // no misspelling of a known name is that long
        var best: (String, Int)? = nil
        for k in knownNames() {
            let dist = levenshtein(name.lowercased(), k.lowercased())
            if best == nil || dist < best!.1 { best = (k, dist) }
        }
        guard let (k, d) = best else { return nil }
        let limit = name.count <= 3 ? 1 : 2
        return d <= limit && d < Swift.max(name.count, k.count) ? k : nil
    }

    private func unknownName(_ shown: String, _ name: String, _ span: Span) -> FormulaError {
        var msg = "unknown name '\(shown)'"
        if let s = closest(name) { msg += s == "^" ? " (use a ^ b for powers)" : " (did you mean '\(s)'?)" }
        msg += " (known: \(knownList()))"
        return fail(.unknownName, msg, span.column)
    }

    // MARK: lowering

    /// Lowers the parsed formula to graph nodes; the result must be a scalar.
    mutating func compile(_ tree: SyntaxTree) throws(FormulaError) -> NodeID {
        self.tree = tree
        let root = tree.root
        switch try lower(root) {
        case .scalar(let id):
            return id
        case .vector(let comps):
            throw fail(
                .type,
                "the result must be a scalar, but \(describe(root)) is a vector of dimension \(comps.count); use norm(...), norm2(...) or dot(..., ...)",
                tree[root].span.column)
        }
    }

    /// The source text of a node, quoted and shortened for a message.
    private func describe(_ id: ExprID) -> String { "'\(Excerpt.quote(text(tree[id].span)))'" }

    private func scalar(_ v: Value, of id: ExprID, _ context: String) throws(FormulaError) -> NodeID {
        switch v {
        case .scalar(let n): return n
        case .vector(let c):
            var hint = ""
            if case .name(let n, _) = tree[id] {
                hint = "; use its components \(n)1..\(n)\(c.count), or norm(\(n)), norm2(\(n))"
            }
            throw fail(
                .type, "\(context) expects a scalar, but \(describe(id)) is a vector of dimension \(c.count)\(hint)",
                tree[id].span.column)
        }
    }

    private func vector(_ v: Value, of id: ExprID, _ fn: String) throws(FormulaError) -> [NodeID] {
        switch v {
        case .vector(let c): return c
        case .scalar:
            throw fail(
                .type, "\(fn) expects a vector argument (such as x, y, x - y or 2*x), but \(describe(id)) is a scalar",
                tree[id].span.column)
        }
    }

    /// Lowers the subtree at `root` without recursion: a node is entered (checks that need no
    /// operand), then each operand is lowered and accepted in turn (checks on that operand),
    /// then the node is finished from its operands' values. This is the order of a recursive
    /// descent, so the first error reported is the same, but the depth of the tree (an 8000-term
    /// sum is 8000 deep) costs heap, not stack.
    private mutating func lower(_ root: ExprID) throws(FormulaError) -> Value {
        struct Frame {
            let id: ExprID
            let operands: [ExprID]
            /// The operand to lower next.
            var next = 0
            /// What `accept` kept of the operands lowered so far.
            var values: [Value] = []
        }
        try enter(root)
        var stack = [Frame(id: root, operands: tree[root].operands)]
        var finished: Value? = nil
        while !stack.isEmpty {
            let top = stack.count - 1
            if let v = finished {
                finished = nil
                try accept(v, operand: stack[top].next, of: stack[top].id, into: &stack[top].values)
                stack[top].next += 1
            }
            let next = stack[top].next
            if next < stack[top].operands.count {
                let child = stack[top].operands[next]
                try enter(child)
                stack.append(Frame(id: child, operands: tree[child].operands))
            } else {
                let frame = stack.removeLast()
                finished = try finish(frame.id, frame.values)
            }
        }
        return finished!
    }

    /// Checks made before a node's operands are lowered: a call names a function, with its arity.
    private func enter(_ id: ExprID) throws(FormulaError) {
        guard case .call(let name, let args, _, let nameSpan) = tree[id] else { return }
        let shown = Excerpt.quote(name)
        guard let fn = Builtin(rawValue: name) else {
            if parameters[name] != nil || variableValue(name) != nil
                || builtinConstants.contains(where: { $0.0 == name })
            {
                throw fail(.arity, "'\(shown)' is not a function; write \(shown) * (...) to multiply", nameSpan.column)
            }
            if let m = unavailableVariableMessage(name) { throw fail(.unavailableVariable, m, nameSpan.column) }
            throw unknownName(shown, name, nameSpan)
        }
        if let n = fn.arity {
            guard args.count == n else {
                throw fail(
                    .arity,
                    "\(name) takes \(n) argument\(n == 1 ? "" : "s"), but \(args.count) \(args.count == 1 ? "was" : "were") given",
                    nameSpan.column)
            }
        } else if args.count < 2 {
            throw fail(
                .arity,
                "\(name) takes at least 2 arguments, but \(args.count) \(args.count == 1 ? "was" : "were") given",
                nameSpan.column)
        }
    }

    /// Takes operand `k` of node `id` once lowered: function arguments are checked for their kind
    /// here, and min/max fold each argument into the running result as it comes.
    private mutating func accept(
        _ v: Value, operand k: Int, of id: ExprID, into values: inout [Value]
    ) throws(FormulaError) {
        guard case .call(let name, let args, _, _) = tree[id], let fn = Builtin(rawValue: name) else {
            values.append(v)
            return
        }
        let arg = args[k]
        switch fn {
        case .min, .max:
            let b = try scalar(v, of: arg, name)
            if case .scalar(let acc)? = values.first {
                values = [.scalar(graph.minmax(fn == .min ? .min : .max, acc, b))]
            } else {
                values = [.scalar(b)]
            }
        case .norm, .norm2, .dot:
            values.append(.vector(try vector(v, of: arg, name)))
        default:
            values.append(.scalar(try scalar(v, of: arg, name)))
        }
    }

    /// A node from its operands' values (already accepted).
    private mutating func finish(_ id: ExprID, _ operands: [Value]) throws(FormulaError) -> Value {
        switch tree[id] {
        case .number(let v, _):
            return .scalar(graph.const(v))

        case .name(let name, let span):
            if let p = parameters[name] { return .scalar(graph.const(p)) }
            if let v = variableValue(name) { return v }
            if let c = builtinConstants.first(where: { $0.0 == name }) { return .scalar(graph.const(c.1)) }
            if Builtin(rawValue: name) != nil {
                throw fail(.arity, "'\(name)' is a function; call it as \(name)(...)", span.column)
            }
            if let m = unavailableVariableMessage(name) { throw fail(.unavailableVariable, m, span.column) }
            throw unknownName(Excerpt.quote(name), name, span)

        case .negate:
            switch operands[0] {
            case .scalar(let a): return .scalar(graph.unary(.neg, a))
            case .vector(let c): return .vector(c.map { graph.unary(.neg, $0) })
            }

        case .binary(let op, let lhs, let rhs, _, let opSpan):
            switch (op, operands[0], operands[1]) {
            case (_, .scalar(let a), .scalar(let b)):
                switch op {
                case .add: return .scalar(graph.add(a, b))
                case .sub: return .scalar(graph.sub(a, b))
                case .mul: return .scalar(graph.mul(a, b))
                case .div: return .scalar(graph.div(a, b))
                case .pow: return .scalar(graph.pow(a, b))
                }
            case (.add, .vector(let u), .vector(let v)), (.sub, .vector(let u), .vector(let v)):
                guard u.count == v.count else {
                    throw fail(
                        .type,
                        "dimension mismatch: \(describe(lhs)) has dimension \(u.count) but \(describe(rhs)) has dimension \(v.count)",
                        opSpan.column)
                }
                return .vector(zip(u, v).map { op == .add ? graph.add($0, $1) : graph.sub($0, $1) })
            case (.add, _, _), (.sub, _, _):
                let verb = op == .add ? "add" : "subtract"
                throw fail(
                    .type, "cannot \(verb) a scalar and a vector (\(describe(lhs)) \(op.rawValue) \(describe(rhs)))",
                    opSpan.column)
            case (.mul, .scalar(let s), .vector(let v)), (.mul, .vector(let v), .scalar(let s)):
                return .vector(v.map { graph.mul(s, $0) })
            case (.mul, .vector, .vector):
                throw fail(.type, "cannot multiply two vectors; use dot(u, v) for the scalar product", opSpan.column)
            case (.div, .vector(let v), .scalar(let s)):
                return .vector(v.map { graph.div($0, s) })
            case (.div, _, _):
                throw fail(.type, "cannot divide by a vector (\(describe(rhs)))", opSpan.column)
            case (.pow, .vector, _):
                throw fail(
                    .type, "cannot raise a vector (\(describe(lhs))) to a power; use norm2(v) for |v|^2 or norm(v)^p",
                    opSpan.column)
            case (.pow, _, _):
                throw fail(
                    .type, "the exponent \(describe(rhs)) is a vector; it must be a scalar", tree[rhs].span.column)
            }

        case .call(let name, let args, _, let nameSpan):
            // `enter` checked the name and arity; `accept` the kinds of the arguments.
            let fn = Builtin(rawValue: name)!
            switch fn {
            case .min, .max:
                return operands[0]
            case .norm2, .norm:
                guard case .vector(let v) = operands[0] else {
                    fatalError("accept(_:operand:of:into:) checked the argument kinds")
                }
                let s = sumOfProducts(v, v)
                return .scalar(fn == .norm ? graph.unary(.normSqrt, s) : s)
            case .dot:
                guard case .vector(let u) = operands[0], case .vector(let v) = operands[1] else {
                    fatalError("accept(_:operand:of:into:) checked the argument kinds")
                }
                guard u.count == v.count else {
                    throw fail(
                        .type,
                        "dot: dimension mismatch: \(describe(args[0])) has dimension \(u.count) but \(describe(args[1])) has dimension \(v.count)",
                        nameSpan.column)
                }
                return .scalar(sumOfProducts(u, v))
            default:
                guard case .scalar(let a) = operands[0] else {
                    fatalError("accept(_:operand:of:into:) checked the argument kinds")
                }
                return .scalar(graph.unary(fn.unaryOp!, a))
            }
        }
    }

    private mutating func sumOfProducts(_ u: [NodeID], _ v: [NodeID]) -> NodeID {
        var acc = graph.mul(u[0], v[0])
        for i in 1..<u.count { acc = graph.add(acc, graph.mul(u[i], v[i])) }
        return acc
    }
}

func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
