import Recording
import XCTest

final class ProgressLineTests: XCTestCase {
    func line(step: Int, elapsed: Double = 12, metric: (String, Double)? = ("ksd", 0.0123)) -> ProgressLine {
        ProgressLine(
            title: "svgd-gaussian-2d", step: step, steps: 2000, elapsed: elapsed, stepsThisSession: step,
            metric: metric.map { (name: $0.0, value: $0.1) })
    }

    /// Every width gets a line that leaves the last column free, so the terminal never wraps it.
    func testTheBarFitsEveryWidth() {
        for columns in 1...240 {
            for step in [0, 1, 999, 2000] {
                let text = line(step: step).bar(columns: columns)
                XCTAssertLessThanOrEqual(text.count, max(1, columns - 1), "\(columns): \(text)")
                XCTAssertFalse(text.isEmpty)
                if columns >= 20 { XCTAssertTrue(text.contains("%"), "\(columns): \(text)") }
            }
        }
    }

    /// Wide: every field; the bar's filled share is the fraction done (25 %: 30 cells, 7 filled).
    func testAWideBarHasEveryField() {
        let text = line(step: 500).bar(columns: 200)
        XCTAssertEqual(
            text,
            "svgd-gaussian-2d [=======                       ] 25% step 500/2000 12.0 s ETA 36.0 s ksd 0.0123 42 steps/s"
        )
        // Narrow: the rate and the title go first; the percentage stays.
        let narrow = line(step: 500).bar(columns: 60)
        XCTAssertFalse(narrow.contains("steps/s"), narrow)
        XCTAssertFalse(narrow.contains("svgd"), narrow)
        XCTAssertTrue(narrow.contains("25%"), narrow)
    }

    func testLogLineAndDurations() {
        XCTAssertEqual(
            line(step: 1000, elapsed: 80).logLine,
            "svgd-gaussian-2d: step 1000/2000 (50%), 1:20, ETA 1:20, ksd 0.0123, 12 steps/s")
        XCTAssertEqual(
            line(step: 0, elapsed: 0, metric: nil).logLine,
            "svgd-gaussian-2d: step 0/2000 (0%), 0.0 s, ETA ?, 0 steps/s")
        XCTAssertEqual(ProgressLine.duration(59.9), "59.9 s")
        XCTAssertEqual(ProgressLine.duration(65.4), "1:05")
        XCTAssertEqual(ProgressLine.duration(3725), "1:02:05")
        XCTAssertEqual(ProgressLine.duration(.infinity), "?")
        // A resumed session's rate counts its own steps only: 100 steps in 10 s, 1000 left.
        let resumed = ProgressLine(
            title: "r", step: 1000, steps: 2000, elapsed: 10, stepsThisSession: 100, metric: nil)
        XCTAssertEqual(resumed.secondsLeft, 100)
    }
}
