import CFFTW
import Foundation

/// What a ``MeshSum`` keeps between calls (the mutable state beside the immutable plan, as
/// FINUFFT keeps its plan's arrays): the FFT buffers, plans and multiplier of the last plan
/// key, the padded periodic grid, the last plan (for its smooth-step table) and its grid
/// choice (for the next call's hysteresis), and the report. One call at a time: `lock`.
final class MeshWorkspace: @unchecked Sendable {
    let lock = NSLock()
    /// The last call's plan, whose smooth-step table the next call reuses when its β agrees.
    var plan: MeshPlan? = nil
    /// The last call's grid choice, which the next call's hysteresis keeps while it is near the
    /// best: part of a run's state (a checkpoint saves it, see ``MeshSum/saveState()``).
    var history: MeshHistory? = nil
    /// The FFT grid of the last plan key, or nil before the first call.
    private(set) var buffers: MeshBuffers? = nil
    /// The padded spreading grid of the periodic box (``PeriodicGrid``), kept between calls.
    let padded = PaddedBuffer()
    /// A rank's share of a shared sum's results (and its targets), and every rank's gathered.
    let results = (PaddedBuffer(), PaddedBuffer())
    /// What ``MeshSum/parameters`` reports of the last call.
    var report: [String: String] = [:]

    /// The buffers for `newPlan` with at least `channels` real grids: the last call's when its
    /// key is the same (the multiplier and FFTW's plans are then reused), new ones otherwise
    /// (the old ones are freed first, so that two grids are never held at once). `share`: this
    /// rank and the rank count when the ranks share the grid (``SharedGrid``).
    func prepare(_ newPlan: MeshPlan, channels: Int, threads: Int, share: (rank: Int, ranks: Int)?) -> MeshBuffers {
        defer {
            plan = newPlan
            history = newPlan.history
        }
        let key = newPlan.key
        if let kept = buffers, kept.key == key, channels <= kept.channels { return kept }
        buffers = nil
        let made = MeshBuffers(newPlan, key: key, channels: channels, threads: threads, share: share)
        buffers = made
        return made
    }
}

/// The FFT grid of one plan key: `channels` real spreading grids side by side, one complex
/// spectrum (the channels are transformed one after the other), the transforms planned on
/// them (``GridFFT``) and the multiplier (``MeshPlan/multiplier(shape:threads:columns:)``):
/// the whole spectrum's, or where ranks share the grid, this rank's columns only (what it
/// multiplies; the other columns' would be memory every rank holds whole). The real grid and
/// the spectrum are allocated whole (FFTW's plans run on their addresses) but a rank sharing
/// the grid writes only its slab, the rows its targets read and its columns: the pages of the
/// rest are never touched, so never resident.
final class MeshBuffers: @unchecked Sendable {
    let key: MeshPlan.Key
    let channels: Int
    /// Π_a 2n_a doubles per channel.
    let real: UnsafeMutablePointer<Double>
    /// The r2c spectrum of one channel: complexCount values.
    let spectrum: UnsafeMutablePointer<fftw_complex>
    let complexCount: Int
    let transform: GridFFT
    /// Every spectrum value's factor, or this rank's columns', row after row.
    let multiplier: [Double]
    /// The send and receive buffers of a grid shared by ranks (``SharedGrid``), allocated on
    /// first use.
    let exchange = (PaddedBuffer(), PaddedBuffer())

    init(_ plan: MeshPlan, key: MeshPlan.Key, channels: Int, threads: Int, share: (rank: Int, ranks: Int)?) {
        self.key = key
        self.channels = channels
        let d = plan.dimension
        let shape = Array(plan.grid[0..<d])
        let total = shape.reduce(1, *)
        complexCount = total / shape[d - 1] * (shape[d - 1] / 2 + 1)
        real = UnsafeMutablePointer<Double>(fftw_alloc_real(total * channels))!
        spectrum = UnsafeMutablePointer<fftw_complex>(fftw_alloc_complex(complexCount))!
        let transform = GridFFT(shape: shape, band: Array(plan.modes[0..<d]), real: real, spectrum: spectrum)
        self.transform = transform
        multiplier = plan.multiplier(
            shape: shape, threads: threads,
            columns: share.map { SharedGrid.columns(of: transform, rank: $0.rank, ranks: $0.ranks) })
    }

    deinit {
        fftw_free(real)
        fftw_free(spectrum)
    }
}
