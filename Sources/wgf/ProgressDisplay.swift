import Flows
import Foundation
import Recording

/// A run's progress on stderr: a bar redrawn in place on a terminal (as wide as the terminal
/// is now), a plain line every few seconds elsewhere, or one JSON object a line for a program
/// that shows its own (the Python package). The text is ``ProgressLine``'s.
final class ProgressDisplay {
    enum Style: String {
        case bar, log, json, none
    }
    let title: String
    let style: Style
    /// The metric to show; nil or not recorded: the last one recorded.
    let metric: String?
    /// Seconds between updates (the last step is always shown, except in log lines: the
    /// summary follows it).
    let interval: Double
    /// When the last update was written; a log's first line comes one interval in.
    var lastDraw: Double

    init(title: String, style: Style, metric: String?, interval: Double) {
        self.title = title
        self.style = style
        self.metric = metric
        self.interval = interval
        lastDraw = style == .log ? 0 : -.infinity
    }

    func update(_ p: RunProgress) {
        let last = p.step == p.steps
        guard p.elapsed - lastDraw >= interval || (last && style != .log) else { return }
        lastDraw = p.elapsed
        let shown = p.metrics.last { $0.name == metric } ?? p.latest
        switch style {
        case .json:
            var fields = ["\"step\": \(p.step)", "\"steps\": \(p.steps)", "\"elapsed\": \(p.elapsed)"]
            if let m = shown, m.value.isFinite {
                fields += ["\"metric\": \"\(m.name)\"", "\"value\": \(m.value)"]
            }
            writeStandardError("{" + fields.joined(separator: ", ") + "}\n")
        case .bar, .log:
            let line = ProgressLine(
                title: title, step: p.step, steps: p.steps, elapsed: p.elapsed,
                stepsThisSession: p.step - p.firstStep, metric: shown)
            if style == .log {
                writeStandardError(line.logLine + "\n")
            } else {
                writeStandardError("\r" + line.bar(columns: terminalColumns()) + "\u{1B}[K")
            }
        case .none: break
        }
    }

    /// Clears the bar's line (the summary takes its place).
    func finish() { if style == .bar { writeStandardError("\r\u{1B}[K") } }
}

/// The width of the terminal on stderr, read at every draw (so a resized window is followed);
/// else `COLUMNS`; else 80.
func terminalColumns() -> Int {
    var size = winsize()
    if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap({ Int($0) }), c > 0 { return c }
    return 80
}
