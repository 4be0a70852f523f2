import Foundation
import Plotting
import Recording
import TestSupport
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses an SVG document back and counts elements by tag and by class.
final class SVGInspector: NSObject, XMLParserDelegate {
    var tags: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var attributes: [(tag: String, attributes: [String: String])] = []
    var texts: [String] = []
    var rootWidth: Double?
    var error: Error?

    static func parse(_ svg: String) -> SVGInspector {
        let i = SVGInspector()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = i
        if !p.parse() { i.error = p.parserError ?? NSError(domain: "svg", code: 1) }
        return i
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes a: [String: String] = [:]
    ) {
        buffer = ""
        tags[name, default: 0] += 1
        for c in (a["class"] ?? "").split(separator: " ") { classes[String(c), default: 0] += 1 }
        attributes.append((name, a))
        if name == "svg" { rootWidth = a["width"].flatMap(Double.init) }
    }
    var buffer = ""
    func parser(_ parser: XMLParser, foundCharacters string: String) { buffer += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let t = buffer.trimmingCharacters(in: .whitespacesAndNewlines)
        if !t.isEmpty { texts.append(t) }
        buffer = ""
    }

    func populations() -> Set<String> { Set(attributes.compactMap { $0.attributes["data-population"] }) }
}

/// Synthetic runs of every kind: 1-D, 2-D, d > 2, a two-population game with weights, a periodic box.
enum Synthetic {
    static func trajectory(
        dimension d: Int, populations: [String] = ["particles"], count: Int = 60, records: Int = 6,
        box: ClosedRange<Double>? = nil, weighted: Bool = false
    ) -> Trajectory {
        var frames: [Frame] = []
        for r in 0..<records {
            var pops: [PopulationFrame] = []
            for (k, name) in populations.enumerated() {
                var p = PopulationFrame(name: name)
                for i in 0..<count {
                    p.ids.append(i)
                    p.weights.append(weighted ? Double(i + 1) / Double(count * (count + 1) / 2) : 1 / Double(count))
                    for a in 0..<d {
                        let drift: Double = 4 * (1 - Double(r) / Double(records))
                        let spread: Double = sin(Double(i * (a + 3) + k)) * 1.5
                        var x: Double = drift + spread + Double(k) * 0.5
                        if let box {
                            x =
                                box.lowerBound
                                + (x - box.lowerBound).truncatingRemainder(dividingBy: box.upperBound - box.lowerBound)
                            if x < box.lowerBound { x += box.upperBound - box.lowerBound }
                        }
                        p.positions.append(x)
                    }
                }
                pops.append(p)
            }
            frames.append(Frame(step: r * 10, time: Double(r) * 0.1, populations: pops))
        }
        return Trajectory(dimension: d, frames: frames)
    }

    static func metrics(records: Int = 6) -> MetricSeries {
        let steps = (0..<records).map { Double($0 * 10) }
        return MetricSeries(
            steps: steps, times: steps.map { $0 * 0.01 }, walls: steps.map { $0 * 1e-3 },
            metrics: [("ksd", steps.map { exp(-$0 / 20) }), ("energy", steps.map { -1 + exp(-$0 / 20) })])
    }

    static func gaussianLogDensity(_ x: [Double]) -> Double {
        -0.5 * x.reduce(0) { $0 + $1 * $1 } - Double(x.count) * 0.9189385332
    }
}

