/// Exact O(N·M) summation: the reference every other engine is tested against.
///
/// Targets are split across threads; each target's sum runs over the sources in index order,
/// block by block, so the result does not depend on the thread count. Within a block the
/// squared distances, the kernel profiles and the accumulations are separate loops over
/// contiguous memory (sources are transposed to coordinate-major once per call), which the
/// compiler vectorises; the kernel is called once per block, specialised for its type.
public struct DirectSum: KernelSumEngine {
    public let threads: Int
    public static let blockSize = 256

    public init(threads: Int) { self.threads = max(1, threads) }

    public var name: String { "direct" }
    public var parameters: [String: String] { ["threads": String(threads)] }

    public func sum(_ kernel: any RadialKernel, _ problem: KernelSumProblem,
                    values: UnsafeMutableBufferPointer<Double>, gradients: UnsafeMutableBufferPointer<Double>) {
        let d = problem.dimension, n = problem.sourceCount, m = problem.targetCount
        let channels = problem.channels, gradChannels = problem.gradientChannels, g = gradChannels.count
        precondition(values.count == m * channels && gradients.count == m * g * d)
        // Coordinate-major copy of the sources: column a holds x_{·a}.
        let columns = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n * d))
        defer { columns.deallocate() }
        for i in 0..<n { for a in 0..<d { columns[a * n + i] = problem.sources[i * d + a] } }
        let cols = SharedPointer(UnsafePointer(columns))
        let w = SharedPointer(problem.weights.baseAddress ?? UnsafePointer(columns))
        let y = SharedPointer(problem.targets.baseAddress ?? UnsafePointer(columns))
        let out = SharedMutablePointer(values.baseAddress ?? columns)
        let gout = SharedMutablePointer(gradients.baseAddress ?? columns)

        Parallel.forEachChunk(m, threads: threads, minimumChunk: 16) { range in
            let block = DirectSum.blockSize
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: block * (4 + d) + channels + g * d + d)
            defer { scratch.deallocate() }
            let r2 = scratch, kv = scratch + block, ks = scratch + 2 * block, wks = scratch + 3 * block
            let diff = scratch + 4 * block                       // d × block
            let acc = scratch + (4 + d) * block                  // channels
            let gacc = acc + channels                            // g × d
            let yj = gacc + g * d                                // d
            for j in range {
                for a in 0..<d { yj[a] = y[j * d + a] }
                for c in 0..<channels { acc[c] = 0 }
                for t in 0..<(g * d) { gacc[t] = 0 }
                var start = 0
                while start < n {
                    let len = min(block, n - start)
                    for k in 0..<len { r2[k] = 0 }
                    for a in 0..<d {
                        let col = cols.base + a * n + start
                        let dk = diff + a * block
                        let ya = yj[a]
                        for k in 0..<len {
                            let t = ya - col[k]
                            dk[k] = t
                            r2[k] += t * t
                        }
                    }
                    kernel.profiles(r2, count: len, values: kv, slopes: ks)
                    for c in 0..<channels {
                        acc[c] += dot(w.base + c * n + start, kv, len)
                    }
                    for (gi, c) in gradChannels.enumerated() {
                        let wc = w.base + c * n + start
                        for k in 0..<len { wks[k] = wc[k] * ks[k] }
                        for a in 0..<d {
                            gacc[gi * d + a] += dot(wks, diff + a * block, len)
                        }
                    }
                    start += len
                }
                for c in 0..<channels { out[j * channels + c] = acc[c] }
                for t in 0..<(g * d) { gout[j * g * d + t] = gacc[t] }
            }
        }
    }
}

/// Σ a[k]·b[k] in four lanes (vectorised), lanes added in a fixed order: deterministic.
@inline(__always)
func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
    var acc = SIMD4<Double>(repeating: 0)
    var k = 0
    while k + 4 <= n {
        acc.addProduct(UnsafeRawPointer(a + k).loadUnaligned(as: SIMD4<Double>.self),
                       UnsafeRawPointer(b + k).loadUnaligned(as: SIMD4<Double>.self))
        k += 4
    }
    var s = (acc[0] + acc[1]) + (acc[2] + acc[3])
    while k < n { s += a[k] * b[k]; k += 1 }
    return s
}
