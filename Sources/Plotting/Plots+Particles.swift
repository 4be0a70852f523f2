import Foundation

/// The particle snapshots of a run.
extension RunPlots {
    /// Particle snapshots: 1-D histograms over the density curve, 2-D scatter over contours,
    /// d > 2 a matrix of 2-D projections (and 1-D histograms on its diagonal).
    public func particles() throws -> String? { try particlesDrawing()?.svg() }

    /// The particle snapshots as a ``Figure``, to be written in any format.
    public func particlesDrawing() throws -> Figure? {
        guard let t = trajectory else { return nil }
        let idx = t.snapshots(snapshotSteps)
        let frames = try idx.map { try t.frame($0) }
        if t.dimension > 2 { return projectionMatrix(frames) }
        let styles = populationStyles(t)
        let legend = populationLegend(t)
        let lw = legendWidth(legend, font: font)
        var ranges = windows(Array(0..<t.dimension), count: frames.count) { frames[$0] }
        var panel = (w: 250.0, h: 200.0)
        if t.dimension == 2 {
            let fit = planePanel(x: ranges[0], y: ranges[1], side: 280, minSide: 170)
            ranges = [fit.x, fit.y]
            panel = (fit.width, fit.height)
        }
        let left = 62.0
        let gap = 34.0
        var top = 74.0
        let width = left + Double(frames.count) * panel.w + Double(frames.count - 1) * gap + 24 + lw + 16
        let n = frames.first?.populations.map(\.count).reduce(0, +) ?? 0
        let head = heading(
            "particles at \(frames.count == 1 ? "step" : "steps") \(frames.map { String($0.step) }.joined(separator: ", ")) · N = \(n) · d = \(t.dimension)",
            width: width)
        top += head.extra
        // Room under the x axis' label for the notes ("N outside").
        let height = top + panel.h + 60 + (t.dimension == 2 ? 16 : 0)
        let svg = Figure(width: width, height: height)
        draw(head, on: svg, width: width)
        let xr = ranges[0]
        let yr: ClosedRange<Double>
        var densityCurve: [(Double, Double)] = []
        var hists: [[String: [Double]]] = []
        let bins = 30
        if t.dimension == 1 {
            if let lp = context.logDensity {
                densityCurve = (0..<200).map { k in
                    let v = xr.lowerBound + (xr.upperBound - xr.lowerBound) * Double(k) / 199
                    return (v, exp(lp([v])))
                }
            }
            var top = densityCurve.map(\.1).filter(\.isFinite).max() ?? 0
            for f in frames {
                var h: [String: [Double]] = [:]
                for p in f.populations {
                    let hh = histogram(p.positions, weights: p.weights, range: xr, bins: bins)
                    h[p.name] = hh
                    top = max(top, hh.max() ?? 0)
                }
                hists.append(h)
            }
            yr = 0...(top > 0 ? top * 1.08 : 1)
        } else {
            yr = ranges[1]
        }
        for (k, f) in frames.enumerated() {
            let fr = Rect(x: left + Double(k) * (panel.w + gap), y: top, width: panel.w, height: panel.h)
            let x = Scale(domain: xr, range: fr.x, fr.maxX)
            let y = Scale(domain: yr, range: fr.maxY, fr.y)
            svg.text(
                fr.x + fr.width / 2, fr.y - 8, "step \(f.step) · t = \(shortNumber(f.time))", size: font + 1,
                anchor: .middle, cls: "panel-title")
            drawAxes(
                svg, frame: fr, x: x, y: y, xLabel: "x1", yLabel: k == 0 ? (t.dimension == 1 ? "density" : "x2") : nil,
                fontSize: font)
            if t.dimension == 1 {
                if let box = context.box, let b = box.first {
                    svg.group("box") {
                        for v in [b.lowerBound, b.upperBound] {
                            svg.line(x(v), fr.y, x(v), fr.maxY, stroke: "#000", width: 1.6, dash: "6 3")
                        }
                    }
                }
                for p in f.populations {
                    let st = styles[p.name]!
                    let h = hists[k][p.name] ?? []
                    let bw = (xr.upperBound - xr.lowerBound) / Double(bins)
                    svg.group("series", [("data-population", p.name)]) {
                        var outline = [Point(x(xr.lowerBound), y(0))]
                        for (b, v) in h.enumerated() {
                            let x0 = xr.lowerBound + Double(b) * bw
                            outline += [Point(x(x0), y(v)), Point(x(x0 + bw), y(v))]
                        }
                        outline.append(Point(x(xr.upperBound), y(0)))
                        svg.polygon(
                            outline, fill: st.color, fillOpacity: 0.28, stroke: st.color, width: 1.4, dash: st.dash)
                        // A rug of the particles under the histogram (marker area ∝ weight).
                        let meanW = p.weights.reduce(0, +) / Double(max(1, p.count))
                        for i in stride(from: 0, to: p.count, by: max(1, p.count / 200))
                        where xr.contains(p.positions[i]) {
                            let rel = meanW > 0 ? p.weights[i] / meanW : 1
                            svg.marker(
                                x(p.positions[i]), fr.maxY - 5, size: 1.6 * min(3, max(0.6, rel.squareRoot())),
                                style: st, opacity: 0.6)
                        }
                    }
                }
                if !densityCurve.isEmpty {
                    svg.group("density") {
                        svg.polyline(
                            densityCurve.map { Point(x($0.0), y(min($0.1, yr.upperBound))) }, stroke: "#555555",
                            width: 1.6)
                    }
                }
            } else {
                drawReferenceCloud(svg, x: x, y: y, frame: fr)
                drawContours(svg, x: x, y: y)
                drawBox2D(svg, x: x, y: y, dims: (0, 1))
                var outside = 0
                for p in f.populations {
                    svg.group("series", [("data-population", p.name)]) {
                        outside += drawParticles(
                            svg, p, dims: (0, 1), d: 2, x: x, y: y, style: styles[p.name]!, frame: fr,
                            limit: maxSnapshotParticles)
                    }
                }
                var notes: [String] = []
                let total = f.populations.map(\.count).reduce(0, +)
                var shown = 0
                for p in f.populations {
                    let every = max(1, Int((Double(p.count) / Double(maxSnapshotParticles)).rounded(.up)))
                    shown += (p.count + every - 1) / every
                }
                if shown < total { notes.append("\(shown) of \(total) shown") }
                if outside > 0 { notes.append("\(outside) outside") }
                // Under the axis, off the particles.
                if !notes.isEmpty {
                    svg.text(
                        fr.maxX, fr.maxY + 3 * font + 24, notes.joined(separator: ", "), size: font - 1, anchor: .end,
                        fill: "#555", cls: "note")
                }
            }
        }
        drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
        svg.title = "\(context.title): particles"
        return svg
    }

