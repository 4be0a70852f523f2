import CFFTW
import Foundation

/// Gaussian kernel sums on a mesh, d = 1, 2, 3 (fast Gaussian gridding, in the spirit of
/// Greengard & Lee 2004 and of the spectral Ewald methods): with σ² = 2τ² + ρ²,
///
///     G_σ = (σ / (2π τ² ρ))^d · G_τ * G_ρ * G_τ,     G_v(x) = exp(−|x|²/(2v²)),
///
/// so a sum is (1) spreading the weights onto a grid of spacing h with the window G_τ,
/// (2) a discrete convolution with G_ρ by FFTW (r2c, multiply, c2r), (3) interpolating
/// back with G_τ — and its analytic gradient ∇G_τ for the gradient channels. Both continuous
/// convolutions are replaced by sums over the grid, whose error for a Gaussian of width v
/// sampled every h is about exp(−2π² v²/h²): h = τ/q with q = √(ln(10/ε)/(2π²)) (τ = ρ = σ/√3),
/// and the windows are cut where they fall below ε/10 (half-width τ√(2 ln(10/ε))). The grid
/// covers all points plus the two windows, so the periodic FFT does not wrap.
///
/// Spreading is serial and FFTW runs single-threaded, so results do not depend on `threads`
/// (interpolation, per target, is split across threads). Plans and buffers are kept for the
/// last grid shape and reused while the shape does not change.
public struct MeshSum: KernelSumEngine {
    public let tolerance: Double
    public let threads: Int
    let workspace = MeshWorkspace()

    public init(tolerance: Double, threads: Int) {
        self.tolerance = tolerance
        self.threads = max(1, threads)
    }

    public var name: String { "mesh" }
    public var parameters: [String: String] {
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        return workspace.report.merging(["tolerance": "\(tolerance)"]) { a, _ in a }
    }

    /// Why this engine cannot sum `kernel` in dimension d, or nil.
    public static func unsupported(_ kernel: any RadialKernel, dimension d: Int) -> String? {
        guard kernel is GaussianKernel else { return "the mesh engine sums gaussian kernels only so far, not \(kernel.spec) (use direct)" }
        guard (1...3).contains(d) else { return "the mesh engine works in dimensions 1 to 3, not \(d) (use direct)" }
        return nil
    }

