/// Items 0 ..< n split over `parts` ranks in contiguous blocks whose sizes differ by at most
/// one (the first n mod parts blocks are one longer): rank r owns ``range(of:)``.
/// Contiguous blocks keep every item's global index, so keyed random streams and output order
/// do not depend on the number of ranks.
public struct BlockPartition: Equatable, Sendable {
    /// The number of items.
    public let count: Int
    /// The number of blocks.
    public let parts: Int

    /// - Parameters:
    ///   - count: n ≥ 0 items.
    ///   - parts: the number of blocks, ≥ 1.
    public init(count: Int, parts: Int) {
        guard count >= 0, parts >= 1 else { fatalError("BlockPartition: \(count) items in \(parts) parts") }
        self.count = count
        self.parts = parts
    }

    /// The items of block `r`.
    public func range(of r: Int) -> Range<Int> {
        let base = count / parts
        let extra = count % parts
        let start = r * base + min(r, extra)
        return start..<(start + base + (r < extra ? 1 : 0))
    }

    /// Every block's length, in block order.
    public var counts: [Int] { (0..<parts).map { range(of: $0).count } }
}
