import Formula
import XCTest

/// Deterministic generator so that failures are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func pos(_ source: String, _ d: Int, _ parameters: [String: Double] = [:],
         file: StaticString = #filePath, line: UInt = #line) -> Formula? {
    do {
        return try Formula(source, variables: .position(dimension: d), parameters: parameters)
    } catch {
        XCTFail("'\(source)' failed to compile:\n\(error)", file: file, line: line)
        return nil
    }
}

/// Asserts that compiling fails, and returns the error.
func compileError(_ source: String, _ variables: FormulaVariables, _ parameters: [String: Double] = [:],
                  file: StaticString = #filePath, line: UInt = #line) -> FormulaError? {
    do {
        let f = try Formula(source, variables: variables, parameters: parameters)
        XCTFail("'\(source)' compiled but should not have (tape:\n\(f.tapeListing))", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// Central finite differences of `f` at `x`.
func finiteDifferenceGradient(_ f: Formula, at x: [Double]) -> [Double] {
    (0..<x.count).map { i in
        let h = 1e-5 * max(1, abs(x[i]))
        var xp = x, xm = x
        xp[i] += h
        xm[i] -= h
        return (f.value(at: xp) - f.value(at: xm)) / (xp[i] - xm[i])
    }
}

/// Checks the AD gradient against central finite differences (relative tolerance `tol`).
func assertGradientMatchesFiniteDifferences(_ f: Formula, at x: [Double], tol: Double = 1e-6,
                                            file: StaticString = #filePath, line: UInt = #line) {
    let g = f.gradient(at: x)
    let fd = finiteDifferenceGradient(f, at: x)
    XCTAssertEqual(g.count, x.count, file: file, line: line)
    for i in 0..<x.count {
        let scale = max(1, abs(fd[i]), abs(g[i]))
        XCTAssertLessThanOrEqual(abs(g[i] - fd[i]), tol * scale,
                                 "'\(f.source)' d/dinput\(i) at \(x): AD \(g[i]) vs FD \(fd[i])",
                                 file: file, line: line)
    }
}

func relErr(_ a: Double, _ b: Double) -> Double {
    a == b ? 0 : abs(a - b) / max(abs(a), abs(b), 1e-300)
}
