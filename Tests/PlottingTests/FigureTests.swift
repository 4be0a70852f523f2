import Foundation
import Plotting
import Recording
import TestSupport
import XCTest

/// What makes the figures fit for a paper, read back from what is drawn.
final class FigureTests: XCTestCase {
    /// A 2-D run six times wider than tall: x in [−3, 3], y in [−0.5, 0.5].
    func flatCloud(records: Int = 4, count: Int = 80) -> Trajectory {
        var frames: [Frame] = []
        for r in 0..<records {
            var p = PopulationFrame(name: "particles")
            for i in 0..<count {
                let u = Double(i) / Double(count - 1)
                p.ids.append(i)
                p.weights.append(1 / Double(count))
                p.positions += [-3 + 6 * u, 0.5 * sin(Double(i * 7 + r))]
            }
            frames.append(Frame(step: r * 10, time: Double(r), populations: [p]))
        }
        return Trajectory(dimension: 2, frames: frames)
    }

    func testTwoDimensionalFiguresHaveEqualAspect() throws {
        let plots = RunPlots(trajectory: flatCloud(), metrics: nil, context: PlotContext(title: "flat"))
        for (name, svg) in [
            ("particles", try plots.particles()), ("paths", try plots.paths()), ("animation", try plots.animation()),
        ] {
            let u = try SVGElements.parse(try XCTUnwrap(svg, name)).unitsPerPixel()
            XCTAssertEqual(u.x / u.y, 1, accuracy: 0.01, "\(name): units per pixel x \(u.x), y \(u.y)")
        }
        // Off: a square panel, the x range (6 units and padding) squeezed into as many pixels
        // as the y range (1 unit and padding).
        var free = plots
        free.equalAspectIn2D = false
        let u = try SVGElements.parse(try XCTUnwrap(try free.particles())).unitsPerPixel()
        XCTAssertEqual(u.x / u.y, 6, accuracy: 0.6)
    }

    func testEqualAspectWidensTheShorterRangeBeyondThePanelsLimit() {
        let fit = equalAspect(x: 0...10, y: 0...1, maxWidth: 300, maxHeight: 300, minSide: 150)
        XCTAssertEqual(fit.width, 300)
        XCTAssertEqual(fit.height, 150)
        XCTAssertEqual(fit.x.upperBound - fit.x.lowerBound, 10, accuracy: 1e-12)
        XCTAssertEqual(fit.y.upperBound - fit.y.lowerBound, 5, accuracy: 1e-12, "150 px at 30 px per unit")
        XCTAssertEqual((fit.y.upperBound + fit.y.lowerBound) / 2, 0.5, accuracy: 1e-12, "about the centre")
        let tall = equalAspect(x: 0...2, y: 0...3, maxWidth: 300, maxHeight: 300, minSide: 150)
        XCTAssertEqual(tall.width, 200)
        XCTAssertEqual(tall.height, 300)
    }

