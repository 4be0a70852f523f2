import Foundation
import KernelSum

/// Newton's method on the semi-dual of OT_ε, where Sinkhorn's iterations crawl.
///
/// Sinkhorn's rate tends to 1 as ε shrinks against the cost differences the plan must resolve:
/// between two samples of N(0, I) in 2-D at ε = 0.1 (300 points each) an outlying point's
/// potential still moves by 5·10⁻⁶ after 20000 iterations and the value by 10⁻⁸ (the
/// changes decay like 1/k over that range). The semi-dual
///
///     D(g) = ⟨α, T_β(g)⟩ + ⟨β, g⟩,   ∇D = b − Pᵀ1,   ∇²D = −(1/ε) (diag(Pᵀ1) − Pᵀ diag(1/a) P),
///
/// P_ij = a_i b_j exp((f_i + g_j − |x_i − y_j|²)/ε) with f = T_β(g) (rows exact), is concave
/// and smooth; its Hessian is a graph Laplacian (null vector 1, the potentials' constant).
/// Newton's step solves (diag(Pᵀ1) − Pᵀ diag(1/a) P) δ = ε ∇D by conjugate gradients
/// (Jacobi-preconditioned, a relative residual of min(0.1, √‖∇D‖₁): Eisenstat & Walker's
/// forcing), with a backtracking line search on D: global convergence, quadratic at the end
/// (Brauer, Clason, Lorenz & Wirth 2017, "A Sinkhorn–Newton method for entropic optimal
/// transport"). On the example above: 12 steps and 210 products with P, to rounding.
/// Each product with P or Pᵀ costs N·M exponentials, as one Sinkhorn half-step; P is never stored.
extension SinkhornDivergence {
    /// The most Newton steps before the solver gives up (NaN).
    public static let maximumNewtonSteps = 200
    /// The most conjugate-gradient iterations in one Newton step.
    static let maximumConjugateGradientIterations = 2000

    /// OT_ε(α, β) by Newton's method on g from `start`; nil when it does not converge.
    /// Converged: the marginal error ‖b − Pᵀ1‖₁ below 10⁻¹⁴, or the Newton decrement (the
    /// predicted gain ½⟨∇D, δ⟩) below 10⁻¹⁶ of the squared diameter.
    static func newton(
        _ alpha: Measure, _ beta: Measure, g start: [Double], dimension d: Int, epsilon: Double,
        squaredDiameter diameter2: Double, threads: Int, steps: inout Int
    ) -> Solution? {
        let m = beta.count
        func objective(_ g: [Double]) -> (value: Double, f: [Double]) {
            let f = softmin(
                epsilon: epsilon, targets: alpha, sources: beta, potential: g, dimension: d, threads: threads)
            return (dot(alpha.weights, f) + dot(beta.weights, g), f)
        }
        func plan(_ vector: [Double], transposed: Bool, squared: Bool = false, f: [Double], g: [Double]) -> [Double] {
            transposed
                ? planSums(
                    rows: beta, rowPotential: g, columns: alpha, columnPotential: f, vector: vector, squared: squared,
                    epsilon: epsilon, dimension: d, threads: threads)
                : planSums(
                    rows: alpha, rowPotential: f, columns: beta, columnPotential: g, vector: vector, squared: squared,
                    epsilon: epsilon, dimension: d, threads: threads)
        }
        var g = start
        var (value, f) = objective(g)
        let inverseA = alpha.weights.map { 1 / $0 }
        let ones = [Double](repeating: 1, count: alpha.count)
        var damping = 0.0
        for _ in 0..<maximumNewtonSteps {
            steps += 1
            let c = plan(ones, transposed: true, f: f, g: g)
            let gradient = (0..<m).map { beta.weights[$0] - c[$0] }
            let gradientNorm = gradient.reduce(0) { $0 + abs($1) }
            guard gradientNorm.isFinite else { return nil }
            if gradientNorm <= 1e-14 { return Solution(value: value, f: f, g: g) }
            // The Laplacian's diagonal, c_j − Σ_i P_ij²/a_i, for the preconditioner.
            let squares = plan(inverseA, transposed: true, squared: true, f: f, g: g)
            let mu = damping
            let preconditioner = (0..<m).map { j in 1 / max(c[j] - squares[j] + mu * c[j], 1e-300) }
            func laplacian(_ v: [Double]) -> [Double] {
                let pv = plan(v, transposed: false, f: f, g: g)
                let u = (0..<pv.count).map { pv[$0] * inverseA[$0] }
                let ptu = plan(u, transposed: true, f: f, g: g)
                return (0..<m).map { (1 + mu) * c[$0] * v[$0] - ptu[$0] }
            }
            let rhs = gradient.map { epsilon * $0 }
            let step = conjugateGradient(
                laplacian, rhs, preconditioner: preconditioner,
                relativeResidual: min(0.1, gradientNorm.squareRoot()))
            let slope = dot(gradient, step)
            guard slope.isFinite, slope > 0 else {
                return gradientNorm <= 1e-10 ? Solution(value: value, f: f, g: g) : nil
            }
            // The predicted gain ½⟨∇D, δ⟩ at rounding level (with damping too light to hide it).
            if mu <= 1e-6 && 0.5 * slope <= 1e-16 * diameter2 { return Solution(value: value, f: f, g: g) }
            // Backtracking (Armijo) on the concave D, from a step that moves no potential by
            // more than the squared diameter (their whole range) relative to the others.
            let mean = step.reduce(0, +) / Double(m)
            let largest = step.reduce(0) { max($0, abs($1 - mean)) }
            var t = min(1, diameter2 / largest)
            var accepted = false
            for _ in 0..<40 {
                let trial = (0..<m).map { g[$0] + t * step[$0] }
                let (trialValue, trialF) = objective(trial)
                if trialValue >= value + 1e-4 * t * slope {
                    (g, f, value) = (trial, trialF, trialValue)
                    accepted = true
                    break
                }
                t *= 0.5
            }
            // Levenberg–Marquardt: damp the near-null directions of the Laplacian (clusters the
            // plan barely couples at small ε), whose full Newton steps leave the region where
            // the quadratic model holds; undamp as full steps succeed (quadratic convergence).
            if accepted && t == 1 {
                damping = damping < 1e-12 ? 0 : damping / 4
            } else if accepted {
                damping = max(4 * damping, 1e-8)
            } else {
                // No gain along an ascent direction: at the maximum to rounding, or damp more.
                if gradientNorm <= 1e-10 { return Solution(value: value, f: f, g: g) }
                damping = max(16 * damping, 1e-4)
            }
        }
        return nil
    }

