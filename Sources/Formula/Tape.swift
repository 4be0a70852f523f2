import Foundation

// Linear instruction tape and its block evaluator.
//
// Slots 0..<inputCount hold the inputs; every other slot is written by exactly one
// instruction. Evaluation runs over blocks of `batch` points in structure-of-arrays
// layout: slot s of lane k lives at values[s * batch + k], so each instruction is one
// tight (vectorisable) loop over the block and the dispatch cost is paid once per block.
// The gradient is a reverse sweep over the same block with adjoints in the same layout.

struct Instruction: Sendable {
    var op: Op
    var out: Int32
    var a: Int32
    var b: Int32
    var c: Double
    /// How the reverse sweep writes the adjoint contribution to operand a / b:
    /// 0 = skip (constant slot), 1 = assign (first contribution), 2 = accumulate.
    var modeA: UInt8 = 0
    var modeB: UInt8 = 0
}

struct Program: Sendable {
    var tape: [Instruction]
    var slotCount: Int
    var inputCount: Int
    var output: Int
    /// Inputs whose adjoint is written by the reverse sweep (the others have gradient 0).
    var inputTouched: [Bool]
    /// For every slot, the lowest input it depends on (`Int32.max` for constants): what the
    /// Hessian-vector product needs to know which slots vary with its first k inputs.
    var lowestInput: [Int32]

    /// Keeps only the nodes the output depends on; numbers the slots in creation order
    /// (which is a topological order, operands first).
    init(graph: Graph, output: NodeID, inputCount: Int) {
        var nodes = graph.nodes
        var live = [Bool](repeating: false, count: nodes.count)
        var uses = [Int](repeating: 0, count: nodes.count)
        live[Int(output)] = true
        for id in stride(from: nodes.count - 1, through: 0, by: -1) where live[id] {
            let n = nodes[id]
            if n.op.isBinary {
                live[Int(n.a)] = true
                live[Int(n.b)] = true
                uses[Int(n.a)] += 1
                uses[Int(n.b)] += 1
            } else if n.op.isUnary {
                live[Int(n.a)] = true
                uses[Int(n.a)] += 1
            }
        }
        // Peephole: add(mulC(x, c), z) with the product used once -> fmaC(x, z, c), one pass
        // over the block instead of two. Rounding is unchanged (x*c is rounded, then added).
        for id in nodes.indices where live[id] && nodes[id].op == .add {
            let n = nodes[id]
            for (p, other) in [(n.a, n.b), (n.b, n.a)] {
                let pn = nodes[Int(p)]
                if pn.op == .mulC && uses[Int(p)] == 1 && p != output {
                    nodes[id] = GraphNode(op: .fmaC, a: pn.a, b: other, c: pn.c)
                    live[Int(p)] = false
                    break
                }
            }
        }
        var slot = [Int32](repeating: -1, count: nodes.count)
        var tape: [Instruction] = []
        var next = Int32(inputCount)
        for (id, n) in nodes.enumerated() {
            if n.op == .input {
                slot[id] = Int32(n.c)
                continue
            }
            guard live[id] else { continue }
            slot[id] = next
            tape.append(
                Instruction(
                    op: n.op, out: next,
                    a: n.a >= 0 ? slot[Int(n.a)] : -1,
                    b: n.b >= 0 ? slot[Int(n.b)] : -1, c: n.c))
            next += 1
        }
        // Reverse-sweep write modes: the first contribution to an adjoint assigns, later ones
        // accumulate, so adjoints never need zeroing. Constant slots receive nothing.
        var touched = [Bool](repeating: false, count: Int(next))
        var isConst = [Bool](repeating: false, count: Int(next))
        for ins in tape where ins.op == .const { isConst[Int(ins.out)] = true }
        let outSlot = Int(slot[Int(output)])
        touched[outSlot] = true
        func mode(_ s: Int32) -> UInt8 {
            let i = Int(s)
            if isConst[i] { return 0 }
            if touched[i] { return 2 }
            touched[i] = true
            return 1
        }
        for i in stride(from: tape.count - 1, through: 0, by: -1) {
            if tape[i].op.isBinary || tape[i].op.isUnary { tape[i].modeA = mode(tape[i].a) }
            if tape[i].op.isBinary { tape[i].modeB = mode(tape[i].b) }
        }
        self.inputTouched = Array(touched[0..<inputCount])
        self.lowestInput = Program.lowestInputs(tape, inputCount: inputCount, slotCount: Int(next))
        self.tape = tape
        self.slotCount = Int(next)
        self.inputCount = inputCount
        self.output = Int(slot[Int(output)])
    }

