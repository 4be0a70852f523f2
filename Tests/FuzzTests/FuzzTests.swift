import Foundation
import Recording
import TestSupport
import XCTest

/// Seeded mutation fuzzing of the input readers, in process: every bundled scenario, formulas
/// and CSV files are mutated (see `Mutator`) and fed to `FuzzHarness`. A crash ends the test
/// run; an undocumented error or an over-long message fails the test with the seed and index
/// that reproduce it. `WGF_FUZZ_SCALE=k` runs k times as many inputs.
final class FuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let seed: UInt64 = 20_261_201
    static var scale: Double { Double(ProcessInfo.processInfo.environment["WGF_FUZZ_SCALE"] ?? "") ?? 1 }
    /// An input that takes longer than this is a finding (a reader should be linear in its input).
    static let slow = 1.0

    private var scratchDirectory: TempDirectory!
    var scratch: URL { scratchDirectory.url }

    override func setUp() {
        // In memory where there is a tmpfs: thousands of small files rewritten on a disk cost
        // most of the time.
        scratchDirectory = TempDirectory(prefix: "wgf-fuzz", inMemory: true)
    }

    override func tearDown() { scratchDirectory = nil }

    static func bundledScenarios() throws -> [[UInt8]] {
        let dir = root.appendingPathComponent("scenarios")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.sorted()
            .map { Array(try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    /// Runs `count` mutated inputs through `feed`, failing with the first finding.
    func fuzz(
        _ name: String, seeds: [[UInt8]], mutator: Mutator, count: Int,
        skip: ([UInt8]) -> Bool = { _ in false }, feed: ([UInt8]) -> FuzzHarness.Outcome
    ) {
        var tally: [String: Int] = [:]
        let total = Int((Double(count) * FuzzTests.scale).rounded())
        var slowest = (seconds: 0.0, index: 0)
        let clock = ContinuousClock()
        for i in 0..<total {
            var g = TestRNG(seed: FuzzTests.seed, index: i)
            let input = mutator.mutate(seeds[Int.random(in: 0..<seeds.count, using: &g)], using: &g)
            if skip(input) {
                tally["skipped", default: 0] += 1
                continue
            }
            let start = clock.now
            var outcome = feed(input)
            let elapsed = start.duration(to: clock.now) / .seconds(1)
            if elapsed > slowest.seconds { slowest = (elapsed, i) }
            if elapsed > FuzzTests.slow, case .rejected = outcome { outcome = .finding("took \(elapsed) s") }
            if elapsed > FuzzTests.slow, case .accepted = outcome { outcome = .finding("took \(elapsed) s") }
            switch outcome {
            case .accepted: tally["accepted", default: 0] += 1
            case .rejected: tally["rejected", default: 0] += 1
            case .finding(let f):
                let file = scratch.deletingLastPathComponent().appendingPathComponent("wgf-fuzz-\(name)-\(i).bin")
                try? Data(input).write(to: file)
                return XCTFail("\(name) input \(i) (seed \(FuzzTests.seed), saved to \(file.path)): \(f)")
            }
        }
        print(
            "fuzz \(name): \(total) inputs, \(tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")); slowest \(slowest.seconds) s (input \(slowest.index))"
        )
        XCTAssertGreaterThan(tally["rejected", default: 0], 0, "the mutations should break some inputs")
    }

    func testScenarioReader() throws {
        let csv = scratch.appendingPathComponent("points.csv").path
        try "x1,x2\n0.5,1\n-1,2\n".write(toFile: csv, atomically: true, encoding: .utf8)
        var mutator = Mutator(dictionary: Mutator.common + Mutator.toml + Mutator.formula)
        // File keys pointing at a CSV beside the scenario, so the points reader is reached too.
        mutator.dictionary += [
            "init = { kind = \"file\", file = \"points.csv\" }\n", "kind = \"samples\"\nfile = \"points.csv\"\n",
        ]
        let path = scratch.appendingPathComponent("fuzz.toml").path
        fuzz(
            "scenario", seeds: try FuzzTests.bundledScenarios(), mutator: mutator, count: 8000,
            skip: { asksForLargeSizes($0) }
        ) { FuzzHarness.scenario($0, path: path) }
    }

    func testFormulaReader() throws {
        // The formulas of the bundled scenarios and of docs/formulas.md's examples.
        var formulas = [
            "(x1^2 - 1)^2 + 0.5*x2^2", "-0.5*(x1^2/4 + (x2 + 0.1*x1^2 - 1)^2)", "0.5*norm2(x) - log(norm(x))",
            "exp(-r^2/(2*s^2))", "cos(x1 - y1)", "min(x1, x2, a) + max(dot(x, x), 1)", "sigmoid(x1)*softplus(-x2)",
        ]
        for text in try FuzzTests.bundledScenarios().map({ String(decoding: $0, as: UTF8.self) }) {
            for line in text.split(separator: "\n") where line.contains("formula") || line.contains("log-density") {
                if let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close {
                    formulas.append(
                        String(line[line.index(after: open)..<close]).replacingOccurrences(of: "formula:", with: ""))
                }
            }
        }
        fuzz(
            "formula", seeds: formulas.map { Array($0.utf8) },
            mutator: Mutator(dictionary: Mutator.common + Mutator.formula, maxStack: 3),
            count: 15_000
        ) { FuzzHarness.formula(String(decoding: $0, as: UTF8.self)) }
    }

    func testCSVReaders() throws {
        let seeds = [
            "x1,x2\n0.5,1\n-1,2.5e-3\n", "x1,w,x2\r\n1,0.25,2\r\n3,0.75,4",
            "step,time,wall,mmd,ksd\n0,0,0.01,1.5,nan\n10,0.5,0.02,0.25,inf\n",
            "step,time,population,particle,weight,x1,x2\n0,0,particles,0,1,0.5,1\n0,0,particles,1,1,-1,2\n5,0.25,particles,0,1,0.4,1\n5,0.25,particles,1,1,-1,2\n",
            "step,time,population,particle,weight,x1,v1\n0,0,a,0,0.5,1,0\n0,0,b,0,0.5,2,0\n",
        ]
        let path = scratch.appendingPathComponent("fuzz.csv").path
        fuzz(
            "csv", seeds: seeds.map { Array($0.utf8) }, mutator: Mutator(dictionary: Mutator.common + Mutator.csv),
            count: 20_000
        ) { FuzzHarness.csv($0, path: path) }
    }

    /// .npy arrays (read wherever a CSV of points is): numpy's headers in every version, and
    /// shapes and dtypes the reader refuses.
    func testNPYReader() throws {
        func header(_ text: String, version: UInt8) -> [UInt8] {
            let h = Array(text.utf8)
            let length: [UInt8] = version == 1 ? [UInt8(h.count), 0] : [UInt8(h.count), 0, 0, 0]
            return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + h
        }
        let values = (0..<6).map { Double($0) - 2.5 }
        let seeds = [
            [UInt8](NPY.encode(values, shape: [3, 2])), [UInt8](NPY.encode(values, shape: [6])),
            [UInt8](NPY.encode(values.map { Int64($0 * 2) }, shape: [2, 3])),
            header("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 2), }\n", version: 2)
                + Array(repeating: 0x3F, count: 16),
            header("{'descr': '|u1', 'fortran_order': False, 'shape': (3L, 1L), }\n", version: 3) + [1, 2, 3],
        ]
        let path = scratch.appendingPathComponent("fuzz.npy").path
        fuzz(
            "npy", seeds: seeds, mutator: Mutator(dictionary: Mutator.common + Mutator.npy), count: 8000
        ) { FuzzHarness.csv($0, path: path) }
    }
}
