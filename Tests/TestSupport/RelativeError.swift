/// max|a − r| / max|r| (max|a − r| when `r` is all zero); infinity if `a` has a NaN.
package func relativeError(_ a: [Double], _ r: [Double]) -> Double {
    precondition(a.count == r.count, "sizes \(a.count) vs \(r.count)")
    if a.contains(where: { $0.isNaN }) { return .infinity }
    var num = 0.0
    var den = 0.0
    for k in 0..<a.count {
        num = max(num, abs(a[k] - r[k]))
        den = max(den, abs(r[k]))
    }
    return den > 0 ? num / den : num
}

/// |a − b| / max(|a|, |b|), symmetric in its arguments; 0 when a == b.
package func symmetricRelativeError(_ a: Double, _ b: Double) -> Double {
    a == b ? 0 : abs(a - b) / max(abs(a), abs(b), 1e-300)
}
