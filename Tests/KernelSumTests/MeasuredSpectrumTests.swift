import Foundation
@_spi(KernelInternals) import KernelSum
import TestSupport
import XCTest

/// A kernel known to the mesh only by its values and slopes and its measured spectrum, as a
/// formula kernel is: `base`'s profile, with ``MeasuredSpectrum`` in place of any closed-form
/// band.
struct MeasuredKernel: RadialKernel {
    static let name = "measured"
    let base: any RadialKernel
    let spectrum: MeasuredSpectrum?
    init(_ base: any RadialKernel) {
        self.base = base
        spectrum = MeasuredSpectrum { radii in radii.map { base.profile(squaredDistance: $0 * $0).value } }
    }
    var spec: String { "measured(\(base.spec))" }
    var regularity: KernelRegularity { spectrum == nil ? .cusp : .smooth }
    func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) { base.profile(squaredDistance: r2) }
    func spectralBand(decay l: Double) -> (spacing: Double, reach: Double)? { spectrum?.band(decay: l) }
}

/// κ(r) = exp(−r²/2)·cos(2r), smooth with a spectrum peaked away from 0 (no closed-form band
/// in wgf): κ'(r)/r = −κ − 2 exp(−r²/2) sin(2r)/r.
struct ModulatedGaussianKernel: RadialKernel {
    static let name = "modulated"
    var spec: String { "modulated" }
    var regularity: KernelRegularity { .smooth }
    func profile(squaredDistance r2: Double) -> (value: Double, slope: Double) {
        let r = r2.squareRoot()
        let e = exp(-r2 / 2)
        let v = e * cos(2 * r)
        return (v, r > 0 ? -v - 2 * e * sin(2 * r) / r : -v - 4)
    }
}

final class MeasuredSpectrumTests: XCTestCase {
    /// The Gaussian's measured band against its closed form (exp(−σ²ω²/2): h = πσ/√(2l'),
    /// l' = l + ln 3 for the three slabs; reach σ√(2l)): the spacing within 3 % and never wider,
    /// the reach within one step of the ladder (2^(1/16)) and never shorter.
    func testGaussianBandAgreesWithTheClosedForm() throws {
        for sigma in [0.05, 0.5, 3.0] {
            let k = GaussianKernel(sigma: sigma)
            let measured = try XCTUnwrap(MeasuredKernel(k).spectrum, "σ = \(sigma)")
            for l in [5.0, 10, 17.2, 24] {
                let band = try XCTUnwrap(measured.band(decay: l), "σ = \(sigma), l = \(l)")
                let exactSpacing = Double.pi * sigma / (2 * (l + log(3))).squareRoot()
                let exactReach = sigma * (2 * l).squareRoot()
                XCTAssertLessThanOrEqual(band.spacing, exactSpacing, "σ = \(sigma), l = \(l)")
                XCTAssertGreaterThanOrEqual(band.spacing, 0.97 * exactSpacing, "σ = \(sigma), l = \(l)")
                XCTAssertGreaterThanOrEqual(band.reach, exactReach, "σ = \(sigma), l = \(l)")
                XCTAssertLessThanOrEqual(band.reach, exp2(1.0 / 16) * exactReach, "σ = \(sigma), l = \(l)")
            }
        }
    }

    /// The IMQ's spectrum decays like exp(−c|ω|) times a power: its measured spacing lies
    /// within [0.7, 1.2] × the closed-form estimate's; its reach lies within one ladder step
    /// beyond c·√(e^(−l/β) − 1), where κ = e^(−l).
    func testInverseMultiquadricBand() throws {
        for (c, beta) in [(1.0, -0.5), (0.3, -1.5)] {
            let k = InverseMultiquadricKernel(c: c, beta: beta)
            let measured = try XCTUnwrap(MeasuredKernel(k).spectrum)
            for l in [10.0, 17.2] {
                let band = try XCTUnwrap(measured.band(decay: l))
                let closed = try XCTUnwrap(k.spectralBand(decay: l))
                let reach = c * (exp(-l / beta) - 1).squareRoot()
                XCTAssertGreaterThanOrEqual(band.reach, reach, "\(k) l = \(l)")
                XCTAssertLessThanOrEqual(band.reach, exp2(1.0 / 16) * reach, "\(k) l = \(l)")
                XCTAssertGreaterThanOrEqual(band.spacing / closed.spacing, 0.7, "\(k) l = \(l)")
                XCTAssertLessThanOrEqual(band.spacing / closed.spacing, 1.2, "\(k) l = \(l)")
            }
        }
    }