    var listing: String {
        func s(_ i: Int32) -> String { i < inputCount ? "in\(i)" : "t\(i)" }
        return tape.map { ins in
            var line = "\(s(ins.out)) = \(ins.op.name)"
            if ins.op.isBinary { line += " \(s(ins.a)), \(s(ins.b))" } else if ins.op.isUnary { line += " \(s(ins.a))" }
            if ins.op == .const || [.addC, .mulC, .divC, .subCR, .divCR, .powC, .powCR, .fmaC].contains(ins.op) {
                line += " [c = \(ins.c)]"
            }
            return line
        }.joined(separator: "\n") + "\nresult: \(s(Int32(output)))"
    }
}

typealias Lane = UnsafeMutablePointer<Double>

@inline(__always) func map1(_ o: Lane, _ a: Lane, _ m: Int, _ f: (Double) -> Double) {
    for k in 0..<m { o[k] = f(a[k]) }
}
@inline(__always) func map2(_ o: Lane, _ a: Lane, _ b: Lane, _ m: Int, _ f: (Double, Double) -> Double) {
    for k in 0..<m { o[k] = f(a[k], b[k]) }
}
/// dst[k] = f(k) (mode 1) or dst[k] += f(k) (mode 2); mode 0 writes nothing.
@inline(__always) func put(_ mode: UInt8, _ dst: Lane, _ m: Int, _ f: (Int) -> Double) {
    if mode == 1 {
        for k in 0..<m { dst[k] = f(k) }
    } else if mode == 2 {
        for k in 0..<m { dst[k] += f(k) }
    }
}

extension Program {
    /// Forward sweep over lanes 0..<m of one block.
    @inline(__always)
    func forward(_ tape: UnsafeBufferPointer<Instruction>, _ V: Lane, _ B: Int, _ m: Int) {
        for ins in tape {
            let o = V + Int(ins.out) * B
            let a = V + Int(ins.a) * B
            let c = ins.c
            switch ins.op {
            case .const: for k in 0..<m { o[k] = c }
            case .add: map2(o, a, V + Int(ins.b) * B, m) { $0 + $1 }
            case .fmaC: map2(o, a, V + Int(ins.b) * B, m) { $0 * c + $1 }
            case .sub: map2(o, a, V + Int(ins.b) * B, m) { $0 - $1 }
            case .mul: map2(o, a, V + Int(ins.b) * B, m) { $0 * $1 }
            case .div: map2(o, a, V + Int(ins.b) * B, m) { $0 / $1 }
            case .min: map2(o, a, V + Int(ins.b) * B, m) { minF($0, $1) }
            case .max: map2(o, a, V + Int(ins.b) * B, m) { maxF($0, $1) }
            case .pow: map2(o, a, V + Int(ins.b) * B, m) { Foundation.pow($0, $1) }
            case .neg: map1(o, a, m) { -$0 }
            case .square: map1(o, a, m) { $0 * $0 }
            case .addC: map1(o, a, m) { $0 + c }
            case .mulC: map1(o, a, m) { $0 * c }
            case .divC: map1(o, a, m) { $0 / c }
            case .subCR: map1(o, a, m) { c - $0 }
            case .divCR: map1(o, a, m) { c / $0 }
            case .powC: map1(o, a, m) { Foundation.pow($0, c) }
            case .powCR: map1(o, a, m) { Foundation.pow(c, $0) }
            case .exp: map1(o, a, m) { Foundation.exp($0) }
            case .log: map1(o, a, m) { Foundation.log($0) }
            case .sqrt, .normSqrt: map1(o, a, m) { $0.squareRoot() }
            case .abs: map1(o, a, m) { Swift.abs($0) }
            case .sin: map1(o, a, m) { Foundation.sin($0) }
            case .cos: map1(o, a, m) { Foundation.cos($0) }
            case .tan: map1(o, a, m) { Foundation.tan($0) }
            case .tanh: map1(o, a, m) { Foundation.tanh($0) }
            case .atan: map1(o, a, m) { Foundation.atan($0) }
            case .sinh: map1(o, a, m) { Foundation.sinh($0) }
            case .cosh: map1(o, a, m) { Foundation.cosh($0) }
            case .sigmoid: map1(o, a, m) { sigmoidF($0) }
            case .softplus: map1(o, a, m) { softplusF($0) }
            case .input: break
            }
        }
    }

