import Foundation

/// The figures of one run. Every function returns a whole SVG document (or nil when the kind
/// does not apply, e.g. an animation in d > 2).
public struct RunPlots {
    /// The particles; nil when the run recorded none (no particle figures).
    public var trajectory: (any TrajectorySource)?
    /// metrics.csv; nil when it could not be read (no metrics figure).
    public var metrics: MetricSeries?
    /// What the scenario adds: title, density, box, thresholds.
    public var context: PlotContext
    /// Records shown as particle snapshots (trajectory frame indices).
    public var snapshotSteps: [Int]?
    /// At most this many particles per population in paths and animations.
    public var maxPathParticles = 40
    /// At most this many points per path (records, evenly spaced, the last always).
    public var maxPathPoints = 200
    /// 2-D snapshots, paths and animation at equal aspect (one data unit the same pixels on
    /// both axes); off, each axis fills a square panel.
    public var equalAspectIn2D = true
    /// At most this many particles per population in the animation.
    public var maxAnimatedParticles = 300
    /// At most this many frames in the animation (every k-th record, the last always).
    public var maxAnimationFrames = 60
    /// At most this many markers per population in each 2-D particle snapshot (an even
    /// subsample; the panel says so).
    public var maxSnapshotParticles = 1500
    /// At most this many markers per series in each panel of the d > 2 matrix.
    public var maxMatrixParticles = 200
    /// In d > 2, the coordinates shown (0-based, 2 to 5 of them, distinct, each < d): the
    /// projection matrix's rows and columns, and the first two the plane of the paths. Nil:
    /// the first five (x1, x2 for the paths).
    public var coordinates: [Int]?

    /// The figures of a run's recorded data in `context`.
    public init(trajectory: (any TrajectorySource)?, metrics: MetricSeries?, context: PlotContext) {
        self.trajectory = trajectory
        self.metrics = metrics
        self.context = context
    }

    let titleSize = 15.0, font = 11.0

    // MARK: shared pieces

    /// The plotting windows of `coordinates` (in their order) over `count` frames, `frame(k)` the k-th:
    /// per coordinate, the periodic box if any, else the union over at most 25 of the frames of
    /// the positions' 0.5 %–99.5 % quantile range widened to every position within half its
    /// width beyond it (tails are shown, a few far particles do not squash the picture), joined
    /// with the context's window, padded. Each frame looked at is read once.
    func windows(
        _ coordinates: [Int], count: Int, frame: (Int) throws -> Frame
    ) rethrows -> [ClosedRange<Double>] {
        let free = coordinates.filter { a in !(context.box.map { a < $0.count } ?? false) }
        var lo = [Int: Double]()
        var hi = [Int: Double]()
        if let t = trajectory, !free.isEmpty {
            let d = t.dimension
            let every = max(1, count / 24)
            for k in 0..<count where k % every == 0 || k == count - 1 {
                let f = try frame(k)
                for a in free {
                    var v: [Double] = []
                    for p in f.populations {
                        for i in 0..<p.count {
                            let x = p.positions[i * d + a]
                            if x.isFinite { v.append(x) }
                        }
                    }
                    guard !v.isEmpty else { continue }
                    v.sort()
                    let qlo = v[Int(Double(v.count - 1) * 0.005)]
                    let qhi = v[Int((Double(v.count - 1) * 0.995).rounded(.up))]
                    let reach = 0.5 * (qhi - qlo)
                    lo[a] = min(lo[a] ?? .infinity, max(v[0], qlo - reach))
                    hi[a] = max(hi[a] ?? -.infinity, min(v[v.count - 1], qhi + reach))
                }
            }
        }
        return coordinates.map { a in
            if let box = context.box, a < box.count { return box[a] }
            guard trajectory != nil else { return 0...1 }
            var l = lo[a] ?? .nan
            var h = hi[a] ?? .nan
            if !l.isFinite || !h.isFinite {
                l = 0
                h = 1
            }
            if let w = context.window, a < w.count {
                l = min(l, w[a].lowerBound)
                h = max(h, w[a].upperBound)
            }
            if h <= l {
                l -= 1
                h += 1
            }
            let pad = 0.06 * (h - l)
            return (l - pad)...(h + pad)
        }
    }

