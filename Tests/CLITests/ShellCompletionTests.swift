import Foundation
import XCTest

/// The completion scripts the README tells users to install: generated for bash, zsh and fish,
/// valid shell syntax, and knowing the subcommands and their options.
final class ShellCompletionTests: ScratchTestCase {
    func testCompletionScriptsParseAndNameTheCommands() throws {
        for (shell, check) in [("bash", ["bash", "-n"]), ("zsh", nil), ("fish", nil)] as [(String, [String]?)] {
            let r = try runWGF(["--generate-completion-script", shell])
            XCTAssertEqual(r.code, 0, r.stderr)
            for word in ["sweep", "compare", "--progress-seconds"] {
                XCTAssertTrue(r.stdout.contains(word), "\(shell): \(word)")
            }
            guard let check else { continue }
            let file = scratch.appendingPathComponent("wgf.\(shell)")
            try r.stdout.write(to: file, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = check + [file.path]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "\(shell) -n: the script does not parse")
        }
    }
}