    /// Kernels with a cusp, finitely many derivatives at 0, or nothing to measure have no
    /// spectrum: the mesh keeps its near field for them.
    func testNonSmoothProfilesHaveNone() {
        let kernels: [any RadialKernel] = [
            LaplaceKernel(alpha: 1), RieszKernel(r: 1), RieszKernel(r: 0.5),
            MaternKernel(nu: 1.5, length: 1), MaternKernel(nu: 2.5, length: 0.5),
        ]
        for k in kernels { XCTAssertNil(MeasuredKernel(k).spectrum, "\(k)") }
        XCTAssertNil(MeasuredSpectrum { $0.map { _ in 1 } }, "constant: no scale")
        XCTAssertNil(MeasuredSpectrum { $0.map { $0 * $0 } }, "zero at 0")
        XCTAssertNil(MeasuredSpectrum { $0.map { -log($0) } }, "infinite at 0")
        XCTAssertNil(MeasuredSpectrum { $0.map { $0 > 1 ? .nan : 1 - $0 * $0 } }, "not finite far out")
    }

    /// The transform's rounding noise is about 10⁻¹⁶ of the peak; a band is refused when e^(−l)
    /// is below 10³ × that.
    func testBandBelowTheRoundingFloorIsRefused() throws {
        let measured = try XCTUnwrap(MeasuredKernel(GaussianKernel(sigma: 1)).spectrum)
        XCTAssertLessThan(measured.roundingNoise, 1e-15)
        XCTAssertNotNil(measured.band(decay: 28), "tolerance 1e-11")
        XCTAssertNil(measured.band(decay: 40))
    }

    /// Through the mesh with their measured bands (no near field), smooth kernels meet the
    /// tolerance as the closed-form bands do: Gaussians, IMQs and a modulated Gaussian whose
    /// spectrum peaks at |ω| = 2, d = 1, 2, 3, tolerances 1e-3, 1e-6, 1e-9.
    func testMeasuredBandsMeetTheToleranceThroughTheMesh() throws {
        let kernels = [
            MeasuredKernel(GaussianKernel(sigma: 0.5)), MeasuredKernel(GaussianKernel(sigma: 0.2)),
            MeasuredKernel(InverseMultiquadricKernel(c: 1)),
            MeasuredKernel(InverseMultiquadricKernel(c: 0.3, beta: -1.5)),
            MeasuredKernel(ModulatedGaussianKernel()),
        ]
        for k in kernels { XCTAssertNotNil(k.spectrum, k.spec) }
        checkMeshTolerance(kernels, tolerances: [1e-3, 1e-6, 1e-9], allowance: 1)
    }

    /// A measured band takes the mesh's no-near-field path where the closed form does.
    func testMeasuredBandSkipsTheNearField() {
        var rng = TestRNG(5)
        let x = testPoints("gaussian", count: 20_000, dimension: 2, rng: &rng)
        let w = [Double](repeating: 1, count: 20_000)
        var v: [Double] = []
        var g: [Double] = []
        for kernel in [MeasuredKernel(GaussianKernel(sigma: 0.5)), MeasuredKernel(ModulatedGaussianKernel())] {
            let engine = MeshSum(tolerance: 1e-6, threads: 2)
            engine.sum(
                kernel, dimension: 2, sources: x, weights: w, channels: 1, targets: x, gradientChannels: [0],
                values: &v, gradients: &g)
            XCTAssertEqual(engine.parameters["near-radius"].flatMap(Double.init), 0, kernel.spec)
        }
    }
}
