import CFFTW
import Foundation

/// The mesh's real-to-complex transform of a d-dimensional grid (and its unnormalised inverse),
/// done axis by axis: one-dimensional transforms of the contiguous last axis (r2c, c2r), then
/// of each other axis in place (c2c, strided). Each pass is cut into blocks of `block` rows or
/// columns, planned once (plus one plan for the remainder) and executed by whichever thread
/// takes the block. Every number is therefore computed by the same plan for any thread count,
/// which keeps the mesh's output thread-independent while both cores work (a multi-threaded
/// FFTW plan would not promise that).
///
/// Only the modes |k_a| < band_a/2 matter (the mesh's multiplier is zero beyond them), so the
/// strided passes skip every block whose transforms lie wholly outside the band in the later
/// axes: forward their output would be multiplied by 0, backward their input is 0 (and stays
/// 0). In 2-D that is about half of the column transforms.
@_spi(MeshParts) public final class GridFFT: @unchecked Sendable {
    /// One pass: transforms of length n along one axis, in blocks of up to ``block`` of them;
    /// a block is (first row, count) for the last axis, (first complex element, count) for the
    /// others, whose consecutive transforms start one element apart.
    struct Pass: @unchecked Sendable {
        let isLastAxis: Bool
        let blocks: [(start: Int, count: Int)]
        var plans: [Int: (forward: fftw_plan, backward: fftw_plan)] = [:]
    }

    /// FFTW's planner is not thread-safe: every plan of this module is made and destroyed
    /// under this lock.
    static let planning = NSLock()
    static let block = 16
    /// d, the grid's rank.
    public let dimension: Int
    /// The real grid's shape; the spectrum's is the same with the last axis n/2 + 1.
    public let shape: [Int]
    /// Complex values of the spectrum: Π_{a<d−1} n_a × (n_{d−1}/2 + 1).
    public let complexCount: Int
    private var passes: [Pass] = []

    /// Plans on the given buffers (FFTW_ESTIMATE does not touch their contents); the transforms
    /// may then run on any buffers of the same layout and alignment.
    /// - Parameters:
    ///   - shape: n_a per axis of the real grid, row-major (the last axis contiguous, even).
    ///   - band: the modes that matter, |k_a| < band_a/2 (pass more than `shape` for all).
    ///   - real: a buffer of Π n_a doubles.
    ///   - spectrum: a buffer of ``complexCount`` complex values.
    public init(
        shape: [Int], band: [Int], real: UnsafeMutablePointer<Double>,
        spectrum: UnsafeMutablePointer<fftw_complex>
    ) {
        let d = shape.count
        dimension = d
        self.shape = shape
        let n = shape[d - 1]
        let nc = n / 2 + 1
        var complexShape = shape
        complexShape[d - 1] = nc
        complexCount = complexShape.reduce(1, *)
        // Whether the transform at offset i of the axes after a (row-major in the complex
        // shape) meets the band: 2|k_b| < band_b for every later axis b.
        func inBand(_ i: Int, after a: Int) -> Bool {
            var rest = i
            for b in stride(from: d - 1, to: a, by: -1) {
                let k = rest % complexShape[b]
                rest /= complexShape[b]
                if 2 * (b == d - 1 ? k : min(k, shape[b] - k)) >= band[b] { return false }
            }
            return true
        }
        // Blocks of `block` transforms: `outer` groups `stride` apart, `inner` transforms each,
        // kept when one of them meets the band.
        func blocks(outer: Int, stride: Int, inner: Int, axis a: Int) -> [(start: Int, count: Int)] {
            let kept = Swift.stride(from: 0, to: inner, by: GridFFT.block).filter { i in
                (i..<min(inner, i + GridFFT.block)).contains { inBand($0, after: a) }
            }
            var out: [(start: Int, count: Int)] = []
            for o in 0..<outer {
                for i in kept { out.append((o * stride + i, min(GridFFT.block, inner - i))) }
            }
            return out
        }
        let rows = complexCount / nc
        var all = [Pass(isLastAxis: true, blocks: blocks(outer: 1, stride: 0, inner: rows, axis: d - 1))]
        for a in stride(from: d - 2, through: 0, by: -1) {
            let inner = complexShape[(a + 1)...].reduce(1, *)
            all.append(
                Pass(
                    isLastAxis: false,
                    blocks: blocks(
                        outer: complexShape[..<a].reduce(1, *),
                        stride: shape[a] * inner, inner: inner, axis: a)))
        }
        // FFTW's SIMD codelets assume every block starts with the planned arrays' alignment;
        // it holds for the mesh's even row lengths, and is checked rather than assumed.
        func alignment(_ z: UnsafeMutablePointer<fftw_complex>) -> Int32 {
            fftw_alignment_of(UnsafeMutableRawPointer(z).assumingMemoryBound(to: Double.self))
        }
        let aligned = all.allSatisfy { pass in
            pass.blocks.allSatisfy { b in
                pass.isLastAxis
                    ? fftw_alignment_of(real + b.start * n) == fftw_alignment_of(real)
                        && alignment(spectrum + b.start * nc) == alignment(spectrum)
                    : alignment(spectrum + b.start) == alignment(spectrum)
            }
        }
        let flags = FFTW_ESTIMATE | (aligned ? 0 : FFTW_UNALIGNED)
        GridFFT.planning.lock()
        defer { GridFFT.planning.unlock() }
        for (k, pass) in all.enumerated() {
            var planned = pass
            // Axis a of the spectrum: stride Π_{b>a} (complex shape) between samples.
            let a = pass.isLastAxis ? d - 1 : d - 1 - k
            let stride = complexShape[(a + 1)...].reduce(1, *)
            for howMany in Set(pass.blocks.map(\.count)) {
                var length = [Int32(shape[a])]
                if pass.isLastAxis {
                    let f = fftw_plan_many_dft_r2c(
                        1, &length, Int32(howMany), real, nil, 1, Int32(n),
                        spectrum, nil, 1, Int32(nc), flags)!
                    let b = fftw_plan_many_dft_c2r(
                        1, &length, Int32(howMany), spectrum, nil, 1, Int32(nc),
                        real, nil, 1, Int32(n), flags | FFTW_DESTROY_INPUT)!
                    planned.plans[howMany] = (f, b)
                } else {
                    let f = fftw_plan_many_dft(
                        1, &length, Int32(howMany), spectrum, nil, Int32(stride), 1,
                        spectrum, nil, Int32(stride), 1, FFTW_FORWARD, flags)!
                    let b = fftw_plan_many_dft(
                        1, &length, Int32(howMany), spectrum, nil, Int32(stride), 1,
                        spectrum, nil, Int32(stride), 1, FFTW_BACKWARD, flags)!
                    planned.plans[howMany] = (f, b)
                }
            }
            passes.append(planned)
        }
    }

