import Flows
import Foundation
import Scenarios
import TestSupport
import XCTest

/// `[[expect]] fraction`: the share of a sweep's seeds in which an expectation must hold.
final class FractionTests: XCTestCase {
    var dir: TempDirectory!

    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    func testFractionIsReadAndDefaultsToOne() throws {
        let path = dir.write("f.toml", edit(baseScenario, "at-most = 10\n", "at-most = 10\nfraction = 0.9\n"))
        let loaded = try ScenarioLoader.load(path: path, threads: 1)
        XCTAssertEqual(loaded.simulation.expectations.map(\.fraction), [0.9, 1])
        XCTAssertEqual(try ScenarioLoader.expectations(path: path).map(\.fraction), [0.9, 1])
        XCTAssertTrue(loaded.resolvedTOML.contains("fraction = 0.9"), "a given fraction is in the resolved scenario")
        // Absent, it is not written: the resolved scenarios (and identities) of existing files are unchanged.
        let plain = try ScenarioLoader.load(path: dir.write("p.toml", baseScenario), threads: 1)
        XCTAssertFalse(plain.resolvedTOML.contains("fraction"))
        // The resolved scenario with its fraction reads back the same.
        let again = try ScenarioLoader.load(path: dir.write("r.toml", loaded.resolvedTOML), threads: 1)
        XCTAssertEqual(again.simulation.expectations, loaded.simulation.expectations)
        XCTAssertEqual(again.identity, loaded.identity)
    }

    func testFractionOutsideZeroToOneIsALocatedError() throws {
        let line = lineOf("at-most = 10", in: baseScenario) + 1
        for bad in ["0", "-0.5", "1.5", "\"most\""] {
            let path = dir.write("bad.toml", edit(baseScenario, "at-most = 10\n", "at-most = 10\nfraction = \(bad)\n"))
            let message = loadError(path)
            XCTAssertTrue(message.hasPrefix("\(path):\(line): expect[1].fraction: "), message)
            XCTAssertTrue(message.contains("a number in (0, 1]"), message)
        }
        XCTAssertNoThrow(
            try ScenarioLoader.load(
                path: dir.write("one.toml", edit(baseScenario, "at-most = 10\n", "at-most = 10\nfraction = 1\n")),
                threads: 1))
        // As an override, located at the --set.
        let message = loadError(dir.write("s.toml", baseScenario), overrides: ["expect[2].fraction=2"])
        XCTAssertTrue(message.hasPrefix("--set expect[2].fraction=2: expect[2].fraction: "), message)
    }
}
