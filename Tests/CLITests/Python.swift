import Foundation
import XCTest

/// Runs `python3 -c script args...`; the result's code, and stdout and stderr together. Tests
/// that read files with h5py call it and fail (never skip) when python3 or h5py is missing:
/// `.ci/run` installs them.
func runPython(_ script: String, _ args: [String]) throws -> (code: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Asserts that `script` (Python with h5py) exits 0, showing its output otherwise.
func assertPython(
    _ script: String, _ args: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line
) throws {
    let r = try runPython(script, args)
    XCTAssertEqual(r.code, 0, "\(what): \(r.output)", file: file, line: line)
}
