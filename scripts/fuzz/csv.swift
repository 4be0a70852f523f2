import Foundation

// libFuzzer target: one CSV file, read as points, as a numeric table and as a run's metrics
// and trajectory (see FuzzHarness). Built and run by scripts/fuzz.sh.

let path: String = {
    let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    return base + "wgf-libfuzzer-\(getpid()).csv"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .finding(let f) = FuzzHarness.csv(bytes, path: path) { fatalError(f) }
    return 0
}
