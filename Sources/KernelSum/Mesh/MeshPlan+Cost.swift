import Foundation

/// The plan's cost model: how wide the grid must be (``period(width:reach:boundary:spacing:window:periodic:)``), what
/// its FFTs cost, and the near radius ε that balances them against the near field's pairs.
/// Costs are seconds on one thread (``MeshOptions``' measured rates); both parts parallelise
/// alike, so the choice, and the output, is the same for any thread count.
extension MeshPlan {
    /// The period T_a: F's support (|z_a| ≤ Z_a + w_B, Z_a = min(L_a, reach)) fits in half a
    /// period and F is exact on every difference |z_a| ≤ L_a (T_a ≥ L_a + Z_a + w_B); the
    /// spreading grid holds every point with its window on both sides (no wrap-around). In the
    /// periodic box the period is the box's width.
    static func period(
        width: Double, reach: Double, boundary wB: Double, spacing h: Double, window w: Double,
        periodic: Bool = false
    ) -> Double {
        if periodic { return width }
        let z = min(width, reach)
        return max(width + z + wB, 2 * (z + wB), width + (w + 1) * h)
    }

    /// Seconds for the FFTs of one call on one thread: ``MeshOptions/fftSecondsPerPoint`` per
    /// point of the spreading grid (twice as fine as the modes), channel and log₂ of the grid
    /// size; grids above ``MeshOptions/maximumGridPoints`` are never chosen (infinite cost).
    static func fftCost(
        width: [Double], spacing h: Double, reach: Double, boundary wB: Double, window w: Double,
        channels: Int, periodic: Bool = false, options: MeshOptions = MeshOptions()
    ) -> Double {
        var grid = 1.0
        for l in width {
            let extent = period(width: l, reach: reach, boundary: wB, spacing: h, window: w, periodic: periodic)
            grid *= 2 * (extent / h).rounded(.up)
        }
        return grid > Double(options.maximumGridPoints)
            ? .infinity
            : options.fftSecondsPerPoint * Double(channels) * grid * log2(max(2, grid))
    }

    /// ε balancing the near field against the FFTs (``fftCost``): the near field costs
    /// ``MeshOptions/nearSecondsPerPair`` per pair, M · ρ · |B_ε| pairs with ρ the effective
    /// density the sources see (``Inputs/density``). Radii are on the ladder 2^(j/``MeshOptions/radiiPerOctave``), at most half
    /// the box, and the previous call's radius is kept while it costs at most
    /// ``MeshOptions/radiusKeepCost`` × the best, so that consecutive steps of a flow keep the
    /// same grid (and its cached multiplier and plans).
    static func nearRadius(
        problem: Inputs, width: [Double], steps: Double,
        window w: Double, channels: Int, periodic: Bool = false,
        previous: Double? = nil,
        options: MeshOptions = MeshOptions()
    ) -> (radius: Double, cost: Double) {
        let d = problem.dimension
        let m = problem.targetCount
        let density = problem.density
        let ball = [2.0, Double.pi, 4 * Double.pi / 3][d - 1]
        func cost(_ eps: Double) -> Double {
            let fft = fftCost(
                width: width, spacing: eps / steps, reach: .infinity, boundary: eps, window: w,
                channels: channels, periodic: periodic, options: options)
            return fft + options.nearSecondsPerPair * Double(m) * density * ball * pow(eps, Double(d))
        }
        var best = (radius: width.max()!, cost: Double.infinity)
        // Radii on the fixed ladder, at most half the box: as the box drifts from step to step
        // the radius, hence the grid and its cached multiplier, stay put.
        let perOctave = Double(options.radiiPerOctave)
        let top = Int((perOctave * log2(width.max()! / 2)).rounded(.down))
        for k in 0..<options.radiusLadderLength {
            let eps = pow(2, Double(top - k) / perOctave)
            let c = cost(eps)
            if c == .infinity { break }
            if c < best.cost { best = (eps, c) }
        }
        if let p = previous, p > 0, p <= width.max()! / 2, cost(p) <= options.radiusKeepCost * best.cost {
            return (p, cost(p))
        }
        return best
    }
}
