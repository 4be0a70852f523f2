import Foundation
import XCTest

/// Where `wgf compare` puts its overlay: next to the runs, not into the shell's directory.
final class CompareOutputTests: ScratchTestCase {
    func metricsOnlyRun(_ path: String, decay: Double) throws -> URL {
        let dir = scratch.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let rows = (0...10).map { k in "\(10 * k),\(Double(k) / 10),\(Double(k) / 100),\(exp(-decay * Double(k)))" }
        try (["step,time,wall,ksd"] + rows).joined(separator: "\n").appending("\n")
            .write(to: dir.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        return dir
    }

    func testTheOverlayGoesNextToTheRuns() throws {
        _ = try metricsOnlyRun("runs/slow", decay: 0.2)
        _ = try metricsOnlyRun("runs/fast", decay: 0.5)
        let r = try runWGF(["compare", "runs/slow", "runs/fast/", "--metric", "ksd"], in: scratch)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("wrote runs/compare-ksd.svg"), r.stderr)
        let svg = try read(scratch.appendingPathComponent("runs/compare-ksd.svg"))
        XCTAssertTrue(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"), String(svg.prefix(80)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("compare-ksd.svg").path))
        // A run given by a bare name (in the shell's directory): the overlay goes there.
        _ = try metricsOnlyRun("solo", decay: 0.3)
        XCTAssertEqual(try runWGF(["compare", "solo", "--metric", "ksd"], in: scratch).code, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("compare-ksd.svg").path))
        // PDF for a paper; an unknown format is bad input.
        XCTAssertEqual(try runWGF(["compare", "runs/slow", "runs/fast", "--plot-format", "pdf"], in: scratch).code, 0)
        let pdf = try Data(contentsOf: scratch.appendingPathComponent("runs/compare-ksd.pdf"))
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertEqual(try runWGF(["compare", "runs/slow", "--plot-format", "bmp"], in: scratch).code, 3)
        // --out still wins.
        XCTAssertEqual(try runWGF(["compare", "runs/slow", "-o", "figs", "--metric", "ksd"], in: scratch).code, 0)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: scratch.appendingPathComponent("figs/compare-ksd.svg").path))
    }
}