final class PlottingTests: XCTestCase {
    func check(_ svg: String?, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> SVGInspector {
        guard let svg else {
            XCTFail("\(what): no figure", file: file, line: line)
            return SVGInspector()
        }
        let i = SVGInspector.parse(svg)
        XCTAssertNil(i.error, "\(what): not well-formed XML: \(String(describing: i.error))", file: file, line: line)
        XCTAssertEqual(i.tags["svg"], 1, what, file: file, line: line)
        XCTAssertGreaterThan(i.classes["axis"] ?? 0, 0, "\(what): axes", file: file, line: line)
        XCTAssertGreaterThan(i.classes["series"] ?? 0, 0, "\(what): series", file: file, line: line)
        XCTAssertEqual(i.classes["legend"], 1, "\(what): one legend", file: file, line: line)
        XCTAssertEqual(i.classes["title"], 1, "\(what): a title", file: file, line: line)
        XCTAssertGreaterThan(i.classes["tick-label"] ?? 0, 3, "\(what): tick labels", file: file, line: line)
        XCTAssertLessThan(svg.utf8.count, 1_000_000, "\(what): under 1 MB", file: file, line: line)
        return i
    }

    func plots(_ t: Trajectory, box: [ClosedRange<Double>]? = nil, density: Bool = true) -> RunPlots {
        var context = PlotContext(
            title: "Synthetic <run> & co", box: box,
            thresholds: [Threshold(metric: "ksd", value: 0.1, atMost: true, byStep: 50)])
        if density { context.logDensity = Synthetic.gaussianLogDensity }
        if t.dimension > 2 { context.referenceSamples = (0..<(50 * t.dimension)).map { sin(Double($0)) } }
        return RunPlots(trajectory: t, metrics: Synthetic.metrics(), context: context)
    }

    func testOneDimensionalRun() throws {
        let p = plots(Synthetic.trajectory(dimension: 1))
        let particles = check(try p.particles(), "1-D particles")
        XCTAssertEqual(particles.classes["density"], 3, "the density curve in each of three snapshots")
        XCTAssertTrue(particles.texts.contains("Synthetic <run> & co"), "the title, escaped and read back")
        _ = check(try p.paths(), "1-D paths")
        let anim = check(try p.animation(), "1-D animation")
        XCTAssertGreaterThan(anim.tags["animate"] ?? 0, 0)
    }

    func testTwoDimensionalRun() throws {
        let p = plots(Synthetic.trajectory(dimension: 2))
        let particles = check(try p.particles(), "2-D particles")
        XCTAssertEqual(particles.classes["contour"], 3, "density contours in each snapshot")
        XCTAssertEqual(particles.classes["panel-title"], 3)
        let paths = check(try p.paths(), "2-D paths")
        XCTAssertGreaterThanOrEqual(paths.tags["polyline"] ?? 0, 30, "one path per drawn particle (every other of 60)")
        let anim = check(try p.animation(), "2-D animation")
        XCTAssertEqual(anim.tags["circle"].map { $0 >= 60 }, true)
        XCTAssertGreaterThanOrEqual(anim.tags["animate"] ?? 0, 120, "cx and cy of 60 particles")
    }

    func testHigherDimensionalRunDrawsAProjectionMatrix() throws {
        let p = plots(Synthetic.trajectory(dimension: 4))
        let particles = check(try p.particles(), "4-D particles")
        // 4 diagonal + 6 off-diagonal panels, each with its axes.
        XCTAssertEqual(particles.classes["axis"], 10)
        XCTAssertEqual(particles.classes["reference"], 6, "target samples in the off-diagonal panels")
        _ = check(try p.paths(), "4-D paths")
        XCTAssertNil(try p.animation(), "no animation in d > 2")
    }

    func testGameRunShowsBothPopulationsWithWeightedMarkers() throws {
        let p = plots(Synthetic.trajectory(dimension: 2, populations: ["generator", "discriminator"], weighted: true))
        let svg = try XCTUnwrap(try p.particles())
        let particles = check(svg, "game particles")
        XCTAssertEqual(particles.populations(), ["generator", "discriminator"])
        XCTAssertTrue(
            particles.texts.contains("generator") && particles.texts.contains("discriminator"), "both in the legend")
        // Marker area ∝ weight: circles of the first population have several radii.
        let radii = Set(particles.attributes.filter { $0.tag == "circle" }.compactMap { $0.attributes["r"] })
        XCTAssertGreaterThan(radii.count, 5)
        // Distinct styles: the second population uses hollow squares.
        XCTAssertTrue(svg.contains("stroke=\"#e08a00\""))
        let paths = check(try p.paths(), "game paths")
        XCTAssertEqual(paths.populations(), ["generator", "discriminator"])
        let anim = check(try p.animation(), "game animation")
        XCTAssertEqual(anim.populations(), ["generator", "discriminator"])
        let one = check(
            try plots(Synthetic.trajectory(dimension: 1, populations: ["a", "b"], weighted: true)).particles(),
            "1-D game")
        XCTAssertEqual(one.populations(), ["a", "b"])
    }

    func testPeriodicRunDrawsTheBoxAndBreaksWrappingPaths() throws {
        let box = 0.0...3.0
        let t = Synthetic.trajectory(dimension: 2, box: box)
        let p = plots(t, box: [box, box], density: false)
        let particles = check(try p.particles(), "periodic particles")
        XCTAssertEqual(particles.classes["box"], 3)
        XCTAssertNil(particles.classes["contour"], "no density given")
        let paths = check(try p.paths(), "periodic paths")
        XCTAssertEqual(paths.classes["box"], 1)
        // A path that wraps is split: more polylines than particles drawn.
        XCTAssertGreaterThan(paths.tags["polyline"] ?? 0, 40)
        _ = check(try p.animation(), "periodic animation")
        let one = check(try plots(Synthetic.trajectory(dimension: 1, box: box), box: [box]).particles(), "1-D periodic")
        XCTAssertEqual(one.classes["box"], 3)
    }

    func testPotentialLevelSets() throws {
        var p = plots(Synthetic.trajectory(dimension: 2), density: false)
        p.context.potential = { x in x[0] * x[0] + 2 * x[1] * x[1] }
        let i = check(try p.particles(), "potential")
        XCTAssertEqual(i.attributes.filter { $0.attributes["data-kind"] == "potential" }.count, 3)
    }

    func testMetricsFigure() throws {
        let p = plots(Synthetic.trajectory(dimension: 2))
        let svg = try XCTUnwrap(p.metricsFigure())
        let i = check(svg, "metrics")
        XCTAssertEqual(i.classes["threshold"], 1, "the ksd expectation")
        XCTAssertEqual(
            i.attributes.filter { $0.attributes["data-metric"] != nil && $0.attributes["class"] == "series" }.count, 2)
        XCTAssertTrue(i.texts.contains("ksd (log scale)"), "ksd is positive: log axis")
        XCTAssertTrue(i.texts.contains("energy"), "energy goes negative: linear axis")
        XCTAssertTrue(i.texts.contains("time"), "the time axis")
    }

    func testTicksAreNiceAndLabelsDoNotOverlap() {
        let s = Scale(domain: 0...10, range: 0, 300)
        XCTAssertEqual(s.ticks(maxCount: 6), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(s.labels([0, 2, 4]), ["0", "2", "4"])
        XCTAssertEqual(Scale(domain: 0...1, range: 0, 300).labels([0, 0.2, 0.4]), ["0.0", "0.2", "0.4"])
        let l = Scale(domain: 1e-4...10, range: 0, 300, log: true)
        XCTAssertEqual(l.ticks(maxCount: 6), [1e-4, 1e-3, 1e-2, 0.1, 1, 10])
        XCTAssertEqual(l.labels([1e-4, 0.1, 10]), ["10⁻⁴", "10⁻¹", "10¹"], "one style per axis")
        // A narrow panel gets fewer x ticks: the label widths fit the frame.
        let svg = SVGWriter(width: 200, height: 200)
        drawAxes(
            svg, frame: Rect(x: 40, y: 10, width: 100, height: 100), x: Scale(domain: 1000...123456, range: 40, 140),
            y: Scale(domain: 0...1, range: 110, 10), xLabel: "x", yLabel: "y")
        let i = SVGInspector.parse(svg.render(title: "t"))
        let xs = i.attributes.filter {
            $0.attributes["class"] == "tick-label" && $0.attributes["text-anchor"] == "middle"
        }
        .compactMap { Double($0.attributes["x"] ?? "") }.sorted()
        for (a, b) in zip(xs, xs.dropFirst()) { XCTAssertGreaterThan(b - a, 40) }
    }

    func testMarchingSquaresFindsACircle() {
        let n = 41
        let xs = (0..<n).map { -2 + 4 * Double($0) / Double(n - 1) }
        var v = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { v[j * n + i] = xs[i] * xs[i] + xs[j] * xs[j] } }
        let segs = contourSegments(values: v, nx: n, ny: n, xs: xs, ys: xs, level: 1)
        XCTAssertGreaterThan(segs.count, 40)
        for (a, b) in segs {
            XCTAssertEqual((a.x * a.x + a.y * a.y).squareRoot(), 1, accuracy: 0.01)
            XCTAssertEqual((b.x * b.x + b.y * b.y).squareRoot(), 1, accuracy: 0.01)
        }
    }

    func testHistogramIsADensity() {
        let h = histogram([0.1, 0.2, 0.6, 0.9], range: 0...1, bins: 2)
        XCTAssertEqual(h, [1, 1])
        let w = histogram([0.1, 0.9], weights: [3, 1], range: 0...1, bins: 2)
        XCTAssertEqual(w, [1.5, 0.5])
    }

    func testConvergenceSummary() throws {
        let steps = (0...20).map { Double($0 * 10) }
        // 10^(−step/100) until step 150, then flat at its value there.
        let values = steps.map { pow(10, -min($0, 150) / 100) }
        let s = ConvergenceSummary(steps: steps, times: steps.map { $0 / 2 }, values: values, threshold: 0.1)
        XCTAssertEqual(s.reachedStep, 100)
        XCTAssertEqual(s.reachedTime, 50)
        XCTAssertEqual(s.best, pow(10, -1.5), accuracy: 1e-15)
        XCTAssertEqual(s.final, pow(10, -1.5), accuracy: 1e-15)
        // Converging phase: until the first value ≤ 1.1 × best, i.e. step 150.
        XCTAssertEqual(s.rateWindow?.through, 150)
        XCTAssertEqual(try XCTUnwrap(s.rate), -log(10) / 100, accuracy: 1e-12)
        XCTAssertNil(ConvergenceSummary(steps: steps, times: steps, values: values, threshold: 1e-3).reachedStep)
    }

    func testCompareOverlay() {
        let svg = compareOverlay(
            title: "a vs b", metric: "ksd",
            runs: [("a", [0, 10, 20], [1, 0.1, 0.01]), ("b", [0, 10, 20], [1, 0.5, 0.25])], threshold: 0.05
        ).svg()
        let i = check(svg, "compare")
        XCTAssertEqual(Set(i.attributes.compactMap { $0.attributes["data-run"] }), ["a", "b"])
        XCTAssertEqual(i.classes["threshold"], 1)
    }

    func testNPYRoundTripAndStreamedExport() throws {
        let t = Synthetic.trajectory(dimension: 3, populations: ["p", "q"], count: 5, records: 4)
        let temporary = TempDirectory(prefix: "wgf-npy")
        let dir = temporary.url
        let files = try NPYExport.write(t, to: dir.path)
        XCTAssertEqual(
            files, ["p.positions.npy", "p.weights.npy", "q.positions.npy", "q.weights.npy", "steps.npy", "times.npy"])
        let data = try Data(contentsOf: dir.appendingPathComponent("q.positions.npy"))
        XCTAssertEqual((10 + Int(data[8]) + Int(data[9]) << 8) % 64, 0, "data starts on a 64-byte boundary")
        let back = try NPY.decode([UInt8](data))
        XCTAssertEqual(back.descr, "<f8")
        XCTAssertEqual(back.shape, [4, 5, 3])
        XCTAssertEqual(back.values, t.frames.flatMap { $0.populations[1].positions })
        XCTAssertEqual(back.values[(2 * 5 + 4) * 3 + 1], t.frames[2].populations[1].positions[4 * 3 + 1])
        XCTAssertEqual(data, NPY.encode(back.values, shape: [4, 5, 3]), "streamed and whole encodings agree")
        let steps = try NPY.decode([UInt8](Data(contentsOf: dir.appendingPathComponent("steps.npy"))))
        XCTAssertEqual(steps.descr, "<i8")
        XCTAssertEqual(steps.values, [0, 10, 20, 30])

        // Particles are exported in id order, whatever the file's row order.
        var shuffled = Synthetic.trajectory(dimension: 1, count: 3, records: 2)
        for r in 0..<2 {
            var p = shuffled.frames[r].populations[0]
            p.ids = [2, 0, 1]
            p.positions = [20, 0, 10].map { $0 + Double(r) }
            p.weights = [0.5, 0.2, 0.3]
            shuffled.frames[r].populations[0] = p
        }
        let sorted = dir.appendingPathComponent("sorted")
        try FileManager.default.createDirectory(at: sorted, withIntermediateDirectories: true)
        _ = try NPYExport.write(shuffled, to: sorted.path)
        XCTAssertEqual(
            try NPY.decode([UInt8](Data(contentsOf: sorted.appendingPathComponent("positions.npy")))).values,
            [0, 10, 20, 1, 11, 21])
        XCTAssertEqual(
            try NPY.decode([UInt8](Data(contentsOf: sorted.appendingPathComponent("weights.npy")))).values,
            [0.2, 0.3, 0.5, 0.2, 0.3, 0.5])
        // A population whose particles change is refused, and its files are not left behind.
        shuffled.frames[1].populations[0].ids = [2, 0, 7]
        let refused = dir.appendingPathComponent("refused")
        try FileManager.default.createDirectory(at: refused, withIntermediateDirectories: true)
        XCTAssertThrowsError(try NPYExport.write(shuffled, to: refused.path)) { e in
            XCTAssertEqual(
                (e as? NPYError)?.description,
                "population 'particles': the particles at step 10 differ from those of step 0")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: refused.path), [])
    }

