/// How a kernel behaves at the origin. Engines that approximate (mesh, sliced) need to know;
/// the direct engine does not care.
public enum KernelRegularity: String, Sendable {
    /// Infinitely differentiable at 0 (Gaussian, IMQ).
    case smooth
    /// Finite at 0 but not differentiable there (Laplace, Riesz): the gradient at r = 0 is
    /// taken as 0 (the symmetric subgradient), so a particle exerts no force on itself.
    case cusp
    /// Unbounded at 0 (log, Coulomb): coincident points contribute nothing (value and gradient
    /// 0 at r = 0), so a particle does not interact with itself.
    case singular
}

/// A translation-invariant, radial kernel k(x − y) = κ(|x − y|).
///
/// A kernel is described through its *profile* at the squared distance r² = |x − y|²:
/// the value κ(r) and the slope κ'(r)/r, so that the gradient is
/// ∇_y k(y − x) = (κ'(r)/r) · (y − x) without a square root for kernels of r².
/// Where κ is not differentiable at 0 the slope there is 0 by convention.
///
/// A new kernel is one file with a type conforming to this protocol plus one line in
/// ``KernelRegistry/entries``.
public protocol RadialKernel: Sendable, CustomStringConvertible {
    /// Registry name, e.g. `gaussian`.
    static var name: String { get }
    /// The canonical spec that rebuilds this kernel, e.g. `gaussian:sigma=0.5`.
    var spec: String { get }
    /// How the kernel behaves at 0, which decides how the approximate engines treat it.
    var regularity: KernelRegularity { get }
    /// Seconds per source–target pair of the direct sum with a gradient, on one thread
    /// (measured on the development machine, d = 2 and 3 alike within 20 %): `auto` weighs
    /// it against the mesh's cost model. 5 ns unless the kernel says.
    var directSecondsPerPair: Double { get }
    /// For kernels analytic at 0, which the mesh sums without a near field: the mode spacing h
    /// at which the spectrum has fallen by e^(−l) beyond π/h, and the radius beyond which the
    /// kernel is negligible (|κ| ≤ e^(−l)|κ(0)|; infinite if it decays slowly). nil (the
    /// default) for kernels that need the near field: a cusp, a singularity, or an unknown
    /// spectrum. ``MeasuredSpectrum`` measures it for a kernel known only by its values.
    /// - Parameter l: the decay, l > 0.
    func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)?
    /// log Ψ̂(r), Ψ̂ the kernel's d-dimensional spectral density (K(x) = (2π)^{−d} ∫ Ψ̂(|ω|) e^{i⟨ω,x⟩} dω),
    /// from which ``SliceProfile`` builds the 1-D profile the sliced engine sums; nil (the
    /// default) where unknown; a kernel whose profile has a kink also gives ``slicingCusp(dimension:)``.
    /// - Parameters:
    ///   - r: the frequency radius |ω| ≥ 0.
    ///   - d: the dimension.
    func logSpectralDensity(radius r: Double, dimension d: Int) -> Double?
    /// For a kernel whose slicing profile has a kink at 0 (Laplace), the exponential split off
    /// it and the remainder's spectrum (``SliceCusp``); nil (the default) for smooth profiles.
    /// - Parameter d: the dimension.
    func slicingCusp(dimension d: Int) -> SliceCusp?
    /// (κ(r), κ'(r)/r) at r² = `r2`.
    /// - Parameter r2: the squared distance r² ≥ 0.
    func profile(squaredDistance r2: Double) -> (value: Double, slope: Double)
    /// Profiles of eight squared distances at once. The default goes lane by lane; kernels with
    /// a vectorised form (Gaussian, IMQ) override it.
    /// - Parameter r2: eight squared distances.
    func profile8(_ r2: SIMD8<Double>) -> (value: SIMD8<Double>, slope: SIMD8<Double>)
    /// The direct engine's inner loop for one target (see ``DirectSum``): adds the target's C
    /// values and G·d gradients over all sources to eight-lane accumulators. A requirement
    /// with a default implementation, so that each kernel's conformance holds a copy
    /// specialised for it, with ``profile8(_:)`` inlined: one dynamic call per target, none
    /// per pair. SPI (`KernelInternals`): an engine's hook, not an API.
    /// - Parameters:
    ///   - job: the sources and weights, laid out for the loop.
    ///   - y: the target's d coordinates (wrapped into the box in the periodic box).
    ///   - acc: C value lanes, then G·d gradient lanes, then d lanes of scratch.
    @_spi(KernelInternals)
    func accumulateDirect(
        _ job: DirectSumJob, target y: UnsafePointer<Double>,
        accumulators acc: UnsafeMutablePointer<SIMD8<Double>>)
    /// The mesh's near field, specialised per kernel the same way. SPI (`KernelInternals`).
    /// - Parameters:
    ///   - field: the near part of the split kernel and the problem.
    ///   - values: M·C values, added to.
    ///   - gradients: M·G·d gradients, added to.
    @_spi(KernelInternals)
    func addNearField(
        _ field: NearField, values: UnsafeMutableBufferPointer<Double>,
        gradients: UnsafeMutableBufferPointer<Double>)
}

