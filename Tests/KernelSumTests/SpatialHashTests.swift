import Foundation
import KernelSum
import XCTest

final class SpatialHashTests: XCTestCase {
    /// Radius queries return exactly the points a brute-force scan finds, for several cell
    /// sizes (smaller and larger than the radius), dimensions 1 to 5, and far-apart points.
    func testRadiusQueriesMatchBruteForce() {
        var rng = TestRNG(5)
        for d in 1...5 {
            let n = 600
            var x = (0..<(n * d)).map { _ in rng.uniform(-2, 2) }
            x[0] = 1e6  // one point far away
            for cell in [0.1, 0.5, 2.0] {
                let hash = x.withUnsafeBufferPointer { SpatialHash(points: $0, dimension: d, cellSize: cell) }
                for _ in 0..<20 {
                    let q = (0..<d).map { _ in rng.uniform(-2.5, 2.5) }
                    let radius = rng.uniform(0.05, 1.0)
                    var found: [Int] = []
                    q.withUnsafeBufferPointer { qb in
                        hash.forEachNeighbour(of: qb.baseAddress!, within: radius) { i, r2 in
                            found.append(i)
                            var e = 0.0
                            for a in 0..<d { e += (x[i * d + a] - q[a]) * (x[i * d + a] - q[a]) }
                            XCTAssertEqual(r2, e, accuracy: 1e-12)
                        }
                    }
                    let expected = (0..<n).filter { i in
                        (0..<d).reduce(0.0) { $0 + (x[i * d + $1] - q[$1]) * (x[i * d + $1] - q[$1]) } < radius * radius
                    }
                    XCTAssertEqual(found.sorted(), expected, "d=\(d) cell=\(cell)")
                    XCTAssertEqual(Set(found).count, found.count, "a point reported twice")
                }
            }
        }
    }

    /// k nearest neighbours equal a sorted brute-force scan, excluding the query point.
    func testNearestNeighbours() {
        var rng = TestRNG(9)
        for d in [1, 2, 3, 6] {
            let n = 500
            let x = (0..<(n * d)).map { _ in rng.uniform(0, 1) }
            let hash = x.withUnsafeBufferPointer { SpatialHash(points: $0, dimension: d, cellSize: 0.05) }
            for i in stride(from: 0, to: n, by: 37) {
                for k in [1, 5, 20] {
                    let got = x.withUnsafeBufferPointer { hash.nearest(k, to: $0.baseAddress! + i * d, excluding: i) }
                    var brute: [(index: Int, r2: Double)] = []
                    for j in 0..<n where j != i {
                        var r2 = 0.0
                        for a in 0..<d {
                            let t = x[j * d + a] - x[i * d + a]
                            r2 += t * t
                        }
                        brute.append((j, r2))
                    }
                    brute.sort { $0.r2 < $1.r2 || ($0.r2 == $1.r2 && $0.index < $1.index) }
                    XCTAssertEqual(got.map { $0.index }, brute.prefix(k).map { $0.index }, "d=\(d) i=\(i) k=\(k)")
                }
            }
        }
        // Asking for more neighbours than there are points returns them all.
        let x = [0.0, 1, 2]
        let hash = x.withUnsafeBufferPointer { SpatialHash(points: $0, dimension: 1, cellSize: 0.1) }
        let all = x.withUnsafeBufferPointer { hash.nearest(10, to: $0.baseAddress!, excluding: 0) }
        XCTAssertEqual(all.map { $0.index }, [1, 2])
    }
}
