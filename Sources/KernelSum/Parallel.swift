import Dispatch
import Foundation

/// A pointer that may cross into `concurrentPerform`: each task writes a disjoint range.
public struct SharedMutablePointer<T>: @unchecked Sendable {
    /// The pointer.
    public let base: UnsafeMutablePointer<T>
    /// - Parameter base: the pointer to share.
    public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    /// `base[i]`, read or written.
    /// - Parameter i: the index.
    @inlinable public subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// A read-only pointer that may cross into `concurrentPerform`.
public struct SharedPointer<T>: @unchecked Sendable {
    /// The pointer.
    public let base: UnsafePointer<T>
    /// - Parameter base: the pointer to share.
    public init(_ base: UnsafePointer<T>) { self.base = base }
    /// `base[i]`.
    /// - Parameter i: the index.
    @inlinable public subscript(i: Int) -> T { base[i] }
}

/// Loops split over threads, with results that do not depend on the split.
public enum Parallel {
    /// The machine's core count: the default thread count.
    public static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body` on disjoint chunks covering `0..<count`, on up to `threads` threads.
    /// Chunk boundaries depend on `threads`, so `body` must compute each index independently of
    /// the chunking (every caller does: results are per index), which keeps output identical
    /// for any thread count.
    /// - Parameters:
    ///   - count: the indices 0 ..< count.
    ///   - threads: at most this many threads (1: the caller's thread alone).
    ///   - minimumChunk: the fewest indices per chunk worth a task.
    ///   - body: called once per chunk, concurrently.
    public static func forEachChunk(
        _ count: Int, threads: Int, minimumChunk: Int = 64,
        _ body: @Sendable (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        // (Thread counts beyond 2²⁰ are taken as 2²⁰: no overflow of 4 × threads.)
        let chunks = max(1, min(min(threads, 1 << 20) * 4, count / max(1, minimumChunk)))
        if threads <= 1 || chunks == 1 {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size
            let hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// ``forEachChunk(_:threads:minimumChunk:_:)`` over the indices `range` (a rank's block of
    /// items): `body` gets consecutive subranges of it.
    public static func forEachChunk(
        of range: Range<Int>, threads: Int, minimumChunk: Int = 64, _ body: @Sendable (Range<Int>) -> Void
    ) {
        let lower = range.lowerBound
        forEachChunk(range.count, threads: threads, minimumChunk: minimumChunk) { chunk in
            body((lower + chunk.lowerBound)..<(lower + chunk.upperBound))
        }
    }
}
