import Communication
import MPICommunication
import XCTest

final class BlockPartitionTests: XCTestCase {
    /// Blocks tile 0 ..< n in order, differ by at most one, and match the written-out split.
    func testBlocksTileTheItemsInOrder() {
        XCTAssertEqual(BlockPartition(count: 10, parts: 3).counts, [4, 3, 3])
        XCTAssertEqual(BlockPartition(count: 10, parts: 3).range(of: 1), 4..<7)
        XCTAssertEqual(BlockPartition(count: 2, parts: 3).counts, [1, 1, 0])
        XCTAssertEqual(BlockPartition(count: 0, parts: 2).counts, [0, 0])
        for n in 0..<40 {
            for k in 1..<7 {
                let p = BlockPartition(count: n, parts: k)
                var next = 0
                for r in 0..<k {
                    let range = p.range(of: r)
                    XCTAssertEqual(range.lowerBound, next)
                    next = range.upperBound
                }
                XCTAssertEqual(next, n)
                XCTAssertLessThanOrEqual(p.counts.max()! - p.counts.min()!, 1)
            }
        }
    }

    func testSerialCommunicatorIsTheIdentity() {
        let c = SerialCommunicator()
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.size, 1)
        XCTAssertTrue(c.isRoot)
        XCTAssertEqual(c.allGather([1, 2, 3], counts: [3]), [1, 2, 3])
        XCTAssertEqual(c.maximum(-4), -4)
        XCTAssertEqual(c.allGather(UInt64(7)), [7])
    }

    /// Launchers are recognised by their variables, and a child's environment loses them.
    func testLaunchersAreRecognisedAndChildrenStartPlain() {
        XCTAssertFalse(MPILaunch.isLaunched(["PATH": "/bin"]))
        XCTAssertTrue(MPILaunch.isLaunched(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(MPILaunch.isLaunched(["PMIX_RANK": "0"]))
        XCTAssertTrue(MPILaunch.isLaunched(["PMI_SIZE": "4"]))
        let plain = MPILaunch.plainEnvironment([
            "OMPI_COMM_WORLD_SIZE": "2", "PMIX_RANK": "1", "PMI_SIZE": "2",
            "PATH": "/bin", "HOME": "/root",
        ])
        XCTAssertEqual(plain, ["PATH": "/bin", "HOME": "/root"])
        XCTAssertFalse(MPILaunch.isLaunched(plain))
        // Not launched: no MPI started.
        XCTAssertNil(MPICommunicator.startIfLaunched(environment: [:]))
    }
}
