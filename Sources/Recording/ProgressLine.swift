import Flows
import Foundation

/// The text of a run's progress: a bar that fits a terminal's width, or a plain log line for a
/// file or a pipe (a notebook's `!wgf run`, nohup, CI logs), in the manner of LAMMPS' thermo
/// output. Pure formatting: the display (`wgf run`) decides when and where to write it.
public struct ProgressLine: Sendable {
    /// The run's name (the scenario's stem).
    public var title: String
    /// The step just taken, of `steps`.
    public var step: Int, steps: Int
    /// Seconds since this session started, and the steps this session has taken in them.
    public var elapsed: Double, stepsThisSession: Int
    /// The metric to show (the one the expectations judge, when there are any) at its latest record.
    public var metric: (name: String, value: Double)?

    /// A progress state; see the properties.
    public init(
        title: String, step: Int, steps: Int, elapsed: Double, stepsThisSession: Int,
        metric: (name: String, value: Double)?
    ) {
        self.title = title
        self.step = step
        self.steps = steps
        self.elapsed = elapsed
        self.stepsThisSession = stepsThisSession
        self.metric = metric
    }

    /// Done, in [0, 1].
    public var fraction: Double { steps > 0 ? min(1, max(0, Double(step) / Double(steps))) : 1 }
    /// Steps per second this session (0 before the first).
    public var rate: Double { elapsed > 0 ? Double(stepsThisSession) / elapsed : 0 }
    /// Seconds left at this session's rate; nil before there is a rate.
    public var secondsLeft: Double? { rate > 0 ? Double(steps - step) / rate : nil }

    var percent: String { "\(steps > 0 ? min(100, max(0, step * 100 / steps)) : 100)%" }
    var stepField: String { "step \(step)/\(steps)" }
    var elapsedField: String { ProgressLine.duration(elapsed) }
    var etaField: String { "ETA " + (secondsLeft.map(ProgressLine.duration) ?? "?") }
    var rateField: String { "\(ProgressLine.rate(rate)) steps/s" }
    var metricField: String? { metric.map { "\($0.name) \(formatSignificant($0.value))" } }

    /// One line of at most `columns − 1` characters (the last column is left free: a terminal
    /// wraps a line that fills it): title, bar, percentage, step, elapsed, ETA, metric, rate.
    /// Fields are dropped from the least needed (rate, then the title) and the bar shrinks
    /// (12 to 30 cells) to fit; a terminal too narrow for the percentage alone gets it cut.
    public func bar(columns: Int) -> String {
        let room = max(1, columns - 1)
        var fields = [percent, stepField, elapsedField, etaField] + (metricField.map { [$0] } ?? []) + [rateField]
        var title: String? = self.title
        func text(barCells: Int) -> String {
            let cells = Int(fraction * Double(barCells))
            let bar = "[" + String(repeating: "=", count: cells) + String(repeating: " ", count: barCells - cells) + "]"
            return ((title.map { [$0] } ?? []) + [bar] + fields).joined(separator: " ")
        }
        // Drop order: the rate, the title, the elapsed time, the metric, ETA, step.
        let drops: [() -> Void] = [
            { fields.removeAll { $0 == self.rateField } }, { title = nil },
            { fields.removeAll { $0 == self.elapsedField } },
            { fields.removeAll { $0 == self.metricField } }, { fields.removeAll { $0 == self.etaField } },
            { fields.removeAll { $0 == self.stepField } },
        ]
        for drop in [{}] + drops {
            drop()
            let fixed = text(barCells: 0).count
            if fixed + 12 <= room { return text(barCells: min(30, room - fixed)) }
        }
        return String(percent.prefix(room))
    }

    /// A plain line for logs: `name: step 1850/5000 (37%), 12.1 s, ETA 21 s, mmd 0.00123, 154 steps/s`.
    public var logLine: String {
        ["\(title): \(stepField) (\(percent))", elapsedField, etaField].joined(separator: ", ")
            + (metricField.map { ", " + $0 } ?? "") + ", " + rateField
    }

    /// Seconds as `12.3 s` under a minute, `4:05` under an hour, `1:02:03` beyond.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 59.95 { return String(format: "%.1f s", max(0, seconds)) }
        let s = Int(seconds.rounded())
        return s < 3600
            ? String(format: "%d:%02d", s / 60, s % 60) : String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }

    /// Steps per second as shown: whole numbers from 10 on, two significant digits below.
    public static func rate(_ r: Double) -> String {
        r >= 10 ? String(format: "%.0f", r) : String(format: "%.2g", r)
    }
}
