import Foundation

// Hessian-vector products on the tape: ∇²f(x) v, exact to rounding, forward over reverse.
//
// The reverse sweep computes the adjoints ḡ_s = ∂f/∂s. Differentiating the whole evaluation
// (forward sweep, then reverse sweep) along the direction v gives, for every slot, the tangent
// ṡ = ∇s · v (a forward tangent sweep) and the tangent of its adjoint, ġ_s = d/dt ∂f/∂s(x + tv);
// at the inputs ġ = ∇²f(x) v. Forward over reverse rather than reverse over forward because the
// reverse sweep is already on the tape with its write modes: its tangent is, instruction by
// instruction, the product rule applied to each `put` (ġ_a += ġ·∂y/∂a + g·d(∂y/∂a)/dt), so it
// reuses the forward and reverse sweeps unchanged and adds two sweeps of the same shape over the
// same slots, batched the same way (no second tape, no taping of the tangent program).
//
// Only the first k inputs vary (k = d for a data target's x; its y are held): a slot that
// depends on none of them (`lowestInput[s] >= k`: constants, functions of y alone) has tangent 0
// and is skipped, so that a singular point of a held input (sqrt(y1) at y1 = 0) does not put
// 0·∞ = NaN into the product. Second derivatives follow the gradient's conventions: min/max
// pass the selected argument's tangent, abs has abs'' = 0 (and abs'(0) = 0), norm's square root
// has derivatives 0 at 0, and a^b's derivatives in b are 0 where a^b = 0.

extension Program {
    /// The lowest input each slot depends on (`Int32.max` for constants), in tape order.
    static func lowestInputs(_ tape: [Instruction], inputCount: Int, slotCount: Int) -> [Int32] {
        var lowest = [Int32](repeating: Int32.max, count: Swift.max(slotCount, inputCount))
        for i in 0..<inputCount { lowest[i] = Int32(i) }
        for ins in tape {
            let o = Int(ins.out)
            if ins.op.isBinary {
                lowest[o] = Swift.min(lowest[Int(ins.a)], lowest[Int(ins.b)])
            } else if ins.op.isUnary {
                lowest[o] = lowest[Int(ins.a)]
            }
        }
        return lowest
    }