    /// Reverse sweep. The caller seeds the output lane with 1; adjoints are assigned on first
    /// contribution (see `modeA`/`modeB`), so G needs no zeroing.
    @inline(__always)
    func backward(_ tape: UnsafeBufferPointer<Instruction>, _ V: Lane, _ G: Lane, _ B: Int, _ m: Int) {
        for ins in tape.reversed() {
            let y = V + Int(ins.out) * B
            let g = G + Int(ins.out) * B
            let a = V + Int(ins.a) * B
            let ga = G + Int(ins.a) * B
            let b = V + Int(ins.b) * B
            let gb = G + Int(ins.b) * B
            let c = ins.c
            let ma = ins.modeA
            let mb = ins.modeB
            switch ins.op {
            case .const, .input:
                break
            case .add:
                put(ma, ga, m) { g[$0] }
                put(mb, gb, m) { g[$0] }
            case .fmaC:
                put(ma, ga, m) { g[$0] * c }
                put(mb, gb, m) { g[$0] }
            case .sub:
                put(ma, ga, m) { g[$0] }
                put(mb, gb, m) { -g[$0] }
            case .mul:
                put(ma, ga, m) { g[$0] * b[$0] }
                put(mb, gb, m) { g[$0] * a[$0] }
            case .div:
                put(ma, ga, m) { g[$0] / b[$0] }
                put(mb, gb, m) { -(g[$0] / b[$0] * y[$0]) }
            case .min, .max:
                // The selected argument receives the adjoint (ties: the first argument).
                put(ma, ga, m) { y[$0] == a[$0] ? g[$0] : 0 }
                put(mb, gb, m) { y[$0] == a[$0] ? 0 : g[$0] }
            case .pow:
                put(ma, ga, m) { g[$0] * b[$0] * Foundation.pow(a[$0], b[$0] - 1) }
                // d(a^b)/db = a^b log a, taken as 0 where a^b == 0 (a == 0, b > 0).
                put(mb, gb, m) { y[$0] == 0 ? 0 : g[$0] * y[$0] * Foundation.log(a[$0]) }
            case .neg: put(ma, ga, m) { -g[$0] }
            case .square: put(ma, ga, m) { 2 * a[$0] * g[$0] }
            case .addC: put(ma, ga, m) { g[$0] }
            case .mulC: put(ma, ga, m) { g[$0] * c }
            case .divC: put(ma, ga, m) { g[$0] / c }
            case .subCR: put(ma, ga, m) { -g[$0] }
            case .divCR: put(ma, ga, m) { -(g[$0] * y[$0] / a[$0]) }
            case .powC: put(ma, ga, m) { g[$0] * c * Foundation.pow(a[$0], c - 1) }
            case .powCR:
                let lc = Foundation.log(c)
                put(ma, ga, m) { g[$0] * y[$0] * lc }
            case .exp: put(ma, ga, m) { g[$0] * y[$0] }
            case .log: put(ma, ga, m) { g[$0] / a[$0] }
            case .sqrt: put(ma, ga, m) { g[$0] * 0.5 / y[$0] }
            // 0 at 0 (or NaN if g is ±inf/NaN).
            case .normSqrt: put(ma, ga, m) { y[$0] == 0 ? g[$0] * 0 : g[$0] * 0.5 / y[$0] }
            case .abs:
                put(ma, ga, m) {
                    let x = a[$0]
                    return x > 0 ? g[$0] : (x < 0 ? -g[$0] : g[$0] * x)
                }  // abs'(0) = 0; NaN stays NaN
            case .sin: put(ma, ga, m) { g[$0] * Foundation.cos(a[$0]) }
            case .cos: put(ma, ga, m) { -(g[$0] * Foundation.sin(a[$0])) }
            case .tan: put(ma, ga, m) { g[$0] * (1 + y[$0] * y[$0]) }
            case .tanh: put(ma, ga, m) { g[$0] * (1 - y[$0] * y[$0]) }
            case .atan: put(ma, ga, m) { g[$0] / (1 + a[$0] * a[$0]) }
            case .sinh: put(ma, ga, m) { g[$0] * Foundation.cosh(a[$0]) }
            case .cosh: put(ma, ga, m) { g[$0] * Foundation.sinh(a[$0]) }
            case .sigmoid: put(ma, ga, m) { g[$0] * y[$0] * (1 - y[$0]) }
            case .softplus: put(ma, ga, m) { g[$0] * sigmoidF(a[$0]) }
            }
        }
    }