    /// Preconditioned conjugate gradients for A x = b (A symmetric positive semi-definite, b in
    /// its range), from x = 0, until ‖r‖ ≤ relativeResidual · ‖b‖ or the iteration cap.
    static func conjugateGradient(
        _ apply: ([Double]) -> [Double], _ b: [Double], preconditioner: [Double], relativeResidual: Double
    ) -> [Double] {
        var x = [Double](repeating: 0, count: b.count)
        var r = b
        var z = (0..<b.count).map { r[$0] * preconditioner[$0] }
        var p = z
        var rz = dot(r, z)
        let target = relativeResidual * dot(b, b).squareRoot()
        for _ in 0..<maximumConjugateGradientIterations {
            let ap = apply(p)
            let curvature = dot(p, ap)
            guard curvature > 0, curvature.isFinite else { break }
            let step = rz / curvature
            for i in x.indices {
                x[i] += step * p[i]
                r[i] -= step * ap[i]
            }
            if dot(r, r).squareRoot() <= target { break }
            for i in z.indices { z[i] = r[i] * preconditioner[i] }
            let next = dot(r, z)
            let beta = next / rz
            rz = next
            for i in p.indices { p[i] = z[i] + beta * p[i] }
        }
        return x
    }

    /// Σ_j P_ij^k v_j for every row i (k = 2 if `squared`, else 1), the plan's entries
    /// P_ij = a_i b_j exp((φ_i + ψ_j − |r_i − s_j|²)/ε) between the rows' measure (weights a,
    /// potential φ) and the columns' (b, ψ). Entries are at most 1 near the optimum: no shift.
    static func planSums(
        rows: Measure, rowPotential: [Double], columns: Measure, columnPotential: [Double], vector: [Double],
        squared: Bool, epsilon: Double, dimension d: Int, threads: Int
    ) -> [Double] {
        let m = columns.count
        let power = VectorMath.V(repeating: squared ? 2 : 1)
        let exponents = (0..<m).map { columns.logWeights[$0] + columnPotential[$0] / epsilon }
        let rowExponents = (0..<rows.count).map { rows.logWeights[$0] + rowPotential[$0] / epsilon }
        return rowsOfExponents(
            targets: rows, sources: columns, exponents: exponents, epsilon: epsilon, dimension: d, threads: threads
        ) { t, i in
            let shift = VectorMath.V(repeating: rowExponents[i])
            return vector.withUnsafeBufferPointer { v in
                var lanes = VectorMath.V(repeating: 0)
                var j = 0
                while j + 8 <= m {
                    let e = UnsafeRawPointer(t + j).loadUnaligned(as: VectorMath.V.self)
                    let w = UnsafeRawPointer(v.baseAddress! + j).loadUnaligned(as: VectorMath.V.self)
                    lanes += VectorMath.exp((e + shift) * power) * w
                    j += 8
                }
                var sum = lanes.sum()
                while j < m {
                    sum += Foundation.exp((t[j] + rowExponents[i]) * power[0]) * v[j]
                    j += 1
                }
                return sum
            }
        }
    }
}
