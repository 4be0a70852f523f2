import Foundation

/// A map from data values to pixels, linear or logarithmic (base 10).
public struct Scale: Sendable {
    /// The data interval shown (widened when empty; positive on a log axis).
    public var lo: Double, hi: Double
    /// The pixels `lo` and `hi` map to (b < a for a y axis, whose pixels grow downwards).
    public var a: Double, b: Double
    /// Logarithmic (base 10) rather than linear.
    public var log: Bool

    /// Maps `domain` onto pixels `a`...`b`. An empty domain is widened by 10% of its value
    /// (±1 at 0); on a log axis values below 1e-300 are clamped.
    public init(domain: ClosedRange<Double>, range a: Double, _ b: Double, log: Bool = false) {
        var lo = domain.lowerBound
        var hi = domain.upperBound
        if log {
            lo = max(lo, 1e-300)
            hi = max(hi, lo * 1.01)
        }
        if !(hi > lo) {
            let c = lo
            lo = c - (c == 0 ? 1 : abs(c) * 0.1)
            hi = c + (c == 0 ? 1 : abs(c) * 0.1)
        }
        self.lo = lo
        self.hi = hi
        self.a = a
        self.b = b
        self.log = log
    }

    /// The pixel of data value `v`.
    public func callAsFunction(_ v: Double) -> Double {
        if log {
            let l = Foundation.log10(max(v, 1e-300))
            let l0 = Foundation.log10(lo)
            let l1 = Foundation.log10(hi)
            return a + (l - l0) / (l1 - l0) * (b - a)
        }
        return a + (v - lo) / (hi - lo) * (b - a)
    }