    func testTrajectoryReaderKeepsPopulationsAndRejectsBadFiles() throws {
        let dir = TempDirectory(prefix: "wgf-plot")
        let good = dir.write(
            "t.csv",
            "step,time,population,particle,weight,x1,x2\n0,0,a,0,0.5,1,2\n0,0,a,1,0.5,3,4\n0,0,b,0,1,5,6\n10,0.1,a,0,0.5,1.5,2\n10,0.1,a,1,0.5,3,4\n10,0.1,b,0,1,5,7\n"
        )
        let t = try Trajectory.read(path: good)
        XCTAssertEqual(t.dimension, 2)
        XCTAssertEqual(t.frames.map(\.step), [0, 10])
        XCTAssertEqual(t.populationNames, ["a", "b"])
        XCTAssertEqual(t.frames[1].populations[1].positions, [5, 7])
        let bad = dir.write("bad.csv", "step,time,population,particle,weight,x1\n0,0,a,0,1,zz\n")
        XCTAssertThrowsError(try Trajectory.read(path: bad)) { e in
            XCTAssertEqual((e as? RunFileError)?.line, 2)
        }
    }

    func testRunReadersDropACutLastRowAndItsRecord() throws {
        let dir = TempDirectory(prefix: "wgf-plot")
        // Killed while writing the second particle of step 10, inside its x2.
        let trajectory = dir.write(
            "trajectory.csv",
            "step,time,population,particle,weight,x1,x2\n0,0,a,0,0.5,1,2\n0,0,a,1,0.5,3,4\n10,0.1,a,0,0.5,1.5,2\n10,0.1,a,1,0.5,3,4.12"
        )
        let t = try Trajectory.read(path: trajectory)
        XCTAssertEqual(t.frames.map(\.step), [0], "the short record of step 10 is dropped with the cut row")
        // Cut at a record boundary: every complete record is kept.
        dir.write(
            "trajectory.csv", "step,time,population,particle,weight,x1\n0,0,a,0,1,1\n10,0.1,a,0,1,1.5\n20,0.2,a,0,1,1.2"
        )
        XCTAssertEqual(try Trajectory.read(path: trajectory).frames.map(\.step), [0, 10])
        let metrics = dir.write("metrics.csv", "step,time,wall,mmd\n0,0,0.1,1.5\n10,0.1,0.2,0.75\n20,0.2,0.3,0.0")
        let m = try MetricSeries.read(path: metrics)
        XCTAssertEqual(m.steps, [0, 10])
        XCTAssertEqual(m.values("mmd"), [1.5, 0.75], "never the cut 0.0 of 0.0123")
    }
}
