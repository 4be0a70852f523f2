import Foundation
import KernelSum

/// W = weight · k for a kernel k of the registry. In R^d the sums go through the kernel-sum
/// engine of the flow's `summation` (so `mesh` gives the NUFFT far field with the exact near
/// field, which handles the singular log and Coulomb kernels): with weights w_j·weight,
/// the engine's gradient ∇_y Σ_j w_j W(y − x_j) at y = x_i is exactly Σ_j w_j ∇W(x_i − x_j).
/// In the periodic box the sum is direct, O(N²), each pair through its minimum image
/// (no Ewald sum: suited to kernels that have decayed by L/2).
public final class KernelInteraction: Interaction {
    public let kernel: any RadialKernel
    public let weight: Double
    let engine: (any KernelSumEngine)?
    let domain: Domain
    let threads: Int
    var scaled: [Double] = [], values: [Double] = [], gradients: [Double] = []

    public init(kernel: any RadialKernel, weight: Double, engine: (any KernelSumEngine)?, domain: Domain, threads: Int) {
        precondition(engine != nil || domain != .free, "R^d needs an engine")
        self.kernel = kernel
        self.weight = weight
        self.engine = engine
        self.domain = domain
        self.threads = threads
    }

    public var spec: String { "\(formatNumber(weight))·\(kernel.spec)" }

    public var report: [String: String] {
        guard let engine else { return ["summation": "periodic direct (minimum image)"] }
        var r = ["summation": engine.name]
        for (k, v) in engine.parameters { r["summation-\(k)"] = v }
        return r
    }

    /// Values s_i = Σ_j w_j·weight·k(x_i − x_j) (diagonal included where the engine includes it)
    /// and gradients, into `values` and `gradients`.
    func sums(_ x: [Double], _ w: [Double], _ d: Int) {
        if let engine {
            if scaled.count != w.count { scaled = [Double](repeating: 0, count: w.count) }
            for j in 0..<w.count { scaled[j] = w[j] * weight }
            engine.sum(kernel, dimension: d, sources: x, weights: scaled, channels: 1, targets: x,
                       gradientChannels: [0], values: &values, gradients: &gradients)
        } else {
            periodicSums(x, w, d)
        }
    }

    /// Minimum-image direct sums, self excluded; each target independent (any thread count).
    func periodicSums(_ x: [Double], _ w: [Double], _ d: Int) {
        let n = w.count
        if values.count != n { values = [Double](repeating: 0, count: n) }
        if gradients.count != n * d { gradients = [Double](repeating: 0, count: n * d) }
        let kernel = self.kernel, weight = self.weight, domain = self.domain
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                values.withUnsafeMutableBufferPointer { vp in
                    gradients.withUnsafeMutableBufferPointer { gp in
                        let X = SharedPointer(xp.baseAddress!), W = SharedPointer(wp.baseAddress!)
                        let V = SharedMutablePointer(vp.baseAddress!), G = SharedMutablePointer(gp.baseAddress!)
                        Parallel.forEachChunk(n, threads: threads, minimumChunk: 16) { range in
                            var z = [Double](repeating: 0, count: d), g = [Double](repeating: 0, count: d)
                            for i in range {
                                var v = 0.0
                                for a in 0..<d { g[a] = 0 }
                                for j in 0..<n where j != i {
                                    var r2 = 0.0
                                    for a in 0..<d {
                                        let t = domain.difference(X.base[i * d + a] - X.base[j * d + a])
                                        z[a] = t
                                        r2 += t * t
                                    }
                                    let (kv, slope) = kernel.profile(squaredDistance: r2)
                                    let c = W.base[j] * weight
                                    v += c * kv
                                    for a in 0..<d { g[a] += c * slope * z[a] }
                                }
                                V.base[i] = v
                                for a in 0..<d { G.base[i * d + a] = g[a] }
                            }
                        }
                    }
                }
            }
        }
    }

    public func addGradients(_ positions: [Double], weights: [Double], dimension d: Int, into out: inout [Double]) {
        sums(positions, weights, d)
        for k in 0..<out.count { out[k] += gradients[k] }
    }

    public func energy(_ positions: [Double], weights: [Double], dimension d: Int) -> Double {
        sums(positions, weights, d)
        var e = 0.0
        for i in 0..<weights.count { e += weights[i] * values[i] }
        // Engines include the diagonal w_i² W(0) for kernels finite at 0; leave it out.
        if engine != nil && kernel.regularity != .singular {
            let k0 = weight * kernel.value(squaredDistance: 0)
            for w in weights { e -= w * w * k0 }
        }
        return 0.5 * e
    }

    /// A term from a kernel spec; `fail` locates errors at the key that gave it.
    static func make(_ text: String, context ctx: InteractionContext, fail: (String) -> SettingsError) throws -> KernelInteraction {
        let kernel: any RadialKernel
        do { kernel = try KernelRegistry.make(text) } catch let e as KernelSpecError { throw fail(e.message) }
        let s = ctx.flowSettings
        if ctx.domain != .free {
            let method = try s.string("summation", default: "direct", oneOf: SummationMethod.allCases.map(\.rawValue))
            guard method == "direct" || method == "auto" else {
                throw s.fail("summation", "\(method) does not handle the periodic box: use direct (minimum-image direct sum) or omit period")
            }
            return KernelInteraction(kernel: kernel, weight: ctx.weight, engine: nil, domain: ctx.domain, threads: ctx.threads)
        }
        let engine = try readEngine(s, kernel: kernel, dimension: ctx.dimension, threads: ctx.threads, seed: ctx.seed)
        return KernelInteraction(kernel: kernel, weight: ctx.weight, engine: engine, domain: ctx.domain, threads: ctx.threads)
    }
}
