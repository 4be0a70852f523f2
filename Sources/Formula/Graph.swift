import Foundation

// Expression DAG with hash-consing (common subexpressions are shared) and constant folding.
// Every node is a scalar; vector expressions are lowered component-wise before reaching here.

/// Instruction / node opcodes. `c` is an immediate constant, `a` and `b` operand nodes (or slots).
enum Op: UInt8, Sendable {
    case input  // c = input index (graph only, never on the tape)
    case const  // o = c
    case add, sub, mul, div, min, max, pow
    case neg, square
    case addC  // a + c
    case mulC  // a * c
    case divC  // a / c
    case subCR  // c - a
    case divCR  // c / a
    case powC  // a ^ c (c non-integer or large)
    case powCR  // c ^ a (c > 0 constant base)
    case exp, log, sqrt, abs, sin, cos, tan, tanh, atan, sinh, cosh, sigmoid, softplus
    case normSqrt  // sqrt used by norm(): derivative taken as 0 at 0
    case fmaC  // a * c + b (tape only: fused from mulC feeding add; same rounding as unfused)

    var isBinary: Bool {
        switch self {
        case .add, .sub, .mul, .div, .min, .max, .pow, .fmaC: return true
        default: return false
        }
    }
    var isUnary: Bool { !isBinary && self != .input && self != .const }
    var name: String { String(describing: self) }
}

// Scalar primitives shared by constant folding and the evaluation kernels.
@inline(__always) func sigmoidF(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let t = Foundation.exp(x)
    return t / (1 + t)
}
@inline(__always) func softplusF(_ x: Double) -> Double {
    Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
}
/// min with the first argument winning ties; NaN in either argument gives NaN.
@inline(__always) func minF(_ a: Double, _ b: Double) -> Double { (b < a || b.isNaN) ? b : a }
@inline(__always) func maxF(_ a: Double, _ b: Double) -> Double { (b > a || b.isNaN) ? b : a }

func applyUnary(_ op: Op, _ x: Double, _ c: Double) -> Double {
    switch op {
    case .neg: return -x
    case .square: return x * x
    case .addC: return x + c
    case .mulC: return x * c
    case .divC: return x / c
    case .subCR: return c - x
    case .divCR: return c / x
    case .powC: return Foundation.pow(x, c)
    case .powCR: return Foundation.pow(c, x)
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .sqrt, .normSqrt: return x.squareRoot()
    case .abs: return Swift.abs(x)
    case .sin: return Foundation.sin(x)
    case .cos: return Foundation.cos(x)
    case .tan: return Foundation.tan(x)
    case .tanh: return Foundation.tanh(x)
    case .atan: return Foundation.atan(x)
    case .sinh: return Foundation.sinh(x)
    case .cosh: return Foundation.cosh(x)
    case .sigmoid: return sigmoidF(x)
    case .softplus: return softplusF(x)
    default: preconditionFailure("not a unary op: \(op)")
    }
}

func applyBinary(_ op: Op, _ x: Double, _ y: Double) -> Double {
    switch op {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    case .min: return minF(x, y)
    case .max: return maxF(x, y)
    case .pow: return Foundation.pow(x, y)
    default: preconditionFailure("not a binary op: \(op)")
    }
}

typealias NodeID = Int32

struct GraphNode: Hashable {
    var op: Op
    var a: NodeID
    var b: NodeID
    var c: Double

    static func == (l: GraphNode, r: GraphNode) -> Bool {
        l.op == r.op && l.a == r.a && l.b == r.b && l.c.bitPattern == r.c.bitPattern
    }
    func hash(into h: inout Hasher) {
        h.combine(op)
        h.combine(a)
        h.combine(b)
        h.combine(c.bitPattern)
    }
}

struct Graph {
    private(set) var nodes: [GraphNode] = []
    private var index: [GraphNode: NodeID] = [:]

    /// Integer exponents up to this magnitude are expanded into multiplications.
    static let maxExpandedPower = 64

    init(inputCount: Int) {
        for i in 0..<inputCount { _ = make(.input, -1, -1, Double(i)) }
    }

    private mutating func make(_ op: Op, _ a: NodeID, _ b: NodeID = -1, _ c: Double = 0) -> NodeID {
        let node = GraphNode(op: op, a: a, b: b, c: c)
        if let id = index[node] { return id }
        let id = NodeID(nodes.count)
        nodes.append(node)
        index[node] = id
        return id
    }

    func constant(_ id: NodeID) -> Double? {
        let n = nodes[Int(id)]
        return n.op == .const ? n.c : nil
    }

