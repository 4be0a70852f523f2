import InputText

// Lexer and recursive-descent parser: formula text -> `SyntaxTree`.
//
// Grammar (lowest to highest precedence):
//   formula := sum END
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary ('^' unary)?          -- right-associative, binds tighter than unary minus
//   primary := NUMBER | NAME | NAME '(' [sum (',' sum)*] ')' | '(' sum ')'

/// Half-open range of Unicode-scalar offsets (0-based) in the source.
struct Span: Sendable {
    var lower: Int
    var upper: Int
    var column: Int { lower + 1 }
}

enum BinaryOperator: Character, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", pow = "^"
}

/// Index of a node in its `SyntaxTree`.
typealias ExprID = Int

/// A node of the syntax tree; operands are indices into the tree's node array.
enum Expr: Sendable {
    case number(Double, Span)
    case name(String, Span)
    /// name, arguments, span of the whole call, span of the name
    case call(String, [ExprID], Span, Span)
    case negate(ExprID, Span)
    /// operator, lhs, rhs, span of the whole expression, span of the operator
    case binary(BinaryOperator, ExprID, ExprID, Span, Span)

    var span: Span {
        switch self {
        case .number(_, let s), .name(_, let s), .call(_, _, let s, _), .negate(_, let s),
            .binary(_, _, _, let s, _):
            return s
        }
    }

    /// Operands, in the order they are evaluated (left to right).
    var operands: [ExprID] {
        switch self {
        case .number, .name: return []
        case .call(_, let args, _, _): return args
        case .negate(let a, _): return [a]
        case .binary(_, let l, let r, _, _): return [l, r]
        }
    }
}

/// A parsed formula. Nodes are stored flat, each after its operands, because a legitimate
/// formula can be a very deep tree (an 8000-term sum `x1 + x1 + …` is a left spine 8000 deep):
/// walking or freeing a tree of boxed nodes would recurse once per level and overflow the stack.
struct SyntaxTree: Sendable {
    private(set) var nodes: [Expr] = []

    subscript(id: ExprID) -> Expr { nodes[id] }

    /// The last node added: the root once parsing is done.
    var root: ExprID { nodes.count - 1 }

    mutating func add(_ e: Expr) -> ExprID {
        nodes.append(e)
        return nodes.count - 1
    }
}

enum TokenKind: Equatable {
    case number(Double)
    case name(String)
    case op(Character)  // + - * / ^ ( ) ,
    case end
}

struct Token {
    var kind: TokenKind
    var span: Span
    var text: String
}

struct Lexer {
    let scalars: [Unicode.Scalar]
    let source: String

    init(_ source: String) {
        self.source = source
        self.scalars = Array(source.unicodeScalars)
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    private func isNameStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    func tokenize() throws(FormulaError) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        let n = scalars.count
        func text(_ a: Int, _ b: Int) -> String {
            String(String.UnicodeScalarView(scalars[a..<b]))
        }
        while i < n {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            let start = i
            if isDigit(c) || (c == "." && i + 1 < n && isDigit(scalars[i + 1])) {
                while i < n && isDigit(scalars[i]) { i += 1 }
                if i < n && scalars[i] == "." {
                    i += 1
                    while i < n && isDigit(scalars[i]) { i += 1 }
                }
                // Exponent only if followed by digits (so that `2e` is `2` then the name `e`).
                if i < n && (scalars[i] == "e" || scalars[i] == "E") {
                    var j = i + 1
                    if j < n && (scalars[j] == "+" || scalars[j] == "-") { j += 1 }
                    if j < n && isDigit(scalars[j]) {
                        i = j
                        while i < n && isDigit(scalars[i]) { i += 1 }
                    }
                }
                let t = text(start, i)
                guard let v = Double(t) else {
                    throw FormulaError(
                        kind: .syntax, message: "malformed number '\(Excerpt.quote(t))'",
                        column: start + 1, source: source)
                }
                guard v.isFinite else {
                    throw FormulaError(
                        kind: .syntax, message: "number '\(Excerpt.quote(t))' is out of range",
                        column: start + 1, source: source)
                }
                tokens.append(Token(kind: .number(v), span: Span(lower: start, upper: i), text: t))
                continue
            }
            if isNameStart(c) {
                while i < n && (isNameStart(scalars[i]) || isDigit(scalars[i])) { i += 1 }
                let t = text(start, i)
                tokens.append(Token(kind: .name(t), span: Span(lower: start, upper: i), text: t))
                continue
            }
            switch c {
            case "+", "-", "*", "/", "^", "(", ")", ",":
                i += 1
                tokens.append(
                    Token(
                        kind: .op(Character(c)), span: Span(lower: start, upper: i),
                        text: String(Character(c))))
            default:
                throw FormulaError(
                    kind: .syntax, message: "unexpected character '\(Excerpt.quote(String(c)))'",
                    column: start + 1, source: source)
            }
        }
        tokens.append(Token(kind: .end, span: Span(lower: n, upper: n), text: ""))
        return tokens
    }
}

struct Parser {
    /// The deepest nesting accepted: parentheses, function calls, unary signs and exponents
    /// each open a level. The parser recurses once per level, so the bound keeps a hostile
    /// formula (10 000 parentheses) from overflowing the stack; real formulas stay far below it.
    /// Chains of `+ - * /` are not nesting: they are parsed by loops, at any length.
    static let maxNesting = 100

    let source: String
    let tokens: [Token]
    var pos = 0
    var tree = SyntaxTree()
    var depth = 0