    public func sum(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
                    values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        precondition(MeshSum.unsupported(kernel, dimension: problem.dimension) == nil)
        let sigma = (kernel as! GaussianKernel).sigma
        let d = problem.dimension, n = problem.sourceCount, m = problem.targetCount
        let channels = problem.channels, gch = problem.gradientChannels, g = gch.count
        // Aim 10⁷× below the tolerance: values come out near 10⁻²·ε, but gradients, measured
        // relative to their maximum, can be 10⁵–10⁶·ε on clustered data where they cancel (the
        // tests' worst case). The cost grows only like log(1/ε)^(d/2).
        let eps = max(1e-17, min(1e-2, tolerance) / 1e7)
        let q = max(0.5, (log(10 / eps) / (2 * Double.pi * Double.pi)).squareRoot())
        let tau = sigma / 3.0.squareRoot(), rho = tau
        let h = tau / q
        let cut = (2 * log(10 / eps)).squareRoot()
        let wt = Int((tau * cut / h).rounded(.up)), wr = Int((rho * cut / h).rounded(.up))
        // Grid: origin and size per axis covering sources and targets plus both windows.
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        for buffer in [problem.sources, problem.targets] {
            for k in 0..<(buffer.count / d) { for a in 0..<d { lo[a] = min(lo[a], buffer[k * d + a]); hi[a] = max(hi[a], buffer[k * d + a]) } }
        }
        let pad = wt + wr + 2
        var shape = [Int](repeating: 1, count: 3), origin = [Double](repeating: 0, count: 3)
        for a in 0..<d {
            origin[a] = lo[a] - Double(pad) * h
            shape[a] = MeshSum.fftSize(Int(((hi[a] - lo[a]) / h).rounded(.up)) + 2 * pad + 1)
        }
        let ws = workspace
        ws.lock.lock()
        defer { ws.lock.unlock() }
        ws.prepare(shape: Array(shape[0..<d]), channels: channels, rho: rho / h)
        ws.report = ["grid": shape[0..<d].map(String.init).joined(separator: "x"), "spacing": "\(h)",
                     "window-half-width": String(wt)]
        let (n0, n1, n2) = (shape[0], shape[1], shape[2])
        let total = n0 * n1 * n2
        let inv2t2 = 1 / (2 * tau * tau)
        let width = 2 * wt + 2
        // 1-D window factors of one point along each axis: indices start[a] ..< start[a] + width.
        // With t_k = t₀ + k h, exp(−t_k²/(2τ²)) = exp(−t₀²/(2τ²)) · E^k · exp(−k²h²/(2τ²)),
        // E = exp(−t₀h/τ²): two exponentials per axis instead of `width` (fast Gaussian gridding).
        let square = (0..<width).map { k in exp(-Double(k * k) * h * h * inv2t2) }
        func factors(_ p: UnsafePointer<Double>, _ f: UnsafeMutablePointer<Double>, _ start: UnsafeMutablePointer<Int>) {
            for a in 0..<3 {
                if a >= d { start[a] = 0; f[a * width] = 1; for k in 1..<width { f[a * width + k] = 0 }; continue }
                let u = (p[a] - origin[a]) / h
                let s = Int(u.rounded(.down)) - wt
                start[a] = s
                let t0 = (Double(s) - u) * h
                let e = exp(-2 * t0 * h * inv2t2)
                var power = exp(-t0 * t0 * inv2t2)
                for k in 0..<width {
                    f[a * width + k] = power * square[k]
                    power *= e
                }
            }
        }
        let widths = [width, d >= 2 ? width : 1, d >= 3 ? width : 1]

        // (1) Spread, serially: grid_c += w_ic · Π_a f_a.
        let grid: UnsafeMutablePointer<Double> = ws.real
        grid.initialize(repeating: 0, count: total * channels)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * width) { fb in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                let f = fb.baseAddress!, start = sb.baseAddress!
                for i in 0..<n {
                    factors(problem.sources.baseAddress! + i * d, f, start)
                    for c in 0..<channels {
                        let wi = problem.weights[c * n + i]
                        if wi == 0 { continue }
                        let base = grid + c * total
                        for k0 in 0..<widths[0] {
                            let f0 = wi * f[k0]
                            for k1 in 0..<widths[1] {
                                let f01 = f0 * f[width + k1]
                                let row = ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                for k2 in 0..<widths[2] { base[row + k2] += f01 * f[2 * width + k2] }
                            }
                        }
                    }
                }
            }
        }
        // (2) Convolve each channel with the sampled G_ρ: r2c, multiply, c2r (unnormalised).
        let complexCount = ws.complexCount
        for c in 0..<channels {
            fftw_execute_dft_r2c(ws.forward, grid + c * total, ws.spectrum)
            for k in 0..<complexCount {
                let kr = ws.kernelSpectrum[k]
                ws.spectrum[k].0 *= kr
                ws.spectrum[k].1 *= kr
            }
            fftw_execute_dft_c2r(ws.backward, ws.spectrum, grid + c * total)
        }
        // (3) Interpolate: s = A hᵈ/total Σ_u G_τ(y − u) H(u), ∇s = A hᵈ/total Σ_u −(y − u)/τ² G_τ H.
        let amplitude = pow(sigma / (2 * Double.pi * tau * tau * rho), Double(d)) * pow(h, Double(2 * d)) / Double(total)
        let gridPointer = SharedPointer(UnsafePointer(grid))
        let targets = SharedPointer(problem.targets.baseAddress!)
        let out = SharedMutablePointer(values.baseAddress!), gout = SharedMutablePointer(gradients.baseAddress ?? values.baseAddress!)
        let originCopy = origin
        var gradientIndex = [Int](repeating: -1, count: channels)
        for (gi, c) in gch.enumerated() { gradientIndex[c] = gi }
        let gradientIndexCopy = gradientIndex
        let factorsBox = UnsafeSendableFunction(factors)
        Parallel.forEachChunk(m, threads: threads, minimumChunk: 64) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 6 * width) { fb in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { sb in
                    let f = fb.baseAddress!, df = f + 3 * width
                    let start = sb.baseAddress!
                    for j in range {
                        let y = targets.base + j * d
                        factorsBox.call(y, f, start)
                        // Derivative factors: d/dy_a exp(−(u − y)²/(2τ²)) = (u − y)/τ² · f.
                        for a in 0..<3 {
                            for k in 0..<width {
                                let t = a < d ? (Double(start[a] + k) * h + originCopy[a] - y[a]) : 0
                                df[a * width + k] = t / (tau * tau) * f[a * width + k]
                            }
                        }
                        // Separable sums, innermost axis first: per grid row Σ f₂H and Σ f₂'H, then
                        // along axis 1 and axis 0 with the value and derivative factors.
                        let f0 = f, f1 = f + width, f2 = f + 2 * width
                        let d0 = df, d1 = df + width, d2 = df + 2 * width
                        for c in 0..<channels {
                            let grid = gridPointer.base + c * total
                            let gi = gradientIndexCopy[c]
                            var value = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0
                            for k0 in 0..<widths[0] {
                                var rv = 0.0, r1 = 0.0, r2 = 0.0
                                for k1 in 0..<widths[1] {
                                    let row = grid + ((start[0] + k0) * n1 + (start[1] + k1)) * n2 + start[2]
                                    var iv = 0.0, i2 = 0.0
                                    for k2 in 0..<widths[2] {
                                        iv += f2[k2] * row[k2]
                                        i2 += d2[k2] * row[k2]
                                    }
                                    rv += f1[k1] * iv
                                    r1 += d1[k1] * iv
                                    r2 += f1[k1] * i2
                                }
                                value += f0[k0] * rv
                                g0 += d0[k0] * rv
                                g1 += f0[k0] * r1
                                g2 += f0[k0] * r2
                            }
                            out[j * channels + c] = amplitude * value
                            if gi >= 0 {
                                let gj = gout.base + (j * g + gi) * d
                                gj[0] = amplitude * g0
                                if d > 1 { gj[1] = amplitude * g1 }
                                if d > 2 { gj[2] = amplitude * g2 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The smallest n' ≥ n whose prime factors are 2, 3 and 5 (FFTW's fast sizes).
    public static func fftSize(_ n: Int) -> Int {
        var k = max(2, n)
        while true {
            var r = k
            for p in [2, 3, 5] { while r % p == 0 { r /= p } }
            if r == 1 { return k }
            k += 1
        }
    }
}

struct UnsafeSendableFunction: @unchecked Sendable {
    let call: (UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int>) -> Void
    init(_ f: @escaping (UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int>) -> Void) { call = f }
}

/// FFTW plans, buffers and the convolution kernel's spectrum for one grid shape, reused while
/// the shape stays the same. FFTW planning is not thread-safe: one global lock guards it.
final class MeshWorkspace: @unchecked Sendable {
    static let planning = NSLock()
    let lock = NSLock()
    var shape: [Int] = [], channels = 0, rho = 0.0
    // Valid once `prepare` has run (the engine calls it before any use).
    var real: UnsafeMutablePointer<Double>! = nil
    var spectrum: UnsafeMutablePointer<fftw_complex>! = nil
    var kernelSpectrum: [Double] = []
    var complexCount = 0
    var forward: fftw_plan? = nil, backward: fftw_plan? = nil
    var report: [String: String] = [:]

    /// Plans for `shape` (real n0×…×n_{d−1}) and the spectrum of G_ρ sampled at minimum-image
    /// offsets (ρ in grid units): real and even, so its transform is real.
    func prepare(shape newShape: [Int], channels c: Int, rho r: Double) {
        if newShape == shape && c <= channels && r == rho { return }
        release()
        shape = newShape
        channels = c
        rho = r
        let total = shape.reduce(1, *)
        complexCount = total / shape[shape.count - 1] * (shape[shape.count - 1] / 2 + 1)
        real = UnsafeMutablePointer<Double>(fftw_alloc_real(total * c))
        spectrum = UnsafeMutablePointer<fftw_complex>(fftw_alloc_complex(complexCount))!
        var dims = shape.map { Int32($0) }
        MeshWorkspace.planning.lock()
        forward = fftw_plan_dft_r2c(Int32(shape.count), &dims, real, spectrum, FFTW_ESTIMATE)
        backward = fftw_plan_dft_c2r(Int32(shape.count), &dims, spectrum, real, FFTW_ESTIMATE)
        MeshWorkspace.planning.unlock()
        // Sample G_ρ on the periodic grid and transform it once.
        let s = shape + [Int](repeating: 1, count: 3 - shape.count)
        for i0 in 0..<s[0] { for i1 in 0..<s[1] { for i2 in 0..<s[2] {
            func image(_ i: Int, _ n: Int) -> Double { Double(i <= n / 2 ? i : i - n) }
            let r2 = pow(image(i0, s[0]), 2) + (s[1] > 1 ? pow(image(i1, s[1]), 2) : 0) + (s[2] > 1 ? pow(image(i2, s[2]), 2) : 0)
            real[(i0 * s[1] + i1) * s[2] + i2] = exp(-r2 / (2 * r * r))
        } } }
        fftw_execute_dft_r2c(forward, real, spectrum)
        kernelSpectrum = (0..<complexCount).map { spectrum[$0].0 }
    }

    func release() {
        if let f = forward { fftw_destroy_plan(f) }
        if let b = backward { fftw_destroy_plan(b) }
        forward = nil
        backward = nil
        if let r = real { fftw_free(r) }
        if let s = spectrum { fftw_free(s) }
        real = nil
        spectrum = nil
    }

    deinit { release() }
}