    /// Tangent sweep: T[s] = ∇s·v over lanes 0..<m, given the values V of the forward sweep. The
    /// input lanes of T hold v (0 for held inputs); slots that do not vary get 0.
    @inline(__always)
    func tangentForward(
        _ tape: UnsafeBufferPointer<Instruction>, _ lowest: UnsafeBufferPointer<Int32>, varying k: Int32,
        _ V: Lane, _ T: Lane, _ B: Int, _ m: Int
    ) {
        for ins in tape {
            let o = T + Int(ins.out) * B
            guard lowest[Int(ins.out)] < k else {
                for j in 0..<m { o[j] = 0 }
                continue
            }
            let y = V + Int(ins.out) * B
            let a = V + Int(ins.a) * B
            let ad = T + Int(ins.a) * B
            let b = V + Int(ins.b) * B
            let bd = T + Int(ins.b) * B
            let c = ins.c
            switch ins.op {
            case .const, .input: break
            case .add: for j in 0..<m { o[j] = ad[j] + bd[j] }
            case .fmaC: for j in 0..<m { o[j] = ad[j] * c + bd[j] }
            case .sub: for j in 0..<m { o[j] = ad[j] - bd[j] }
            case .mul: for j in 0..<m { o[j] = ad[j] * b[j] + a[j] * bd[j] }
            case .div: for j in 0..<m { o[j] = (ad[j] - y[j] * bd[j]) / b[j] }
            case .min, .max: for j in 0..<m { o[j] = y[j] == a[j] ? ad[j] : bd[j] }
            case .pow:
                // A held operand contributes nothing (its partial may be NaN: log of a negative a).
                let aVaries = lowest[Int(ins.a)] < k
                let bVaries = lowest[Int(ins.b)] < k
                for j in 0..<m {
                    let da = aVaries ? ad[j] * b[j] * Foundation.pow(a[j], b[j] - 1) : 0
                    let db = bVaries && y[j] != 0 ? bd[j] * y[j] * Foundation.log(a[j]) : 0
                    o[j] = da + db
                }
            case .neg, .subCR: for j in 0..<m { o[j] = -ad[j] }
            case .square: for j in 0..<m { o[j] = 2 * a[j] * ad[j] }
            case .addC: for j in 0..<m { o[j] = ad[j] }
            case .mulC: for j in 0..<m { o[j] = ad[j] * c }
            case .divC: for j in 0..<m { o[j] = ad[j] / c }
            case .divCR: for j in 0..<m { o[j] = -(y[j] * ad[j] / a[j]) }
            case .powC: for j in 0..<m { o[j] = ad[j] * c * Foundation.pow(a[j], c - 1) }
            case .powCR:
                let lc = Foundation.log(c)
                for j in 0..<m { o[j] = ad[j] * y[j] * lc }
            case .exp: for j in 0..<m { o[j] = ad[j] * y[j] }
            case .log: for j in 0..<m { o[j] = ad[j] / a[j] }
            case .sqrt: for j in 0..<m { o[j] = ad[j] * 0.5 / y[j] }
            case .normSqrt: for j in 0..<m { o[j] = y[j] == 0 ? ad[j] * 0 : ad[j] * 0.5 / y[j] }
            case .abs:
                for j in 0..<m {
                    let x = a[j]
                    o[j] = x > 0 ? ad[j] : (x < 0 ? -ad[j] : ad[j] * x)
                }
            case .sin: for j in 0..<m { o[j] = ad[j] * Foundation.cos(a[j]) }
            case .cos: for j in 0..<m { o[j] = -(ad[j] * Foundation.sin(a[j])) }
            case .tan: for j in 0..<m { o[j] = ad[j] * (1 + y[j] * y[j]) }
            case .tanh: for j in 0..<m { o[j] = ad[j] * (1 - y[j] * y[j]) }
            case .atan: for j in 0..<m { o[j] = ad[j] / (1 + a[j] * a[j]) }
            case .sinh: for j in 0..<m { o[j] = ad[j] * Foundation.cosh(a[j]) }
            case .cosh: for j in 0..<m { o[j] = ad[j] * Foundation.sinh(a[j]) }
            case .sigmoid: for j in 0..<m { o[j] = ad[j] * y[j] * (1 - y[j]) }
            case .softplus: for j in 0..<m { o[j] = ad[j] * sigmoidF(a[j]) }
            }
        }
    }