    init(_ source: String) throws(FormulaError) {
        guard source.utf8.count <= Formula.maximumLength else {
            throw FormulaError(
                kind: .syntax,
                message:
                    "the formula is \(source.utf8.count) bytes long; at most \(Formula.maximumLength) (1 MiB) are accepted",
                column: 0, source: source)
        }
        self.source = source
        self.tokens = try Lexer(source).tokenize()
    }

    static func parse(_ source: String) throws(FormulaError) -> SyntaxTree {
        var p = try Parser(source)
        if case .end = p.tokens[0].kind {
            throw FormulaError(kind: .syntax, message: "the formula is empty", column: 1, source: source)
        }
        _ = try p.parseSum()
        let t = p.tokens[p.pos]
        switch t.kind {
        case .end:
            return p.tree
        case .op(")"):
            throw p.error("unmatched ')'", at: t)
        default:
            throw p.error(
                "expected an operator or the end of the formula after '\(Excerpt.quote(p.tokens[p.pos - 1].text))'",
                at: t)
        }
    }

    private func error(_ message: String, at t: Token) -> FormulaError {
        FormulaError(kind: .syntax, message: message, column: t.span.column, source: source)
    }

    private var current: Token { tokens[pos] }

    /// Opens a nesting level at token `t` (see `maxNesting`); pair with `depth -= 1`.
    private mutating func nest(at t: Token) throws(FormulaError) {
        depth += 1
        guard depth <= Parser.maxNesting else {
            throw error(
                "nested more than \(Parser.maxNesting) levels deep (parentheses, function calls, signs and exponents); simplify the formula",
                at: t)
        }
    }

    private mutating func binary(_ op: BinaryOperator, _ lhs: ExprID, _ rhs: ExprID, _ opSpan: Span) -> ExprID {
        tree.add(.binary(op, lhs, rhs, Span(lower: tree[lhs].span.lower, upper: tree[rhs].span.upper), opSpan))
    }

    private mutating func parseSum() throws(FormulaError) -> ExprID {
        var lhs = try parseProduct()
        while case .op(let c) = current.kind, c == "+" || c == "-" {
            let opTok = current
            pos += 1
            let rhs = try parseProduct()
            lhs = binary(BinaryOperator(rawValue: c)!, lhs, rhs, opTok.span)
        }
        return lhs
    }

    private mutating func parseProduct() throws(FormulaError) -> ExprID {
        var lhs = try parseUnary()
        while case .op(let c) = current.kind, c == "*" || c == "/" {
            let opTok = current
            pos += 1
            let rhs = try parseUnary()
            lhs = binary(BinaryOperator(rawValue: c)!, lhs, rhs, opTok.span)
        }
        return lhs
    }

    private mutating func parseUnary() throws(FormulaError) -> ExprID {
        if case .op(let c) = current.kind, c == "-" || c == "+" {
            let opTok = current
            pos += 1
            try nest(at: opTok)
            let operand = try parseUnary()
            depth -= 1
            if c == "+" { return operand }
            return tree.add(.negate(operand, Span(lower: opTok.span.lower, upper: tree[operand].span.upper)))
        }
        return try parsePower()
    }

    private mutating func parsePower() throws(FormulaError) -> ExprID {
        let base = try parsePrimary()
        if case .op("^") = current.kind {
            let opTok = current
            pos += 1
            try nest(at: opTok)
            let exponent = try parseUnary()
            depth -= 1
            return binary(.pow, base, exponent, opTok.span)
        }
        return base
    }

    private mutating func parsePrimary() throws(FormulaError) -> ExprID {
        let t = current
        switch t.kind {
        case .number(let v):
            pos += 1
            return tree.add(.number(v, t.span))
        case .name(let name):
            pos += 1
            guard case .op("(") = current.kind else { return tree.add(.name(name, t.span)) }
            let open = current
            pos += 1
            var args: [ExprID] = []
            if case .op(")") = current.kind {
                pos += 1
                return tree.add(.call(name, args, Span(lower: t.span.lower, upper: open.span.upper + 1), t.span))
            }
            try nest(at: open)
            defer { depth -= 1 }
            while true {
                args.append(try parseSum())
                switch current.kind {
                case .op(","):
                    pos += 1
                case .op(")"):
                    let close = current
                    pos += 1
                    return tree.add(.call(name, args, Span(lower: t.span.lower, upper: close.span.upper), t.span))
                case .end:
                    throw error(
                        "expected ',' or ')' to close the arguments of '\(Excerpt.quote(name))' opened at column \(open.span.column)",
                        at: current)
                default:
                    throw error(
                        "expected ',' or ')' after argument \(args.count) of '\(Excerpt.quote(name))'", at: current)
                }
            }
        case .op("("):
            pos += 1
            try nest(at: t)
            let inner = try parseSum()
            depth -= 1
            guard case .op(")") = current.kind else {
                throw error("expected ')' to close the '(' at column \(t.span.column)", at: current)
            }
            pos += 1
            return inner
        default:
            throw error(missingOperandMessage(), at: t)
        }
    }

    private func missingOperandMessage() -> String {
        let what = "expected a number, a name or '('"
        guard pos > 0 else { return what }
        let prev = tokens[pos - 1]
        let cur = tokens[pos]
        if prev.text == "*" && cur.text == "*" { return "'**' is not an operator; use ^ for powers" }
        if case .end = cur.kind { return "\(what) after '\(Excerpt.quote(prev.text))', found the end of the formula" }
        if prev.text == "(" && cur.text == ")" { return "empty parentheses: \(what)" }
        return "\(what) after '\(Excerpt.quote(prev.text))'"
    }
}
