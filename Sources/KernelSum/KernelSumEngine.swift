import Communication

/// The problem every engine solves:
///
///     s_c(y_j) = Σ_i w_{ic} k(y_j − x_i),     g_c(y_j) = ∇_y s_c(y_j)   (for chosen channels c)
///
/// for N sources x_i, M targets y_j in R^d and C signed weight channels.
/// Layouts: points row-major (`sources[i*d + a]`); weights channel-major (`weights[c*N + i]`);
/// values target-major (`values[j*C + c]`); gradients `gradients[(j*G + g)*d + a]` for the
/// g-th entry of `gradientChannels`.
public struct KernelSumProblem {
    /// d.
    public var dimension: Int
    /// N sources, row-major (`sources[i*d + a]`).
    public var sources: UnsafeBufferPointer<Double>
    /// C channels of N weights, channel-major (`weights[c*N + i]`).
    public var weights: UnsafeBufferPointer<Double>
    /// C.
    public var channels: Int
    /// M targets, row-major.
    public var targets: UnsafeBufferPointer<Double>
    /// The G channels whose gradients are wanted, each in 0 ..< C.
    public var gradientChannels: [Int]

    /// nil unless the buffers have these shapes (whole points, C weights per source, gradient
    /// channels among the C): the engines read by these shapes, and the check stays in
    /// -Ounchecked builds.
    /// - Parameters:
    ///   - dimension: d ≥ 1.
    ///   - sources: N·d coordinates.
    ///   - weights: C·N weights.
    ///   - channels: C ≥ 0.
    ///   - targets: M·d coordinates.
    ///   - gradientChannels: channels in 0 ..< C whose gradients are wanted.
    public init?(
        dimension: Int, sources: UnsafeBufferPointer<Double>, weights: UnsafeBufferPointer<Double>,
        channels: Int, targets: UnsafeBufferPointer<Double>, gradientChannels: [Int]
    ) {
        guard dimension > 0, channels >= 0, sources.count % dimension == 0, targets.count % dimension == 0,
            weights.count == channels * (sources.count / dimension),
            gradientChannels.allSatisfy({ $0 >= 0 && $0 < channels })
        else { return nil }
        self.dimension = dimension
        self.sources = sources
        self.weights = weights
        self.channels = channels
        self.targets = targets
        self.gradientChannels = gradientChannels
    }

    /// N.
    public var sourceCount: Int { sources.count / dimension }
    /// M.
    public var targetCount: Int { targets.count / dimension }

    /// The same sums for the targets `range` only.
    public func restricted(to range: Range<Int>) -> KernelSumProblem {
        guard range.lowerBound >= 0, range.upperBound <= targetCount else {
            fatalError("KernelSumProblem.restricted: targets \(range) of \(targetCount)")
        }
        var part = self
        part.targets = UnsafeBufferPointer(
            rebasing: targets[(range.lowerBound * dimension)..<(range.upperBound * dimension)])
        return part
    }

    /// Whether outputs have this problem's sizes (M·C values, M·G·d gradients): every engine
    /// writes nothing into others.
    /// - Parameters:
    ///   - values: the values' buffer.
    ///   - gradients: the gradients' buffer.
    public func fits(values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) -> Bool
    {
        values.count == targetCount * channels && gradients.count == targetCount * gradientChannels.count * dimension
    }
}

/// A way of computing kernel sums. Engines differ in cost and accuracy, never in layout.
public protocol KernelSumEngine: Sendable {
    /// Registry name (`direct`, ...), recorded in run.json.
    var name: String { get }
    /// The parameters the engine chose, recorded in run.json.
    var parameters: [String: String] { get }
    /// Fills `values` (M×C) and `gradients` (M×G×d), overwriting their contents.
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - problem: sources, weights and targets.
    ///   - values: M·C values, overwritten.
    ///   - gradients: M·G·d gradients, overwritten.
    func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>)
    /// Fills `values` and `gradients` for the targets `range` of `problem` only (outputs sized
    /// for `range.count` targets), with every choice the engine makes (method, grid) taken
    /// from the whole problem, so that the ranges of a partition, concatenated, equal one whole
    /// call bit for bit: how ranks share a sum (``DistributedSum``). The default sums the
    /// range as a problem of its own, right for engines whose choices do not see the targets.
    func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>)
}

