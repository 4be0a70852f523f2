import Foundation

/// What a sweep reads of a run's run.json (written by `wgf run`).
public struct RunRecord: Sendable, Equatable {
    /// `status`: running, completed, diverged, interrupted, io-failure.
    public var status: String?
    /// `detail`: why it did not complete.
    public var detail: String?
    /// `scenario.identity`: the resolved scenario without its steps.
    public var identity: String?
    /// `steps`: the steps of its scenario.
    public var steps: Int?
    /// `seconds.total`: seconds the run has taken, over all its sessions.
    public var seconds: Double?

    /// run.json in `directory`; nil when there is none, or it is not a wgf run's JSON object.
    public static func read(_ directory: String) -> RunRecord? {
        guard let data = FileManager.default.contents(atPath: directory + "/run.json"),
            let info = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            info["tool"] as? String == "wgf"
        else { return nil }
        let scenario = info["scenario"] as? [String: Any]
        let seconds = info["seconds"] as? [String: Any]
        return RunRecord(
            status: info["status"] as? String, detail: info["detail"] as? String,
            identity: scenario?["identity"] as? String, steps: (info["steps"] as? NSNumber)?.intValue,
            seconds: (seconds?["total"] as? NSNumber)?.doubleValue)
    }

    /// The exit code `wgf run` gives for a run that ended with this record: 0 completed,
    /// 4 diverged, 5 I/O failure, 128 + N interrupted by signal N; nil for others (running:
    /// the process was killed, or is still running).
    public var exitCode: Int32? {
        switch status {
        case "completed": return 0
        case "diverged": return 4
        case "io-failure": return 5
        case "interrupted":
            let signals: [(String, Int32)] = [("SIGINT", SIGINT), ("SIGTERM", SIGTERM), ("SIGHUP", SIGHUP)]
            return signals.first { detail?.contains("by \($0.0)") == true }.map { 128 + $0.1 }
        default: return nil
        }
    }
}
