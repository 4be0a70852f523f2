import Foundation

/// The 1-D profile f of a radial kernel K(x) = F(|x|) on R^d for slicing (Hertrich 2024; Rux,
/// Quellmalz, Steidl & Hertrich): F(|x|) = E_ξ f(⟨ξ, x⟩), ξ uniform on S^{d−1}. By the
/// projection-slice theorem the 1-D Fourier transform of f (f̂(ρ) = ∫ f(t) e^{−iρt} dt) is
///
///     f̂(ρ) = |S^{d−1}| / (2 (2π)^{d−1}) · |ρ|^{d−1} Ψ̂(|ρ|),   |S^{d−1}| = 2π^{d/2} / Γ(d/2),
///
/// Ψ̂ the kernel's d-dimensional spectral density (``RadialKernel/logSpectralDensity(radius:dimension:)``);
/// the constant makes f(0) = (1/π)∫₀^∞ f̂ = (2π)^{−d}∫ Ψ̂ = F(0). For the Gaussian this is
/// f(t) = ₁F₁(d/2; 1/2; −t²/(2σ²)). The sliced engine sums f along each direction by a cosine
/// series (``series(span:)``): O((N + M) K) per direction for K frequencies. A profile with a
/// kink at 0 (Laplace) is split, f = g + c e^{−a|t|} (``SliceCusp``): the series then holds the
/// smooth g, and the exponential is summed exactly by sorting.
public struct SliceProfile: Sendable {
    /// d.
    public let dimension: Int
    /// The accuracy ε of the series, relative to f(0) for values and to (1/π)∫ρ f̂ ≥ max|f′| for
    /// slopes: the truncated spectrum and the aliased tails of f each stay below it.
    public let accuracy: Double
    /// ρ_max: the spectrum beyond it holds less than ε of ∫f̂ and of ∫ρ f̂.
    public let highestFrequency: Double
    /// ρ_min: below it (where f̂ increases) the spectrum holds less than ε of both (0 in 1-D).
    public let lowestFrequency: Double
    /// T: |f(t)| ≤ ε f(0) for |t| ≥ T (scanned on a grid of step 1/(2ρ*), ρ* where ρ f̂ peaks).
    public private(set) var reach: Double
    /// The kink split off f, nil for a smooth profile: the series and ``spectrum(_:)`` are then
    /// those of the remainder g = f − c e^{−a|t|}.
    public let cusp: SliceCusp?
    let logDensity: @Sendable (Double) -> Double
    let logConstant: Double
    /// Where ρ f̂(ρ) peaks: the frequency scale.
    let peak: Double

    /// The profile of `kernel` in dimension `d` to accuracy ε, or nil if the kernel gives no
    /// spectral density (or its profile's slope series does not converge).
    /// - Parameters:
    ///   - kernel: the kernel.
    ///   - d: the dimension, at least 1.
    ///   - accuracy: ε, taken within [1e-15, 0.1].
    public init?(_ kernel: any RadialKernel, dimension d: Int, accuracy: Double) {
        guard d >= 1, kernel.logSpectralDensity(radius: 1, dimension: d) != nil else { return nil }
        let dd = Double(d)
        dimension = d
        self.accuracy = min(0.1, max(1e-15, accuracy))
        logDensity = TabulatedLogDensity.logDensity(kernel, dimension: d)
        // log(|S^{d−1}| / (2 (2π)^{d−1})).
        logConstant = (dd / 2) * log(Double.pi) - lgamma(dd / 2) - (dd - 1) * log(2 * Double.pi)
        cusp = kernel.slicingCusp(dimension: d)
        if let cusp, cusp.remainderSpectrum == nil {
            // f is the exponential alone: an empty series, any positive period.
            (peak, highestFrequency, lowestFrequency, reach) = (cusp.rate, 0, 0, 1 / cusp.rate)
            return
        }
        // ρ* on a coarse log grid, then the tails of ∫|f̂| and ∫ρ|f̂| on a fine one (ρ = e^u).
        let logSpectrum = { [logConstant, logDensity, cusp] (rho: Double) -> Double in
            if let remainder = cusp?.remainderSpectrum { return log(abs(remainder(rho))) }
            return logConstant + (dd - 1) * log(rho) + logDensity(rho)
        }
        let coarse = (-240...240).map { pow(2, Double($0) / 4) }
        peak = coarse.max { logSpectrum($0) + log($0) < logSpectrum($1) + log($1) }!
        let du = 0.01
        let us = Array(stride(from: log(peak) - 60, through: log(peak) + 60, by: du))
        // Integrands in u: f̂(e^u) e^u and f̂(e^u) e^{2u}, relative to their largest value.
        let l0 = us.map { logSpectrum(exp($0)) + $0 }
        let l1 = us.map { logSpectrum(exp($0)) + 2 * $0 }
        let m0 = l0.max()!
        let m1 = l1.max()!
        let g0 = l0.map { exp($0 - m0) }
        let g1 = l1.map { exp($0 - m1) }
        let total0 = g0.reduce(0, +)
        let total1 = g1.reduce(0, +)
        let eps = self.accuracy
        var tail0 = 0.0
        var tail1 = 0.0
        var top = us.count - 1
        while top > 0, tail0 + g0[top] <= eps * total0, tail1 + g1[top] <= eps * total1 {
            tail0 += g0[top]
            tail1 += g1[top]
            top -= 1
        }
        highestFrequency = exp(us[top])
        // Below the peak of f̂ itself, f̂ increases: dropping the terms below ρ_min errs by at
        // most (1/π)∫₀^{ρ_min} f̂ (a sum of an increasing function under its integral).
        let increasingUpTo = zip(us, l0).max { $0.1 - $0.0 < $1.1 - $1.0 }!.0
        var head0 = 0.0
        var head1 = 0.0
        var bottom = 0
        // A cusp's remainder has ĝ(0) = f̂(0) − 2c/a ≠ 0: no frequency is dropped.
        while d > 1, cusp == nil, us[bottom] < increasingUpTo, head0 + g0[bottom] <= eps * total0,
            head1 + g1[bottom] <= eps * total1
        {
            head0 += g0[bottom]
            head1 += g1[bottom]
            bottom += 1
        }
        lowestFrequency = d > 1 && cusp == nil ? exp(us[bottom]) : 0
        reach = 0
        reach = scanReach()
    }

