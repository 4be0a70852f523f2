/// Marching squares: the level set {f = level} of values on a regular grid, as line segments.
///
/// `values[j * nx + i]` is f at (xs[i], ys[j]). Saddle cells are resolved by the cell's mean.
///
/// - Returns: The segments, each a pair of points in data coordinates.
public func contourSegments(
    values: [Double], nx: Int, ny: Int, xs: [Double], ys: [Double], level: Double
)
    -> [(Point, Point)]
{
    var out: [(Point, Point)] = []
    guard nx >= 2, ny >= 2 else { return out }
    @inline(__always) func interp(_ p0: Point, _ v0: Double, _ p1: Point, _ v1: Double) -> Point {
        let t = v1 == v0 ? 0.5 : (level - v0) / (v1 - v0)
        return Point(p0.x + t * (p1.x - p0.x), p0.y + t * (p1.y - p0.y))
    }
    for j in 0..<(ny - 1) {
        for i in 0..<(nx - 1) {
            // Corners counter-clockwise from bottom-left: a (i,j), b (i+1,j), c (i+1,j+1), d (i,j+1).
            let va = values[j * nx + i]
            let vb = values[j * nx + i + 1]
            let vc = values[(j + 1) * nx + i + 1]
            let vd = values[(j + 1) * nx + i]
            guard va.isFinite, vb.isFinite, vc.isFinite, vd.isFinite else { continue }
            var code = 0
            if va > level { code |= 1 }
            if vb > level { code |= 2 }
            if vc > level { code |= 4 }
            if vd > level { code |= 8 }
            if code == 0 || code == 15 { continue }
            let pa = Point(xs[i], ys[j])
            let pb = Point(xs[i + 1], ys[j])
            let pc = Point(xs[i + 1], ys[j + 1])
            let pd = Point(xs[i], ys[j + 1])
            let ab = interp(pa, va, pb, vb)
            let bc = interp(pb, vb, pc, vc)
            let cd = interp(pc, vc, pd, vd)
            let da = interp(pd, vd, pa, va)
            switch code {
            case 1, 14: out.append((da, ab))
            case 2, 13: out.append((ab, bc))
            case 3, 12: out.append((da, bc))
            case 4, 11: out.append((bc, cd))
            case 6, 9: out.append((ab, cd))
            case 7, 8: out.append((cd, da))
            case 5, 10:
                let centre = (va + vb + vc + vd) / 4 > level
                if (code == 5) == centre {
                    out.append((da, cd))
                    out.append((ab, bc))
                } else {
                    out.append((da, ab))
                    out.append((bc, cd))
                }
            default: break
            }
        }
    }
    return out
}

/// Weighted histogram normalised as a density: divided by the total weight (values outside
/// `range` included) and the bin width, so it integrates to the weight fraction inside `range`.
/// Weights default to 1.
public func histogram(_ values: [Double], weights: [Double]? = nil, range: ClosedRange<Double>, bins: Int) -> [Double] {
    var h = [Double](repeating: 0, count: max(1, bins))
    let w = (range.upperBound - range.lowerBound) / Double(h.count)
    guard w > 0 else { return h }
    var total = 0.0
    for (k, v) in values.enumerated() {
        let wt = weights?[k] ?? 1
        total += wt
        guard v.isFinite, v >= range.lowerBound, v <= range.upperBound else { continue }
        let b = min(h.count - 1, Int((v - range.lowerBound) / w))
        h[b] += wt
    }
    if total > 0 { for b in h.indices { h[b] /= total * w } }
    return h
}