    /// A 2-D panel of at most `side` × `side` pixels for the window `x` × `y`: at equal aspect
    /// (``equalAspect(x:y:maxWidth:maxHeight:minSide:)``), or the square with the window
    /// unchanged when ``equalAspectIn2D`` is off.
    func planePanel(
        x: ClosedRange<Double>, y: ClosedRange<Double>, side: Double, minSide: Double
    ) -> (x: ClosedRange<Double>, y: ClosedRange<Double>, width: Double, height: Double) {
        guard equalAspectIn2D else { return (x, y, side, side) }
        return equalAspect(x: x, y: y, maxWidth: side, maxHeight: side, minSide: minSide)
    }

    func markerRadius(count: Int) -> Double { min(3, max(1.2, 3.4 - 0.65 * log10(Double(max(1, count))))) }

    /// Markers of one population; area proportional to weight (relative to the mean weight).
    func drawParticles(
        _ svg: some Canvas, _ p: PopulationFrame, dims: (Int, Int), d: Int, x: Scale, y: Scale,
        style: SeriesStyle, frame: Rect, limit: Int = .max
    ) -> Int {
        let r0 = markerRadius(count: min(p.count, limit))
        let meanW = p.weights.reduce(0, +) / Double(max(1, p.count))
        var outside = 0
        let every = max(1, Int((Double(p.count) / Double(limit)).rounded(.up)))
        for i in stride(from: 0, to: p.count, by: every) {
            let vx = p.positions[i * d + dims.0]
            let vy = p.positions[i * d + dims.1]
            let px = x(vx)
            let py = y(vy)
            guard px >= frame.x - 0.5, px <= frame.maxX + 0.5, py >= frame.y - 0.5, py <= frame.maxY + 0.5 else {
                outside += 1
                continue
            }
            let rel = meanW > 0 ? p.weights[i] / meanW : 1
            let r = r0 * min(4, max(0.5, rel.squareRoot()))
            svg.marker(px, py, size: r, style: style, opacity: 0.75)
        }
        return outside
    }

