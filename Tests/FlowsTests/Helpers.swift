import Flows
import Foundation
import KernelSum
import XCTest

/// Row-major d×d product.
func matmul(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
    var c = [Double](repeating: 0, count: d * d)
    for i in 0..<d { for j in 0..<d { for k in 0..<d { c[i * d + j] += a[i * d + k] * b[k * d + j] } } }
    return c
}

/// max|a − b|; infinity if either has a NaN.
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var m = 0.0
    for k in 0..<a.count {
        let t = abs(a[k] - b[k])
        if t.isNaN { return .infinity }
        m = max(m, t)
    }
    return m
}

/// Squared Euclidean distance between rows i of x and j of y.
func squaredDistance(_ x: [Double], _ i: Int, _ y: [Double], _ j: Int, _ d: Int) -> Double {
    var s = 0.0
    for a in 0..<d {
        let t = x[i * d + a] - y[j * d + a]
        s += t * t
    }
    return s
}

/// Reference radial kernels written from their definitions: k(z) and ∇_z k(z) for z = u − v.
enum RefKernel {
    case gaussian(sigma: Double)
    case riesz(r: Double)
    case imq(c: Double, beta: Double)

    func value(_ z: [Double]) -> Double {
        let r2 = z.reduce(0) { $0 + $1 * $1 }
        switch self {
        case .gaussian(let s): return exp(-r2 / (2 * s * s))
        case .riesz(let r): return -pow(r2.squareRoot(), r)
        case .imq(let c, let beta): return pow(1 + r2 / (c * c), beta)
        }
    }

    func gradient(_ z: [Double]) -> [Double] {
        let r2 = z.reduce(0) { $0 + $1 * $1 }
        switch self {
        case .gaussian(let s):
            let v = exp(-r2 / (2 * s * s))
            return z.map { -$0 / (s * s) * v }
        case .riesz(let r):
            if r2 == 0 { return z.map { _ in 0 } }
            let rho = r2.squareRoot()
            return z.map { -r * pow(rho, r - 1) * $0 / rho }
        case .imq(let c, let beta):
            return z.map { beta * pow(1 + r2 / (c * c), beta - 1) * 2 * $0 / (c * c) }
        }
    }
}

/// MMD²(x, y) of uniformly weighted samples (V-statistic) by three naive double sums:
/// mean k(x_i − x_j) − 2 mean k(x_i − y_m) + mean k(y_m − y_n). Returns the value and the sum
/// of the three terms' magnitudes, the scale for a tolerance (the terms cancel).
func naiveMMD2(_ x: [Double], _ y: [Double], dimension d: Int, _ ref: RefKernel) -> (value: Double, scale: Double) {
    let n = x.count / d
    let m = y.count / d
    func mean(_ a: [Double], _ p: Int, _ b: [Double], _ q: Int) -> Double {
        var s = 0.0
        for i in 0..<p { for j in 0..<q { s += ref.value((0..<d).map { a[i * d + $0] - b[j * d + $0] }) } }
        return s / Double(p * q)
    }
    let xx = mean(x, n, x, n)
    let xy = mean(x, n, y, m)
    let yy = mean(y, m, y, m)
    return (xx - 2 * xy + yy, abs(xx) + 2 * abs(xy) + abs(yy))
}

/// Rows i of a row-major array.
func row(_ x: [Double], _ i: Int, _ d: Int) -> [Double] { Array(x[(i * d)..<(i * d + d)]) }

func population(_ positions: [Double], dimension: Int, name: String = "particles") -> Population {
    Population(name: name, dimension: dimension, positions: positions)
}

func state(_ positions: [Double], dimension: Int) -> SimulationState {
    SimulationState(populations: [population(positions, dimension: dimension)])
}

/// Test fixtures shared by several files.
enum Fixtures {
    static let gaussian3: GaussianTarget = {
        let cov = SPDMatrix(
            size: 3,
            entries: [
                2.0, 0.6, 0.3,
                0.6, 1.0, -0.2,
                0.3, -0.2, 0.5,
            ])!
        return GaussianTarget(mean: [1, -2, 0.5], covariance: cov)
    }()

    static let gaussian2: GaussianTarget = {
        GaussianTarget(mean: [0.3, -0.2], covariance: SPDMatrix(size: 2, entries: [1.0, 0.5, 0.5, 2.0])!)
    }()

    /// Unnormalised weights on purpose (the init normalises them).
    static let mixture: GaussianMixtureTarget = {
        let c1 = GaussianTarget(mean: [-2, 0], covariance: SPDMatrix(size: 2, entries: [1.0, 0.3, 0.3, 0.5])!)
        let c2 = GaussianTarget(mean: [2, 1], covariance: SPDMatrix.diagonal([0.5, 1.5])!)
        let c3 = GaussianTarget(mean: [0, -2.5], covariance: SPDMatrix(size: 2, entries: [0.7, -0.2, -0.2, 0.4])!)
        return GaussianMixtureTarget(weights: [1, 2.5, 1.5], components: [c1, c2, c3])
    }()

    static let banana3 = BananaTarget(dimension: 3, b: 0.1, variance: 4)
    static let banana2 = BananaTarget(dimension: 2, b: 0.03, variance: 4)
}
