// libFuzzer target: one formula, compiled for each kind of variables and evaluated with its
// gradient (see FuzzHarness). Built and run by scripts/fuzz.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .finding(let f) = FuzzHarness.formula(text) { fatalError(f) }
    return 0
}