    /// "≥ 0.5 by step 0" is judged at step 0 alone: its bar sits there, not across the run, and
    /// the by-step line of the last record is inside the frame, not on it.
    func testThresholdsAreDrawnAtTheirStepsInsideTheFrame() throws {
        let context = PlotContext(
            title: "thresholds",
            thresholds: [
                Threshold(metric: "ksd", value: 0.5, atMost: false, byStep: 0),
                Threshold(metric: "ksd", value: 0.1, atMost: true, byStep: 50),
            ])
        let svg = try XCTUnwrap(
            RunPlots(trajectory: nil, metrics: Synthetic.metrics(), context: context).metricsFigure())
        let e = try SVGElements.parse(svg)
        let (xt, _) = e.ticks()
        let bottom = try XCTUnwrap(xt.map(\.y).max())
        let row = xt.filter { abs($0.y - bottom) < 0.5 }.sorted { $0.x < $1.x }
        // Pixels to steps from the step axis' own labels.
        let perPixel = (row[1].value - row[0].value) / (row[1].x - row[0].x)
        func step(_ px: Double) -> Double { row[0].value + (px - row[0].x) * perPixel }
        let frame = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "frame" })
        let left = try XCTUnwrap(frame.number("x"))
        let right = left + (try XCTUnwrap(frame.number("width")))
        let groups = e.elements.filter { $0.attributes["class"] == "threshold" }
        XCTAssertEqual(groups.map { $0.attributes["data-by-step"] }, ["0", "50"])
        let bars = e.within("threshold-bar", tag: "line")
        XCTAssertEqual(bars.count, 2)
        for (bar, byStep) in zip(bars, [0.0, 50]) {
            let a = step(try XCTUnwrap(bar.number("x1")))
            let b = step(try XCTUnwrap(bar.number("x2")))
            XCTAssertLessThanOrEqual(a, byStep + 1e-9, "the bar reaches its step")
            XCTAssertGreaterThanOrEqual(b, byStep - 1e-9)
            XCTAssertLessThan(b - a, 0.15 * 50, "a short bar at step \(byStep), not the whole run (\(a)...\(b))")
        }
        let byStepLines = e.within("threshold", tag: "line").filter { $0.attributes["class"] != "threshold-bar" }
        XCTAssertEqual(byStepLines.count, 2)
        for l in byStepLines {
            let px = try XCTUnwrap(l.number("x1"))
            XCTAssertGreaterThan(px, left + 3, "the by-step line is off the frame's left edge")
            XCTAssertLessThan(px, right - 3, "the by-step line is off the frame's right edge")
        }
    }

    /// The same figure through both back ends: a PDF, a PNG of twice the size (read from its
    /// IHDR), and as many markers painted by Cairo as the SVG has marker elements.
    func testPDFAndPNGThroughCairo() throws {
        let dir = TempDirectory(prefix: "wgf-cairo")
        let plots = RunPlots(
            trajectory: Synthetic.trajectory(dimension: 2, populations: ["a", "b"]), metrics: nil,
            context: PlotContext(title: "two populations"))
        let figure = try XCTUnwrap(try plots.drawing(of: .particles))
        let pdf = dir.url.appendingPathComponent("p.pdf").path
        let canvas = try CairoCanvas(
            path: pdf, format: .pdf, width: figure.width, height: figure.height, title: figure.title)
        figure.replay(on: canvas)
        try canvas.finish()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5)), Array("%PDF-".utf8))
        // SVG markers are the elements with an `opacity` attribute (nothing else has one).
        let svgMarkers = try SVGElements.parse(figure.svg()).elements.filter { $0.attributes["opacity"] != nil }
        // 3 snapshots × 2 populations × 60 particles, and a legend sample per population.
        XCTAssertEqual(svgMarkers.count, 3 * 2 * 60 + 2)
        XCTAssertEqual(canvas.markersDrawn, svgMarkers.count)
        XCTAssertEqual(figure.markerCount, svgMarkers.count, "the recorded figure agrees")

        let png = dir.url.appendingPathComponent("p.png").path
        try figure.write(to: png, format: .png)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        func bigEndian(_ k: Int) -> Int { bytes[k..<(k + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(bigEndian(16), Int((figure.width * 2).rounded(.up)))
        XCTAssertEqual(bigEndian(20), Int((figure.height * 2).rounded(.up)))

        // A file that cannot be written is an error naming it, in both formats.
        for format in [FigureFormat.pdf, .png] {
            let bad = dir.url.appendingPathComponent("missing/p.\(format.rawValue)").path
            XCTAssertThrowsError(try figure.write(to: bad, format: format)) { e in
                XCTAssertTrue((e as? FigureWriteError)?.description.hasPrefix(bad + ": cannot write") == true, "\(e)")
            }
        }
    }

    /// A title too long for the figure is set on two lines (and shrunk if need be): each line's
    /// width, estimated from its characters at a bold sans-serif's 0.62 em, fits the figure,
    /// and what follows moves down below it.
    func testLongTitlesWrapToFitTheFigure() throws {
        let title =
            "Underdamped Langevin dynamics in an Ornstein–Uhlenbeck potential, friction γ = 1 and temperature 0.5"
        let plots = RunPlots(trajectory: flatCloud(), metrics: nil, context: PlotContext(title: title))
        let e = try SVGElements.parse(try XCTUnwrap(try plots.paths()))
        let width = try XCTUnwrap(e.elements.first { $0.tag == "svg" }?.number("width"))
        let lines = e.elements.filter { $0.attributes["class"] == "title" }
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.map(\.text).joined(separator: " "), title, "nothing of the title is lost")
        for l in lines {
            let size = try XCTUnwrap(l.number("font-size"))
            XCTAssertGreaterThanOrEqual(size, 8)
            XCTAssertLessThanOrEqual(Double(l.text.count) * size * 0.62, width - 20, "'\(l.text)' at \(size) px")
        }
        let lastLine = try XCTUnwrap(lines.compactMap { $0.number("y") }.max())
        let subtitle = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "subtitle" }?.number("y"))
        let frameTop = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "frame" }?.number("y"))
        XCTAssertGreaterThan(subtitle, lastLine + 10, "the subtitle below the title")
        XCTAssertGreaterThan(frameTop, subtitle + 10, "the panel below the subtitle")
        // A short title stays one line at the usual size.
        let short = try SVGElements.parse(
            try XCTUnwrap(
                try RunPlots(trajectory: flatCloud(), metrics: nil, context: PlotContext(title: "OU")).paths()))
        XCTAssertEqual(short.elements.filter { $0.attributes["class"] == "title" }.map(\.text), ["OU"])
    }

    /// A log axis writes all its labels alike: powers of ten when any tick is below 0.01 (or
    /// from 10⁴), plain numbers otherwise; read back from a drawn metrics figure too.
    func testLogAxisLabelsShareOneStyle() throws {
        let power = { (l: String) in
            l.contains("10") && l.unicodeScalars.contains { "⁰¹²³⁴⁵⁶⁷⁸⁹".unicodeScalars.contains($0) }
        }
        let mixed = Scale(domain: 1e-3...0.5, range: 0, 300, log: true)
        XCTAssertEqual(mixed.labels([1e-3, 1e-2, 0.1]), ["10⁻³", "10⁻²", "10⁻¹"])
        XCTAssertEqual(mixed.labels([2e-3, 5e-2, 1]), ["2×10⁻³", "5×10⁻²", "10⁰"])
        XCTAssertEqual(mixed.labels([0.01, 0.1, 1, 10]), ["0.01", "0.1", "1", "10"])
        let steps = (0..<30).map { Double($0 * 10) }
        let m = MetricSeries(
            steps: steps, times: steps, walls: steps, metrics: [("mmd", steps.map { 0.5 * pow(10, -$0 / 100) })])
        let svg = try XCTUnwrap(
            RunPlots(trajectory: nil, metrics: m, context: PlotContext(title: "log")).metricsFigure())
        let labels = try SVGElements.parse(svg).elements.filter {
            $0.attributes["class"] == "tick-label" && $0.attributes["text-anchor"] == "end"
        }.map(\.text)
        XCTAssertGreaterThanOrEqual(labels.count, 3, "\(labels)")
        XCTAssertTrue(labels.allSatisfy(power), "one style on the y axis: \(labels)")
    }

    /// The window shows the tails (0.8 % of the particles just beyond the bulk, which a 1 %–99 %
    /// window cut) and leaves out only a far particle; the note counting it is under the axis,
    /// not over the particles.
    func testWindowKeepsTailsAndTheOutsideNoteIsOffThePanel() throws {
        var p = PopulationFrame(name: "particles")
        for i in 0..<500 {
            p.ids.append(i)
            p.positions += [-1 + 2 * Double(i) / 499, sin(Double(i))]
        }
        for i in 500..<504 {
            p.ids.append(i)
            p.positions += [1.3, 0]
        }
        p.ids.append(504)
        p.positions += [100, 0]
        p.weights = [Double](repeating: 1, count: p.count)
        let t = Trajectory(dimension: 2, frames: [Frame(step: 0, time: 0, populations: [p])])
        let e = try SVGElements.parse(
            try XCTUnwrap(try RunPlots(trajectory: t, metrics: nil, context: PlotContext(title: "tails")).particles()))
        let note = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "note" })
        XCTAssertEqual(note.text, "1 outside", "the 4 particles at x = 1.3 are drawn, the one at 100 is not")
        let frame = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "frame" })
        let bottom = try XCTUnwrap(frame.number("y")) + (try XCTUnwrap(frame.number("height")))
        let ticks = e.ticks().x.map(\.y)
        XCTAssertGreaterThan(try XCTUnwrap(note.number("y")), (ticks.max() ?? bottom) + 10, "below the tick labels")
        let height = try XCTUnwrap(e.elements.first { $0.tag == "svg" }?.number("height"))
        XCTAssertLessThan(try XCTUnwrap(note.number("y")), height, "inside the figure")
    }

    /// A target known by its points is drawn as a light cloud in every 2-D snapshot, under the
    /// particles (before them in the document), and named in the legend.
    func testSampleTargetIsACloudUnderTheParticles() throws {
        var context = PlotContext(title: "samples")
        // 300 points on the unit circle.
        context.referenceSamples = (0..<300).flatMap { (k: Int) -> [Double] in
            let angle = Double(k) * 2 * Double.pi / 300
            return [cos(angle), sin(angle)]
        }
        let svg = try XCTUnwrap(
            try RunPlots(trajectory: Synthetic.trajectory(dimension: 2), metrics: nil, context: context).particles())
        let e = try SVGElements.parse(svg)
        let groups = e.elements.enumerated().filter { $0.element.attributes["class"] == "reference" }
        XCTAssertEqual(groups.count, 3, "one cloud per snapshot")
        let firstSeries = try XCTUnwrap(e.elements.firstIndex { $0.attributes["class"] == "series" })
        XCTAssertLessThan(groups[0].offset, firstSeries, "drawn under the particles")
        XCTAssertEqual(e.within("reference", tag: "circle").count, 3 * 300, "every point is in the window")
        XCTAssertTrue(e.elements.contains { $0.attributes["class"] == "legend-label" && $0.text == "target samples" })
    }

    /// `coordinates` picks what d > 2 shows: coordinate a of this run lies near 100·a, so the
    /// tick labels say which coordinate each axis draws.
    func testChosenCoordinatesOfAHigherDimensionalRun() throws {
        let frames = framesOfOnePopulation(records: 3, count: 40) { r, i in
            (0..<4).map { a in 100 * Double(a) + sin(Double(i * (a + 2) + r)) }
        }
        var plots = RunPlots(
            trajectory: Trajectory(dimension: 4, frames: frames), metrics: nil, context: PlotContext(title: "4-D"))
        plots.coordinates = [2, 0]
        let paths = try SVGElements.parse(try XCTUnwrap(try plots.paths()))
        let (xt, yt) = paths.ticks()
        XCTAssertTrue(xt.allSatisfy { abs($0.value - 200) < 5 }, "x is x3: \(xt.map(\.value))")
        XCTAssertTrue(yt.allSatisfy { abs($0.value) < 5 }, "y is x1: \(yt.map(\.value))")
        XCTAssertEqual(Set(paths.within("axis-label").map(\.text)), ["x3", "x1"])
        let matrix = try SVGElements.parse(try XCTUnwrap(try plots.particles()))
        XCTAssertEqual(
            matrix.elements.filter { $0.attributes["class"] == "axis" }.count, 3, "2 histograms, 1 projection")
        XCTAssertEqual(Set(matrix.within("axis-label").map(\.text)), ["x3", "x1", "density"])
        plots.coordinates = nil
        let all = try SVGElements.parse(try XCTUnwrap(try plots.particles()))
        XCTAssertEqual(all.elements.filter { $0.attributes["class"] == "axis" }.count, 10, "x1..x4 by default")
    }

    /// A path over 1000 records is thinned to at most maxPathPoints points, its last record kept.
    func testPathsAreThinnedInTime() throws {
        let frames = framesOfOnePopulation(records: 1000, count: 3) { r, i in
            [Double(r) / 100 + Double(i), sin(Double(r) / 50 + Double(i))]
        }
        var plots = RunPlots(
            trajectory: Trajectory(dimension: 2, frames: frames), metrics: nil, context: PlotContext(title: "long"))
        let e = try SVGElements.parse(try XCTUnwrap(try plots.paths()))
        let lines = e.within("series", tag: "polyline")
        XCTAssertEqual(lines.count, 3)
        for l in lines {
            let n = (l.attributes["points"] ?? "").split(separator: " ").count
            XCTAssertGreaterThan(n, 150)
            XCTAssertLessThanOrEqual(n, 201, "at most 200 records and the last")
        }
        plots.maxPathPoints = 50
        let fewer = try SVGElements.parse(try XCTUnwrap(try plots.paths())).within("series", tag: "polyline")
        XCTAssertTrue(fewer.allSatisfy { ($0.attributes["points"] ?? "").split(separator: " ").count <= 51 })
    }

    /// `wgf compare`'s overlay keeps its one-line title inside the figure by shrinking it.
    func testCompareOverlayShrinksALongTitle() throws {
        let title = (0..<4).map { "runs/a-long-run-name-\($0)" }.joined(separator: " vs ")
        let svg = compareOverlay(
            title: title, metric: "ksd", runs: [("a", [0, 10], [1, 0.1]), ("b", [0, 10], [1, 0.5])], threshold: nil
        ).svg()
        let e = try SVGElements.parse(svg)
        let width = try XCTUnwrap(e.elements.first { $0.tag == "svg" }?.number("width"))
        let line = try XCTUnwrap(e.elements.first { $0.attributes["class"] == "title" })
        XCTAssertEqual(line.text, title)
        let size = try XCTUnwrap(line.number("font-size"))
        XCTAssertLessThanOrEqual(Double(title.count) * size * 0.62, width - 20, "\(size) px")
    }

    /// `records` frames (step r at time r) of one population of `count` unit-weight particles,
    /// particle i of record r at `position(r, i)`.
    func framesOfOnePopulation(records: Int, count: Int, _ position: (Int, Int) -> [Double]) -> [Frame] {
        (0..<records).map { r in
            var p = PopulationFrame(name: "particles")
            for i in 0..<count {
                p.ids.append(i)
                p.weights.append(1)
                p.positions += position(r, i)
            }
            return Frame(step: r, time: Double(r), populations: [p])
        }
    }
}
