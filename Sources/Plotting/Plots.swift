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
    /// At most this many tiles per panel of the image figure.
    public var maxImageTiles = 64

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
    public enum Kind: String, CaseIterable, Sendable { case particles, paths, metrics, images }

    /// Figure `kind` as what it draws, to be written as SVG, PDF or PNG; nil when it does not
    /// apply (no trajectory, no metrics).
    public func drawing(of kind: Kind) throws -> Figure? {
        switch kind {
        case .particles: return try particlesDrawing()
        case .paths: return try pathsDrawing()
        case .metrics: return metricsDrawing()
        case .images: return try imagesDrawing()
        }
    }
}

func legendWidth(_ entries: [LegendEntry], font: Double) -> Double { legendWidth(entries, title: nil, fontSize: font) }
