// Engine benchmarks (package-benchmark). Opt-in, never part of the test command:
//
//     WGF_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark
//
// Problems mirror the peer baselines in ../shared/peers so the figures can be put beside them:
//   * kernel_sum.py: 2-D Gaussian (σ = 0.5) kernel sum and its gradient, x, y ~ N(0, I),
//     w ~ U(0, 1), N = M, one thread;
//   * svgd_reference.py: one SVGD iteration (median bandwidth, AdaGrad α = 0.9, fudge 1e-6,
//     step 1e-2) on N((1, −1), [[1, .5], [.5, 2]]) from N(0, I), one thread.
// Everything but the measured call (points, weights, output buffers, flow, state) is built
// once, outside the measured closure.

import Benchmark
import Flows
import Foundation
import KernelSum

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.metrics = [.wallClock, .throughput, .cpuTotal]

    // MARK: Direct kernel sum, value + gradient, one channel

    for n in [1_000, 10_000] {
        let d = 2
        let (sources, targets, weights) = gaussianProblem(n, dimension: d)
        var values = [Double](repeating: 0, count: n)
        var gradients = [Double](repeating: 0, count: n * d)
        let kernel = GaussianKernel(sigma: 0.5)
        let engine = DirectSum(threads: 1)

        Benchmark(
            "direct kernel sum gaussian σ=0.5 2-D value+grad N=M=\(n) threads=1",
            configuration: .init(
                warmupIterations: 1,
                maxDuration: .seconds(n <= 1_000 ? 2 : 4),
                maxIterations: n <= 1_000 ? 2_000 : 50)
        ) { benchmark in
            engine.sum(
                kernel, dimension: d, sources: sources, weights: weights, channels: 1,
                targets: targets, gradientChannels: [0], values: &values, gradients: &gradients)
            blackHole(values[0] + gradients[0])
        }
    }

    // MARK: Mesh (Gaussian gridding + FFTW) at tolerance 1e-6, same problem

    for n in [10_000, 100_000] {
        let d = 2
        let (sources, targets, weights) = gaussianProblem(n, dimension: d)
        var values = [Double](repeating: 0, count: n)
        var gradients = [Double](repeating: 0, count: n * d)
        let kernel = GaussianKernel(sigma: 0.5)
        let engine = MeshSum(tolerance: 1e-6, threads: 1)

        Benchmark(
            "mesh kernel sum gaussian σ=0.5 2-D value+grad tol=1e-6 N=M=\(n) threads=1",
            configuration: .init(warmupIterations: 1, maxDuration: .seconds(3), maxIterations: 200)
        ) { benchmark in
            engine.sum(
                kernel, dimension: d, sources: sources, weights: weights, channels: 1,
                targets: targets, gradientChannels: [0], values: &values, gradients: &gradients)
            blackHole(values[0] + gradients[0])
        }
    }

    // MARK: Sliced energy distance, d = 10, 256 directions

    do {
        let d = 10
        let n = 10_000
        let (sources, targets, _) = gaussianProblem(n, dimension: d)
        let weights = [Double](repeating: 1.0 / Double(n), count: n)
        var values = [Double](repeating: 0, count: n)
        var gradients = [Double](repeating: 0, count: n * d)
        let engine = SlicedSum(directions: 256, seed: 1, threads: 2)
        Benchmark(
            "sliced riesz r=1 d=10 value+grad P=256 N=M=\(n) threads=2",
            configuration: .init(warmupIterations: 1, maxDuration: .seconds(4), maxIterations: 20)
        ) { benchmark in
            engine.sum(
                RieszKernel(r: 1), dimension: d, sources: sources, weights: weights, channels: 1,
                targets: targets, gradientChannels: [0], values: &values, gradients: &gradients)
            blackHole(values[0] + gradients[0])
        }
    }

    // MARK: One SVGD step (advance), reference-code setting

    for n in [100, 1_000, 5_000] {
        let target = GaussianTarget(
            mean: [1, -1],
            covariance: SPDMatrix(size: 2, entries: [1, 0.5, 0.5, 2])!)
        let flow = SteinVariationalGradientDescent(
            density: target, kernel: GaussianKernel(sigma: 1), bandwidth: .median,
            optimizer: Optimizer(rule: .adagrad(alpha: 0.9, fudge: 1e-6)),
            engine: DirectSum(threads: 1), threads: 1)
        var rng = RandomStream(seed: 0, .initialisation, n)
        let x0 = (0..<(n * 2)).map { _ in rng.normal() }
        var state = SimulationState(populations: [Population(name: "particles", dimension: 2, positions: x0)])
        var step = 0

        Benchmark(
            "svgd step gaussian-2d median adagrad N=\(n) threads=1",
            configuration: .init(
                warmupIterations: 1,
                maxDuration: .seconds(n <= 1_000 ? 2 : 5),
                maxIterations: n <= 1_000 ? 2_000 : 30)
        ) { benchmark in
            step += 1
            flow.advance(&state, step: step, stepSize: 1e-2)
            blackHole(state.populations[0].positions[0])
        }
    }

    // MARK: One mean-field Langevin step of the 2-D swarm W = |x|²/2 − log|x| (mesh + near field)
    // (scenarios/swarm-attraction-repulsion-2d.toml), quadratic part through the mean, log part
    // by the mesh engine at tolerance 1e-3, two threads; from a Gaussian blob x ~ N(0, 0.5² I)
    // and from the swarm's pattern, the uniform unit disc.

    for state in ["blob", "disc"] {
        for n in [10_000, 100_000, 1_000_000] {
            let engine = MeshSum(tolerance: 1e-3, threads: 2)
            let flow = LangevinFlow(
                temperature: 0, potential: nil,
                interactions: [
                    QuadraticInteraction(kappa: 1),
                    KernelInteraction(
                        kernel: LogarithmicKernel(), weight: 1, engine: engine,
                        domain: .free, threads: 2),
                ],
                seed: 1, threads: 2)
            var rng = RandomStream(seed: 0, .initialisation, n)
            var x0 = [Double]()
            x0.reserveCapacity(2 * n)
            for _ in 0..<n {
                if state == "blob" {
                    x0 += [0.5 * rng.normal(), 0.5 * rng.normal()]
                } else {
                    let r = rng.uniform().squareRoot()
                    let t = 2 * Double.pi * rng.uniform()
                    x0 += [r * cos(t), r * sin(t)]
                }
            }
            var particles = SimulationState(populations: [Population(name: "particles", dimension: 2, positions: x0)])
            var step = 0

            Benchmark(
                "langevin swarm step quadratic+log mesh tol=1e-3 2-D \(state) N=\(n) threads=2",
                configuration: .init(
                    warmupIterations: 1,
                    maxDuration: .seconds(n <= 100_000 ? 10 : 40),
                    maxIterations: n <= 10_000 ? 20 : (n <= 100_000 ? 5 : 3))
            ) { benchmark in
                step += 1
                flow.advance(&particles, step: step, stepSize: 0.05)
                blackHole(particles.populations[0].positions[0])
            }
        }
    }
}

/// The peers' problem: x, y ~ N(0, I) in R^d, w ~ U(0, 1), M = N.
func gaussianProblem(_ n: Int, dimension d: Int) -> (sources: [Double], targets: [Double], weights: [Double]) {
    var rng = RandomStream(seed: 0, .initialisation, n)
    let sources = (0..<(n * d)).map { _ in rng.normal() }
    let targets = (0..<(n * d)).map { _ in rng.normal() }
    return (sources, targets, (0..<n).map { _ in rng.uniform() })
}
