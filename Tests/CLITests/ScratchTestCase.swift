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

    /// Writes `text` to `name` in the scratch directory.
    func writeScenario(_ name: String, _ text: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