    /// Tangent of the reverse sweep: GT[s] = d/dt ∂f/∂s along v, given the values V, tangents T
    /// and adjoints G of lanes 0..<m. The caller seeds GT at the output with 0. Writes follow the
    /// reverse sweep's modes (every use of a varying slot is itself varying, so skipping the
    /// slots that do not vary leaves the first write to each varying slot an assignment).
    @inline(__always)
    func tangentBackward(
        _ tape: UnsafeBufferPointer<Instruction>, _ lowest: UnsafeBufferPointer<Int32>, varying k: Int32,
        _ V: Lane, _ T: Lane, _ G: Lane, _ GT: Lane, _ B: Int, _ m: Int
    ) {
        for ins in tape.reversed() where lowest[Int(ins.out)] < k {
            let y = V + Int(ins.out) * B
            let yd = T + Int(ins.out) * B
            let g = G + Int(ins.out) * B
            let gd = GT + Int(ins.out) * B
            let a = V + Int(ins.a) * B
            let ad = T + Int(ins.a) * B
            let gda = GT + Int(ins.a) * B
            let b = V + Int(ins.b) * B
            let bd = T + Int(ins.b) * B
            let gdb = GT + Int(ins.b) * B
            let c = ins.c
            // An operand that does not vary receives nothing.
            let aVaries = ins.op.isUnary || ins.op.isBinary ? lowest[Int(ins.a)] < k : false
            let bVaries = ins.op.isBinary ? lowest[Int(ins.b)] < k : false
            let ma = aVaries ? ins.modeA : 0
            let mb = bVaries ? ins.modeB : 0
            switch ins.op {
            case .const, .input:
                break
            case .add:
                put(ma, gda, m) { gd[$0] }
                put(mb, gdb, m) { gd[$0] }
            case .fmaC:
                put(ma, gda, m) { gd[$0] * c }
                put(mb, gdb, m) { gd[$0] }
            case .sub:
                put(ma, gda, m) { gd[$0] }
                put(mb, gdb, m) { -gd[$0] }
            case .mul:
                // ∂y/∂a = b, ∂y/∂b = a: ġ_a = ġ b + g ḃ, ġ_b = ġ a + g ȧ.
                put(ma, gda, m) { gd[$0] * b[$0] + g[$0] * bd[$0] }
                put(mb, gdb, m) { gd[$0] * a[$0] + g[$0] * ad[$0] }
            case .div:
                // ∂y/∂a = 1/b, ∂y/∂b = −y/b: d(1/b) = −ḃ/b², d(y/b) = (ẏ − (y/b) ḃ)/b.
                put(ma, gda, m) { (gd[$0] - g[$0] * bd[$0] / b[$0]) / b[$0] }
                put(mb, gdb, m) {
                    let q = y[$0] / b[$0]
                    return -(gd[$0] * q + g[$0] * (yd[$0] - q * bd[$0]) / b[$0])
                }
            case .min, .max:
                // The selected argument's derivative is 1, the other's 0: no second derivative.
                put(ma, gda, m) { y[$0] == a[$0] ? gd[$0] : 0 }
                put(mb, gdb, m) { y[$0] == a[$0] ? 0 : gd[$0] }
            case .pow:
                // y = a^b: y_a = b a^(b−1), y_aa = b(b−1) a^(b−2) (0 when b(b−1) = 0: y is 1 or a),
                // y_ab = a^(b−1)(1 + b log a), y_b = y log a, y_bb = y log²a; the derivatives in b
                // are 0 where y = 0, as the gradient takes them; a held operand's tangent is 0.
                put(ma, gda, m) {
                    let (x, e) = (a[$0], b[$0])
                    let ya = e * Foundation.pow(x, e - 1)
                    let curvature = e * (e - 1)
                    let yaa = curvature == 0 ? 0 : curvature * Foundation.pow(x, e - 2)
                    let cross =
                        bVaries && y[$0] != 0 ? Foundation.pow(x, e - 1) * (1 + e * Foundation.log(x)) * bd[$0] : 0
                    return gd[$0] * ya + g[$0] * (yaa * ad[$0] + cross)
                }
                put(mb, gdb, m) {
                    let (x, e) = (a[$0], b[$0])
                    guard y[$0] != 0 else { return gd[$0] * 0 }
                    let l = Foundation.log(x)
                    let cross = aVaries ? Foundation.pow(x, e - 1) * (1 + e * l) * ad[$0] : 0
                    return gd[$0] * y[$0] * l + g[$0] * (cross + y[$0] * l * l * bd[$0])
                }
            case .neg, .subCR: put(ma, gda, m) { -gd[$0] }
            case .square: put(ma, gda, m) { 2 * (a[$0] * gd[$0] + ad[$0] * g[$0]) }
            case .addC: put(ma, gda, m) { gd[$0] }
            case .mulC: put(ma, gda, m) { gd[$0] * c }
            case .divC: put(ma, gda, m) { gd[$0] / c }
            case .divCR:
                // ∂y/∂a = −y/a = −c/a², whose tangent is 2c ȧ/a³ = −2ẏ/a.
                put(ma, gda, m) { -(gd[$0] * y[$0] + 2 * g[$0] * yd[$0]) / a[$0] }
            case .powC:
                let curvature = c * (c - 1)
                put(ma, gda, m) {
                    let yaa = curvature == 0 ? 0 : curvature * Foundation.pow(a[$0], c - 2)
                    return gd[$0] * c * Foundation.pow(a[$0], c - 1) + g[$0] * yaa * ad[$0]
                }
            case .powCR:
                let lc = Foundation.log(c)
                put(ma, gda, m) { (gd[$0] * y[$0] + g[$0] * yd[$0]) * lc }
            case .exp: put(ma, gda, m) { gd[$0] * y[$0] + g[$0] * yd[$0] }
            case .log: put(ma, gda, m) { (gd[$0] - g[$0] * yd[$0]) / a[$0] }
            case .sqrt: put(ma, gda, m) { 0.5 * (gd[$0] - g[$0] * yd[$0] / y[$0]) / y[$0] }
            case .normSqrt:
                put(ma, gda, m) {
                    y[$0] == 0 ? gd[$0] * 0 + g[$0] * 0 : 0.5 * (gd[$0] - g[$0] * yd[$0] / y[$0]) / y[$0]
                }
            case .abs:
                put(ma, gda, m) {
                    let x = a[$0]
                    return x > 0 ? gd[$0] : (x < 0 ? -gd[$0] : gd[$0] * x)
                }
            case .sin: put(ma, gda, m) { gd[$0] * Foundation.cos(a[$0]) - g[$0] * y[$0] * ad[$0] }
            case .cos: put(ma, gda, m) { -(gd[$0] * Foundation.sin(a[$0])) - g[$0] * y[$0] * ad[$0] }
            case .tan: put(ma, gda, m) { gd[$0] * (1 + y[$0] * y[$0]) + 2 * g[$0] * y[$0] * yd[$0] }
            case .tanh: put(ma, gda, m) { gd[$0] * (1 - y[$0] * y[$0]) - 2 * g[$0] * y[$0] * yd[$0] }
            case .atan: put(ma, gda, m) { (gd[$0] - 2 * g[$0] * a[$0] * yd[$0]) / (1 + a[$0] * a[$0]) }
            case .sinh: put(ma, gda, m) { gd[$0] * Foundation.cosh(a[$0]) + g[$0] * y[$0] * ad[$0] }
            case .cosh: put(ma, gda, m) { gd[$0] * Foundation.sinh(a[$0]) + g[$0] * y[$0] * ad[$0] }
            case .sigmoid: put(ma, gda, m) { gd[$0] * y[$0] * (1 - y[$0]) + g[$0] * (1 - 2 * y[$0]) * yd[$0] }
            case .softplus:
                put(ma, gda, m) {
                    let s = sigmoidF(a[$0])
                    return gd[$0] * s + g[$0] * s * (1 - s) * ad[$0]
                }
            }
        }
    }

