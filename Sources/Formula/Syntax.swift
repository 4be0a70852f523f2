// Lexer and recursive-descent parser: formula text -> `Expr` syntax tree.
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

indirect enum Expr: Sendable {
    case number(Double, Span)
    case name(String, Span)
    /// name, arguments, span of the whole call, span of the name
    case call(String, [Expr], Span, Span)
    case negate(Expr, Span)
    /// operator, lhs, rhs, span of the whole expression, span of the operator
    case binary(BinaryOperator, Expr, Expr, Span, Span)

    var span: Span {
        switch self {
        case .number(_, let s), .name(_, let s), .call(_, _, let s, _), .negate(_, let s),
             .binary(_, _, _, let s, _):
            return s
        }
    }
}

enum TokenKind: Equatable {
    case number(Double)
    case name(String)
    case op(Character)      // + - * / ^ ( ) ,
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
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
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
                    throw FormulaError(kind: .syntax, message: "malformed number '\(t)'",
                                       column: start + 1, source: source)
                }
                guard v.isFinite else {
                    throw FormulaError(kind: .syntax, message: "number '\(t)' is out of range",
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
                tokens.append(Token(kind: .op(Character(c)), span: Span(lower: start, upper: i),
                                    text: String(Character(c))))
            default:
                throw FormulaError(kind: .syntax, message: "unexpected character '\(Character(c))'",
                                   column: start + 1, source: source)
            }
        }
        tokens.append(Token(kind: .end, span: Span(lower: n, upper: n), text: ""))
        return tokens
    }
}

struct Parser {
    let source: String
    let tokens: [Token]
    var pos = 0

    init(_ source: String) throws(FormulaError) {
        self.source = source
        self.tokens = try Lexer(source).tokenize()
    }

    static func parse(_ source: String) throws(FormulaError) -> Expr {
        var p = try Parser(source)
        if case .end = p.tokens[0].kind {
            throw FormulaError(kind: .syntax, message: "the formula is empty", column: 1, source: source)
        }
        let e = try p.parseSum()
        let t = p.tokens[p.pos]
        switch t.kind {
        case .end:
            return e
        case .op(")"):
            throw p.error("unmatched ')'", at: t)
        default:
            throw p.error("expected an operator or the end of the formula after '\(p.tokens[p.pos - 1].text)'", at: t)
        }
    }

    private func error(_ message: String, at t: Token) -> FormulaError {
        FormulaError(kind: .syntax, message: message, column: t.span.column, source: source)
    }

    private var current: Token { tokens[pos] }

    private mutating func parseSum() throws(FormulaError) -> Expr {
        var lhs = try parseProduct()
        while case .op(let c) = current.kind, c == "+" || c == "-" {
            let opTok = current
            pos += 1
            let rhs = try parseProduct()
            lhs = .binary(BinaryOperator(rawValue: c)!, lhs, rhs,
                          Span(lower: lhs.span.lower, upper: rhs.span.upper), opTok.span)
        }
        return lhs
    }

    private mutating func parseProduct() throws(FormulaError) -> Expr {
        var lhs = try parseUnary()
        while case .op(let c) = current.kind, c == "*" || c == "/" {
            let opTok = current
            pos += 1
            let rhs = try parseUnary()
            lhs = .binary(BinaryOperator(rawValue: c)!, lhs, rhs,
                          Span(lower: lhs.span.lower, upper: rhs.span.upper), opTok.span)
        }
        return lhs
    }

    private mutating func parseUnary() throws(FormulaError) -> Expr {
        if case .op(let c) = current.kind, c == "-" || c == "+" {
            let opTok = current
            pos += 1
            let operand = try parseUnary()
            if c == "+" { return operand }
            return .negate(operand, Span(lower: opTok.span.lower, upper: operand.span.upper))
        }
        return try parsePower()
    }

    private mutating func parsePower() throws(FormulaError) -> Expr {
        let base = try parsePrimary()
        if case .op("^") = current.kind {
            let opTok = current
            pos += 1
            let exponent = try parseUnary()
            return .binary(.pow, base, exponent, Span(lower: base.span.lower, upper: exponent.span.upper),
                           opTok.span)
        }
        return base
    }

    private mutating func parsePrimary() throws(FormulaError) -> Expr {
        let t = current
        switch t.kind {
        case .number(let v):
            pos += 1
            return .number(v, t.span)
        case .name(let name):
            pos += 1
            guard case .op("(") = current.kind else { return .name(name, t.span) }
            let open = current
            pos += 1
            var args: [Expr] = []
            if case .op(")") = current.kind {
                pos += 1
                return .call(name, args, Span(lower: t.span.lower, upper: open.span.upper + 1), t.span)
            }
            while true {
                args.append(try parseSum())
                switch current.kind {
                case .op(","):
                    pos += 1
                case .op(")"):
                    let close = current
                    pos += 1
                    return .call(name, args, Span(lower: t.span.lower, upper: close.span.upper), t.span)
                case .end:
                    throw error("expected ',' or ')' to close the arguments of '\(name)' opened at column \(open.span.column)", at: current)
                default:
                    throw error("expected ',' or ')' after argument \(args.count) of '\(name)'", at: current)
                }
            }
        case .op("("):
            pos += 1
            let inner = try parseSum()
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
        if case .end = cur.kind { return "\(what) after '\(prev.text)', found the end of the formula" }
        if prev.text == "(" && cur.text == ")" { return "empty parentheses: \(what)" }
        return "\(what) after '\(prev.text)'"
    }
}