    /// f̂(ρ) (ĝ(ρ) with a ``cusp``), |ρ| used.
    /// - Parameter rho: ρ.
    public func spectrum(_ rho: Double) -> Double {
        let r = abs(rho)
        if let cusp { return cusp.remainderSpectrum?(r) ?? 0 }
        // At 0 in d > 1, the limit of ρ^{d−1} Ψ̂(ρ), taken at 10⁻¹² ρ*: 0 when Ψ̂(0) is finite
        // (up to 10⁻¹²), the mean ∫f ≠ 0 when Ψ̂ ~ ρ^{1−d} (imq with β = −½, F ~ 1/r).
        guard r > 0 else {
            guard dimension > 1 else { return exp(logDensity(0)) }
            return exp(logConstant + Double(dimension - 1) * log(1e-12 * peak) + logDensity(1e-12 * peak))
        }
        return exp(logConstant + Double(dimension - 1) * log(r) + logDensity(r))
    }

    /// f(t) and f′(t): `seriesValue(_:)` plus the ``cusp``'s exponential.
    /// - Parameter t: t.
    public func value(_ t: Double) -> (value: Double, derivative: Double) {
        let smooth = seriesValue(t)
        guard let kink = cusp?.value(t) else { return smooth }
        return (smooth.value + kink.value, smooth.derivative + kink.derivative)
    }

    /// What the series sums, f (g with a ``cusp``), and its derivative:
    /// (1/π)∫₀^{ρ_max} f̂(ρ) (cos ρt, −ρ sin ρt) dρ by 8-point Gauss–Legendre on panels at most
    /// 1/|t| wide and max(ρ*, ρ)/16 (f̂ smooth on that scale): accurate to ε f(0) (the
    /// truncated spectrum) and to rounding otherwise.
    /// - Parameter t: t.
    func seriesValue(_ t: Double) -> (value: Double, derivative: Double) {
        let oscillation = 1 / max(abs(t), 1e-300)
        var v = 0.0
        var s = 0.0
        var lo = 0.0
        while lo < highestFrequency {
            let h = min(highestFrequency - lo, oscillation, max(peak, lo) / 16)
            let mid = lo + 0.5 * h
            for (x, w) in SliceProfile.gaussLegendre8 {
                let rho = mid + 0.5 * h * x
                let f = w * 0.5 * h * spectrum(rho)
                v += f * cos(rho * t)
                s -= f * rho * sin(rho * t)
            }
            lo += h
        }
        return (v / Double.pi, s / Double.pi)
    }

