import CFFTW
import Foundation

/// The convolution's multiplier, a function of the plan alone (of its ``MeshPlan/key``):
///
///     b_k (h/2)^{2d} / Π_a φ̂_a(ω_{k,a})²,   |k_a| < n_a/2,
///
/// b_k = (1/Π n_a) × the DFT of the far kernel F sampled on the mode grid. Spreading with φ
/// multiplies the weights' spectrum by φ̂/(h/2)^d per axis, interpolating multiplies by it
/// again: dividing by φ̂² undoes both (FINUFFT's deconvolution), and F's coefficients do the
/// convolution.
extension MeshPlan {
    /// The multiplier on the spreading grid's r2c layout (`shape`, the last axis halved),
    /// zero beyond the modes; or, given `columns` (first complex element, count: a rank's
    /// columns of the axis-0 pass, ``SharedGrid``), its values there only, row after row along
    /// axis 0 (the same numbers).
    func multiplier(shape: [Int], threads: Int, columns: [(start: Int, count: Int)]? = nil) -> [Double] {
        let d = dimension
        let modes = Array(self.modes[0..<d])
        let modeTotal = modes.reduce(1, *)
        let modeComplex = modeTotal / modes[d - 1] * (modes[d - 1] / 2 + 1)
        let samples = UnsafeMutablePointer<Double>(fftw_alloc_real(modeTotal))!
        let spectrum = UnsafeMutablePointer<fftw_complex>(fftw_alloc_complex(modeComplex))!
        defer {
            fftw_free(samples)
            fftw_free(spectrum)
        }
        sampleFarKernel(into: samples, threads: threads)
        var dims = modes.map { Int32($0) }
        GridFFT.planning.lock()
        let p = fftw_plan_dft_r2c(Int32(d), &dims, samples, spectrum, FFTW_ESTIMATE)
        GridFFT.planning.unlock()
        fftw_execute(p)
        GridFFT.planning.lock()
        fftw_destroy_plan(p)
        GridFFT.planning.unlock()
        let factor = windowCorrection()
        // Per axis and grid index of the r2c layout: the mode |k| (folded: the far kernel is
        // even) and its factor, or −1 beyond the modes.
        let s3 = shape + [Int](repeating: 1, count: 3 - d)
        let last = d - 1
        var c3 = s3
        c3[last] = s3[last] / 2 + 1
        var mcomplex = modes + [Int](repeating: 1, count: 3 - d)
        mcomplex[last] = mcomplex[last] / 2 + 1
        var modeOf = [[Int]]()
        var factorOf = [[Double]]()
        for ax in 0..<3 {
            var m = [Int]()
            var f = [Double]()
            for i in 0..<c3[ax] {
                guard ax < d else {
                    m.append(0)
                    f.append(1)
                    continue
                }
                let k = ax == last ? i : (i <= s3[ax] / 2 ? i : s3[ax] - i)
                m.append(2 * k >= modes[ax] ? -1 : k)
                f.append(2 * k >= modes[ax] ? 0 : factor[ax][k])
            }
            modeOf.append(m)
            factorOf.append(f)
        }
        let scale = 1 / Double(modeTotal)
        let modeTable = modeOf
        let factorTable = factorOf
        let complexShape = c3
        let transformed = SharedPointer(UnsafePointer(spectrum))
        // Element (i0, j) of the spectrum, j among `columns` (all of them by default): flat index
        // i0 · perRow + j, that is (a0, a1, i2) in the three slots, stepped with carries.
        let rows = complexShape[0]
        let perRow = complexShape.reduce(1, *) / rows
        let wanted = columns ?? [(start: 0, count: perRow)]
        let own = wanted.reduce(0) { $0 + $1.count }
        guard own > 0 else { return [] }
        let (mc1, mc2) = (mcomplex[1], mcomplex[2])
        var out = [Double](repeating: 0, count: rows * own)
        out.withUnsafeMutableBufferPointer { op in
            let o = SharedMutablePointer(op.baseAddress!)
            Parallel.forEachChunk(rows, threads: threads, minimumChunk: 16) { range in
                for i0 in range {
                    var at = i0 * own
                    for (start, count) in wanted {
                        // (Within a row of axis 0 only i2 wraps, into a1: a0 stays i0.)
                        let (row, first) = (i0 * perRow + start).quotientAndRemainder(dividingBy: complexShape[2])
                        let (a0, second) = row.quotientAndRemainder(dividingBy: complexShape[1])
                        var (a1, i2) = (second, first)
                        for _ in 0..<count {
                            let (k0, k1, k2) = (modeTable[0][a0], modeTable[1][a1], modeTable[2][i2])
                            if k0 >= 0 && k1 >= 0 && k2 >= 0 {
                                let f01 = scale * factorTable[0][a0] * factorTable[1][a1]
                                o[at] = f01 * factorTable[2][i2] * transformed[(k0 * mc1 + k1) * mc2 + k2].0
                            }
                            at += 1
                            i2 += 1
                            if i2 == complexShape[2] { (a1, i2) = (a1 + 1, 0) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// F(z) − offset at the mode grid's minimum-image offsets z_a = k h or (k − n_a) h, times the
    /// truncation's steps Π_a ψ((|z_a| − Z_a)/w_B), row-major over the n_a (1 beyond d).
    func sampleFarKernel(into samples: UnsafeMutablePointer<Double>, threads: Int) {
        let d = dimension
        let h = spacing
        // Per axis: z² and the truncation's step at each mode index.
        let m3 = modes
        var squares = [[Double]]()
        var boundaries = [[Double]]()
        for a in 0..<3 {
            squares.append(
                (0..<m3[a]).map { i in
                    guard a < d else { return 0 }
                    let z = Double(i <= m3[a] / 2 ? i : i - m3[a]) * h
                    return z * z
                })
            boundaries.append(
                (0..<m3[a]).map { i in
                    a < d ? split.step.value((squares[a][i].squareRoot() - truncation[a]) / boundaryWidth) : 1
                })
        }
        let farPart = split
        let offset = self.offset
        let sampled = SharedMutablePointer(samples)
        let zz = squares
        let steps = boundaries
        Parallel.forEachChunk(m3[0] * m3[1], threads: threads, minimumChunk: 16) { range in
            for row in range {
                let (i0, i1) = row.quotientAndRemainder(dividingBy: m3[1])
                let r2 = zz[0][i0] + zz[1][i1]
                let b = steps[0][i0] * steps[1][i1]
                for i2 in 0..<m3[2] {
                    let boundary = b * steps[2][i2]
                    sampled[row * m3[2] + i2] =
                        boundary == 0
                        ? 0
                        : boundary * (farPart.far((r2 + zz[2][i2]).squareRoot()) - offset)
                }
            }
        }
    }

    /// ((h/2)/φ̂_a(ω_k))² per axis a < d and mode k = 0 … n_a/2, ω_k = 2πk/(n_a h). The window on
    /// the spreading grid is φ_phys(x) = φ(x/a) with a = (w/2)(h/2), so φ̂(ω) = a ∫φ(t) cos(ω a t) dt,
    /// by a Gauss–Legendre rule exact to rounding (``ESWindow/fourier(_:rule:)``).
    func windowCorrection() -> [[Double]] {
        let window = ESWindow(beta: spreadBeta)
        let rule = GaussLegendre(2 * spreadWidth + 40)
        let a = Double(spreadWidth) / 2 * gridSpacing
        var factor: [[Double]] = []
        for ax in 0..<dimension {
            let period = Double(modes[ax]) * spacing
            factor.append(
                (0...(modes[ax] / 2)).map { k in
                    let phi = a * window.fourier(2 * Double.pi * Double(k) / period * a, rule: rule)
                    return pow(gridSpacing / phi, 2)
                })
        }
        return factor
    }
}