    mutating func const(_ v: Double) -> NodeID { make(.const, -1, -1, v) }

    mutating func unary(_ op: Op, _ a: NodeID, _ c: Double = 0) -> NodeID {
        if let x = constant(a) { return const(applyUnary(op, x, c)) }
        let na = nodes[Int(a)]
        switch op {
        case .neg:
            if na.op == .neg { return na.a }
            if na.op == .mulC { return make(.mulC, na.a, -1, -na.c) }  // exact: sign flip
        case .addC where c == 0:
            return a
        case .mulC where c == 1:
            return a
        case .mulC where c == -1:
            return unary(.neg, a)
        case .abs where na.op == .abs || na.op == .square || na.op == .exp:
            return a
        default:
            break
        }
        return make(op, a, -1, c)
    }

    mutating func add(_ a: NodeID, _ b: NodeID) -> NodeID {
        switch (constant(a), constant(b)) {
        case (let x?, let y?): return const(x + y)
        case (let x?, nil): return unary(.addC, b, x)
        case (nil, let y?): return unary(.addC, a, y)
        default:
            if a == b { return make(.mulC, a, -1, 2) }
            if nodes[Int(b)].op == .neg { return sub(a, nodes[Int(b)].a) }
            if nodes[Int(a)].op == .neg { return sub(b, nodes[Int(a)].a) }
            return make(.add, Swift.min(a, b), Swift.max(a, b))
        }
    }

    mutating func sub(_ a: NodeID, _ b: NodeID) -> NodeID {
        switch (constant(a), constant(b)) {
        case (let x?, let y?): return const(x - y)
        case (let x?, nil): return x == 0 ? unary(.neg, b) : unary(.subCR, b, x)
        case (nil, let y?): return unary(.addC, a, -y)  // a - y == a + (-y) exactly
        default:
            if nodes[Int(b)].op == .neg { return add(a, nodes[Int(b)].a) }
            return make(.sub, a, b)
        }
    }

    mutating func mul(_ a: NodeID, _ b: NodeID) -> NodeID {
        switch (constant(a), constant(b)) {
        case (let x?, let y?): return const(x * y)
        case (let x?, nil): return unary(.mulC, b, x)
        case (nil, let y?): return unary(.mulC, a, y)
        default:
            if a == b { return unary(.square, a) }
            return make(.mul, Swift.min(a, b), Swift.max(a, b))
        }
    }

    mutating func div(_ a: NodeID, _ b: NodeID) -> NodeID {
        switch (constant(a), constant(b)) {
        case (let x?, let y?): return const(x / y)
        case (let x?, nil): return unary(.divCR, b, x)
        case (nil, let y?):
            // Division by a power of two is exactly multiplication by its reciprocal.
            if y != 0 && y.isFinite && y.significand == 1 && (1 / y).isFinite { return unary(.mulC, a, 1 / y) }
            return unary(.divC, a, y)
        default:
            return make(.div, a, b)
        }
    }

    mutating func minmax(_ op: Op, _ a: NodeID, _ b: NodeID) -> NodeID {
        if let x = constant(a), let y = constant(b) { return const(applyBinary(op, x, y)) }
        if a == b { return a }
        return make(op, a, b)  // not commutative on ties: keep the order
    }

    mutating func pow(_ a: NodeID, _ b: NodeID) -> NodeID {
        switch (constant(a), constant(b)) {
        case (let x?, let y?): return const(x == M_E ? Foundation.exp(y) : Foundation.pow(x, y))
        case (let x?, nil):
            if x == M_E { return unary(.exp, b) }
            return unary(.powCR, b, x)
        case (nil, let y?):
            if y == 0 { return const(1) }  // pow(x, 0) == 1 for every x, NaN included
            if y == 0.5 { return unary(.sqrt, a) }
            if y == y.rounded(), Swift.abs(y) <= Double(Graph.maxExpandedPower) {
                let p = integerPower(a, Int(Swift.abs(y)))
                return y > 0 ? p : unary(.divCR, p, 1)
            }
            return unary(.powC, a, y)
        default:
            return make(.pow, a, b)
        }
    }

    /// a^n, n >= 1, by binary exponentiation: a^2 = a*a, a^4 = (a^2)^2, a^3 = a^2 * a, ...
    private mutating func integerPower(_ a: NodeID, _ n: Int) -> NodeID {
        if n == 1 { return a }
        let half = integerPower(a, n / 2)
        let sq = unary(.square, half)
        return n % 2 == 0 ? sq : mul(sq, a)
    }
}