/// An engine that shares a sum among the ranks of a job (given it at construction) its own way,
/// better than ``DistributedSum``'s blocks of targets: the mesh cuts its grid into slabs and the
/// targets by the rows they read (``MeshSum``).
public protocol SharesSumsAcrossRanks: KernelSumEngine {
    /// Every target's sums (`sum(_:_:values:gradients:)`'s), computed by the ranks together:
    /// every rank makes the same call and ends with every result, bit for bit one process's.
    /// Returns false, having done nothing, where this call is better shared by blocks of
    /// targets; the answer depends only on the problem, so it is the same on every rank.
    func sumAcrossRanks(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool
    /// The sums at this rank's targets over every rank's sources, when the ranks hold the
    /// particles apart (the domain decomposition): `problem` holds this rank's sources, weights
    /// and targets, `sourceIDs` the sources' global indices (which fix the order of one
    /// process's sum). Collective; bit for bit one process's with every source in index order.
    /// Returns false, having done nothing, where the engine cannot (the same on every rank).
    func sumOverRankParticles(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, sourceIDs: UnsafeBufferPointer<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) -> Bool
}

extension KernelSumEngine {
    public func sum(
        _ kernel: any RadialKernel, _ problem: KernelSumProblem, targets range: Range<Int>,
        values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>
    ) {
        sum(kernel, problem.restricted(to: range), values: values, gradients: gradients)
    }
}

/// Which engine a scenario asks for.
public enum SummationMethod: String, CaseIterable, Sendable {
    /// ``AutoSum``: per call, the cheapest engine that meets the tolerance.
    case auto
    /// ``DirectSum``: exact, O(N·M).
    case direct
    /// ``MeshSum``: d ≤ 3, to the tolerance.
    case mesh
    /// ``SlicedSum``: the energy-distance, Gaussian and Matérn kernels, any d.
    case sliced
}

/// A summation method that cannot serve a kernel (e.g. `sliced` for a Gaussian).
public struct SummationError: Error, CustomStringConvertible {
    /// Why, and what to use instead.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension KernelSumEngine {
    /// Array front-end: sizes the outputs and runs ``sum(_:_:values:gradients:)``; shapes that
    /// do not make a ``KernelSumProblem`` give NaN outputs (which stop a run as diverged).
    /// - Parameters:
    ///   - kernel: the kernel summed.
    ///   - d: the dimension.
    ///   - sources: N·d coordinates, row-major.
    ///   - weights: C·N weights, channel-major.
    ///   - channels: C.
    ///   - targets: M·d coordinates, row-major.
    ///   - gradientChannels: the channels whose gradients are wanted.
    ///   - values: resized to M·C and filled.
    ///   - gradients: resized to M·G·d and filled.
    public func sum(
        _ kernel: any RadialKernel, dimension d: Int, sources: [Double], weights: [Double],
        channels: Int, targets: [Double], gradientChannels: [Int],
        values: inout [Double], gradients: inout [Double]
    ) {
        let m = d > 0 ? targets.count / d : 0
        if values.count != m * channels { values = [Double](repeating: 0, count: m * channels) }
        let gcount = m * gradientChannels.count * d
        if gradients.count != gcount { gradients = [Double](repeating: 0, count: gcount) }
        sources.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { w in
                targets.withUnsafeBufferPointer { t in
                    guard
                        let problem = KernelSumProblem(
                            dimension: d, sources: s, weights: w, channels: channels,
                            targets: t, gradientChannels: gradientChannels)
                    else {
                        // Shapes that do not match: NaN, which stops a run as diverged.
                        for k in 0..<values.count { values[k] = .nan }
                        for k in 0..<gradients.count { gradients[k] = .nan }
                        return
                    }
                    values.withUnsafeMutableBufferPointer { v in
                        gradients.withUnsafeMutableBufferPointer { g in
                            sum(kernel, problem, values: v, gradients: g)
                        }
                    }
                }
            }
        }
    }
}

