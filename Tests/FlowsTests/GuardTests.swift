import Flows
import Foundation
import XCTest

/// Checks that guard memory in release builds (-Ounchecked removes `precondition`): scenarios
/// are refused upstream, and the engines still answer safely when called directly.
final class GuardTests: XCTestCase {
    /// The kNN entropy with k ≥ N has no k-th neighbour: NaN, where the compiled-out
    /// precondition let it read past the end of a buffer (garbage, or SIGSEGV).
    func testKNNEntropyWithoutEnoughPointsIsNaN() {
        let x = [0.0, 0, 1, 0, 0, 1, 1, 1]
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 4, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 9, period: 2, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 0, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy([], dimension: 2, neighbours: 1, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy(x, dimension: 0, neighbours: 1, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 3, threads: 1).isFinite, "k = N − 1 is fine")
        XCTAssertTrue(digamma(0).isNaN)
        XCTAssertEqual(digamma(1), -0.57721566490153286061, accuracy: 1e-15)
    }

    /// Deferred values are made once, at the first read, and not before.
    func testDeferredRunsOnceAtFirstUse() {
        var runs = 0
        let d = Deferred<[Double]> { runs += 1; return [1, 2] }
        XCTAssertEqual(runs, 0)
        XCTAssertEqual(d.value, [1, 2])
        XCTAssertEqual(d.value, [1, 2])
        XCTAssertEqual(runs, 1)
        XCTAssertEqual(Deferred<[Double]?>(nil).value, nil)
    }
}
