import Flows
import Foundation
import Recording
import TestSupport
import XCTest

final class RunRecorderTests: XCTestCase {
    var dir: TempDirectory!
    override func setUp() { dir = TempDirectory() }
    override func tearDown() { dir = nil }

    /// The rows of trajectory.csv after the header, split into fields.
    func trajectoryRows() -> [[String]] {
        dir.read("trajectory.csv").split(separator: "\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    func testHeaders() throws {
        let recorder = try RunRecorder(directory: dir.path, dimension: 3, metricNames: ["mmd", "ksd"])
        XCTAssertEqual(dir.read("trajectory.csv"), "step,time,population,particle,weight,x1,x2,x3\n")
        XCTAssertEqual(dir.read("metrics.csv"), "step,time,wall,mmd,ksd\n")
        _ = recorder
        _ = try RunRecorder(directory: dir.path + "/", dimension: 1, metricNames: [])
        XCTAssertEqual(dir.read("trajectory.csv"), "step,time,population,particle,weight,x1\n")
        XCTAssertEqual(dir.read("metrics.csv"), "step,time,wall\n")
    }

    func testTrajectoryRoundTripsExactlyAndIsFlushed() throws {
        let d = 3
        let n = 40
        let values = awkwardDoubles(count: n * d)
        var population = Population(name: "particles", dimension: d, positions: values)
        population.weights = awkwardDoubles(count: n).map { abs($0) }
        let other = Population(name: "second", dimension: d, positions: [-0.0, 1, 2])
        let state = SimulationState(populations: [population, other])
        let recorder = try RunRecorder(directory: dir.path, dimension: d, metricNames: [])
        try recorder.recordState(step: 7, time: 0.35000000000000003, state: state)
        // Read while the recorder is alive: the record must already be on disk.
        var rows = trajectoryRows()
        XCTAssertEqual(rows.count, n + 1)
        for (i, row) in rows.prefix(n).enumerated() {
            XCTAssertEqual(row.count, 5 + d)
            XCTAssertEqual(row[0], "7")
            XCTAssertEqual(Double(row[1])?.bitPattern, 0.35000000000000003.bitPattern)
            XCTAssertEqual(row[2], "particles")
            XCTAssertEqual(row[3], String(i))
            XCTAssertEqual(Double(row[4])?.bitPattern, population.weights[i].bitPattern, row[4])
            for a in 0..<d {
                XCTAssertEqual(
                    Double(row[5 + a])?.bitPattern, values[i * d + a].bitPattern,
                    "\(row[5 + a]) vs \(values[i * d + a])")
            }
        }
        XCTAssertEqual(rows[n][2], "second")
        XCTAssertEqual(rows[n][3], "0")
        XCTAssertEqual(Double(rows[n][5])?.sign, .minus)  // -0.0 keeps its sign
        XCTAssertEqual(Double(rows[n][4]), 1)
        // A second record is appended and flushed too.
        try recorder.recordState(step: 8, time: 0.4, state: SimulationState(populations: [other]))
        rows = trajectoryRows()
        XCTAssertEqual(rows.count, n + 2)
        XCTAssertEqual(rows[n + 1], ["8", "0.4", "second", "0", "1.0", "-0.0", "1.0", "2.0"])
        withExtendedLifetime(recorder) {}
    }

    func testMetricsRoundTripExactlyAndAreFlushed() throws {
        let names = ["mmd", "ksd", "energy"]
        let recorder = try RunRecorder(directory: dir.path, dimension: 2, metricNames: names)
        let series = (0..<20).map { _ in awkwardDoubles(count: 16 + 3).suffix(3).map { $0 } }
        let special: [[Double]] = [[1e-300, -0.0, .leastNonzeroMagnitude], [.greatestFiniteMagnitude, 0.1, -1e-300]]
        let all = special + series
        for (k, v) in all.enumerated() {
            try recorder.recordMetrics(step: 10 * k, time: Double(k) * 0.1, wall: Double(k) * 1e-3, values: v)
            let t = try NumericTable.read(path: dir.path + "/metrics.csv")
            XCTAssertEqual(t.rows, k + 1)  // flushed after each record
        }
        let t = try NumericTable.read(path: dir.path + "/metrics.csv")
        XCTAssertEqual(t.header, ["step", "time", "wall"] + names)
        XCTAssertEqual(t.column("step"), (0..<all.count).map { Double(10 * $0) })
        XCTAssertEqual(t.column("time")?.map(\.bitPattern), (0..<all.count).map { (Double($0) * 0.1).bitPattern })
        XCTAssertEqual(t.column("wall")?.map(\.bitPattern), (0..<all.count).map { (Double($0) * 1e-3).bitPattern })
        for (c, name) in names.enumerated() {
            XCTAssertEqual(t.column(name)?.map(\.bitPattern), all.map { $0[c].bitPattern }, name)
        }
        // NaN and infinities are written so that they read back.
        try recorder.recordMetrics(step: 999, time: 1, wall: 1, values: [.nan, .infinity, -.infinity])
        let u = try NumericTable.read(path: dir.path + "/metrics.csv")
        XCTAssertTrue(u.column("mmd")!.last!.isNaN)
        XCTAssertEqual(u.column("ksd")!.last!, .infinity)
        XCTAssertEqual(u.column("energy")!.last!, -.infinity)
        withExtendedLifetime(recorder) {}
    }

    func testWithoutTrajectory() throws {
        let recorder = try RunRecorder(directory: dir.path, dimension: 2, metricNames: ["m"], writeTrajectory: false)
        try recorder.recordState(
            step: 0, time: 0,
            state: SimulationState(populations: [Population(name: "p", dimension: 2, positions: [1, 2])]))
        try recorder.recordMetrics(step: 0, time: 0, wall: 0, values: [1])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/trajectory.csv"))
        XCTAssertEqual(dir.read("metrics.csv"), "step,time,wall,m\n0,0.0,0.0,1.0\n")
        withExtendedLifetime(recorder) {}
    }

    func testUnwritableDirectory() {
        let missing = dir.path + "/no/such/dir"
        XCTAssertThrowsError(try RunRecorder(directory: missing, dimension: 1, metricNames: [])) { e in
            guard let e = e as? IOFailure else { return XCTFail("\(e)") }
            XCTAssertEqual(e.path, missing + "/trajectory.csv")
            XCTAssertTrue(e.description.hasPrefix("\(missing)/trajectory.csv: cannot open for writing"), e.description)
        }
    }

    func testLineWriterBuffersUntilFlush() throws {
        let path = dir.path + "/lines.txt"
        let w = try LineWriter(path: path)
        w.write("a,")
        w.write(0.1)
        XCTAssertEqual(dir.read("lines.txt"), "")
        try w.flush()
        XCTAssertEqual(dir.read("lines.txt"), "a,0.1")
        w.write("\n")
        try w.flush()
        XCTAssertEqual(dir.read("lines.txt"), "a,0.1\n")
    }

}
