import Communication
import KernelSum
import TestSupport
import XCTest

/// `ExactSum`: the sum of doubles independent of their order and of how ranks split them.
final class ExactSumTests: XCTestCase {
    func testSumsThatRoundingLosesComeOutExact() {
        XCTAssertEqual(ExactSum([1e100, 1, -1e100]).value, 1)
        XCTAssertEqual(ExactSum([1e308, 1e308, -1e308]).value, 1e308)
        XCTAssertEqual(ExactSum([5e-324, 5e-324, 5e-324]).value, 1.5e-323)
        XCTAssertEqual(ExactSum([0x1p-60, 1, 0x1p-60, 0x1p-60, 0x1p-60]).value, 1 + 0x1p-58)
        XCTAssertEqual(ExactSum([-3.25, 1.0, -0x1p-1000]).value, -2.25)
        XCTAssertEqual(ExactSum([Double]()).value, 0)
        XCTAssertTrue(ExactSum([1, .nan]).value.isNaN)
        XCTAssertEqual(ExactSum([1, .infinity]).value, .infinity)
        // Each value and its negative: exactly 0, whatever the magnitudes.
        var rng = TestRNG(3)
        let values = (0..<2000).map { _ in rng.uniform(-1, 1) * pow(10, rng.uniform(-300, 300)) }
        XCTAssertEqual(ExactSum(values + values.map { -$0 }).value, 0)
        // One term added to a cancelling crowd comes back exactly.
        XCTAssertEqual(ExactSum(values + [0.1] + values.map { -$0 }).value, 0.1)
    }

    func testTheOrderAndTheRanksDoNotChangeTheSum() {
        var rng = TestRNG(5)
        let values = (0..<10_000).map { _ in rng.uniform(-1, 1) * pow(2, rng.uniform(-40, 40)) }
        let sum = ExactSum(values).value
        XCTAssertEqual(ExactSum(values.reversed()).value.bitPattern, sum.bitPattern)
        XCTAssertEqual(ExactSum(values.sorted()).value.bitPattern, sum.bitPattern)
        // Close to the naive sum (which rounds at every step).
        XCTAssertEqual(sum, values.reduce(0, +), accuracy: 1e-9 * values.map(abs).reduce(0, +))
        for k in [2, 3] {
            let results = ThreadJob(size: k).run { comm in
                ExactSum(values.enumerated().filter { $0.offset % k == comm.rank }.map(\.element))
                    .acrossRanks(comm).value
            }
            XCTAssertEqual(results.map(\.bitPattern), [UInt64](repeating: sum.bitPattern, count: k))
        }
    }
}