    deinit {
        GridFFT.planning.lock()
        for pass in passes {
            for (f, b) in pass.plans.values {
                fftw_destroy_plan(f)
                fftw_destroy_plan(b)
            }
        }
        GridFFT.planning.unlock()
    }

    /// real → spectrum. `leading`: only the first `leading` indices along axis 0 hold data
    /// (the mesh's zero padding lies beyond): the last-axis transforms of the other rows are
    /// skipped and their spectrum set to 0.
    public func forward(
        _ real: UnsafeMutablePointer<Double>, _ spectrum: UnsafeMutablePointer<fftw_complex>,
        threads: Int, leading: Int? = nil
    ) {
        for pass in passes {
            run(pass, forward: true, real: real, spectrum: spectrum, threads: threads, leading: leading)
        }
    }

    /// spectrum → real, unnormalised (the spectrum is destroyed). `leading`: only the first
    /// `leading` indices along axis 0 are wanted; the other rows of `real` are left as they were.
    public func backward(
        _ spectrum: UnsafeMutablePointer<fftw_complex>, _ real: UnsafeMutablePointer<Double>,
        threads: Int, leading: Int? = nil
    ) {
        for pass in passes.reversed() {
            run(pass, forward: false, real: real, spectrum: spectrum, threads: threads, leading: leading)
        }
    }

    /// The passes in forward order, each as its blocks: the last axis's (first row, count),
    /// then axes d − 2 … 0 as (first complex element, count). A distributed grid
    /// (`SharedGrid`) deals them out to its ranks.
    public var passBlocks: [[(start: Int, count: Int)]] { passes.map(\.blocks) }

    /// Runs the blocks `blocks` of pass `index` (of ``passBlocks``) only: a rank's share of
    /// the transform, computed by the same plans as the whole one.
    func run(
        pass index: Int, blocks: Range<Int>, forward: Bool, real: UnsafeMutablePointer<Double>,
        spectrum: UnsafeMutablePointer<fftw_complex>, threads: Int, leading: Int?
    ) {
        run(
            passes[index], blocks: blocks, forward: forward, real: real, spectrum: spectrum, threads: threads,
            leading: leading)
    }

    private func run(
        _ pass: Pass, blocks: Range<Int>? = nil, forward: Bool, real: UnsafeMutablePointer<Double>,
        spectrum: UnsafeMutablePointer<fftw_complex>, threads: Int, leading: Int?
    ) {
        let chosen = blocks ?? pass.blocks.indices
        let r = SharedMutablePointer(real)
        let s = SharedMutablePointer(spectrum)
        let n = shape[dimension - 1]
        let nc = n / 2 + 1
        // Rows (of the last axis) from this one on have axis-0 index ≥ leading.
        let rowLimit = dimension > 1 ? min(shape[0], leading ?? shape[0]) * (complexCount / nc / shape[0]) : Int.max
        Parallel.forEachChunk(chosen.count, threads: threads, minimumChunk: 1) { range in
            for k in range {
                let (start, count) = pass.blocks[chosen.lowerBound + k]
                let plan = pass.plans[count]!
                if pass.isLastAxis && start >= rowLimit {
                    if forward { (s.base + start * nc).initialize(repeating: (0, 0), count: count * nc) }
                    continue
                }
                if pass.isLastAxis {
                    let x = r.base + start * n
                    let z = s.base + start * nc
                    if forward {
                        fftw_execute_dft_r2c(plan.forward, x, z)
                    } else {
                        fftw_execute_dft_c2r(plan.backward, z, x)
                    }
                } else {
                    let z = s.base + start
                    fftw_execute_dft(forward ? plan.forward : plan.backward, z, z)
                }
            }
        }
    }
}
