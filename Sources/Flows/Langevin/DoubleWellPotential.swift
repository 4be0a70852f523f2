import Foundation
import KernelSum

/// V(x) = h·(x₁² − 1)² + ½ Σ_{k≥2} x_k²: two wells at x₁ = ±1 of depth h (the `height`,
/// 1 by default) along the first coordinate, harmonic in the others. In d = 1 it is the
/// classical double well of the granular-media model (Benedetto, Caglioti, Carrillo &
/// Pulvirenti 1998; Tugaut 2014).
public struct DoubleWellPotential: Potential {
    /// h, the depth of the wells.
    public let height: Double
    /// The double well of depth `height`.
    public init(height: Double) { self.height = height }

    /// `double-well:height=h`.
    public var spec: String { "double-well:height=\(formatNumber(height))" }

    /// V and ∇V = (4h(x₁² − 1)x₁, x₂, …, x_d) at each point.
    public func evaluate(
        _ x: UnsafePointer<Double>, count: Int, dimension d: Int,
        values: UnsafeMutablePointer<Double>?, gradients: UnsafeMutablePointer<Double>?
    ) {
        for i in 0..<count {
            let p = x + i * d
            let u = p[0] * p[0] - 1
            var v = height * u * u
            gradients?[i * d] = 4 * height * u * p[0]
            for k in 1..<max(1, d) where d > 1 {
                v += 0.5 * p[k] * p[k]
                gradients?[i * d + k] = p[k]
            }
            values?[i] = v
        }
    }

    /// log Z = log ∫exp(−h(t² − 1)²/λ) dt + ((d − 1)/2) log(2πλ), the first factor by the
    /// trapezoidal rule on [−R, R] (spectrally accurate for this smooth, rapidly decaying integrand).
    public func logPartition(temperature lambda: Double, dimension d: Int) -> Double? {
        guard lambda > 0 else { return nil }
        // exp(−h(t² − 1)²/λ) < 1e-300 beyond |t| = R.
        let reach = (1 + (700 * lambda / height).squareRoot()).squareRoot() + 1
        let n = 20_000
        let dt = 2 * reach / Double(n)
        var z = 0.0
        for k in 0...n {
            let t = -reach + Double(k) * dt
            let u = t * t - 1
            z += (k == 0 || k == n ? 0.5 : 1) * exp(-height * u * u / lambda)
        }
        return log(z * dt) + 0.5 * Double(d - 1) * log(2 * Double.pi * lambda)
    }

    static let entry = PotentialEntry(
        name: "double-well", summary: "height·(x1² − 1)² + ½ Σ_{k≥2} xk² (height = 1 by default)"
    ) { s, _ in
        DoubleWellPotential(height: try s.real("height", default: 1, .positive))
    }
}
