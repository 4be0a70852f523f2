import Flows
import Foundation
import Recording
import TestSupport
import XCTest

final class CheckTests: XCTestCase {
    func table(_ text: String) throws -> NumericTable {
        let dir = TempDirectory()
        return try NumericTable.read(path: dir.write("metrics.csv", text))
    }

    /// Steps that are no integers an Int holds (1e300, 2.5, nan in a damaged file) match no
    /// by-step: the verdict comes from the valid rows, and nothing traps.
    func testDamagedStepsAreSkipped() throws {
        let metrics = try table(
            "step,time,wall,mmd\n0,0,0,1.0\n1e300,1,0.1,0.01\n2.5,1,0.1,0.01\nnan,1,0.1,0.01\n10,1,0.1,0.5\n")
        let v = judge(
            [
                Expectation(metric: "mmd", bound: .atMost(0.6), byStep: 10),
                Expectation(metric: "mmd", bound: .atMost(0.1), byStep: 10),
            ], metrics: metrics)
        XCTAssertEqual(v.map(\.passed), [true, false])
        XCTAssertEqual(v[1].detail, "mmd = 0.5 at step 10")
    }

    func testVerdicts() throws {
        let metrics = try table("step,time,wall,mmd,ksd\n0,0,0,1.0,5\n10,1,0.1,0.5,4\n20,2,0.2,0.05,3\n")
        let expectations = [
            Expectation(metric: "mmd", bound: .atMost(0.1), byStep: 20),  // 0.05 at 20: pass
            Expectation(metric: "mmd", bound: .atMost(0.1), byStep: 10),  // 0.5 at 10: fail
            Expectation(metric: "mmd", bound: .atMost(0.5), byStep: 15),  // judged at 10: 0.5 ≤ 0.5
            Expectation(metric: "ksd", bound: .atLeast(3.5), byStep: 10),  // 4: pass
            Expectation(metric: "ksd", bound: .atLeast(3.5), byStep: 20),  // 3: fail
            Expectation(metric: "energy", bound: .atMost(1), byStep: 20),  // no column
            Expectation(metric: "mmd", bound: .atMost(1), byStep: 30),  // the run ended at 20
            Expectation(metric: "mmd", bound: .atMost(1), byStep: 0),  // step 0 is recorded
        ]
        let v = judge(expectations, metrics: metrics)
        XCTAssertEqual(v.map(\.passed), [true, false, true, true, false, false, false, true])
        XCTAssertEqual(v.map(\.expectation), expectations)
        XCTAssertEqual(v[0].detail, "mmd = 0.05 at step 20")
        XCTAssertEqual(v[0].line, "pass  mmd ≤ 0.1 by step 20: mmd = 0.05 at step 20")
        XCTAssertEqual(v[1].line, "FAIL  mmd ≤ 0.1 by step 10: mmd = 0.5 at step 10")
        XCTAssertEqual(v[2].detail, "mmd = 0.5 at step 10")
        XCTAssertEqual(v[3].line, "pass  ksd ≥ 3.5 by step 10: ksd = 4 at step 10")
        XCTAssertEqual(v[5].detail, "metrics.csv has no column energy")
        XCTAssertEqual(v[5].line, "FAIL  energy ≤ 1 by step 20: metrics.csv has no column energy")
        XCTAssertEqual(v[6].detail, "the run ended at step 20, before step 30")
        XCTAssertEqual(v[7].detail, "mmd = 1 at step 0")
    }

    func testNoRecordBeforeTheStep() throws {
        let metrics = try table("step,time,wall,mmd\n5,0.5,0,0.01\n")
        let v = judge([Expectation(metric: "mmd", bound: .atMost(1), byStep: 2)], metrics: metrics)
        XCTAssertFalse(v[0].passed)
        XCTAssertEqual(v[0].detail, "no record of mmd at or before step 2")
        // An empty run (header only).
        let empty = try table("step,time,wall,mmd\n")
        let w = judge([Expectation(metric: "mmd", bound: .atMost(1), byStep: 0)], metrics: empty)
        XCTAssertFalse(w[0].passed)
        XCTAssertEqual(judge([], metrics: empty).count, 0)
    }

    func testNaNFails() throws {
        let metrics = try table("step,time,wall,mmd\n0,0,0,nan\n")
        let v = judge(
            [
                Expectation(metric: "mmd", bound: .atMost(1), byStep: 0),
                Expectation(metric: "mmd", bound: .atLeast(1), byStep: 0),
            ], metrics: metrics)
        XCTAssertEqual(v.map(\.passed), [false, false])
    }
}
