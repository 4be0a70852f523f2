import Foundation
import Plotting
import Recording
import XCTest

/// The image figure (`[plot] image = [w, h]`): one tile per particle and per target sample
/// shown, each w × h pixels laid out row by row, intensities mapped monotonically to gray.
final class ImageFigureTests: XCTestCase {
    /// Three particles of a 3 × 2 image (d = 6): the first a ramp 0, 0.2, ..., 1 over the pixels
    /// in row-major order, the second beyond the target's range (clamped to white), the third
    /// all zero; five target samples spanning [0, 1].
    func plots(shape: (width: Int, height: Int)?, particles: Int = 3) -> RunPlots {
        var p = PopulationFrame(name: "particles")
        let rows: [[Double]] = [[0, 0.2, 0.4, 0.6, 0.8, 1], [2, 2, 2, 2, 2, 2], [0, 0, 0, 0, 0, 0]]
        for i in 0..<particles {
            p.ids.append(i)
            p.weights.append(1 / Double(particles))
            p.positions += rows[i % 3]
        }
        let t = Trajectory(dimension: 6, frames: [Frame(step: 40, time: 0.4, populations: [p])])
        var context = PlotContext(title: "digits")
        context.imageShape = shape
        context.referenceSamples = (0..<30).map { Double($0 % 6) / 5 }
        return RunPlots(trajectory: t, metrics: nil, context: context)
    }

    func testTilesAndMonotoneIntensities() throws {
        let svg = try XCTUnwrap(try plots(shape: (3, 2)).images())
        let e = try SVGElements.parse(svg)
        let groups = e.elements.filter { $0.tag == "g" && $0.attributes["class"] == "images" }
        XCTAssertEqual(groups.map { $0.attributes["data-tiles"] }, ["3", "5"], "3 particles, 5 target samples")
        XCTAssertEqual(e.elements.filter { $0.tag == "g" && $0.attributes["class"] == "tile" }.count, 8)
        // The first particle's tile: its ground, then its pixels 0.2 ... 1 (0 is the ground).
        let tiles = e.elements.indices.filter {
            e.elements[$0].tag == "g" && e.elements[$0].attributes["class"] == "tile"
        }
        let first = e.elements[(tiles[0] + 1)..<tiles[1]].filter { $0.tag == "rect" }
        XCTAssertEqual(first.count, 6, "the ground and five lit pixels")
        let ground = first[0]
        XCTAssertEqual(ground.attributes["fill"], "#000000")
        let pixels = Array(first.dropFirst())
        let level = pixels.map { Int(String($0.attributes["fill"]!.dropFirst().prefix(2)), radix: 16)! }
        XCTAssertEqual(level, level.sorted(), "brighter for larger intensities")
        XCTAssertEqual(Set(level).count, 5, "strictly")
        XCTAssertEqual(level.last, 255, "the target's top intensity is white")
        let w = try XCTUnwrap(ground.number("width"))
        let h = try XCTUnwrap(ground.number("height"))
        XCTAssertEqual(w / h, 3.0 / 2.0, accuracy: 1e-12, "a 3 × 2 tile")
        // Row-major: pixels 1, 2 in the top row (x = 1, 2 pixels in), 3, 4, 5 in the bottom row.
        let px = w / 3
        let cells = pixels.map {
            (
                c: Int((($0.number("x")! - ground.number("x")!) / px).rounded()),
                r: Int((($0.number("y")! - ground.number("y")!) / px).rounded())
            )
        }
        XCTAssertEqual(cells.map(\.c), [1, 2, 0, 1, 2])
        XCTAssertEqual(cells.map(\.r), [0, 0, 1, 1, 1])
        // The second particle, beyond the target's range, saturates: every pixel white.
        let second = e.elements[(tiles[1] + 1)..<tiles[2]].filter { $0.tag == "rect" }.dropFirst()
        XCTAssertEqual(second.map { $0.attributes["fill"] }, [String?](repeating: "#ffffff", count: 6))
        // The third, all zero: the ground alone.
        XCTAssertEqual(e.elements[(tiles[2] + 1)..<tiles[3]].filter { $0.tag == "rect" }.count, 1)
    }

    func testTileCountIsCappedAndTheFigureNeedsAMatchingShape() throws {
        var p = plots(shape: (2, 3), particles: 100)
        p.maxImageTiles = 16
        let e = try SVGElements.parse(try XCTUnwrap(try p.images()))
        XCTAssertEqual(e.elements.filter { $0.tag == "g" && $0.attributes["class"] == "tile" }.count, 16 + 5)
        XCTAssertNil(try plots(shape: nil).images(), "no [plot] image: no figure")
        XCTAssertNil(try plots(shape: (4, 2)).images(), "4 × 2 ≠ d = 6: no figure")
        XCTAssertNotNil(try plots(shape: (6, 1)).drawing(of: .images))
    }
}
