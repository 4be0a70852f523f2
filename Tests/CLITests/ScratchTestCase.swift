import Foundation
import TestSupport
import XCTest

/// A test case with a fresh scratch directory per test (removed afterwards) and the small file
/// helpers the CLI tests share.
class ScratchTestCase: XCTestCase {
    var scratch: URL!
    private var scratchDirectory: TempDirectory?

    override func setUp() {
        scratchDirectory = TempDirectory(prefix: "wgf-\(type(of: self))")
        scratch = scratchDirectory?.url
    }

    override func tearDown() { scratchDirectory = nil }

    func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// A run directory's run.json as a dictionary.
    func runJSON(_ dir: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run.json")))
            as! [String: Any]
    }

    /// A run directory's metrics.csv as columns by name (numbers; an empty field is NaN).
    func metricsColumns(_ dir: URL) throws -> [String: [Double]] {
        let rows = try read(dir.appendingPathComponent("metrics.csv")).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        var columns: [String: [Double]] = [:]
        for (c, name) in rows[0].enumerated() { columns[name] = rows.dropFirst().map { Double($0[c]) ?? .nan } }
        return columns
    }

    /// Writes `text` to `name` in the scratch directory.
    func writeScenario(_ name: String, _ text: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