    /// Ticks at "nice" values (1, 2, 5 × 10^k; decades on a log axis), at most `maxCount`.
    public func ticks(maxCount: Int) -> [Double] {
        let n = max(2, maxCount)
        if log {
            let l0 = Foundation.log10(lo)
            let l1 = Foundation.log10(hi)
            let d0 = Int(ceil(l0 - 1e-9))
            let d1 = Int(floor(l1 + 1e-9))
            if d1 - d0 + 1 >= 2 {
                let every = max(1, Int(ceil(Double(d1 - d0 + 1) / Double(n))))
                return stride(from: d0, through: d1, by: every).map { pow(10, Double($0)) }
            }
            // Less than two decades shown: 1, 2, 5 multiples, else 1…9, else linear ticks.
            for mantissas in [[1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
                var out: [Double] = []
                for d in (d0 - 1)...(d1 + 1) {
                    for m in mantissas {
                        let v = m * pow(10, Double(d))
                        if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) { out.append(v) }
                    }
                }
                while out.count > n { out = out.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
                if out.count >= 2 { return out }
            }
            return Scale(domain: lo...hi, range: a, b).ticks(maxCount: min(n, 4))
        }
        let step = niceStep((hi - lo) / Double(n - 1))
        let first = ceil(lo / step - 1e-9) * step
        var out: [Double] = []
        var v = first
        while v <= hi + step * 1e-9 && out.count < 100 {
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return out
    }

    /// The spacing of linear ticks: the smallest 1, 2, 5 × 10^k at least `raw`.
    func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let e = floor(Foundation.log10(raw))
        let f = raw / pow(10, e)
        let m: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        return m * pow(10, e)
    }

    /// Tick labels, formatted alike: the same number of decimals on a linear axis; on a log
    /// axis plain numbers when every tick is between 0.01 and 9999, else powers of ten for
    /// all (never `0.01` next to `10⁻³`).
    public func labels(_ ticks: [Double]) -> [String] {
        if log {
            let plain = ticks.allSatisfy { $0 >= 0.01 * (1 - 1e-9) && $0 < 1e4 }
            return ticks.map { plain ? shortNumber($0) : powerLabel($0) }
        }
        guard ticks.count >= 2 else { return ticks.map { shortNumber($0) } }
        let step = abs(ticks[1] - ticks[0])
        let big = ticks.map(abs).max() ?? 0
        if big >= 1e5 || (step < 1e-3 && big < 1e-2) || step < 1e-4 {
            return ticks.map { $0 == 0 ? "0" : String(format: "%.1e", $0) }
        }
        let decimals = max(0, Int(-floor(Foundation.log10(step) + 1e-9)))
        return ticks.map { String(format: "%.\(decimals)f", $0 == 0 ? 0 : $0) }
    }
}

/// 10^k with a superscript exponent; mantissas 2 and 5 written "2×10⁻³" (a value that is no
/// such multiple in 3 significant digits).
func powerLabel(_ v: Double) -> String {
    let e = Int(floor(log10(v) + 1e-9))
    let m = (v / pow(10, Double(e))).rounded()
    let sup: [Character: Character] = [
        "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
    ]
    if abs(v / pow(10, Double(e)) - m) > 1e-9 { return String(format: "%.3g", v) }
    let exp = String(String(e).map { sup[$0] ?? $0 })
    return m == 1 ? "10\(exp)" : "\(Int(m))×10\(exp)"
}

/// A number in at most 4 significant digits.
func shortNumber(_ v: Double) -> String {
    if v == 0 { return "0" }
    if !v.isFinite { return "\(v)" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 { return String(format: "%.3g", v) }
    var s = String(format: "%.4g", v)
    if s.contains("e") { s = String(format: "%.3g", v) }
    return s
}

/// Draws a frame with ticks, tick labels, light grid lines and axis labels; the tick count
/// is chosen so that labels never overlap at the panel's size.
///
/// - Parameters:
///   - svg: The document drawn into.
///   - frame: The panel, in SVG user units.
///   - x: The horizontal scale (its pixels within `frame`).
///   - y: The vertical scale.
///   - xLabel: Written under the x tick labels; nil for none.
///   - yLabel: Written rotated left of the y tick labels; nil for none.
///   - fontSize: The tick labels' size (axis labels are one larger).
///   - grid: Light grid lines at the ticks.
public func drawAxes(
    _ svg: some Canvas, frame: Rect, x: Scale, y: Scale, xLabel: String?, yLabel: String?,
    fontSize: Double = 11, grid: Bool = true
) {
    svg.group("axis") {
        // x ticks: as many as fit with room between labels.
        var xt: [Double] = []
        var xl: [String] = []
        for n in stride(from: 9, through: 2, by: -1) {
            xt = x.ticks(maxCount: n).filter {
                $0 >= x.lo - 1e-9 * abs(x.hi - x.lo) && $0 <= x.hi + 1e-9 * abs(x.hi - x.lo)
            }
            xl = x.labels(xt)
            let widest = xl.map { textWidth($0, size: fontSize) }.max() ?? 0
            if Double(max(1, xt.count)) * (widest + 12) <= frame.width { break }
        }
        var yt: [Double] = []
        var yl: [String] = []
        for n in stride(from: 8, through: 2, by: -1) {
            yt = y.ticks(maxCount: n).filter {
                $0 >= y.lo - 1e-9 * abs(y.hi - y.lo) && $0 <= y.hi + 1e-9 * abs(y.hi - y.lo)
            }
            yl = y.labels(yt)
            if Double(max(1, yt.count)) * (fontSize * 1.9) <= frame.height { break }
        }
        if grid {
            for t in xt {
                let px = x(t)
                svg.line(px, frame.y, px, frame.maxY, stroke: "#e6e6e6", width: 0.7)
            }
            for t in yt {
                let py = y(t)
                svg.line(frame.x, py, frame.maxX, py, stroke: "#e6e6e6", width: 0.7)
            }
        }
        for (t, l) in zip(xt, xl) {
            let px = x(t)
            svg.line(px, frame.maxY, px, frame.maxY + 4, stroke: "#444")
            svg.text(px, frame.maxY + 6 + fontSize, l, size: fontSize, anchor: .middle, cls: "tick-label")
        }
        for (t, l) in zip(yt, yl) {
            let py = y(t)
            svg.line(frame.x - 4, py, frame.x, py, stroke: "#444")
            svg.text(frame.x - 6, py + fontSize * 0.35, l, size: fontSize, anchor: .end, cls: "tick-label")
        }
        svg.rect(frame, fill: "none", stroke: "#444", width: 1, cls: "frame")
        if let xLabel {
            svg.text(
                frame.x + frame.width / 2, frame.maxY + 2 * fontSize + 14, xLabel, size: fontSize + 1, anchor: .middle,
                cls: "axis-label")
        }
        if let yLabel {
            let widest = yl.map { textWidth($0, size: fontSize) }.max() ?? 20
            let px = frame.x - widest - 14
            svg.text(
                px, frame.y + frame.height / 2, yLabel, size: fontSize + 1, anchor: .middle, rotate: -90,
                cls: "axis-label")
        }
    }
}

/// One legend entry: a label with a marker, a line sample or both.
struct LegendEntry {
    var label: String
    var style: SeriesStyle
    var showLine: Bool
    var showMarker: Bool
    init(_ label: String, style: SeriesStyle, line: Bool = false, marker: Bool = true) {
        self.label = label
        self.style = style
        self.showLine = line
        self.showMarker = marker
    }
}

/// A vertical legend with its top-left corner at (x, y); returns its height.
@discardableResult
func drawLegend(
    _ svg: some Canvas, x: Double, y: Double, title: String? = nil, entries: [LegendEntry],
    fontSize: Double = 11
) -> Double {
    let rowH = fontSize + 8
    let widest = max(
        entries.map { textWidth($0.label, size: fontSize) }.max() ?? 0, textWidth(title ?? "", size: fontSize))
    let h = Double(entries.count) * rowH + (title == nil ? 0 : rowH) + 8
    svg.group("legend") {
        svg.rect(
            Rect(x: x, y: y, width: widest + 48, height: h), fill: "#ffffff", stroke: "#bbbbbb", width: 0.8,
            opacity: 0.9)
        var cy = y + 4
        if let title {
            svg.text(x + 6, cy + fontSize, title, size: fontSize, bold: true)
            cy += rowH
        }
        for e in entries {
            let my = cy + rowH / 2 - 1
            if e.showLine { svg.line(x + 6, my, x + 32, my, stroke: e.style.color, width: 2, dash: e.style.dash) }
            if e.showMarker { svg.marker(x + 19, my, size: 4, style: e.style, opacity: 1) }
            svg.text(x + 38, my + fontSize * 0.35, e.label, size: fontSize, cls: "legend-label")
            cy += rowH
        }
    }
    return h
}

/// Width a legend will take.
func legendWidth(_ entries: [LegendEntry], title: String? = nil, fontSize: Double = 11) -> Double {
    max(entries.map { textWidth($0.label, size: fontSize) }.max() ?? 0, textWidth(title ?? "", size: fontSize)) + 48
}

/// Data range of `values` padded by `pad` of its width (finite values only).
func paddedRange(_ values: [Double], pad: Double = 0.05) -> ClosedRange<Double> {
    let f = values.filter(\.isFinite)
    guard let lo = f.min(), let hi = f.max() else { return 0...1 }
    if hi == lo { return (lo - 1)...(hi + 1) }
    let w = hi - lo
    return (lo - pad * w)...(hi + pad * w)
}

/// Equal aspect for a 2-D panel of at most `maxWidth` × `maxHeight` pixels: one data unit is
/// the same number of pixels on both axes, so that a circle of particles is drawn round. The
/// panel follows the data's shape down to `minSide` pixels on its shorter side; beyond that
/// the shorter data range is widened about its centre.
///
/// - Returns: The ranges to show and the panel's size.
public func equalAspect(
    x: ClosedRange<Double>, y: ClosedRange<Double>, maxWidth: Double, maxHeight: Double, minSide: Double
) -> (x: ClosedRange<Double>, y: ClosedRange<Double>, width: Double, height: Double) {
    let sx = max(x.upperBound - x.lowerBound, 1e-300)
    let sy = max(y.upperBound - y.lowerBound, 1e-300)
    // Pixels per data unit: the largest at which both ranges fit the largest panel.
    let k = min(maxWidth / sx, maxHeight / sy)
    let width = min(maxWidth, max(minSide, sx * k))
    let height = min(maxHeight, max(minSide, sy * k))
    func widened(_ r: ClosedRange<Double>, to span: Double) -> ClosedRange<Double> {
        let c = (r.lowerBound + r.upperBound) / 2
        return (c - span / 2)...(c + span / 2)
    }
    return (widened(x, to: width / k), widened(y, to: height / k), width, height)
}
