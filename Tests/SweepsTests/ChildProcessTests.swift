import Foundation
import Sweeps
import TestSupport
import XCTest

/// Starting children: the environment without MPI launcher variables, exit codes and
/// signals, the output captured, and finding the executable.
final class ChildProcessTests: XCTestCase {
    func testLauncherVariablesAreDropped() throws {
        let parent = [
            "OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2", "PMIX_RANK": "1", "PMI_RANK": "1",
            "PMI_SIZE": "2", "PATH": "/usr/bin:/bin", "WGF_KEEP": "yes", "MY_OMPI_NOTE": "kept", "PMIXED": "kept",
        ]
        XCTAssertEqual(
            ChildProcess.childEnvironment(parent),
            ["MY_OMPI_NOTE=kept", "PATH=/usr/bin:/bin", "PMIXED=kept", "WGF_KEEP=yes"])
        // What a child really sees.
        let r = try ChildProcess.run("/usr/bin/env", [], environment: parent)
        XCTAssertEqual(r.exitCode, 0, r.output)
        let seen = Set(r.output.split(separator: "\n").map(String.init))
        XCTAssertEqual(seen, ["MY_OMPI_NOTE=kept", "PATH=/usr/bin:/bin", "PMIXED=kept", "WGF_KEEP=yes"])
    }

    func testExitCodesSignalsAndOutput() throws {
        let three = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(three.exitCode, 3)
        XCTAssertEqual(three.output, "out\nerr\n", "stdout and stderr captured together")
        XCTAssertEqual(try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"]).exitCode, 128 + SIGTERM)
        XCTAssertEqual(
            try ChildProcess.run("/bin/sh", ["-c", "read x; echo \"[$x]\""]).output, "[]\n", "stdin is /dev/null")
        var pid: pid_t = 0
        _ = try ChildProcess.run("/bin/true", [], started: { pid = $0 })
        XCTAssertGreaterThan(pid, 0)
        XCTAssertThrowsError(try ChildProcess.run("/nonexistent/wgf", [])) { e in
            XCTAssertEqual((e as? SweepError)?.kind, .io)
        }
    }

    func testConcurrentChildrenDoNotInheritEachOthersPipes() throws {
        // A child started while another thread's pipe is open must not hold that pipe: its
        // reader would then wait for this child's end as well. Each child lists its descriptors.
        let list = ["-c", "ls /proc/self/fd"]
        let alone = try ChildProcess.run("/bin/sh", list).output
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<25 {
                let output = (try? ChildProcess.run("/bin/sh", list).output) ?? "failed"
                results.append(output)
            }
        }
        XCTAssertEqual(results.all.count, 200)
        XCTAssertEqual(Set(results.all), [alone], "descriptors seen by concurrent children")
    }

    func testExecutableFromProcSelfExeOrArgumentZero() throws {
        let dir = TempDirectory(prefix: "wgf-exe")
        let tool = dir.write("bin/tool", "#!/bin/sh\n")
        chmod(tool, 0o755)
        dir.write("bin/plain", "not executable")
        // /proc/self/exe first, whatever argv[0] says.
        XCTAssertEqual(
            Executable.resolve(procSelfExe: tool, argument0: "something-else", currentDirectory: "/", searchPath: nil),
            tool)
        // Without it (or when it names nothing executable, e.g. a deleted binary): argv[0].
        XCTAssertEqual(
            Executable.resolve(procSelfExe: nil, argument0: "bin/tool", currentDirectory: dir.path, searchPath: nil),
            tool)
        XCTAssertEqual(
            Executable.resolve(
                procSelfExe: tool + " (deleted)", argument0: "./bin/../bin/tool", currentDirectory: dir.path,
                searchPath: nil), tool)
        XCTAssertEqual(
            Executable.resolve(procSelfExe: nil, argument0: tool, currentDirectory: "/", searchPath: nil), tool)
        // A bare name, as the shell found it on PATH (a directory without it, a file not executable, skipped).
        XCTAssertEqual(
            Executable.resolve(
                procSelfExe: nil, argument0: "tool", currentDirectory: "/",
                searchPath: "/nonexistent:\(dir.path):\(dir.file("bin"))"), tool)
        XCTAssertNil(
            Executable.resolve(procSelfExe: nil, argument0: "plain", currentDirectory: "/", searchPath: dir.file("bin"))
        )
        XCTAssertNil(
            Executable.resolve(procSelfExe: nil, argument0: "tool", currentDirectory: "/", searchPath: "/nonexistent"))
        XCTAssertNil(Executable.resolve(procSelfExe: nil, argument0: "", currentDirectory: "/", searchPath: nil))
        // This process: /proc/self/exe names the running test binary.
        let current = try XCTUnwrap(Executable.current)
        XCTAssertEqual(current, try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) {
        lock.lock()
        items.append(s)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
