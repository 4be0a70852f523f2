import Foundation

/// The particles over the run, animated (SVG only).
extension RunPlots {
    /// An animated SVG (SMIL) of the particles over the run, for d = 1 (histogram bars) and
    /// d = 2 (moving markers); nil in d > 2.
    public func animation(secondsPerFrame: Double = 0.12) throws -> String? {
        guard let t = trajectory, t.dimension <= 2, t.recordCount > 0 else { return nil }
        let every = max(1, Int((Double(t.recordCount) / Double(maxAnimationFrames)).rounded(.up)))
        // The records shown, and their steps.
        var fi = Array(stride(from: 0, to: t.recordCount, by: every))
        if fi.last != t.recordCount - 1 { fi.append(t.recordCount - 1) }
        let allSteps = t.steps
        let frameSteps = fi.map { allSteps[$0] }
        let dur = max(3, Double(fi.count) * secondsPerFrame) + 1.5
        // Hold the last frame for 1.5 s: key times spread over the first part.
        let keyTimes = (0..<fi.count).map { fmtKey(Double($0) * (dur - 1.5) / max(1, Double(fi.count - 1)) / dur) }
        let kt = fi.count > 1 ? (keyTimes + ["1"]).joined(separator: ";") : "0;1"
        let styles = populationStyles(t)
        let legend = populationLegend(t)
        let lw = legendWidth(legend, font: font)
        let left = 70.0
        var top = 64.0
        var panel = (w: 440.0, h: 280.0)
        // 2-D: the window of the records shown, at equal aspect.
        var window2D: [ClosedRange<Double>] = []
        if t.dimension == 2 {
            let ranges = try windows([0, 1], count: fi.count) { try t.frame(fi[$0]) }
            let fit = planePanel(x: ranges[0], y: ranges[1], side: 460, minSide: 300)
            window2D = [fit.x, fit.y]
            panel = (fit.width, fit.height)
        }
        let width = left + panel.w + 30 + lw + 12
        let head = heading(
            "animation: \(fi.count) records, steps \(frameSteps.first!)–\(frameSteps.last!)", width: width)
        top += head.extra
        let height = top + panel.h + 60
        let svg = SVGWriter(width: width, height: height)
        draw(head, on: svg, width: width)
        let fr = Rect(x: left, y: top, width: panel.w, height: panel.h)
        let dstr = fmt(dur) + "s"
        func animate(_ attr: String, _ values: [String]) -> String {
            "<animate attributeName=\"\(attr)\" dur=\"\(dstr)\" repeatCount=\"indefinite\" calcMode=\"linear\" keyTimes=\"\(kt)\" values=\"\((values + [values.last!]).joined(separator: ";"))\"/>"
        }
        if t.dimension == 1 {
            let xr = try windows([0], count: fi.count) { try t.frame(fi[$0]) }[0]
            let bins = 30
            let bw = (xr.upperBound - xr.lowerBound) / Double(bins)
            var topV = 0.0
            var curve: [(Double, Double)] = []
            if let lp = context.logDensity {
                curve = (0..<200).map { k in
                    let v = xr.lowerBound + (xr.upperBound - xr.lowerBound) * Double(k) / 199
                    return (v, exp(lp([v])))
                }
            }
            topV = curve.map(\.1).filter(\.isFinite).max() ?? 0
            // Per population, the histogram of each record shown (records read one at a time).
            var hs: [String: [[Double]]] = [:]
            for r in fi {
                let f = try t.frame(r)
                for name in t.populationNames {
                    hs[name, default: []].append(
                        f.populations.first(where: { $0.name == name }).map {
                            histogram($0.positions, weights: $0.weights, range: xr, bins: bins)
                        } ?? [Double](repeating: 0, count: bins))
                }
            }
            // Cap the height at the 90% quantile of bar tops (and the density) so that the
            // first, concentrated frames do not flatten the rest.
            let tops = hs.values.flatMap { $0.map { $0.max() ?? 0 } }.sorted()
            if let q = tops.isEmpty ? nil : tops[Int(Double(tops.count - 1) * 0.9)] { topV = max(topV, q) }
            let y = Scale(domain: 0...(topV > 0 ? topV * 1.1 : 1), range: fr.maxY, fr.y)
            let x = Scale(domain: xr, range: fr.x, fr.maxX)
            drawAxes(svg, frame: fr, x: x, y: y, xLabel: "x1", yLabel: "density", fontSize: font)
            if let b = context.box?.first {
                svg.group("box") {
                    for v in [b.lowerBound, b.upperBound] {
                        svg.line(x(v), fr.y, x(v), fr.maxY, stroke: "#000", width: 1.6, dash: "6 3")
                    }
                }
            }
            for name in t.populationNames {
                let st = styles[name]!
                svg.group("series", [("data-population", name)]) {
                    for b in 0..<bins {
                        let ys = hs[name]!.map { fmt(y(min($0[b], y.hi))) }
                        let hsz = hs[name]!.map { fmt(fr.maxY - y(min($0[b], y.hi))) }
                        svg.raw(
                            "<rect x=\"\(fmt(x(xr.lowerBound + Double(b) * bw)))\" width=\"\(fmt(x(xr.lowerBound + bw) - x(xr.lowerBound)))\" y=\"\(ys[0])\" height=\"\(hsz[0])\" fill=\"\(st.color)\" fill-opacity=\"0.4\" stroke=\"\(st.color)\" stroke-width=\"0.8\">\(animate("y", ys))\(animate("height", hsz))</rect>\n"
                        )
                    }
                }
            }
            if !curve.isEmpty {
                svg.group("density") {
                    svg.polyline(curve.map { Point(x($0.0), y(min($0.1, y.hi))) }, stroke: "#555555", width: 1.6)
                }
            }
        } else {
            let x = Scale(domain: window2D[0], range: fr.x, fr.maxX)
            let y = Scale(domain: window2D[1], range: fr.maxY, fr.y)
            drawAxes(svg, frame: fr, x: x, y: y, xLabel: "x1", yLabel: "x2", fontSize: font)
            drawReferenceCloud(svg, x: x, y: y, frame: fr)
            drawContours(svg, x: x, y: y)
            drawBox2D(svg, x: x, y: y, dims: (0, 1))
            svg.raw(
                "<clipPath id=\"anim-clip\"><rect x=\"\(fmt(fr.x))\" y=\"\(fmt(fr.y))\" width=\"\(fmt(fr.width))\" height=\"\(fmt(fr.height))\"/></clipPath>\n"
            )
            // The particles animated: an even subsample of each population's first record, read
            // alone at the records shown.
            let first = try t.frame(fi[0])
            var picks: [String: [Int]] = [:]
            for name in t.populationNames {
                guard let p0 = first.populations.first(where: { $0.name == name }) else { continue }
                picks[name] = stride(
                    from: 0, to: p0.count,
                    by: max(1, Int((Double(p0.count) / Double(maxAnimatedParticles)).rounded(.up)))
                ).map { p0.ids[$0] }
            }
            let frames = try fi.map { try t.frame($0, ids: picks, velocities: false) }
            for name in t.populationNames {
                guard let p0 = first.populations.first(where: { $0.name == name }), let pick = picks[name] else {
                    continue
                }
                let st = styles[name]!
                let rows: [[Int: Int]] = frames.map { f in
                    var m: [Int: Int] = [:]
                    if let p = f.populations.first(where: { $0.name == name }) {
                        for (k, id) in p.ids.enumerated() { m[id] = k }
                    }
                    return m
                }
                let r0 = markerRadius(count: p0.count) + 0.4
                let meanW = p0.weights.reduce(0, +) / Double(max(1, p0.count))
                svg.group("series", [("data-population", name), ("clip-path", "url(#anim-clip)")]) {
                    for id in pick {
                        var cx: [String] = []
                        var cy: [String] = []
                        var rr: [String] = []
                        var last = (x: x(0), y: y(0), r: r0)
                        for (k, f) in frames.enumerated() {
                            if let row = rows[k][id], let p = f.populations.first(where: { $0.name == name }) {
                                let rel = meanW > 0 ? p.weights[row] / meanW : 1
                                last = (
                                    x(p.positions[row * 2]), y(p.positions[row * 2 + 1]),
                                    r0 * min(4, max(0.5, rel.squareRoot()))
                                )
                            }
                            cx.append(fmt(last.x))
                            cy.append(fmt(last.y))
                            rr.append(fmt(last.r))
                        }
                        let fill = st.filled ? st.color : "none"
                        let stroke = st.filled ? "" : " stroke=\"\(st.color)\" stroke-width=\"1\""
                        let radius = Set(rr).count > 1 ? animate("r", rr) : ""
                        svg.raw(
                            "<circle cx=\"\(cx[0])\" cy=\"\(cy[0])\" r=\"\(rr[0])\" fill=\"\(fill)\"\(stroke) opacity=\"0.8\">\(animate("cx", cx))\(animate("cy", cy))\(radius)</circle>\n"
                        )
                    }
                }
            }
        }
        // Step counter: one label per frame, shown in turn.
        svg.group("step-counter") {
            for (k, step) in frameSteps.enumerated() {
                var vis = [String](repeating: "0", count: fi.count)
                vis[k] = "1"
                let values = (vis + [vis.last!]).joined(separator: ";")
                svg.raw(
                    "<text x=\"\(fmt(fr.maxX - 6))\" y=\"\(fmt(fr.y + 16))\" font-size=\"\(fmt(font + 1))\" text-anchor=\"end\" opacity=\"\(k == 0 ? 1 : 0)\">step \(step)<animate attributeName=\"opacity\" dur=\"\(dstr)\" repeatCount=\"indefinite\" calcMode=\"discrete\" keyTimes=\"\(kt)\" values=\"\(values)\"/></text>\n"
                )
            }
        }
        drawLegend(svg, x: width - lw - 12, y: top, entries: legend, fontSize: font)
        return svg.render(title: "\(context.title): animation")
    }

    func fmtKey(_ v: Double) -> String { String(format: "%.4f", min(1, max(0, v))) }
}
