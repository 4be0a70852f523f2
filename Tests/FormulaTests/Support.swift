import Formula
import XCTest

func pos(
    _ source: String, _ d: Int, _ parameters: [String: Double] = [:],
    file: StaticString = #filePath, line: UInt = #line
) -> Formula? {
    do {
        return try Formula(source, variables: .position(dimension: d), parameters: parameters)
    } catch {
        XCTFail("'\(source)' failed to compile:\n\(error)", file: file, line: line)
        return nil
    }
}

/// Asserts that compiling fails, and returns the error.
func compileError(
    _ source: String, _ variables: FormulaVariables, _ parameters: [String: Double] = [:],
    file: StaticString = #filePath, line: UInt = #line
) -> FormulaError? {
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
        var xp = x
        var xm = x
        xp[i] += h
        xm[i] -= h
        return (f.value(at: xp) - f.value(at: xm)) / (xp[i] - xm[i])
    }
}

/// Checks the AD gradient against central finite differences (relative tolerance `tol`).
func assertGradientMatchesFiniteDifferences(
    _ f: Formula, at x: [Double], tol: Double = 1e-6,
    file: StaticString = #filePath, line: UInt = #line
) {
    let g = f.gradient(at: x)
    let fd = finiteDifferenceGradient(f, at: x)
    XCTAssertEqual(g.count, x.count, file: file, line: line)
    for i in 0..<x.count {
        let scale = max(1, abs(fd[i]), abs(g[i]))
        XCTAssertLessThanOrEqual(
            abs(g[i] - fd[i]), tol * scale,
            "'\(f.source)' d/dinput\(i) at \(x): AD \(g[i]) vs FD \(fd[i])",
            file: file, line: line)
    }
}
