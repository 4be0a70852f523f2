import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// `energy-distance-reference`: the energy distance to the rows of a file (held-out data), not
/// to the target, against the V-statistic written out here as a naive double loop,
/// 2 mean|x − y| − mean|x − x'| − mean|y − y'|, relative 1e-12.
final class EnergyDistanceReferenceTests: XCTestCase {
    let dir = TempDirectory()

    func scenario(reference: String) -> String {
        """
        title = "reference"
        seed = 2
        steps = 1
        step-size = 0.1

        [target]
        kind = "samples"
        file = "train.csv"

        [population]
        count = 9
        init = { kind = "gaussian", mean = [0.5, 0, 1], std = 0.7 }

        [flow]
        kind = "mmd"
        kernel = "riesz:r=1"

        [record]
        metrics = ["energy-distance"]
        energy-distance-reference = "\(reference)"

        """
    }

    func csv(_ rows: [[Double]]) -> String {
        (["x1,x2,x3"] + rows.map { $0.map { "\($0)" }.joined(separator: ",") }).joined(separator: "\n") + "\n"
    }

    func testEnergyDistanceToAFileIsTheNaiveVStatistic() throws {
        // Training rows far from the held-out ones: a metric that used the target would differ.
        _ = dir.write("train.csv", csv((0..<6).map { [Double($0) + 5, 7, -3] }))
        let heldOut: [[Double]] = [[0, 0, 0], [1, 0.5, 2], [-0.5, 1, 1], [0.25, -1, 0.75], [2, 0, 1]]
        _ = dir.write("test.csv", csv(heldOut))
        let simulation = try ScenarioLoader.load(
            path: dir.write("s.toml", scenario(reference: "test.csv")), threads: 1
        ).simulation
        let x = simulation.state.populations[0].positions
        let d = 3
        let xs = (0..<(x.count / d)).map { Array(x[($0 * d)..<($0 * d + d)]) }
        func meanDistance(_ a: [[Double]], _ b: [[Double]]) -> Double {
            var total = 0.0
            for u in a {
                for v in b { total += zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
            }
            return total / Double(a.count * b.count)
        }
        let want = 2 * meanDistance(xs, heldOut) - meanDistance(xs, xs) - meanDistance(heldOut, heldOut)
        let got = try XCTUnwrap(simulation.metrics.first { $0.name == "energy-distance" }).metric.evaluate(
            simulation.state)
        XCTAssertEqual(got, want, accuracy: 1e-12 * want)
    }

    func testAReferenceOfAnotherDimensionIsALocatedError() throws {
        _ = dir.write("train.csv", csv([[0, 0, 0], [1, 1, 1]]))
        _ = dir.write("two.csv", "x1,x2\n0,1\n1,0\n")
        let path = dir.write("s.toml", scenario(reference: "two.csv"))
        XCTAssertThrowsError(try ScenarioLoader.load(path: path, threads: 1)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("s.toml:"), text)
            XCTAssertTrue(
                text.contains("record.energy-distance-reference: the file has 2 columns; the particles have d = 3"),
                text)
        }
    }
}
