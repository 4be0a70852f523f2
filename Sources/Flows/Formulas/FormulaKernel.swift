import Formula
import Foundation
@_spi(KernelInternals) import KernelSum

/// A radial kernel written as a formula in r, the distance: `kernel = "formula:EXPR"`, e.g.
/// `formula:exp(-r^2/(2*s^2))` with `s` from `[parameters]`. Its slope κ'(r)/r comes from the
/// formula's exact derivative. A formula that is not finite at r = 0 (e.g. `-log(r)`) is
/// singular: coincident points contribute nothing, as for the built-in singular kernels.
///
/// Engines: direct (batched: 64 distances per formula pass) and mesh. A formula whose
/// spectrum decays fast (measured once, `MeasuredSpectrum` (KernelSum)) is smooth: the mesh sums it as
/// it sums the Gaussian, without a near field; any other goes through its near/far split,
/// which needs only values and slopes. Not sliced (no spectral density).
public struct FormulaKernel: RadialKernel {
    /// The kernel's name: `formula:EXPR` in a kernel spec.
    public static let name = "formula"
    /// κ as a formula in r.
    public let formula: ScenarioFormula
    /// `.smooth` when its spectrum was measured (it decays fast), else `.cusp` when the formula
    /// is finite at r = 0, else `.singular`.
    public let regularity: KernelRegularity
    /// The spectrum of κ on a line, measured at construction; nil unless κ is smooth.
    public let spectrum: MeasuredSpectrum?

    /// The kernel of `formula` (a formula in r); its regularity is read from its value at 0
    /// and its spectrum (about 9000 evaluations of the formula).
    public init(formula: ScenarioFormula) {
        self.formula = formula
        let atZero = formula.formula.valueAndGradient(at: [0])
        // The raw formula, not the scenario's: values that overflow far out are expected
        // here and must not be reported as a diverging run.
        let raw = formula.formula
        spectrum =
            atZero.value.isFinite
            ? MeasuredSpectrum { radii in
                var workspace = FormulaWorkspace(for: raw, batch: 64)
                var values = [Double](repeating: 0, count: radii.count)
                radii.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { v in
                        var start = 0
                        while start < r.count {
                            let k = min(64, r.count - start)
                            raw.evaluate(
                                inputs: r.baseAddress! + start, count: k, values: v.baseAddress! + start,
                                gradients: nil, workspace: &workspace)
                            start += k
                        }
                    }
                }
                return values
            } : nil
        regularity = spectrum != nil ? .smooth : atZero.value.isFinite ? .cusp : .singular
    }

    /// The measured band (`MeasuredSpectrum.band(decay:)`), nil for a formula that is not
    /// smooth.
    /// - Parameter l: the decay.
    public func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)? {
        spectrum?.band(decay: l)
    }

    /// Direct sum with gradient, one thread: 14–15 ns measured for `exp(-r^2)` (the tape,
    /// 64 distances a pass); longer formulas cost more.
    public var directSecondsPerPair: Double { 15e-9 }

    /// `formula:EXPR`, as given.
    public var spec: String { "formula:\(formula.source)" }

    /// κ(r) and κ'(r)/r at r = √r2 (0 and 0 at r = 0 for a singular formula).
    public func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        if r2 == 0 && regularity == .singular { return (0, 0) }
        var workspace = formula.makeWorkspace(batch: 1)
        var r = r2.squareRoot()
        var v = 0.0
        var dv = 0.0
        formula.evaluate(inputs: &r, count: 1, values: &v, gradients: &dv, workspace: &workspace)
        return (v, r2 > 0 ? dv / r : 0)
    }

    /// Eight distances per formula pass (the mesh's near field calls this per batch of pairs).
    public func profile8(_ r2: SIMD8<Double>) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        var workspace = formula.makeWorkspace(batch: 8)
        var r = r2.squareRoot()
        var v = SIMD8<Double>()
        var dv = SIMD8<Double>()
        withUnsafeMutableBytes(of: &r) { rp in
            withUnsafeMutableBytes(of: &v) { vp in
                withUnsafeMutableBytes(of: &dv) { dp in
                    formula.evaluate(
                        inputs: rp.baseAddress!.assumingMemoryBound(to: Double.self), count: 8,
                        values: vp.baseAddress!.assumingMemoryBound(to: Double.self),
                        gradients: dp.baseAddress!.assumingMemoryBound(to: Double.self), workspace: &workspace)
                }
            }
        }
        var slope = dv / r
        let zero = r2 .== SIMD8(repeating: 0)
        slope.replace(with: 0, where: zero)
        if regularity == .singular { v.replace(with: 0, where: zero) }
        return (v, slope)
    }

    /// The direct engine's loop for one target, 64 sources per formula pass (SPI, as the
    /// requirement it implements).
    @_spi(KernelInternals)
    public func accumulateDirect(
        _ job: DirectSumJob, target y: UnsafePointer<Double>,
        accumulators acc: UnsafeMutablePointer<SIMD8<Double>>
    ) {
        let d = job.dimension
        let stride = job.paddedCount
        let channels = job.channels
        let g = job.gradientChannels.count
        var workspace = formula.makeWorkspace()
        let singular = regularity == .singular
        // Minimum-image differences in a periodic box (plain ones in R^d).
        let domain = job.domain
        @inline(__always) func difference(_ t: Double) -> Double { domain.minimumImage(t) }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64 * 3) { buffer in
            let r = buffer.baseAddress!
            let v = r + 64
            let dv = r + 128
            var start = 0
            while start < stride {
                let k = min(64, stride - start)
                for i in 0..<k {
                    var r2 = 0.0
                    for a in 0..<d {
                        let t = difference(y[a] - job.columns[a * stride + start + i])
                        r2 += t * t
                    }
                    r[i] = r2.squareRoot()
                }
                formula.evaluate(inputs: r, count: k, values: v, gradients: dv, workspace: &workspace)
                for i in 0..<k {
                    let value: Double
                    let slope: Double
                    if r[i] == 0 {
                        (value, slope) = (singular ? 0 : v[i], 0)
                    } else {
                        (value, slope) = (v[i], dv[i] / r[i])
                    }
                    let lane = i & 7
                    for c in 0..<channels { acc[c][lane] += job.weights[c * stride + start + i] * value }
                    for gi in 0..<g {
                        let ws = job.weights[job.gradientChannels[gi] * stride + start + i] * slope
                        for a in 0..<d {
                            acc[channels + gi * d + a][lane] +=
                                ws * difference(y[a] - job.columns[a * stride + start + i])
                        }
                    }
                }
                start += k
            }
        }
    }
}

/// The kernel a spec names: a registry kernel (`gaussian:sigma=0.5`) or a formula in r
/// (`formula:EXPR`, with the scenario's parameters). Errors are located at `key`.
public func readKernelSpec(_ text: String, _ s: Settings, _ key: String) throws -> any RadialKernel {
    if text.hasPrefix("formula:") {
        let body = String(text.dropFirst("formula:".count))
        return FormulaKernel(formula: try compileFormula(body, s, key, variables: .radius))
    }
    do { return try KernelRegistry.make(text) } catch let e as KernelSpecError {
        throw s.fail(key, e.message + " (or formula:EXPR, a formula in r)")
    }
}
