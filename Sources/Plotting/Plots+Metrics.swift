import Foundation

/// The metrics against step, with each expectation at its by-step.
extension RunPlots {
    /// Each recorded metric against step (time on the top axis), log scale where the metric is
    /// positive, each of the scenario's expectations at its by-step.
    public func metricsFigure() -> String? { metricsDrawing()?.svg() }

    /// The metrics figure as a ``Figure``.
    public func metricsDrawing() -> Figure? {
        guard let m = metrics, !m.metrics.isEmpty, !m.steps.isEmpty else { return nil }
        let count = m.metrics.count
        let cols = count == 1 ? 1 : 2
        let rows = (count + cols - 1) / cols
        let panel = (w: 330.0, h: 210.0)
        let left = 78.0
        let gapX = 92.0
        let gapY = 100.0
        var top = 112.0
        let valueStyle = SeriesStyle.at(0)
        let thrStyle = SeriesStyle(color: "#b2182b", dash: nil, marker: .triangle, filled: true)
        var legend = [LegendEntry("recorded value", style: valueStyle, line: true, marker: m.steps.count <= 60)]
        let hasThresholds = context.thresholds.contains { t in m.metrics.contains { $0.name == t.metric } }
        if hasThresholds {
            legend.append(LegendEntry("expectation's bound", style: thrStyle, line: true, marker: false))
            legend.append(
                LegendEntry(
                    "its by-step",
                    style: SeriesStyle(color: "#b2182b", dash: "1 3", marker: .circle, filled: true), line: true,
                    marker: false))
        }
        let lw = legendWidth(legend, font: font)
        let width = left + Double(cols) * panel.w + Double(cols - 1) * gapX + 30 + lw + 12
        let head = heading("metrics against step (top axis: time)", width: width)
        top += head.extra
        let height = top + Double(rows) * panel.h + Double(rows - 1) * gapY + 64
        let svg = Figure(width: width, height: height)
        draw(head, on: svg, width: width)
        let h = zip(m.steps, m.times).first { $0.0 > 0 }.map { $1 / $0 }
        // Padded so that a by-step at the first or last record is drawn inside the frame.
        let s0 = m.steps.first ?? 0
        let s1 = max(m.steps.last ?? 1, s0 + 1)
        let xr = (s0 - 0.03 * (s1 - s0))...(s1 + 0.03 * (s1 - s0))
        for (k, metric) in m.metrics.enumerated() {
            let fr = Rect(
                x: left + Double(k % cols) * (panel.w + gapX), y: top + Double(k / cols) * (panel.h + gapY),
                width: panel.w, height: panel.h)
            let thresholds = context.thresholds.filter { $0.metric == metric.name }
            let finite = metric.values.filter(\.isFinite)
            let all = finite + thresholds.map(\.value)
            let log = !finite.isEmpty && all.allSatisfy { $0 > 0 }
            let yr: ClosedRange<Double>
            if log {
                let lo = all.min()!
                let hi = all.max()!
                yr = (lo / pow(hi / lo, 0.05) / (hi == lo ? 2 : 1))...(hi * pow(hi / lo, 0.05) * (hi == lo ? 2 : 1))
            } else {
                yr = paddedRange(all)
            }
            let x = Scale(domain: xr, range: fr.x, fr.maxX)
            let y = Scale(domain: yr, range: fr.maxY, fr.y, log: log)
            svg.text(
                fr.x + fr.width / 2, fr.y - 40, metric.name + (log ? " (log scale)" : ""), size: font + 2,
                anchor: .middle, bold: true, cls: "panel-title")
            drawAxes(svg, frame: fr, x: x, y: y, xLabel: "step", yLabel: metric.name, fontSize: font)
            if let h, h > 0 {
                // The time axis on top: ticks at nice times.
                let tScale = Scale(domain: (xr.lowerBound * h)...(xr.upperBound * h), range: fr.x, fr.maxX)
                svg.group("axis time-axis") {
                    var ticks: [Double] = []
                    var labels: [String] = []
                    for n in stride(from: 7, through: 2, by: -1) {
                        ticks = tScale.ticks(maxCount: n).filter { $0 >= tScale.lo && $0 <= tScale.hi }
                        labels = tScale.labels(ticks)
                        if Double(ticks.count) * ((labels.map { textWidth($0, size: font) }.max() ?? 0) + 12)
                            <= fr.width
                        {
                            break
                        }
                    }
                    for (tv, l) in zip(ticks, labels) {
                        let px = tScale(tv)
                        svg.line(px, fr.y - 4, px, fr.y, stroke: "#444")
                        svg.text(px, fr.y - 7, l, size: font - 1, anchor: .middle, fill: "#555", cls: "tick-label")
                    }
                    svg.text(
                        fr.x + fr.width / 2, fr.y - 22, "time", size: font - 1, anchor: .middle, fill: "#555",
                        cls: "axis-label")
                }
            }
            for t in thresholds {
                // An expectation is judged at its by-step alone (`wgf check`): drawn there, as a
                // short bar at the bound with a dotted line down the step, never across the run.
                svg.group("threshold", [("data-metric", t.metric), ("data-by-step", String(t.byStep))]) {
                    let py = y(t.value)
                    let bx = min(fr.maxX, max(fr.x, x(Double(t.byStep))))
                    let half = max(10, 0.04 * fr.width)
                    let x0 = max(fr.x, bx - half)
                    let x1 = min(fr.maxX, bx + half)
                    svg.line(bx, fr.y, bx, fr.maxY, stroke: thrStyle.color, width: 1, dash: "1 3")
                    svg.line(x0, py, x1, py, stroke: thrStyle.color, width: 2, cls: "threshold-bar")
                    // The label beside the bar, on the side with room.
                    let right = bx < fr.x + fr.width / 2
                    svg.text(
                        right ? x1 + 3 : x0 - 3, py + (t.atMost ? -5 : 13),
                        "\(t.atMost ? "≤" : "≥") \(shortNumber(t.value)) by step \(t.byStep)", size: font - 1,
                        anchor: right ? .start : .end, fill: thrStyle.color, cls: "threshold-label")
                }
            }
            svg.group("series", [("data-metric", metric.name)]) {
                var segment: [Point] = []
                var segments: [[Point]] = []
                for (s, v) in zip(m.steps, metric.values) {
                    if v.isFinite && (!log || v > 0) {
                        segment.append(Point(x(s), y(v)))
                    } else if !segment.isEmpty {
                        segments.append(segment)
                        segment = []
                    }
                }
                if !segment.isEmpty { segments.append(segment) }
                for sgm in segments {
                    svg.polyline(sgm, stroke: valueStyle.color, width: 1.8, dash: valueStyle.dash)
                    if m.steps.count <= 60 {
                        for p in sgm { svg.marker(p.x, p.y, size: 2.2, style: valueStyle, opacity: 1) }
                    }
                }
            }
        }
        drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
        svg.title = "\(context.title): metrics"
        return svg
    }
}