    /// The T of ``reach``: the last |f(t)| > ε f(0) (|g(t)| with a cusp) on a grid of step 1/(2ρ*) up to 32/ρ*, then
    /// 5 % apart up to 10⁴/ρ* (where the tails fall monotonically: like t^{−d} for even d,
    /// exponentially for odd d; the scan stops 16 points past the last exceedance), the next
    /// grid point beyond it.
    func scanReach() -> Double {
        let f0 = abs(value(0).value)
        let uniform = (0...64).map { Double($0) * 0.5 / peak }
        let geometric = Array(sequence(first: 32 * 1.05 / peak) { $0 * 1.05 }.prefix { $0 < 1e4 / peak })
        let grid = uniform + geometric
        // Forward, stopping 16 points (a factor 2.2 in t) past the last exceedance beyond 32/ρ*.
        var last = 0
        for (k, t) in grid.enumerated() {
            if abs(seriesValue(t).value) > accuracy * f0 { last = k }
            if k > 64, k - last > 16 { break }
        }
        return last + 1 < grid.count ? grid[last + 1] : 1e4 / peak
    }

    /// The cosine series of f periodised with period L = span + ``reach``: on |t| ≤ span,
    /// f(t) = Σ_{k=k0}^{K} a_k cos(k ω t) within about 2ε f(0), with ω = 2π/L and
    /// a_k = (2 − [k = 0]) f̂(kω) / L (Poisson summation), frequencies from ρ_min to ρ_max.
    /// - Parameter span: the largest |t − s| summed.
    public func series(span: Double) -> (omega: Double, first: Int, coefficients: [Double]) {
        let period = max(span, 0) + reach
        let omega = 2 * Double.pi / period
        let first = Int(lowestFrequency / omega)
        let last = max(first, Int((highestFrequency / omega).rounded(.up)))
        let a = (first...last).map { k in (k == 0 ? 1 : 2) * spectrum(Double(k) * omega) / period }
        return (omega, first, a)
    }

    /// Σ_i w_i f(t_j − s_i) and Σ_i w_i f′(t_j − s_i) for every target t_j by the cosine series
    /// (``series(span:)``), and a ``cusp``'s exponential by sorting: O((N + M) K).
    /// - Parameters:
    ///   - sources: s_i.
    ///   - weights: w_i.
    ///   - targets: t_j.
    public func sum(sources: [Double], weights: [Double], targets: [Double]) -> (values: [Double], slopes: [Double]) {
        let points = sources + targets
        var values = [Double](repeating: 0, count: targets.count + 1)
        var slopes = [Double](repeating: 0, count: targets.count + 1)
        points.withUnsafeBufferPointer { p in
            weights.withUnsafeBufferPointer { w in
                values.withUnsafeMutableBufferPointer { v in
                    slopes.withUnsafeMutableBufferPointer { s in
                        let scratch = SliceFourierScratch()
                        var channel = 0
                        sweep(
                            projections: p.baseAddress!, n: sources.count, m: targets.count, channels: 1,
                            gradientChannels: &channel, g: 1, weights: w.baseAddress!, scratch: scratch,
                            out: v.baseAddress!, slopes: s.baseAddress!, stride: targets.count + 1)
                        guard let cusp, !points.isEmpty else { return }
                        let sorter = SliceSorter(capacity: points.count)
                        defer { sorter.deallocate() }
                        cusp.sweep(
                            projections: p.baseAddress!, n: sources.count, m: targets.count, channels: 1,
                            gradientChannels: &channel, g: 1, weights: w.baseAddress!, sorter: sorter,
                            out: v.baseAddress!, slopes: s.baseAddress!, stride: targets.count + 1)
                    }
                }
            }
        }
        return (Array(values.prefix(targets.count)), Array(slopes.prefix(targets.count)))
    }

