import Foundation

/// One series of a band figure: a curve (a mean over seeds) against step with its
/// confidence band (nil half-widths: no band at that point, e.g. one seed).
public struct BandSeries: Sendable {
    /// The legend's label.
    public var label: String
    /// The steps.
    public var steps: [Double]
    /// The curve's values.
    public var values: [Double]
    /// The band's half-width at each step: the band is value ± half-width.
    public var halfWidths: [Double?]
    /// A series; see the properties.
    public init(label: String, steps: [Double], values: [Double], halfWidths: [Double?]) {
        self.label = label
        self.steps = steps
        self.values = values
        self.halfWidths = halfWidths
    }
}

/// The means of several variants of a sweep against step, each with its 95 % confidence band
/// shaded in its colour, and the threshold as a dashed line: `wgf compare SWEEP_DIR`.
///
/// The axes are those of ``compareOverlay(title:metric:runs:threshold:)``: a log scale when
/// every finite mean (and the threshold) is positive, its range from the means and the
/// bands' positive edges; a band's lower edge at or below zero on a log scale is drawn at the
/// bottom of the panel.
public func bandOverlay(
    title: String, metric: String, subtitle: String, series: [BandSeries], threshold: Double?
) -> Figure {
    let font = 11.0
    var legend = series.enumerated().map { LegendEntry($1.label, style: SeriesStyle.at($0), line: true, marker: false) }
    let thrStyle = SeriesStyle(color: "#000000", dash: "3 3", marker: .circle, filled: true)
    if let threshold {
        legend.append(LegendEntry("threshold \(shortNumber(threshold))", style: thrStyle, line: true, marker: false))
    }
    let lw = legendWidth(legend, font: font)
    let left = 80.0
    let top = 64.0
    let panel = (w: 520.0, h: 340.0)
    let width = left + panel.w + 30 + lw + 12
    let height = top + panel.h + 64
    let svg = Figure(width: width, height: height)
    svg.title = title
    // One line, shrunk to fit: run names joined into a title can be long.
    let titleSize = fitText(title, width: width - 24, size: 15, bold: true, lines: 1).size
    svg.text(width / 2, 24, title, size: titleSize, anchor: .middle, bold: true, cls: "title")
    svg.text(width / 2, 42, subtitle, size: font, anchor: .middle, fill: "#555", cls: "subtitle")
    let fr = Rect(x: left, y: top, width: panel.w, height: panel.h)

    let means = series.flatMap { $0.values.filter(\.isFinite) } + (threshold.map { [$0] } ?? [])
    let log = !means.isEmpty && means.allSatisfy { $0 > 0 }
    var edges = means
    for s in series {
        for (v, h) in zip(s.values, s.halfWidths) where v.isFinite {
            guard let h, h.isFinite else { continue }
            edges += [v - h, v + h]
        }
    }
    let yr: ClosedRange<Double>
    if log {
        let positive = edges.filter { $0 > 0 }
        let lo = positive.min()!
        let hi = positive.max()!
        let f = hi > lo ? pow(hi / lo, 0.05) : 2
        yr = (lo / f)...(hi * f)
    } else {
        yr = paddedRange(edges)
    }
    let steps = series.flatMap(\.steps)
    let xr = (steps.min() ?? 0)...max(steps.max() ?? 1, (steps.min() ?? 0) + 1)
    let x = Scale(domain: xr, range: fr.x, fr.maxX)
    let y = Scale(domain: yr, range: fr.maxY, fr.y, log: log)
    drawAxes(svg, frame: fr, x: x, y: y, xLabel: "step", yLabel: metric + (log ? " (log scale)" : ""), fontSize: font)
    /// A value's pixel row, kept inside the panel (a band edge ≤ 0 on a log scale: the bottom).
    func row(_ v: Double) -> Double {
        if log && v <= 0 { return fr.maxY }
        return min(fr.maxY, max(fr.y, y(v)))
    }
    for (k, s) in series.enumerated() {
        let st = SeriesStyle.at(k)
        svg.group("band", [("data-variant", s.label)]) {
            // One polygon per stretch of consecutive points that have a band.
            var stretch: [(x: Double, lo: Double, hi: Double)] = []
            func flush() {
                defer { stretch = [] }
                guard stretch.count >= 2 else { return }
                let outline =
                    stretch.map { Point($0.x, $0.hi) } + stretch.reversed().map { Point($0.x, $0.lo) }
                svg.draw(.polygon(outline, fill: st.color, fillOpacity: 0.18, stroke: nil))
            }
            for (i, v) in s.values.enumerated() {
                guard v.isFinite, i < s.halfWidths.count, let h = s.halfWidths[i], h.isFinite else {
                    flush()
                    continue
                }
                stretch.append((x(s.steps[i]), row(v - h), row(v + h)))
            }
            flush()
        }
        svg.group("series", [("data-variant", s.label)]) {
            let pts = zip(s.steps, s.values).filter { $0.1.isFinite && (!log || $0.1 > 0) }.map {
                Point(x($0.0), y($0.1))
            }
            svg.polyline(pts, stroke: st.color, width: 1.8, dash: st.dash)
        }
    }
    if let threshold {
        svg.group("threshold") {
            svg.line(fr.x, y(threshold), fr.maxX, y(threshold), stroke: thrStyle.color, width: 1.2, dash: thrStyle.dash)
        }
    }
    drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
    return svg
}