/// The engine factory.
public enum KernelSumEngines {
    /// The engine for a method and kernel. `auto` picks per call (see ``AutoSum``); `mesh`
    /// chooses its grid from `tolerance`;
    /// `sliced` uses `directions` directions drawn from `seed`, or, with `directions` nil, adds
    /// blocks of them until its estimated error meets `tolerance` (``SlicedSum/Estimate``). In a periodic `domain` the sums
    /// are over the box [0, L)^d by minimum image (direct, mesh, auto; sliced is refused).
    ///
    /// Refused (what the engine could not meet): a tolerance or period outside
    /// ``NumericRange``, and an explicit `mesh` in a box whose kernel has not decayed by L/2
    /// to the tolerance (the minimum-image kernel's kink there caps the mesh's accuracy).
    /// - Parameters:
    ///   - method: the method asked for.
    ///   - kernel: the kernel to be summed (some methods serve only some kernels).
    ///   - dimension: d (the mesh serves 1 to 3).
    ///   - tolerance: the relative tolerance of `auto`, `mesh` and `sliced` without `directions`.
    ///   - threads: the engine's threads.
    ///   - directions: the sliced engine's directions (nil: as many as `tolerance` needs).
    ///   - seed: the sliced engine's directions' seed.
    ///   - domain: R^d, or the periodic box [0, L)^d.
    ///   - communicator: the ranks that share the mesh's grid (``MeshSum``), if several.
    public static func make(
        _ method: SummationMethod, kernel: any RadialKernel, dimension: Int, tolerance: Double,
        threads: Int, directions: Int? = 256, seed: UInt64 = 0,
        domain: Domain = .free, communicator: (any Communicator)? = nil
    ) throws -> any KernelSumEngine {
        if let l = domain.period, let problem = NumericRange.periodProblem(l) {
            throw SummationError(message: "period " + problem)
        }
        if method == .auto || method == .mesh || (method == .sliced && directions == nil),
            let problem = NumericRange.toleranceProblem(tolerance)
        {
            throw SummationError(message: "tolerance " + problem)
        }
        switch method {
        case .auto:
            return AutoSum(
                tolerance: tolerance, threads: threads, seed: seed, domain: domain, communicator: communicator)
        case .direct: return DirectSum(threads: threads, domain: domain)
        case .mesh:
            if let reason = MeshSum.unsupported(kernel, dimension: dimension) { throw SummationError(message: reason) }
            if let l = domain.period, !MeshSum.periodicMeshApplies(kernel, period: l, tolerance: tolerance) {
                let edge = abs(kernel.value(squaredDistance: l * l / 4))
                let centre = abs(kernel.value(squaredDistance: 0))
                throw SummationError(
                    message: "the periodic mesh meets the tolerance only for kernels that have decayed by L/2 "
                        + "(|k(L/2)| ≤ tolerance·|k(0)|, here \(kernel.regularity == .singular || !(centre > 0) ? "a kernel that does not decay" : "|k(L/2)|/|k(0)| = \(formatNumber(edge / centre))") "
                        + "against tolerance \(formatNumber(tolerance))): use direct, or auto, which chooses between them"
                )
            }
            return MeshSum(tolerance: tolerance, threads: threads, domain: domain, communicator: communicator)
        case .sliced:
            if domain.isPeriodic {
                throw SummationError(
                    message:
                        "sliced does not handle the periodic box: use direct, mesh or auto (minimum-image sums), or omit period"
                )
            }
            if let reason = SlicedSum.unsupported(kernel) { throw SummationError(message: reason) }
            return SlicedSum(
                directions: directions ?? 256, seed: seed, threads: threads,
                tolerance: directions == nil ? tolerance : nil)
        }
    }
}
