import Foundation

/// A kernel cut into a smooth far part, summed on the mesh, and a compact near part, summed
/// exactly over neighbours (the near field / far field split of NFFT3's fastsum, with an ES
/// smooth step instead of a polynomial so the far part's spectrum decays geometrically):
///
///     far(r)  = (1 − ψ(r/ε)) k(r) + ψ(r/ε) c,     c = k(ε),
///     near(r) = k(r) − far(r) = ψ(r/ε) (k(r) − c)      (zero for r ≥ ε),
///
/// with ψ the ``SmoothStep`` (1 at 0, 0 at 1). At r = 0 the near part uses the kernel's own
/// convention (k(0) = 0 for singular kernels: no self-interaction), so near + far is exactly
/// what the direct engine sums. Gaussian kernels need no split (ε = 0): their spectrum already
/// decays like exp(−σ²ω²/2).
public struct KernelSplit: Sendable {
    /// k, the kernel split.
    public let kernel: any RadialKernel
    /// ε, the radius of the near field; 0 when the kernel is smooth enough as it is.
    public let radius: Double
    /// ψ, the smooth step of the split.
    public let step: SmoothStep
    /// c = k(ε), the far part's constant core.
    public let core: Double

    /// The split of `kernel` at `radius` ε (0: no split, the far part is the kernel) with the
    /// smooth step ψ.
    /// - Parameters:
    ///   - kernel: the kernel split.
    ///   - radius: ε ≥ 0.
    ///   - step: ψ.
    public init(kernel: any RadialKernel, radius: Double, step: SmoothStep) {
        self.kernel = kernel
        self.radius = radius
        self.step = step
        core = radius > 0 ? kernel.profile(squaredDistance: radius * radius).value : 0
    }

    /// The far part at distance r (used to sample the mesh's convolution kernel).
    /// - Parameter r: the distance.
    public func far(_ r: Double) -> Double {
        guard radius > 0 else { return kernel.profile(squaredDistance: r * r).value }
        if r >= radius { return kernel.profile(squaredDistance: r * r).value }
        if r == 0 { return core }
        let p = step.value(r / radius)
        return (1 - p) * kernel.profile(squaredDistance: r * r).value + p * core
    }

    /// The near part's profile (value, slope = near'(r)/r) at r² < ε² (the scalar reference of
    /// the mesh's vectorised near field, `NearField`).
    /// - Parameter r2: r² < ε².
    public func near(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let (k, s) = kernel.profile(squaredDistance: r2)
        guard r2 > 0 else { return (k - core, 0) }
        let r = r2.squareRoot()
        let t = r / radius
        let (p, dp) = step.valueAndDerivative(t)
        return (p * (k - core), dp / radius * (k - core) / r + p * s)
    }
}
