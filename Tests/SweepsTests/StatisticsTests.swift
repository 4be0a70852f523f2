import Foundation
import Sweeps
import XCTest

/// Student t quantiles (against published values and the closed forms for ν = 1, 2) and the
/// statistics over seeds.
final class StatisticsTests: XCTestCase {
    func testTQuantilesAgainstPublishedValues() {
        // Two-sided 95 % (p = 0.975) and 99 % (p = 0.995) critical values, e.g. NIST/SEMATECH
        // e-Handbook of Statistical Methods, table 1.3.6.7.2, to the digits printed there.
        let table: [(p: Double, nu: Double, t: Double)] = [
            (0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 3, 3.182), (0.975, 4, 2.776), (0.975, 5, 2.571),
            (0.975, 9, 2.262), (0.975, 19, 2.093), (0.975, 29, 2.045), (0.975, 99, 1.984),
            (0.995, 1, 63.657), (0.995, 10, 3.169), (0.95, 10, 1.812), (0.9, 30, 1.310),
        ]
        for row in table {
            let t = StudentT.quantile(row.p, degreesOfFreedom: row.nu)
            XCTAssertEqual(t, row.t, accuracy: 0.0005, "t_{\(row.p), \(row.nu)}")
        }
        // To more digits (R: qt(0.975, c(1, 4, 29))).
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 1), 12.706204736174698, accuracy: 1e-9)
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 4), 2.7764451051977934, accuracy: 1e-11)
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 29), 2.045229642132703, accuracy: 1e-11)
        // Towards the normal quantile 1.959963984540054.
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 1e7), 1.959963984540054, accuracy: 1e-6)
    }

    func testTQuantilesAgainstClosedForms() {
        for p in [0.6, 0.9, 0.975, 0.999, 0.3, 0.01] {
            // ν = 1 (Cauchy): tan(π(p − ½)); ν = 2: (2p − 1)/√(2p(1 − p)).
            XCTAssertEqual(
                StudentT.quantile(p, degreesOfFreedom: 1), tan(Double.pi * (p - 0.5)),
                accuracy: 1e-10 * max(1, abs(tan(Double.pi * (p - 0.5)))))
            XCTAssertEqual(
                StudentT.quantile(p, degreesOfFreedom: 2), (2 * p - 1) / (2 * p * (1 - p)).squareRoot(), accuracy: 1e-10
            )
            for nu in [1.0, 3, 7.5, 40] {
                XCTAssertEqual(
                    StudentT.cdf(StudentT.quantile(p, degreesOfFreedom: nu), degreesOfFreedom: nu), p, accuracy: 1e-13)
            }
        }
        XCTAssertEqual(StudentT.quantile(0.5, degreesOfFreedom: 3), 0)
        XCTAssertTrue(StudentT.quantile(1, degreesOfFreedom: 3).isNaN)
        XCTAssertTrue(StudentT.quantile(0.9, degreesOfFreedom: 0).isNaN)
    }

    func testSampleStatistics() throws {
        let s = SampleStatistics([1, 2, 3, 4])
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.mean, 2.5)
        XCTAssertEqual(try XCTUnwrap(s.standardDeviation), (5.0 / 3).squareRoot(), accuracy: 1e-15)
        // t_{0.975, 3} = 3.182446305284263 (R: qt(0.975, 3)).
        XCTAssertEqual(
            try XCTUnwrap(s.confidenceHalfWidth), 3.182446305284263 * (5.0 / 3).squareRoot() / 2, accuracy: 1e-12)
        let one = SampleStatistics([0.7])
        XCTAssertEqual(one.mean, 0.7)
        XCTAssertNil(one.standardDeviation)
        XCTAssertNil(one.confidenceHalfWidth)
        let same = SampleStatistics([2, 2, 2])
        XCTAssertEqual(same.standardDeviation, 0)
        XCTAssertEqual(same.confidenceHalfWidth, 0)
    }
}
