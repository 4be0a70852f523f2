import Foundation

/// The paths of a subsample of particles.
extension RunPlots {
    /// Paths of a subsample of particles: in the (x1, x2) plane for d ≥ 2, position against
    /// step for d = 1. Paths break where a particle wraps around a periodic box.
    public func paths() throws -> String? { try pathsDrawing()?.svg() }

    /// The paths as a ``Figure``.
    public func pathsDrawing() throws -> Figure? {
        guard let t = trajectory, t.recordCount > 0 else { return nil }
        let styles = populationStyles(t)
        let d = t.dimension
        // The plane of the paths in d ≥ 2: the first two of `coordinates` (x1, x2 by default).
        let plane = d > 2 ? Array((coordinates ?? [0, 1]).prefix(2)) : [0, 1]
        var legend = populationLegend(t).filter {
            d == 2 || !$0.label.hasPrefix(context.densityLabel ?? "target density")
        }
        legend.append(
            LegendEntry("start", style: SeriesStyle(color: "#000000", dash: nil, marker: .circle, filled: false)))
        legend.append(
            LegendEntry("end", style: SeriesStyle(color: "#000000", dash: nil, marker: .circle, filled: true)))
        let lw = legendWidth(legend, font: font)
        let left = 70.0
        var top = 64.0
        var ranges = try windows(d == 1 ? [0] : plane, count: t.recordCount) { try t.frame($0) }
        var panel = (w: 520.0, h: 300.0)
        if d >= 2 {
            let fit = planePanel(x: ranges[0], y: ranges[1], side: 440, minSide: 300)
            ranges = [fit.x, fit.y]
            panel = (fit.width, fit.height)
        }
        let width = left + panel.w + 30 + lw + 12
        let first = try t.frame(0)
        let firstStep = first.step
        let lastStep = t.steps[t.recordCount - 1]
        let subtitle =
            d == 1
            ? "paths of a subsample of particles, position against step"
            : "paths of a subsample of particles\(d > 2 ? " (coordinates x\(plane[0] + 1), x\(plane[1] + 1) of d = \(d))" : ""), steps \(firstStep)–\(lastStep)"
        let head = heading(subtitle, width: width)
        top += head.extra
        let height = top + panel.h + 60
        let svg = Figure(width: width, height: height)
        draw(head, on: svg, width: width)
        let fr = Rect(x: left, y: top, width: panel.w, height: panel.h)
        var counted: [String: Int] = [:]
        let x: Scale
        let y: Scale
        if d == 1 {
            x = Scale(domain: Double(firstStep)...Double(max(lastStep, firstStep + 1)), range: fr.x, fr.maxX)
            y = Scale(domain: ranges[0], range: fr.maxY, fr.y)
            drawAxes(svg, frame: fr, x: x, y: y, xLabel: "step", yLabel: "x1", fontSize: font)
            if let b = context.box?.first {
                svg.group("box") {
                    for v in [b.lowerBound, b.upperBound] {
                        svg.line(fr.x, y(v), fr.maxX, y(v), stroke: "#000", width: 1.6, dash: "6 3")
                    }
                }
            }
        } else {
            x = Scale(domain: ranges[0], range: fr.x, fr.maxX)
            y = Scale(domain: ranges[1], range: fr.maxY, fr.y)
            drawAxes(
                svg, frame: fr, x: x, y: y, xLabel: "x\(plane[0] + 1)", yLabel: "x\(plane[1] + 1)", fontSize: font)
            if d == 2 {
                drawReferenceCloud(svg, x: x, y: y, frame: fr)
                drawContours(svg, x: x, y: y)
            }
            drawBox2D(svg, x: x, y: y, dims: (plane[0], plane[1]))
        }
        // The particles drawn: an even subsample of each population's first record, then their
        // positions at every record (read for them alone): population → id → (step, x).
        var picks: [String: [Int]] = [:]
        for name in t.populationNames {
            guard let p0 = first.populations.first(where: { $0.name == name }) else { continue }
            picks[name] = stride(
                from: 0, to: p0.count, by: max(1, Int((Double(p0.count) / Double(maxPathParticles)).rounded(.up)))
            ).map { p0.ids[$0] }
        }
        var trails: [String: [Int: [(step: Int, x: [Double])]]] = [:]
        // Thinned in time: at most maxPathPoints records per path (evenly, the last always), so
        // a noisy path is a readable line, not a scribble, and long runs are read quickly.
        let every = max(1, Int((Double(t.recordCount) / Double(max(2, maxPathPoints))).rounded(.up)))
        var records = Array(stride(from: 0, to: t.recordCount, by: every))
        if records.last != t.recordCount - 1 { records.append(t.recordCount - 1) }
        for r in records {
            let f = try t.frame(r, ids: picks, velocities: false)
            for name in t.populationNames {
                guard let pick = picks[name], let p = f.populations.first(where: { $0.name == name }) else { continue }
                var row: [Int: Int] = [:]
                for (k, id) in p.ids.enumerated() { row[id] = k }
                for id in pick {
                    if let k = row[id] {
                        trails[name, default: [:]][id, default: []].append(
                            (f.step, Array(p.positions[(k * d)..<(k * d + d)])))
                    }
                }
            }
        }
        for name in t.populationNames {
            guard let pick = picks[name] else { continue }
            let st = styles[name]!
            counted[name] = pick.count
            svg.clipped(to: fr) {
                svg.group("series", [("data-population", name)]) {
                    for id in pick {
                        var pts: [Point] = []
                        var prev: [Double]? = nil
                        var ends: [Point] = []
                        for (step, v) in trails[name]?[id] ?? [] {
                            if let prev, let box = context.box,
                                zip(zip(prev, v), box).contains(where: {
                                    abs($0.0 - $0.1) > 0.5 * ($1.upperBound - $1.lowerBound)
                                })
                            {
                                svg.polyline(pts, stroke: st.color, width: 1.1, dash: st.dash, opacity: 0.7)
                                pts = []
                            }
                            prev = v
                            let pt = d == 1 ? Point(x(Double(step)), y(v[0])) : Point(x(v[plane[0]]), y(v[plane[1]]))
                            pts.append(pt)
                            if ends.isEmpty { ends.append(pt) }
                        }
                        svg.polyline(pts, stroke: st.color, width: 1.1, dash: st.dash, opacity: 0.7)
                        if let s = ends.first {
                            svg.marker(
                                s.x, s.y, size: 2.6,
                                style: SeriesStyle(color: st.color, dash: nil, marker: st.marker, filled: false),
                                opacity: 0.9)
                        }
                        if let e = pts.last {
                            svg.marker(
                                e.x, e.y, size: 2.6,
                                style: SeriesStyle(color: st.color, dash: nil, marker: st.marker, filled: true),
                                opacity: 0.9)
                        }
                    }
                }
            }
        }
        let total = first.populations.map(\.count).reduce(0, +)
        svg.text(
            fr.maxX, fr.maxY + 2 * font + 14, "\(counted.values.reduce(0, +)) of \(total) particles", size: font - 1,
            anchor: .end, fill: "#555", cls: "note")
        drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
        svg.title = "\(context.title): paths"
        return svg
    }
}
