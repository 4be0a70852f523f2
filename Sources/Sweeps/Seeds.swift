import InputText

/// The seeds of a sweep, from `--seeds`: a range `A..B` (both included) or a list `1,5,9`.
public enum Seeds {
    /// The most seeds one sweep takes: beyond that, a typo (`1..1000000`) is more likely than a plan.
    public static let maximumCount = 100_000

    /// Reads `A..B` or `S1,S2,...` (each a non-negative integer, no seed twice).
    ///
    /// - Throws: ``SweepError`` (`.usage`) naming what is wrong.
    public static func parse(_ text: String) throws(SweepError) -> [Int] {
        let shown = Excerpt.quote(text, limit: 80)
        func usage(_ m: String) -> SweepError { SweepError(.usage, "--seeds \(shown): \(m)") }
        func seed(_ s: Substring) throws(SweepError) -> Int {
            let t = s.trimmingSpaces
            guard let v = Int(t), v >= 0, t.allSatisfy(\.isASCII) else {
                throw usage("'\(Excerpt.quote(t))' is not a seed (an integer ≥ 0)")
            }
            return v
        }
        if let dots = text.range(of: "..") {
            let a = try seed(text[..<dots.lowerBound])
            let b = try seed(text[dots.upperBound...])
            guard a <= b else { throw usage("the range is empty (\(a) > \(b))") }
            guard b - a < maximumCount else { throw usage("\(b - a + 1) seeds; at most \(maximumCount)") }
            return Array(a...b)
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= maximumCount else { throw usage("\(parts.count) seeds; at most \(maximumCount)") }
        var seeds: [Int] = []
        var seen: Set<Int> = []
        for p in parts {
            guard !p.trimmingSpaces.isEmpty else { throw usage("an empty seed (expected A..B or S1,S2,...)") }
            let s = try seed(p)
            guard seen.insert(s).inserted else { throw usage("seed \(s) is given twice") }
            seeds.append(s)
        }
        return seeds
    }
}
