import Foundation

/// One metric series of one run, and what `wgf compare` reports of it.
public struct ConvergenceSummary: Sendable {
    /// The last recorded value (NaN for an empty series).
    public var final: Double
    /// The smallest finite value (NaN when there is none).
    public var best: Double
    /// The step of `best` (its first record).
    public var bestStep: Int
    /// First record at which the metric was ≤ the threshold (nil if never or no threshold).
    public var reachedStep: Int?
    /// The simulated time of that record.
    public var reachedTime: Double?
    /// Least-squares slope of ln(metric) against step over the converging phase (see `fittedRate`).
    public var rate: Double?
    /// The same slope against simulated time over the same records: comparable between runs
    /// of different step sizes (value ≈ C·exp(rate·t)).
    public var ratePerTime: Double?
    /// The records used for the rate: steps from..through.
    public var rateWindow: (from: Int, through: Int)?

    /// Summarises `values` recorded at `steps` (times `times`); lower is better.
    public init(steps: [Double], times: [Double], values: [Double], threshold: Double?) {
        let finite = zip(steps, values).filter { $0.1.isFinite }
        final = values.last ?? .nan
        if let b = finite.min(by: { $0.1 < $1.1 }) {
            best = b.1
            bestStep = Int(b.0)
        } else {
            best = .nan
            bestStep = 0
        }
        reachedStep = nil
        reachedTime = nil
        if let threshold, let k = values.indices.first(where: { values[$0].isFinite && values[$0] <= threshold }) {
            reachedStep = Int(steps[k])
            reachedTime = times[k]
        }
        let fit = ConvergenceSummary.fittedRate(steps: steps, values: values)
        rate = fit?.slope
        rateWindow = fit.map { ($0.from, $0.through) }
        ratePerTime = ConvergenceSummary.fittedRate(steps: steps, values: values, against: times)?.slope
    }

    /// The fitted rate: least-squares slope of ln(value) against step over the converging
    /// phase, from the first record to the first record whose value is within 10% of the best
    /// value (value ≤ 1.1 × best). Records with a value ≤ 0 or not finite are left out; nil
    /// when fewer than two records remain. Negative means decreasing: value ≈ C·exp(rate·step).
    /// With `against` (the records' times), the slope is against those, over the same records.
    public static func fittedRate(
        steps: [Double], values: [Double], against abscissae: [Double]? = nil
    ) -> (slope: Double, from: Int, through: Int)? {
        let usable = values.indices.filter { values[$0].isFinite && values[$0] > 0 }
        guard let best = usable.map({ values[$0] }).min() else { return nil }
        guard let end = usable.first(where: { values[$0] <= 1.1 * best }) else { return nil }
        let idx = usable.filter { $0 <= end }
        guard idx.count >= 2 else { return nil }
        let xs = idx.map { (abscissae ?? steps)[$0] }
        let ys = idx.map { log(values[$0]) }
        let mx = xs.reduce(0, +) / Double(xs.count)
        let my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0
        var sxx = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
        }
        guard sxx > 0 else { return nil }
        return (sxy / sxx, Int(steps[idx.first!]), Int(steps[idx.last!]))
    }
}

/// The overlay of several runs' curves of one metric against step (log scale when positive),
/// with the threshold as a dashed line.
public func compareOverlay(
    title: String, metric: String, runs: [(label: String, steps: [Double], values: [Double])],
    threshold: Double?
) -> Figure {
    let font = 11.0
    var legend = runs.enumerated().map { LegendEntry($1.label, style: SeriesStyle.at($0), line: true, marker: true) }
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
    svg.text(
        width / 2, 42, "\(metric) against step, \(runs.count) runs", size: font, anchor: .middle, fill: "#555",
        cls: "subtitle")
    let fr = Rect(x: left, y: top, width: panel.w, height: panel.h)
    let all = runs.flatMap { $0.values.filter(\.isFinite) } + (threshold.map { [$0] } ?? [])
    let log = !all.isEmpty && all.allSatisfy { $0 > 0 }
    let yr: ClosedRange<Double>
    if log, let lo = all.min(), let hi = all.max() {
        let f = hi > lo ? pow(hi / lo, 0.05) : 2
        yr = (lo / f)...(hi * f)
    } else {
        yr = paddedRange(all)
    }
    let steps = runs.flatMap(\.steps)
    let xr = (steps.min() ?? 0)...max(steps.max() ?? 1, (steps.min() ?? 0) + 1)
    let x = Scale(domain: xr, range: fr.x, fr.maxX)
    let y = Scale(domain: yr, range: fr.maxY, fr.y, log: log)
    drawAxes(svg, frame: fr, x: x, y: y, xLabel: "step", yLabel: metric + (log ? " (log scale)" : ""), fontSize: font)
    if let threshold {
        svg.group("threshold") {
            svg.line(fr.x, y(threshold), fr.maxX, y(threshold), stroke: thrStyle.color, width: 1.2, dash: thrStyle.dash)
        }
    }
    for (k, r) in runs.enumerated() {
        let st = SeriesStyle.at(k)
        svg.group("series", [("data-run", r.label)]) {
            let pts = zip(r.steps, r.values).filter { $0.1.isFinite && (!log || $0.1 > 0) }.map {
                Point(x($0.0), y($0.1))
            }
            svg.polyline(pts, stroke: st.color, width: 1.8, dash: st.dash)
            let every = max(1, pts.count / 12)
            for (i, p) in pts.enumerated() where i % every == 0 || i == pts.count - 1 {
                svg.marker(p.x, p.y, size: 3, style: st, opacity: 1)
            }
        }
    }
    drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
    return svg
}
