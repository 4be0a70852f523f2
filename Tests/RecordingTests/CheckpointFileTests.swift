import Flows
import Foundation
import KernelSum
import Recording
import TestSupport
import XCTest

/// checkpoint.wgf: what is written is read back exactly, and any damage is an error, never a
/// crash or a wrong state.
final class CheckpointFileTests: XCTestCase {
    func sample() -> Checkpoint {
        var a = Population(name: "min", dimension: 2, positions: [0.1, -0.2, 3e300, -0.0, .leastNonzeroMagnitude, 1])
        a.weights = [0.25, 0.5, 0.25]
        a.velocities = [1, 2, 3, 4, 5, 6]
        let b = Population(name: "max player", dimension: 1, positions: [1.0 / 3, 2])
        var t = RunTimings()
        t.stepping = 1.5
        t.total = 2.25
        return Checkpoint(
            step: 1234, lastRecordedStep: 1230, populations: [a, b],
            parts: [
                "flow.optimizer": PartState(reals: ["history": [0.1, 0.2]]),
                "flow.interaction[1].summation#2": PartState(
                    reals: ["spacing": [0.01], "radius": [0.08]],
                    integers: ["modes": [64, 48, 1], "dimension": [2]],
                    texts: ["kernel": "log"]),
            ],
            outputs: ["trajectory.csv": 123_456_789_012, "metrics.csv": 77], timings: t,
            scenarioIdentity: String(repeating: "ab", count: 32))
    }

    func testRoundTripIsExact() throws {
        let c = sample()
        let decoded = try CheckpointFile.decode(CheckpointFile.encode(c))
        XCTAssertEqual(decoded, c)
        XCTAssertEqual(
            decoded.populations[0].positions.map(\.bitPattern), c.populations[0].positions.map(\.bitPattern),
            "bit patterns (−0, subnormals) kept")
        // Through the file system, atomically, with no temporary file left.
        let temporary = TempDirectory(prefix: "ckpt")
        let dir = temporary.path
        try CheckpointFile.write(c, directory: dir)
        XCTAssertEqual(try CheckpointFile.read(directory: dir), c)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [CheckpointFile.name])
    }

    /// The layout as documented: magic, version 1, then entries; the trailer is the SHA-256 of the rest.
    func testLayout() {
        let bytes = CheckpointFile.encode(sample())
        XCTAssertEqual(Array(bytes.prefix(8)), Array("WGF-CKPT".utf8))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0])
        XCTAssertEqual(String(decoding: bytes.suffix(64), as: UTF8.self), sha256Hex(Array(bytes.dropLast(64))))
    }

    func testEveryTruncationAndFlipIsAnError() {
        let bytes = CheckpointFile.encode(sample())
        for n in stride(from: 0, to: bytes.count, by: 7) {
            XCTAssertThrowsError(try CheckpointFile.decode(Array(bytes.prefix(n))), "cut at \(n)")
        }
        for k in stride(from: 0, to: bytes.count, by: 5) {
            var damaged = bytes
            damaged[k] ^= 0x10
            XCTAssertThrowsError(try CheckpointFile.decode(damaged), "flip at \(k)")
        }
    }

    /// Well-formed files (valid trailer) with hostile contents: huge counts, wrong types,
    /// inconsistent sizes. Each is an error, and nothing huge is allocated.
    func testHostileButWellFormedFilesAreErrors() {
        func sealed(_ body: [UInt8]) -> [UInt8] { body + Array(sha256Hex(body).utf8) }
        func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
        let header = Array("WGF-CKPT".utf8) + le(UInt32(1))
        let cases: [[UInt8]] = [
            header + le(UInt32(1)) + le(UInt32(4)) + Array("step".utf8) + [1] + le(UInt64.max),
            header + le(UInt32(1)) + le(UInt32(4)) + Array("step".utf8) + [2] + le(UInt64(1) << 60),
            header + le(UInt32(1)) + le(UInt32.max) + Array("x".utf8),
            header + le(UInt32(1)) + le(UInt32(4)) + Array("step".utf8) + [9] + le(UInt64(0)),
            header + le(UInt32(2)),
            Array("WGF-CKPT".utf8) + le(UInt32(2)) + le(UInt32(0)),
            header + le(UInt32(0)),
        ]
        for (k, c) in cases.enumerated() { XCTAssertThrowsError(try CheckpointFile.decode(sealed(c)), "case \(k)") }
        // Random bytes behind a valid header and trailer.
        var state: UInt64 = 12345
        for _ in 0..<500 {
            var body = header
            for _ in 0..<Int(state % 200) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                body.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            _ = try? CheckpointFile.decode(sealed(body))
        }
    }
}