    func run(
        inputs: UnsafePointer<Double>, count: Int, values: UnsafeMutablePointer<Double>,
        gradients: UnsafeMutablePointer<Double>?, storage: WorkspaceStorage
    ) {
        let B = storage.batch
        let n = inputCount
        let V = storage.values
        let G = storage.adjoints
        let outSlot = output
        inputTouched.withUnsafeBufferPointer { touched in
            tape.withUnsafeBufferPointer { tp in
                var start = 0
                while start < count {
                    let m = Swift.min(B, count - start)
                    let src = inputs + start * n
                    for a in 0..<n {
                        let dst = V + a * B
                        for k in 0..<m { dst[k] = src[k * n + a] }
                    }
                    forward(tp, V, B, m)
                    let out = V + outSlot * B
                    let vdst = values + start
                    for k in 0..<m { vdst[k] = out[k] }
                    if let grads = gradients {
                        let seed = G + outSlot * B
                        for k in 0..<m { seed[k] = 1 }
                        backward(tp, V, G, B, m)
                        let gdst = grads + start * n
                        for a in 0..<n {
                            let gs = G + a * B
                            if touched[a] {
                                for k in 0..<m { gdst[k * n + a] = gs[k] }
                            } else {
                                for k in 0..<m { gdst[k * n + a] = 0 }
                            }
                        }
                    }
                    start += m
                }
            }
        }
    }
}

/// Scratch memory for block evaluation (values and adjoints of every slot).
final class WorkspaceStorage {
    let batch: Int
    let slotCapacity: Int
    let values: UnsafeMutablePointer<Double>
    let adjoints: UnsafeMutablePointer<Double>

    /// The most doubles in each of the two arrays: a formula of 10⁵ instructions then
    /// evaluates a point or a few per block instead of taking 100 MB per thread.
    static let maxDoubles = 1 << 20

    init(batch: Int, slots: Int) {
        self.slotCapacity = Swift.max(1, slots)
        self.batch = Swift.max(1, Swift.min(batch, WorkspaceStorage.maxDoubles / slotCapacity))
        values = .allocate(capacity: self.batch * slotCapacity)
        values.initialize(repeating: 0, count: self.batch * slotCapacity)
        adjoints = .allocate(capacity: self.batch * slotCapacity)
        adjoints.initialize(repeating: 0, count: self.batch * slotCapacity)
    }

    deinit {
        values.deallocate()
        adjoints.deallocate()
    }
}