    /// One direction of the sliced engine: projections `v` (sources `0..<n`, then `m` targets),
    /// weights `wt[c·(n+m) + i]`; writes per target j the unscaled value Σ_i w_ic f(t_j − s_i)
    /// of each channel to `out[c·stride + j]` and the slope Σ_i w_ic f′(t_j − s_i) of each
    /// gradient channel to `slopes[gi·stride + j]`. With z = e^{iω(t − centre)} per point,
    /// A_kc = Σ_i w_ic z_i^k, the value is Σ_k a_k Re(z_t^k conj A_kc) and the slope
    /// −Σ_k a_k kω Im(z_t^k conj A_kc); eight points at a time, powers by recurrence.
    func sweep(
        projections v: UnsafePointer<Double>, n: Int, m: Int, channels: Int,
        gradientChannels gch: UnsafePointer<Int>, g: Int, weights wt: UnsafePointer<Double>,
        scratch: SliceFourierScratch, out: UnsafeMutablePointer<Double>,
        slopes: UnsafeMutablePointer<Double>, stride: Int
    ) {
        typealias V = SIMD8<Double>
        let total = n + m
        var lo = Double.infinity
        var hi = -Double.infinity
        for i in 0..<total {
            lo = min(lo, v[i])
            hi = max(hi, v[i])
        }
        let centre = 0.5 * (lo + hi)
        let (omega, first, a) = series(span: hi - lo)
        let count = a.count
        // A_kc as eight lanes each (summed at the end), re then im.
        scratch.reserve(2 * count * channels)
        let are = scratch.lanes
        let aim = scratch.lanes + count * channels
        for k in 0..<(2 * count * channels) { are[k] = V() }
        // Steps z and starting powers z^first, eight points from `start` (lanes past `end` hold
        // z = 0: they weigh 0 as sources and are not written as targets). One vector sin and cos per
        // point (``VectorMath/sinCos(_:)``); z^first by repeated squaring (relative error about
        // log₂(first) ulp).
        func powers(_ start: Int, _ end: Int) -> (V, V, V, V) {
            var phase = V()
            var valid = SIMDMask<SIMD8<Int64>>()
            for l in 0..<8 where start + l < end {
                phase[l] = omega * (v[start + l] - centre)
                valid[l] = true
            }
            var (zi, zr) = VectorMath.sinCos(phase)
            zr.replace(with: 0, where: .!valid)
            zi.replace(with: 0, where: .!valid)
            var pr = V(repeating: 1)
            var pi = V()
            var (br, bi) = (zr, zi)
            var e = first
            while e > 0 {
                if e & 1 == 1 { (pr, pi) = (pr * br - pi * bi, pr * bi + pi * br) }
                e >>= 1
                if e > 0 { (br, bi) = (br * br - bi * bi, 2 * br * bi) }
            }
            return (zr, zi, pr, pi)
        }
        var i = 0
        while i < n {
            let (zr, zi, pr, pi) = powers(i, n)
            for c in 0..<channels {
                var w = V()
                for l in 0..<8 where i + l < n { w[l] = wt[c * total + i + l] }
                var qr = pr
                var qi = pi
                for k in 0..<count {
                    are[k * channels + c] += w * qr
                    aim[k * channels + c] += w * qi
                    (qr, qi) = (qr * zr - qi * zi, qr * zi + qi * zr)
                }
            }
            i += 8
        }
        // Reduce the lanes: A_kc (scalar) into lane 0.
        for k in 0..<(count * channels) {
            are[k] = V(repeating: are[k].sum())
            aim[k] = V(repeating: aim[k].sum())
        }
        var j = 0
        while j < m {
            let (zr, zi, pr0, pi0) = powers(n + j, total)
            for c in 0..<channels {
                var qr = pr0
                var qi = pi0
                var value = V()
                for k in 0..<count {
                    value += a[k] * (qr * are[k * channels + c] + qi * aim[k * channels + c])
                    (qr, qi) = (qr * zr - qi * zi, qr * zi + qi * zr)
                }
                for l in 0..<8 where j + l < m { out[c * stride + j + l] = value[l] }
            }
            for gi in 0..<g {
                let c = gch[gi]
                var qr = pr0
                var qi = pi0
                var slope = V()
                for k in 0..<count {
                    let ak = -a[k] * Double(first + k) * omega
                    slope += ak * (qi * are[k * channels + c] - qr * aim[k * channels + c])
                    (qr, qi) = (qr * zr - qi * zi, qr * zi + qi * zr)
                }
                for l in 0..<8 where j + l < m { slopes[gi * stride + j + l] = slope[l] }
            }
            j += 8
        }
    }

    /// 8-point Gauss–Legendre nodes and weights on [−1, 1].
    static let gaussLegendre8: [(Double, Double)] = {
        let x = [0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363]
        let w = [0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763]
        return zip(x, w).flatMap { [(-$0.0, $0.1), ($0.0, $0.1)] }
    }()
}

/// A worker's lanes for ``SliceProfile``'s sweep, grown as needed.
final class SliceFourierScratch: @unchecked Sendable {
    private(set) var lanes = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: 1)
    private var capacity = 1
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        lanes.deallocate()
        lanes = .allocate(capacity: count)
        capacity = count
    }
    deinit { lanes.deallocate() }
}