extension RadialKernel {
    /// 5 ns: the rate of a kernel with a square root and an exponential (Laplace: 5.5–6.2).
    public var directSecondsPerPair: Double { 5e-9 }

    /// None: the mesh splits off a near field.
    /// - Parameter l: the decay.
    public func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)? { nil }

    /// None: the sliced engine does not know the kernel's profile.
    /// - Parameters:
    ///   - r: the frequency radius.
    ///   - d: the dimension.
    public func logSpectralDensity(radius r: Double, dimension d: Int) -> Double? { nil }

    /// None: the profile is smooth (or unknown).
    /// - Parameter d: the dimension.
    public func slicingCusp(dimension d: Int) -> SliceCusp? { nil }

    /// The spec (``spec``).
    public var description: String { spec }

    /// Hands the near field back its own type, so that its pair loop is specialised for this
    /// kernel.
    /// - Parameters:
    ///   - field: the near part of the split kernel and the problem.
    ///   - values: M·C values, added to.
    ///   - gradients: M·G·d gradients, added to.
    @_spi(KernelInternals)
    public func addNearField(
        _ field: NearField, values: UnsafeMutableBufferPointer<Double>,
        gradients: UnsafeMutableBufferPointer<Double>
    ) {
        field.add(self, values: values, gradients: gradients)
    }

    /// Lane by lane through ``profile(squaredDistance:)``.
    /// - Parameter r2: eight squared distances.
    public func profile8(_ r2: SIMD8<Double>) -> (value: SIMD8<Double>, slope: SIMD8<Double>) {
        var v = SIMD8<Double>()
        var s = SIMD8<Double>()
        for k in 0..<8 { (v[k], s[k]) = profile(squaredDistance: r2[k]) }
        return (v, s)
    }

    /// The default loop: eight sources at a time, specialised for this kernel.
    /// - Parameters:
    ///   - job: the sources and weights, laid out for the loop.
    ///   - y: the target's d coordinates (wrapped into the box in the periodic box).
    ///   - acc: C value lanes, then G·d gradient lanes, then d lanes of scratch.
    @_spi(KernelInternals)
    public func accumulateDirect(
        _ job: DirectSumJob, target y: UnsafePointer<Double>,
        accumulators acc: UnsafeMutablePointer<SIMD8<Double>>
    ) {
        // Two copies of one loop, each with its branch on the box folded away.
        if job.domain.isPeriodic {
            directLoop(job, target: y, accumulators: acc, periodic: true)
        } else {
            directLoop(job, target: y, accumulators: acc, periodic: false)
        }
    }

    /// ``accumulateDirect(_:target:accumulators:)``'s loop: eight sources at a time, their
    /// differences from the target (by minimum image in the box, ``Domain/minimumImage(_:)``),
    /// r², the profiles, and the multiply-adds into the accumulators (C value lanes, then G·d
    /// gradient lanes, then d lanes of differences).
    @inline(__always)
    func directLoop(
        _ job: DirectSumJob, target y: UnsafePointer<Double>,
        accumulators acc: UnsafeMutablePointer<SIMD8<Double>>, periodic: Bool
    ) {
        typealias V = SIMD8<Double>
        let d = job.dimension
        let stride = job.paddedCount
        let channels = job.channels
        let g = job.gradientChannels.count
        let columns = job.columns
        let weights = job.weights
        let gradientChannels = job.gradientChannels
        let gradAcc = acc + channels
        let diff = acc + channels + g * d
        let l = V(repeating: job.domain.period ?? 0)
        let inverse = V(repeating: job.domain.inversePeriod)
        for k in Swift.stride(from: 0, to: stride, by: 8) {
            var r2 = V()
            for a in 0..<d {
                var t = V(repeating: y[a]) - UnsafeRawPointer(columns + a * stride + k).loadUnaligned(as: V.self)
                if periodic { t = Domain.minimumImage(t, period: l, inverse: inverse) }
                diff[a] = t
                r2.addProduct(t, t)
            }
            let (v, s) = profile8(r2)
            for c in 0..<channels {
                acc[c].addProduct(UnsafeRawPointer(weights + c * stride + k).loadUnaligned(as: V.self), v)
            }
            for gi in 0..<g {
                let ws = UnsafeRawPointer(weights + gradientChannels[gi] * stride + k).loadUnaligned(as: V.self) * s
                for a in 0..<d { gradAcc[gi * d + a].addProduct(ws, diff[a]) }
            }
        }
    }

    /// κ at squared distance r².
    /// - Parameter r2: the squared distance r² ≥ 0.
    @inlinable public func value(squaredDistance r2: Double) -> Double {
        profile(squaredDistance: r2).value
    }

    /// k(x − y) for two points given as buffers of equal length.
    /// - Parameters:
    ///   - x: a point's d coordinates.
    ///   - y: another point's d coordinates.
    public func callAsFunction(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        var r2 = 0.0
        for k in 0..<x.count {
            let t = x[k] - y[k]
            r2 += t * t
        }
        return value(squaredDistance: r2)
    }
}

/// Shortest decimal that reads back to the same double; integers without a fraction (kernel
/// specs, messages, run.json).
/// - Parameter v: the number.
public func formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}