    /// Contours of the density (or level sets of the potential) of a 2-D run over a window.
    func drawContours(_ svg: some Canvas, x: Scale, y: Scale) {
        let field: (([Double]) -> Double)?
        var isDensity = true
        if let lp = context.logDensity {
            field = lp
        } else if let v = context.potential {
            field = v
            isDensity = false
        } else {
            field = nil
        }
        guard let f = field, let t = trajectory, t.dimension == 2 else { return }
        let n = 90
        let xs = (0..<n).map { x.lo + (x.hi - x.lo) * Double($0) / Double(n - 1) }
        let ys = (0..<n).map { y.lo + (y.hi - y.lo) * Double($0) / Double(n - 1) }
        var vals = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { vals[j * n + i] = f([xs[i], ys[j]]) } }
        let finite = vals.filter(\.isFinite)
        guard let top = finite.max(), let bottom = finite.min(), top > bottom else { return }
        let levels: [Double]
        if isDensity {
            // Density at fractions of its maximum over the window (log scale: log π − max).
            levels = [0.9, 0.7, 0.5, 0.3, 0.15, 0.05, 0.01].map { top + log($0) }
        } else {
            let sorted = finite.sorted()
            levels = [0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9].map { sorted[Int(Double(sorted.count - 1) * $0)] }
        }
        svg.group("contour", [("data-kind", isDensity ? "density" : "potential")]) {
            for (k, level) in levels.enumerated() {
                let segs = contourSegments(values: vals, nx: n, ny: n, xs: xs, ys: ys, level: level)
                guard !segs.isEmpty else { continue }
                let grey = String(format: "%02x", 120 + 14 * k)
                svg.segments(
                    segs.map { (Point(x($0.0.x), y($0.0.y)), Point(x($0.1.x), y($0.1.y))) },
                    stroke: "#\(grey)\(grey)\(grey)", width: k == 0 ? 1.1 : 0.8)
            }
        }
    }

    func drawBox2D(_ svg: some Canvas, x: Scale, y: Scale, dims: (Int, Int)) {
        guard let box = context.box, box.count > max(dims.0, dims.1) else { return }
        let bx = box[dims.0]
        let by = box[dims.1]
        svg.group("box") {
            svg.rect(
                Rect(
                    x: x(bx.lowerBound), y: y(by.upperBound), width: x(bx.upperBound) - x(bx.lowerBound),
                    height: y(by.lowerBound) - y(by.upperBound)), stroke: "#000", width: 1.6, dash: "6 3")
        }
    }

    func populationStyles(_ t: any TrajectorySource) -> [String: SeriesStyle] {
        var s: [String: SeriesStyle] = [:]
        for (k, n) in t.populationNames.enumerated() { s[n] = SeriesStyle.at(k) }
        return s
    }

    /// The title (and subtitle) set to fit a figure `width` wide; `extra` is the height it
    /// takes beyond one line, by which the figure's content moves down.
    struct Heading {
        var title: (lines: [String], size: Double)
        var subtitle: String?
        var subtitleSize: Double
        var extra: Double { Double(title.lines.count - 1) * (title.size + 3) }
    }

    func heading(_ subtitle: String?, width: Double) -> Heading {
        let room = width - 24
        return Heading(
            title: fitText(context.title, width: room, size: titleSize, bold: true), subtitle: subtitle,
            subtitleSize: subtitle.map { fitText($0, width: room, size: font, bold: false, lines: 1).size } ?? font)
    }

    func draw(_ h: Heading, on svg: some Canvas, width: Double) {
        for (k, line) in h.title.lines.enumerated() {
            svg.text(
                width / 2, 24 + Double(k) * (h.title.size + 3), line, size: h.title.size, anchor: .middle, bold: true,
                cls: "title")
        }
        if let subtitle = h.subtitle {
            svg.text(
                width / 2, 42 + h.extra, subtitle, size: h.subtitleSize, anchor: .middle, fill: "#555", cls: "subtitle")
        }
    }

    /// The target's sample points: light, small, under the particles.
    let referenceStyle = SeriesStyle(color: "#b8b8b8", dash: nil, marker: .circle, filled: true)

    /// At most 2000 of the target's sample points of a 2-D run in `frame` (an even subsample).
    func drawReferenceCloud(_ svg: some Canvas, x: Scale, y: Scale, frame fr: Rect) {
        guard let ref = context.referenceSamples, !ref.isEmpty else { return }
        let m = ref.count / 2
        svg.group("reference") {
            for i in stride(from: 0, to: m, by: max(1, m / 2000)) {
                let px = x(ref[2 * i])
                let py = y(ref[2 * i + 1])
                if px >= fr.x && px <= fr.maxX && py >= fr.y && py <= fr.maxY {
                    svg.circle(px, py, 1.3, fill: referenceStyle.color, opacity: 0.55)
                }
            }
        }
    }

    func populationLegend(_ t: any TrajectorySource, extra: [LegendEntry] = []) -> [LegendEntry] {
        let styles = populationStyles(t)
        var e = t.populationNames.map { n in LegendEntry(n, style: styles[n]!) }
        if let ref = context.referenceSamples, t.dimension == 2, !ref.isEmpty {
            e.append(LegendEntry("target samples", style: referenceStyle))
        }
        if context.logDensity != nil && t.dimension <= 2 {
            let name = context.densityLabel ?? "target density"
            e.append(
                LegendEntry(
                    t.dimension == 1 ? name : name + " contours",
                    style: SeriesStyle(
                        color: "#888888", dash: t.dimension == 1 ? nil : nil, marker: .circle, filled: true),
                    line: true, marker: false))
        } else if context.potential != nil && t.dimension == 2 {
            e.append(
                LegendEntry(
                    "potential level sets",
                    style: SeriesStyle(color: "#888888", dash: nil, marker: .circle, filled: true), line: true,
                    marker: false))
        }
        if context.box != nil {
            e.append(
                LegendEntry(
                    "periodic box", style: SeriesStyle(color: "#000000", dash: "6 3", marker: .circle, filled: true),
                    line: true, marker: false))
        }
        return e + extra
    }

    /// The figures that every format can hold (the animation is SVG only).
    public enum Kind: String, CaseIterable, Sendable { case particles, paths, metrics }

    /// Figure `kind` as what it draws, to be written as SVG, PDF or PNG; nil when it does not
    /// apply (no trajectory, no metrics).
    public func drawing(of kind: Kind) throws -> Figure? {
        switch kind {
        case .particles: return try particlesDrawing()
        case .paths: return try pathsDrawing()
        case .metrics: return metricsDrawing()
        }
    }

    // MARK: particles

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

    // MARK: paths

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

    // MARK: metrics

    /// Each recorded metric against step (time on the top axis), log scale where the metric is
    /// positive, the scenario's expectations as dashed thresholds.
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

    // MARK: animation

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

extension Array where Element == LegendEntry {}

func legendWidth(_ entries: [LegendEntry], font: Double) -> Double { legendWidth(entries, title: nil, fontSize: font) }
