import Flows
import Foundation
import KernelSum
import XCTest

/// Checks that guard memory in release builds (-Ounchecked removes `precondition`): scenarios
/// are refused upstream, and the engines still answer safely when called directly.
final class GuardTests: XCTestCase {
    /// The kNN entropy with k ≥ N has no k-th neighbour: NaN, where the compiled-out
    /// precondition let it read past the end of a buffer (garbage, or SIGSEGV).
    func testKNNEntropyWithoutEnoughPointsIsNaN() {
        let x = [0.0, 0, 1, 0, 0, 1, 1, 1]
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 4, threads: 1).isNaN)
        XCTAssertTrue(knnEntropy(x, dimension: 2, neighbours: 9, domain: .periodic(length: 2), threads: 1).isNaN)
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
        let d = Deferred<[Double]> {
            runs += 1
            return [1, 2]
        }
        XCTAssertEqual(runs, 0)
        XCTAssertEqual(d.value, [1, 2])
        XCTAssertEqual(d.value, [1, 2])
        XCTAssertEqual(runs, 1)
        XCTAssertEqual(Deferred<[Double]?>(nil).value, nil)
    }

    /// Shapes that would make a sum read past its data are refused when built.
    func testShapesAreCheckedWhenBuilt() {
        XCTAssertThrowsError(try BilinearPayoff(matrix: [1, 2, 3], minDimension: 2, maxDimension: 2))
        XCTAssertNoThrow(try BilinearPayoff(matrix: [1, 2, 3, 4, 5, 6], minDimension: 2, maxDimension: 3))
        XCTAssertThrowsError(
            try FormulaPayoff(
                formula: try ScenarioFormula(compiling: "x1*y1", variables: .payoff(dimension: 1, secondDimension: 1)),
                minDimension: 2, maxDimension: 1, threads: 1))
        XCTAssertNil(SPDMatrix(size: 2, entries: [1, 0, 0]))
        XCTAssertTrue(NoTarget(dimension: 2).sample(count: 3, using: &rng).allSatisfy(\.isNaN))
        XCTAssertEqual(Population(name: "p", dimension: 0, positions: []).count, 0)
    }
    var rng = RandomStream(seed: 1, .initialisation, 0)
}