    /// d > 2: lower triangle of 2-D projections, histograms on the diagonal, snapshots overlaid.
    func projectionMatrix(_ frames: [Frame]) -> Figure? {
        guard let t = trajectory else { return nil }
        // The coordinates shown (0-based), each a row and a column of the matrix.
        let axes = coordinates ?? Array(0..<min(t.dimension, 5))
        let d = axes.count
        let cell = d <= 3 ? 170.0 : 135.0
        let gap = 40.0
        let left = 64.0
        var top = 64.0
        // Series: snapshot × population.
        var series: [(frame: Int, pop: String, style: SeriesStyle, label: String)] = []
        for (k, f) in frames.enumerated() {
            for p in f.populations {
                let label = t.populationNames.count > 1 ? "\(p.name), step \(f.step)" : "step \(f.step)"
                series.append((k, p.name, SeriesStyle.at(series.count), label))
            }
        }
        var legend = series.map { LegendEntry($0.label, style: $0.style) }
        if context.referenceSamples != nil {
            legend.append(
                LegendEntry(
                    "target samples", style: SeriesStyle(color: "#b0b0b0", dash: nil, marker: .circle, filled: true)))
        }
        if context.box != nil {
            legend.append(
                LegendEntry(
                    "periodic box", style: SeriesStyle(color: "#000000", dash: "6 3", marker: .circle, filled: true),
                    line: true, marker: false))
        }
        let lw = legendWidth(legend, font: font)
        let gridW = Double(d) * cell + Double(d - 1) * gap
        let width = left + gridW + 30 + lw + 12
        let n = frames.first?.populations.map(\.count).reduce(0, +) ?? 0
        let shown =
            coordinates == nil
            ? "the first \(d)" : axes.map { "x\($0 + 1)" }.joined(separator: ", ")
        let head = heading("projections of \(shown) of d = \(t.dimension) coordinates · N = \(n)", width: width)
        top += head.extra
        let height = top + gridW + 56
        let svg = Figure(width: width, height: height)
        draw(head, on: svg, width: width)
        let ranges = windows(axes, count: frames.count) { frames[$0] }
        for r in 0..<d {
            for c in 0...r {
                let fr = Rect(
                    x: left + Double(c) * (cell + gap), y: top + Double(r) * (cell + gap), width: cell, height: cell)
                let x = Scale(domain: ranges[c], range: fr.x, fr.maxX)
                if r == c {
                    let bins = 24
                    var hs: [[Double]] = []
                    for s in series {
                        let p = frames[s.frame].populations.first { $0.name == s.pop }!
                        let xs = (0..<p.count).map { p.positions[$0 * t.dimension + axes[c]] }
                        hs.append(histogram(xs, weights: p.weights, range: ranges[c], bins: bins))
                    }
                    let topV = hs.flatMap { $0 }.max() ?? 1
                    let y = Scale(domain: 0...(topV > 0 ? topV * 1.1 : 1), range: fr.maxY, fr.y)
                    drawAxes(
                        svg, frame: fr, x: x, y: y, xLabel: r == d - 1 ? "x\(axes[c] + 1)" : nil,
                        yLabel: c == 0 ? "density" : nil, fontSize: font - 1)
                    let bw = (ranges[c].upperBound - ranges[c].lowerBound) / Double(bins)
                    for (k, s) in series.enumerated() {
                        svg.group("series", [("data-population", s.pop)]) {
                            var pts: [Point] = [Point(x(ranges[c].lowerBound), y(0))]
                            for (b, v) in hs[k].enumerated() {
                                let x0 = ranges[c].lowerBound + Double(b) * bw
                                pts.append(Point(x(x0), y(v)))
                                pts.append(Point(x(x0 + bw), y(v)))
                            }
                            pts.append(Point(x(ranges[c].upperBound), y(0)))
                            svg.polyline(pts, stroke: s.style.color, width: 1.4, dash: s.style.dash)
                        }
                    }
                } else {
                    let y = Scale(domain: ranges[r], range: fr.maxY, fr.y)
                    drawAxes(
                        svg, frame: fr, x: x, y: y, xLabel: r == d - 1 ? "x\(axes[c] + 1)" : nil,
                        yLabel: c == 0 ? "x\(axes[r] + 1)" : nil, fontSize: font - 1)
                    if let ref = context.referenceSamples {
                        svg.group("reference") {
                            let m = ref.count / t.dimension
                            for i in stride(from: 0, to: m, by: max(1, m / 400)) {
                                let px = x(ref[i * t.dimension + axes[c]])
                                let py = y(ref[i * t.dimension + axes[r]])
                                if px >= fr.x && px <= fr.maxX && py >= fr.y && py <= fr.maxY {
                                    svg.circle(px, py, 1.2, fill: "#b0b0b0")
                                }
                            }
                        }
                    }
                    drawBox2D(svg, x: x, y: y, dims: (axes[c], axes[r]))
                    for s in series {
                        let p = frames[s.frame].populations.first { $0.name == s.pop }!
                        svg.group("series", [("data-population", s.pop)]) {
                            _ = drawParticles(
                                svg, p, dims: (axes[c], axes[r]), d: t.dimension, x: x, y: y, style: s.style, frame: fr,
                                limit: maxMatrixParticles)
                        }
                    }
                }
            }
        }
        drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
        svg.title = "\(context.title): particles"
        return svg
    }
}
