import Foundation

// libFuzzer target: one scenario file, validated as `wgf validate` does (see FuzzHarness).
// Built and run by scripts/fuzz.sh.

/// A directory with a small points file, so that mutated `file = "points.csv"` keys resolve.
let scratch: String = {
    let dir = NSTemporaryDirectory() + "wgf-libfuzzer-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? "x1,x2\n0.5,1\n-1,2\n".write(toFile: dir + "/points.csv", atomically: true, encoding: .utf8)
    return dir
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Sizes are another check's business (see `asksForLargeSizes` in the mutation tests).
    if asksForLargeSizes(bytes) { return -1 }
    if case .finding(let f) = FuzzHarness.scenario(bytes, path: scratch + "/fuzz.toml") { fatalError(f) }
    return 0
}