    /// Values, optionally gradients, and the products ∇²_x f v of `count` points, where x is the
    /// first `k` inputs (the others held): `directions[p * k + a]`, `products[p * k + a]`.
    func runHessian(
        inputs: UnsafePointer<Double>, directions: UnsafePointer<Double>, count: Int, varying k: Int,
        products: UnsafeMutablePointer<Double>, values: UnsafeMutablePointer<Double>?,
        gradients: UnsafeMutablePointer<Double>?, storage: WorkspaceStorage, tangents: TangentStorage
    ) {
        let B = storage.batch
        let n = inputCount
        let (V, G, T, GT) = (storage.values, storage.adjoints, tangents.tangents, tangents.adjointTangents)
        let outSlot = output
        let varying = Int32(k)
        let outputVaries = lowestInput[outSlot] < varying
        inputTouched.withUnsafeBufferPointer { touched in
            lowestInput.withUnsafeBufferPointer { lowest in
                tape.withUnsafeBufferPointer { tp in
                    var start = 0
                    while start < count {
                        let m = Swift.min(B, count - start)
                        let src = inputs + start * n
                        let dir = directions + start * k
                        for a in 0..<n {
                            let (dst, tdst) = (V + a * B, T + a * B)
                            for j in 0..<m { dst[j] = src[j * n + a] }
                            if a < k {
                                for j in 0..<m { tdst[j] = dir[j * k + a] }
                            } else {
                                for j in 0..<m { tdst[j] = 0 }
                            }
                        }
                        forward(tp, V, B, m)
                        if let values {
                            let out = V + outSlot * B
                            for j in 0..<m { values[start + j] = out[j] }
                        }
                        let pdst = products + start * k
                        if outputVaries { tangentForward(tp, lowest, varying: varying, V, T, B, m) }
                        if outputVaries || gradients != nil {
                            let seed = G + outSlot * B
                            for j in 0..<m { seed[j] = 1 }
                            backward(tp, V, G, B, m)
                        }
                        if outputVaries {
                            let seed = GT + outSlot * B
                            for j in 0..<m { seed[j] = 0 }
                            tangentBackward(tp, lowest, varying: varying, V, T, G, GT, B, m)
                        }
                        if let gradients {
                            let gdst = gradients + start * n
                            for a in 0..<n {
                                let gs = G + a * B
                                for j in 0..<m { gdst[j * n + a] = touched[a] ? gs[j] : 0 }
                            }
                        }
                        for a in 0..<k {
                            let hs = GT + a * B
                            for j in 0..<m { pdst[j * k + a] = outputVaries && touched[a] ? hs[j] : 0 }
                        }
                        start += m
                    }
                }
            }
        }
    }
}

