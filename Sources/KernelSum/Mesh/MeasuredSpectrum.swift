import CFFTW
import Foundation

/// The spectral band of a radial profile κ known only by its values (a formula kernel),
/// measured once so that the mesh can treat it as it treats the Gaussian: no near field, the
/// last mode Ω where what lies beyond has fallen by e^(−l) (``RadialKernel/spectralBand(decay:)``).
///
/// The spectrum Ĝ is that of the profile on a line, x ↦ κ(|x|), times a Gaussian window of
/// width W = 16 s (s: the radius where κ has moved 10 % from κ(0)), sampled at 8193 points
/// on [0, 160 s] and transformed by a type-I DCT. By the projection–slice theorem this 1-D
/// transform is the d-dimensional spectrum integrated over hyperplanes, so the modes outside
/// the mesh's cube [−Ω, Ω]^d (d slabs |ω_a| > Ω) carry at most d × its tail beyond Ω. The
/// band asks that tail, of |Ĝ| (values) and of |ω Ĝ| (gradients), relative to the whole, times
/// 3, to be below e^(−l). For the Gaussian this is its closed form's exp(−σ²Ω²/2) ≤ e^(−l) with
/// l raised by ln 3; the window only widens the spectrum, so the measured band errs on the safe
/// side. A profile whose spectrum has not fallen to ``smoothnessFloor`` of its peak by the top quarter of the
/// frequencies is not smooth enough (a cusp, a finitely differentiable kernel): there is no
/// measured spectrum and the mesh splits off a near field.
public struct MeasuredSpectrum: Sendable {
    /// Level, relative to its peak, below which the spectrum must lie over the top quarter of
    /// the sampled frequencies for the profile to count as smooth: there only the transform's
    /// rounding is left.
    public static let smoothnessFloor = 1e-14
    /// Radii of the value ladder, 2^(j/16) for 2^−27 … 2^27.
    static let ladder: [Double] = (-27 * 16...27 * 16).map { exp2(Double($0) / 16) }
    /// Sampling intervals on [0, R].
    static let intervals = 8192
    /// `profileTail[k]` = max over ladder radii r ≥ `ladder[k]` of |κ(r)|/|κ(0)|.
    let profileTail: [Double]
    /// `spectrumTail[k]`: 3 × the larger of ∫_{ω_k}^∞ |Ĝ| / ∫_0^∞ |Ĝ| and the same with |ω Ĝ|,
    /// ω_k = kπ/R.
    let spectrumTail: [Double]
    /// R, the sampled half-line's length.
    let length: Double
    /// The spectrum's rounding noise relative to its peak (its largest coefficient in the top
    /// quarter).
    public let roundingNoise: Double

    /// Measures the profile's spectrum; nil unless the profile is finite and non-zero at 0 and
    /// its spectrum reaches ``smoothnessFloor``.
    /// - Parameter profile: κ at the given radii (≥ 0), in the same order.
    public init?(profile: ([Double]) -> [Double]) {
        let ladder = MeasuredSpectrum.ladder
        let atZero = profile([0])[0]
        guard atZero.isFinite, atZero != 0 else { return nil }
        let values = profile(ladder)
        // s: where κ first moves by 10 % (the profile's smallest scale, within a factor).
        guard let scaleIndex = values.firstIndex(where: { !(abs($0 - atZero) < 0.1 * abs(atZero)) }) else { return nil }
        var tail = [Double](repeating: 0, count: ladder.count)
        var running = 0.0
        for k in stride(from: ladder.count - 1, through: 0, by: -1) {
            let v = abs(values[k] / atZero)
            running = v.isNaN ? .infinity : max(running, v)
            tail[k] = running
        }
        profileTail = tail
        let window = 16 * ladder[scaleIndex]
        // The window is e^(−50) at R: nothing of the profile is cut off above the floor.
        length = window * 10
        let n = MeasuredSpectrum.intervals
        let step = length / Double(n)
        let x = (0...n).map { Double($0) * step }
        let kappa = profile(x)
        let samples = UnsafeMutablePointer<Double>(fftw_alloc_real(n + 1))!
        let spectrum = UnsafeMutablePointer<Double>(fftw_alloc_real(n + 1))!
        defer {
            fftw_free(samples)
            fftw_free(spectrum)
        }
        for j in 0...n {
            let t = x[j] / window
            samples[j] = kappa[j] * exp(-0.5 * t * t)
            guard samples[j].isFinite else { return nil }
        }
        // Y_k = f_0 + (−1)^k f_n + 2 Σ_{0<j<n} f_j cos(πjk/n): the even extension's spectrum at
        // ω_k = kπ/R, up to the factor δ.
        GridFFT.planning.lock()
        let plan = fftw_plan_r2r_1d(Int32(n + 1), samples, spectrum, FFTW_REDFT00, FFTW_ESTIMATE)
        GridFFT.planning.unlock()
        fftw_execute(plan)
        GridFFT.planning.lock()
        fftw_destroy_plan(plan)
        GridFFT.planning.unlock()
        // Rounding noise of the transform: the largest coefficient in the top quarter. A smooth
        // profile's spectrum has fallen below it there, long before.
        var peak = 0.0
        var noise = 0.0
        for k in 0...n {
            peak = max(peak, abs(spectrum[k]))
            if k >= 3 * n / 4 { noise = max(noise, abs(spectrum[k])) }
        }
        guard peak > 0, peak.isFinite, noise <= MeasuredSpectrum.smoothnessFloor * peak else { return nil }
        roundingNoise = noise / peak
        // Tail integrals of |Ĝ| and of |ω Ĝ| above the noise (trapezoid weights; the grid's
        // step cancels), each relative to its whole: the mesh's value and gradient errors from
        // the modes beyond Ω, relative to κ(0) and to the gradient's scale.
        var valueTail = [Double](repeating: 0, count: n + 1)
        var slopeTail = [Double](repeating: 0, count: n + 1)
        var value = 0.0
        var slope = 0.0
        for k in stride(from: n, through: 0, by: -1) {
            let a = max(0, abs(spectrum[k]) - 2 * noise) * (k == 0 || k == n ? 0.5 : 1)
            value += a
            slope += a * Double(k)
            valueTail[k] = value
            slopeTail[k] = slope
        }
        guard value > 0, slope > 0 else { return nil }
        // Outside the mesh's cube of modes lie d slabs |ω_a| > Ω, each holding the 1-D tail
        // (the projection–slice theorem): d ≤ 3.
        spectrumTail = (0...n).map { 3 * max(valueTail[$0] / value, slopeTail[$0] / slope) }
    }

    /// The mode spacing h = π/Ω with the spectrum's relative tail below e^(−l) beyond Ω, and the
    /// radius beyond which |κ| ≤ e^(−l)|κ(0)| (infinite if κ is not that small by 2²⁷); nil
    /// when e^(−l) is below 10³ × the transform's relative rounding noise (which is about 10⁻¹⁶:
    /// l ≲ 30, mesh tolerances down to about 10⁻¹¹).
    /// - Parameter l: the decay, l > 0.
    public func band(decay l: Double) -> (spacing: Double, reach: Double)? {
        let level = exp(-l)
        guard level >= 1e3 * roundingNoise else { return nil }
        guard let k = spectrumTail.firstIndex(where: { $0 <= level }), k > 0 else { return nil }
        let reach = profileTail.firstIndex(where: { $0 <= level }).map { MeasuredSpectrum.ladder[$0] } ?? .infinity
        // Ω = kπ/R, h = π/Ω.
        return (length / Double(k), reach)
    }
}
