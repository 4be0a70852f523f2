import Foundation
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `wgf plot`, `wgf compare` and `wgf export` end to end, on real runs and on synthetic run
/// directories (two populations with weights, a periodic box) written here.
final class PlotCompareTests: ScratchTestCase {

    /// Element names and class names of an SVG parsed back; nil if not well-formed.
    func parseSVG(_ url: URL) throws -> (tags: [String: Int], classes: [String: Int], populations: Set<String>)? {
        final class Delegate: NSObject, XMLParserDelegate {
            var tags: [String: Int] = [:], classes: [String: Int] = [:], populations: Set<String> = []
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]
            ) {
                tags[name, default: 0] += 1
                for c in (a["class"] ?? "").split(separator: " ") { classes[String(c), default: 0] += 1 }
                if let p = a["data-population"] { populations.insert(p) }
            }
        }
        let d = Delegate()
        let parser = XMLParser(data: try Data(contentsOf: url))
        parser.delegate = d
        return parser.parse() ? (d.tags, d.classes, d.populations) : nil
    }

    /// A run directory with the given trajectory rows and metrics, as `wgf run` lays it out.
    func syntheticRun(
        _ name: String, trajectory: String?, metrics: String, scenario: String? = nil, runJSON: String? = nil
    ) throws -> URL {
        let dir = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let trajectory {
            try trajectory.write(to: dir.appendingPathComponent("trajectory.csv"), atomically: true, encoding: .utf8)
        }
        try metrics.write(to: dir.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        if let scenario {
            try scenario.write(to: dir.appendingPathComponent("scenario.toml"), atomically: true, encoding: .utf8)
        }
        if let runJSON {
            try runJSON.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// A game: two populations with non-uniform weights in 2-D.
    func gameTrajectory() -> String {
        var s = "step,time,population,particle,weight,x1,x2\n"
        for r in 0..<5 {
            for (k, pop) in ["generator", "critic"].enumerated() {
                for i in 0..<20 {
                    let w = Double(i + 1) / 210
                    s +=
                        "\(r * 10),\(Double(r) * 0.1),\(pop),\(i),\(w),\(sin(Double(i + k)) + Double(r)),\(cos(Double(i * 3 + k)) - Double(k))\n"
                }
            }
        }
        return s
    }

    func metricsCSV(_ f: (Double) -> Double, steps: Int = 300, every: Int = 10) -> String {
        var s = "step,time,wall,ksd\n"
        for k in stride(from: 0, through: steps, by: every) {
            s += "\(k),\(Double(k) * 0.01),\(Double(k) * 1e-4),\(f(Double(k)))\n"
        }
        return s
    }

    func testPlotOfARealTwoDimensionalRun() throws {
        let run = scratch.appendingPathComponent("q")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/svgd-gaussian-2d.toml", "--out", run.path, "--steps", "100", "--quiet"]).code,
            0)
        let r = try runWGF(["plot", run.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        for kind in ["particles", "paths", "metrics", "animation"] {
            let svg = try XCTUnwrap(
                try parseSVG(run.appendingPathComponent("plots/\(kind).svg")), "\(kind).svg is well-formed")
            XCTAssertGreaterThan(svg.classes["axis"] ?? 0, 0, kind)
            XCTAssertGreaterThan(svg.classes["series"] ?? 0, 0, kind)
            XCTAssertEqual(svg.classes["legend"], 1, kind)
            if kind != "metrics" {
                XCTAssertGreaterThan(svg.classes["contour"] ?? 0, 0, "\(kind): the target's contours")
            }
        }
        let metrics = try XCTUnwrap(try parseSVG(run.appendingPathComponent("plots/metrics.svg")))
        // The scenario's four expectations, the two-sample test's α on p among them.
        XCTAssertEqual(metrics.classes["threshold"], 4)
    }

    /// A scenario whose particles are images (`[plot] image = [8, 8]`, mmd-digits) gets
    /// images.svg: a tile per particle (20) beside 64 target samples; a run without it does not.
    func testPlotDrawsTheParticlesAsImagesWhenTheScenarioSaysSo() throws {
        let run = scratch.appendingPathComponent("digits")
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/mmd-digits.toml", "--out", run.path, "--steps", "4", "--quiet",
                "--set", "population.count=20",
            ]).code, 0)
        let r = try runWGF(["plot", run.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("images.svg"), r.stdout)
        let svg = try XCTUnwrap(try parseSVG(run.appendingPathComponent("plots/images.svg")))
        XCTAssertEqual(svg.classes["tile"], 20 + 64)
        let plain = scratch.appendingPathComponent("no-images")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/quickstart.toml", "--out", plain.path, "--steps", "5", "--quiet"]).code, 0)
        let p = try runWGF(["plot", plain.path])
        XCTAssertFalse(p.stdout.contains("images.svg"), p.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.appendingPathComponent("plots/images.svg").path))
    }

    /// A run in a periodic box is drawn in its box: the window is [0, L] and the box is outlined.
    func testPlotDrawsTheScenariosPeriodicBox() throws {
        let run = scratch.appendingPathComponent("torus")
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/game-circle-cos.toml", "--out", run.path, "--steps", "20", "--quiet",
                "--set", "expect=[]",
            ]).code, 0)
        XCTAssertEqual(try runWGF(["plot", run.path]).code, 0)
        let svg = try XCTUnwrap(try parseSVG(run.appendingPathComponent("plots/particles.svg")))
        XCTAssertGreaterThan(svg.classes["box"] ?? 0, 0, "the periodic box is outlined")
        let plain = scratch.appendingPathComponent("plain")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/quickstart.toml", "--out", plain.path, "--steps", "5", "--quiet"]).code, 0)
        XCTAssertEqual(try runWGF(["plot", plain.path]).code, 0)
        XCTAssertNil(try XCTUnwrap(try parseSVG(plain.appendingPathComponent("plots/particles.svg"))).classes["box"])
    }

    func testPlotOfAOneDimensionalRunIntoAChosenDirectory() throws {
        let run = scratch.appendingPathComponent("m1")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/svgd-1d-mixture.toml", "--out", run.path, "--steps", "50", "--quiet"]).code, 0
        )
        let out = scratch.appendingPathComponent("figs")
        let r = try runWGF(["plot", run.path, "--out", out.path, "--steps", "0,50"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let particles = try XCTUnwrap(try parseSVG(out.appendingPathComponent("particles.svg")))
        XCTAssertEqual(particles.classes["density"], 2, "the target density under two snapshots")
        XCTAssertEqual(particles.classes["panel-title"], 2)
        XCTAssertNotNil(try parseSVG(out.appendingPathComponent("animation.svg")))
    }

    func testPlotOfASyntheticGameWithAPeriodicLookingDataSet() throws {
        let run = try syntheticRun(
            "game", trajectory: gameTrajectory(), metrics: metricsCSV { exp(-$0 / 50) },
            runJSON: """
                {"scenario": {"title": "A synthetic game"}, "particles": [{"name": "generator", "count": 20}, {"name": "critic", "count": 20}]}
                """)
        let r = try runWGF(["plot", run.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        for kind in ["particles", "paths", "animation"] {
            let svg = try XCTUnwrap(try parseSVG(run.appendingPathComponent("plots/\(kind).svg")), kind)
            XCTAssertEqual(svg.populations, ["generator", "critic"], kind)
        }
        let text = try String(contentsOf: run.appendingPathComponent("plots/particles.svg"), encoding: .utf8)
        XCTAssertTrue(text.contains("A synthetic game"), "title from run.json")
    }

    /// `--format pdf|png`: every figure but the animation (SVG only: left out with a note, an
    /// error when asked for); a file that cannot be written is an I/O failure (exit 5).
    func testPlotWritesPDFAndPNG() throws {
        let run = try syntheticRun("formats", trajectory: gameTrajectory(), metrics: metricsCSV { exp(-$0 / 50) })
        let r = try runWGF(["plot", run.path, "--format", "pdf"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("animation is SVG only"), r.stderr)
        for kind in ["particles", "paths", "metrics"] {
            let data = try Data(contentsOf: run.appendingPathComponent("plots/\(kind).pdf"))
            XCTAssertEqual(Array(data.prefix(4)), Array("%PDF".utf8), kind)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("plots/animation.svg").path))
        let png = scratch.appendingPathComponent("png")
        XCTAssertEqual(
            try runWGF(["plot", run.path, "--format", "png", "--kinds", "metrics", "--out", png.path]).code, 0)
        let bytes = [UInt8](try Data(contentsOf: png.appendingPathComponent("metrics.png")))
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(try runWGF(["plot", run.path, "--format", "bmp"]).code, 3)
        XCTAssertEqual(try runWGF(["plot", run.path, "--kinds", "particles", "--no-equal-aspect"]).code, 0)
        let animation = try runWGF(["plot", run.path, "--format", "png", "--kinds", "animation"])
        XCTAssertEqual(animation.code, 3)
        XCTAssertTrue(animation.stderr.contains("SVG only"), animation.stderr)
        // particles.pdf is a directory: Cairo cannot open it.
        let blocked = scratch.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(
            at: blocked.appendingPathComponent("particles.pdf"), withIntermediateDirectories: true)
        let w = try runWGF(["plot", run.path, "--format", "pdf", "--kinds", "particles", "--out", blocked.path])
        XCTAssertEqual(w.code, 5, w.stderr)
        XCTAssertTrue(w.stderr.contains("particles.pdf: cannot write"), w.stderr)
    }

    /// A Langevin run without interaction draws its Gibbs density ∝ exp(−V/λ): for the OU
    /// potential, contours centred at the origin (read back through the axes' tick labels).
    func testPlotDrawsTheGibbsDensityOfALangevinRun() throws {
        let run = scratch.appendingPathComponent("ou")
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/langevin-ou.toml", "--out", run.path, "--steps", "20", "--set", "expect=[]",
                "--quiet",
            ]).code, 0)
        let r = try runWGF(["plot", run.path, "--kinds", "particles"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let text = try String(contentsOf: run.appendingPathComponent("plots/particles.svg"), encoding: .utf8)
        XCTAssertTrue(text.contains("Gibbs density ∝ exp(−V/λ) contours"), "named in the legend")
        // Noisy paths: 8 particles by default, as many as asked with --path-particles.
        XCTAssertEqual(try runWGF(["plot", run.path, "--kinds", "paths"]).code, 0)
        let paths = try String(contentsOf: run.appendingPathComponent("plots/paths.svg"), encoding: .utf8)
        XCTAssertTrue(paths.contains(">8 of 5000 particles<"), "fewer paths for a Langevin run")
        XCTAssertEqual(try runWGF(["plot", run.path, "--kinds", "paths", "--path-particles", "30"]).code, 0)
        let more = try String(contentsOf: run.appendingPathComponent("plots/paths.svg"), encoding: .utf8)
        XCTAssertTrue(more.contains(">30 of 5000 particles<"))
        // The first panel's axes: tick labels (x centred, y right-aligned) and the first contour path.
        func numbers(_ pattern: String, in text: String) -> [[Double]] {
            let re = try! NSRegularExpression(pattern: pattern)
            return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
                (1..<m.numberOfRanges).map { Double(text[Range(m.range(at: $0), in: text)!])! }
            }
        }
        let label =
            #"<text class="tick-label" x="([-\d.]+)" y="([-\d.]+)" font-size="[\d.]+" text-anchor="ANCHOR">(-?[\d.]+)</text>"#
        let xTicks = numbers(label.replacingOccurrences(of: "ANCHOR", with: "middle"), in: text)
        let yTicks = numbers(label.replacingOccurrences(of: "ANCHOR", with: "end"), in: text)
        XCTAssertGreaterThanOrEqual(xTicks.count, 2)
        XCTAssertGreaterThanOrEqual(yTicks.count, 2)
        let (x0, x1) = (xTicks[0], xTicks[1])
        let (y0, y1) = (yTicks[0], yTicks[1])
        func dataX(_ px: Double) -> Double { x0[2] + (px - x0[0]) * (x1[2] - x0[2]) / (x1[0] - x0[0]) }
        func dataY(_ py: Double) -> Double { y0[2] + (py - y0[1]) * (y1[2] - y0[2]) / (y1[1] - y0[1]) }
        let contour = try XCTUnwrap(
            text.range(of: #"<g class="contour" data-kind="density">\n<path d="[^"]+""#, options: .regularExpression))
        let points = numbers(#"[ML]([-\d.]+) ([-\d.]+)"#, in: String(text[contour])).map { ($0[0], $0[1]) }
        XCTAssertGreaterThan(points.count, 20)
        let xs = points.map { dataX($0.0) }
        let ys = points.map { dataY($0.1) }
        XCTAssertEqual((xs.min()! + xs.max()!) / 2, 0, accuracy: 0.1, "centred at x1 = 0")
        XCTAssertEqual((ys.min()! + ys.max()!) / 2, 0, accuracy: 0.1, "centred at x2 = 0")
    }

    /// A `samples` target (a file of points) is drawn as a light cloud under the particles.
    func testPlotDrawsASampleTargetsPoints() throws {
        var ring = "x1,x2\n"
        for k in 0..<200 { ring += "\(cos(Double(k) * 2 * .pi / 200)),\(sin(Double(k) * 2 * .pi / 200))\n" }
        let run = try syntheticRun(
            "samples", trajectory: gameTrajectory(), metrics: metricsCSV { exp(-$0 / 50) },
            scenario: """
                title = "A ring of samples"
                steps = 40
                [population]
                count = 20
                dimension = 2
                [target]
                kind = "samples"
                file = "ring.csv"
                """)
        try ring.write(to: run.appendingPathComponent("ring.csv"), atomically: true, encoding: .utf8)
        let r = try runWGF(["plot", run.path, "--kinds", "particles"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let svg = try XCTUnwrap(try parseSVG(run.appendingPathComponent("plots/particles.svg")))
        XCTAssertEqual(svg.classes["reference"], 3, "the cloud under each snapshot")
        let text = try String(contentsOf: run.appendingPathComponent("plots/particles.svg"), encoding: .utf8)
        XCTAssertTrue(text.contains(">target samples<"))
    }

    /// `--coords` chooses the coordinates of a d > 2 run; a bad list is bad input (exit 3).
    func testPlotCoordsOfAHigherDimensionalRun() throws {
        var rows = "step,time,population,particle,weight,x1,x2,x3\n"
        for r in 0..<3 {
            for i in 0..<30 {
                rows +=
                    "\(r * 10),\(Double(r)),p,\(i),1,\(sin(Double(i))),\(cos(Double(i))),\(50 + sin(Double(i * 3)))\n"
            }
        }
        let run = try syntheticRun("3d", trajectory: rows, metrics: metricsCSV { exp(-$0 / 50) })
        let r = try runWGF(["plot", run.path, "--coords", "3,1", "--kinds", "paths,particles"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let paths = try String(contentsOf: run.appendingPathComponent("plots/paths.svg"), encoding: .utf8)
        XCTAssertTrue(paths.contains("(coordinates x3, x1 of d = 3)"), "the plane of the paths")
        let labels = try NSRegularExpression(pattern: #"class="tick-label"[^>]*>([-\d.]+)</text>"#)
            .matches(in: paths, range: NSRange(paths.startIndex..., in: paths))
            .compactMap { Double(paths[Range($0.range(at: 1), in: paths)!]) }
        XCTAssertTrue(labels.contains { abs($0 - 50) < 1.5 }, "x3's values (about 50) on an axis: \(labels)")
        for bad in ["1", "1,1", "0,2", "1,x", "1,4"] {
            let b = try runWGF(["plot", run.path, "--coords", bad])
            XCTAssertEqual(b.code, 3, "--coords \(bad): \(b.stderr)")
            XCTAssertTrue(b.stderr.contains("--coords \(bad)"), b.stderr)
        }
    }

    func testPlotErrors() throws {
        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try runWGF(["plot", empty.path])
        XCTAssertEqual(r.code, 3)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("no metrics.csv"), r.stderr)
        XCTAssertEqual(try runWGF(["plot", scratch.appendingPathComponent("nope").path]).code, 3)
        let bad = try syntheticRun(
            "bad", trajectory: "step,time,population,particle,weight,x1\n0,0,p,0,1,oops\n", metrics: metricsCSV { $0 })
        let b = try runWGF(["plot", bad.path])
        XCTAssertEqual(b.code, 3)
        XCTAssertTrue(b.stderr.contains("trajectory.csv:2:"), b.stderr)
        // Metrics only (record.trajectory = false): the metrics figure alone.
        let metricsOnly = try syntheticRun("metrics-only", trajectory: nil, metrics: metricsCSV { exp(-$0 / 50) })
        let m = try runWGF(["plot", metricsOnly.path])
        XCTAssertEqual(m.code, 0, m.stderr)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: metricsOnly.appendingPathComponent("plots/metrics.svg").path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: metricsOnly.appendingPathComponent("plots/particles.svg").path))
    }

    func testCompareGivesStepsToThreshold() throws {
        // ksd = 10^(−step/100) and 10^(−step/50): 1e-2 is first reached at steps 200 and 100.
        let slow = try syntheticRun("slow", trajectory: nil, metrics: metricsCSV { pow(10, -$0 / 100) })
        let fast = try syntheticRun("fast", trajectory: nil, metrics: metricsCSV { pow(10, -$0 / 50) })
        let out = scratch.appendingPathComponent("cmp")
        let r = try runWGF([
            "compare", slow.path, fast.path, "--metric", "ksd", "--threshold", "0.01", "--format", "json", "--out",
            out.path,
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["run"] as? String }, ["slow", "fast"])
        XCTAssertEqual(rows.map { $0["step-to-threshold"] as? Int }, [200, 100])
        XCTAssertEqual(rows[0]["time-to-threshold"] as? Double ?? 0, 2, accuracy: 1e-12)
        XCTAssertEqual(rows[0]["rate"] as? Double ?? 0, -log(10) / 100, accuracy: 1e-9)
        XCTAssertEqual(rows[1]["rate"] as? Double ?? 0, -log(10) / 50, accuracy: 1e-9)
        // Per unit of time (time = 0.01 · step): 100 times the rate per step.
        XCTAssertEqual(rows[0]["rate-per-time"] as? Double ?? 0, -log(10), accuracy: 1e-7)
        XCTAssertEqual(rows[1]["rate-per-time"] as? Double ?? 0, -2 * log(10), accuracy: 1e-7)
        XCTAssertEqual(rows[1]["best"] as? Double ?? 0, 1e-6, accuracy: 1e-12)
        let svg = try XCTUnwrap(
            try parseSVG(out.appendingPathComponent("compare-ksd.svg")), "the overlay is well-formed")
        XCTAssertEqual(svg.classes["series"], 2)
        XCTAssertEqual(svg.classes["threshold"], 1)

        let table = try runWGF(["compare", slow.path, fast.path, "--threshold", "0.01", "--no-plot"])
        XCTAssertEqual(table.code, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertTrue(lines[1].hasPrefix("run "), table.stdout)
        XCTAssertTrue(lines[2].hasPrefix("slow") && lines[2].contains(" 200 "), table.stdout)
        let csv = try runWGF(["compare", slow.path, fast.path, "--threshold", "0.01", "--format", "csv", "--no-plot"])
        XCTAssertEqual(
            csv.stdout.split(separator: "\n").first,
            "run,flow,N,steps,final,best,step-to-threshold,time-to-threshold,rate,rate-per-time,wall")
        let csvLines = csv.stdout.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        XCTAssertEqual(csvLines[2][6], "100")
        // For pandas: every number with all its digits (the shortest text of its double, which
        // is the JSON's value: Foundation's JSON parser may lose the last digit), a missing one
        // empty.
        var missing = 0
        for (fields, json) in zip(csvLines.dropFirst(), rows) {
            for (name, field) in zip(csvLines[0], fields) where name != "run" && name != "flow" {
                if let v = json[name] as? NSNumber {
                    let x = try XCTUnwrap(Double(field), "\(name): '\(field)'")
                    if Int(field) == nil { XCTAssertEqual(x.description, field, name) }
                    XCTAssertEqual(x, v.doubleValue, accuracy: 4 * v.doubleValue.ulp, "\(name): '\(field)'")
                } else {
                    XCTAssertEqual(field, "", "\(name) is missing")
                    missing += 1
                }
            }
        }
        XCTAssertGreaterThan(missing, 0, "the synthetic runs have no particle count")
    }

    func testCompareFailsWhenARunLacksTheMetric() throws {
        let a = try syntheticRun("a", trajectory: nil, metrics: metricsCSV { $0 })
        let b = try syntheticRun("b", trajectory: nil, metrics: "step,time,wall,mmd\n0,0,0,1\n")
        let r = try runWGF(["compare", a.path, b.path, "--metric", "ksd", "--no-plot"])
        XCTAssertEqual(r.code, 3)
        XCTAssertTrue(r.stderr.contains(b.path) && r.stderr.contains("'ksd'"), r.stderr)
    }

    func testCompareOfRealRunsReadsFlowAndCount() throws {
        let a = scratch.appendingPathComponent("svgd")
        let b = scratch.appendingPathComponent("svgd-sgd")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/svgd-1d-mixture.toml", "--out", a.path, "--steps", "60", "--quiet"]).code, 0)
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/svgd-1d-mixture.toml", "--out", b.path, "--steps", "60", "--quiet",
                "--set", "flow.optimizer=sgd",
            ]).code, 0)
        let r = try runWGF(["compare", a.path, b.path, "--metric", "mmd", "--format", "json", "--no-plot"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["flow"] as? String }, ["svgd", "svgd"])
        XCTAssertEqual(rows.map { $0["N"] as? Int }, [100, 100])
        XCTAssertEqual(rows.map { $0["steps"] as? Int }, [60, 60])
        XCTAssertEqual(rows[0]["threshold"] as? Double, 0.08, "the scenario's expectation mmd ≤ 0.08")
    }

    /// Reads an .npy file (`<f8` or `<i8`, C order): shape and values.
    func readNPY(_ url: URL) throws -> (shape: [Int], values: [Double]) {
        let b = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(Array(b[0..<6]), [0x93] + Array("NUMPY".utf8))
        let len = Int(b[8]) | Int(b[9]) << 8
        let header = String(decoding: b[10..<(10 + len)], as: UTF8.self)
        let shapeText = header[header.range(of: "'shape': (")!.upperBound...].prefix { $0 != ")" }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let isInt = header.contains("'<i8'")
        var values: [Double] = []
        var k = 10 + len
        while k + 8 <= b.count {
            var u: UInt64 = 0
            for j in 0..<8 { u |= UInt64(b[k + j]) << (8 * UInt64(j)) }
            values.append(isInt ? Double(Int64(bitPattern: u)) : Double(bitPattern: u))
            k += 8
        }
        return (shape, values)
    }

    func testExportWritesNPYMatchingTheCSV() throws {
        let run = scratch.appendingPathComponent("e")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/svgd-gaussian-2d.toml", "--out", run.path, "--steps", "40", "--quiet"]).code,
            0)
        let r = try runWGF(["export", run.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let npy = run.appendingPathComponent("npy")
        let positions = try readNPY(npy.appendingPathComponent("positions.npy"))
        let weights = try readNPY(npy.appendingPathComponent("weights.npy"))
        let steps = try readNPY(npy.appendingPathComponent("steps.npy"))
        let times = try readNPY(npy.appendingPathComponent("times.npy"))
        let rows = try String(contentsOf: run.appendingPathComponent("trajectory.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        var recordSteps: [Double] = []
        for row in rows where recordSteps.last != Double(row[0])! { recordSteps.append(Double(row[0])!) }
        XCTAssertEqual(steps.shape, [recordSteps.count])
        XCTAssertEqual(steps.values, recordSteps)
        let n = rows.count / recordSteps.count
        XCTAssertEqual(positions.shape, [recordSteps.count, n, 2])
        XCTAssertEqual(weights.shape, [recordSteps.count, n])
        for (k, row) in rows.enumerated() {
            let rec = k / n
            let i = Int(row[3])!
            XCTAssertEqual(positions.values[(rec * n + i) * 2], Double(row[5])!)
            XCTAssertEqual(positions.values[(rec * n + i) * 2 + 1], Double(row[6])!)
            XCTAssertEqual(weights.values[rec * n + i], Double(row[4])!)
            XCTAssertEqual(times.values[rec], Double(row[1])!)
        }
        // Two populations: one set of arrays each, named after the population.
        let game = try syntheticRun("game", trajectory: gameTrajectory(), metrics: metricsCSV { $0 })
        XCTAssertEqual(try runWGF(["export", game.path]).code, 0)
        XCTAssertEqual(try readNPY(game.appendingPathComponent("npy/critic.positions.npy")).shape, [5, 20, 2])
        XCTAssertEqual(try runWGF(["export", scratch.path]).code, 3, "no trajectory.csv")
    }

    /// An underdamped run records velocities (v1..vd in trajectory.csv); export writes them as
    /// velocities.npy, equal to the CSV's, and a run without them gets no such file.
    func testExportWritesVelocitiesOfUnderdampedRuns() throws {
        let run = scratch.appendingPathComponent("u")
        XCTAssertEqual(
            try runWGF([
                "run", "scenarios/langevin-underdamped-ou.toml", "--out", run.path, "--steps", "20",
                "--set", "record-every=10", "--set", "population.count=50", "--set", "expect=[]", "--quiet",
            ]).code, 0)
        XCTAssertEqual(try runWGF(["export", run.path]).code, 0)
        let v = try readNPY(run.appendingPathComponent("npy/velocities.npy"))
        let rows = try String(contentsOf: run.appendingPathComponent("trajectory.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",") }
        let header = rows[0].map(String.init)
        let d = header.filter { $0.hasPrefix("x") }.count
        XCTAssertEqual(Array(header.suffix(d)), (1...d).map { "v\($0)" })
        let data = rows.dropFirst()
        XCTAssertEqual(v.shape, [3, 50, d])
        for (k, row) in data.enumerated() {
            let rec = k / 50
            let i = Int(row[3])!
            for a in 0..<d { XCTAssertEqual(v.values[(rec * 50 + i) * d + a], Double(row[5 + d + a])!) }
        }
        let plain = scratch.appendingPathComponent("e2")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/quickstart.toml", "--out", plain.path, "--steps", "5", "--quiet"]).code, 0)
        XCTAssertEqual(try runWGF(["export", plain.path]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.appendingPathComponent("npy/velocities.npy").path))
    }
}