/// Scratch memory of the Hessian-vector product: the tangents of the values and of the adjoints.
final class TangentStorage {
    let batch: Int
    let slotCapacity: Int
    let tangents: UnsafeMutablePointer<Double>
    let adjointTangents: UnsafeMutablePointer<Double>

    /// Sized as `storage`, whose values and adjoints it goes with.
    init(matching storage: WorkspaceStorage) {
        batch = storage.batch
        slotCapacity = storage.slotCapacity
        tangents = .allocate(capacity: batch * slotCapacity)
        tangents.initialize(repeating: 0, count: batch * slotCapacity)
        adjointTangents = .allocate(capacity: batch * slotCapacity)
        adjointTangents.initialize(repeating: 0, count: batch * slotCapacity)
    }

    deinit {
        tangents.deallocate()
        adjointTangents.deallocate()
    }
}

extension Formula {
    /// Hessian-vector products ∇²_x f(x, y) v of `count` points, exact to rounding (forward
    /// over reverse on the tape), where x is the first `varying` inputs and the others (a
    /// payoff's y: a data row) are held.
    ///
    /// - Parameters:
    ///   - inputs: `inputs[p * inputCount + a]` is input `a` of point `p`, as for `evaluate`.
    ///   - directions: `directions[p * varying + a]` is coordinate `a` of point `p`'s v.
    ///   - count: The number of points.
    ///   - varying: k, the inputs x that v moves (from 0 to `inputCount`; nil: all of them).
    ///   - products: Receives `products[p * varying + a]`, component `a` of ∇²_x f v at point `p`.
    ///   - values: If not nil, receives the values, as `evaluate`.
    ///   - gradients: If not nil, receives the gradients in every input, as `evaluate`.
    ///   - workspace: Scratch memory, one per thread (its tangents are allocated on first use).
    ///
    /// Second derivatives follow the gradient's conventions where a derivative is not defined:
    /// min and max pass the selected argument's (ties: the first), abs has abs'' = 0, norm's
    /// square root has derivatives 0 at 0, and a^b's derivatives in b are 0 where a^b = 0.
    public func hessianVectorProducts(
        inputs: UnsafePointer<Double>, directions: UnsafePointer<Double>, count: Int, varying: Int? = nil,
        products: UnsafeMutablePointer<Double>, values: UnsafeMutablePointer<Double>? = nil,
        gradients: UnsafeMutablePointer<Double>? = nil, workspace: inout FormulaWorkspace
    ) {
        let k = varying ?? inputCount
        if k < 0 || k > inputCount {  // fatalError, not precondition: kept under -Ounchecked
            fatalError("formula '\(source)': \(k) varying inputs of \(inputCount)")
        }
        guard count > 0 else { return }
        if workspace.storage.slotCapacity < program.slotCount {
            workspace.storage = WorkspaceStorage(batch: workspace.storage.batch, slots: program.slotCount)
        }
        let storage = workspace.storage
        if workspace.tangents == nil || workspace.tangents!.slotCapacity != storage.slotCapacity
            || workspace.tangents!.batch != storage.batch
        {
            workspace.tangents = TangentStorage(matching: storage)
        }
        program.runHessian(
            inputs: inputs, directions: directions, count: count, varying: k, products: products, values: values,
            gradients: gradients, storage: storage, tangents: workspace.tangents!)
    }

    /// ∇²_x f v at one point, x the first `direction.count` inputs. Allocates; for tests and tools.
    public func hessianVectorProduct(at point: [Double], direction: [Double]) -> [Double] {
        if point.count != inputCount {
            fatalError("formula '\(source)' takes \(inputCount) inputs, got \(point.count)")
        }
        var workspace = FormulaWorkspace(for: self, batch: 1)
        var products = [Double](repeating: 0, count: direction.count)
        var dummy = 0.0
        point.withUnsafeBufferPointer { p in
            direction.withUnsafeBufferPointer { v in
                products.withUnsafeMutableBufferPointer { out in
                    withUnsafeMutablePointer(to: &dummy) { d in
                        hessianVectorProducts(
                            inputs: p.baseAddress ?? UnsafePointer(d), directions: v.baseAddress ?? UnsafePointer(d),
                            count: 1, varying: direction.count, products: out.baseAddress ?? d, workspace: &workspace)
                    }
                }
            }
        }
        return products
    }
}
