import Flows
import Foundation
import Recording
import Scenarios

/// What a sweep finds in a run's directory before running it, and so what it does there.
public enum RunState: Sendable, Equatable {
    /// Nothing (or an empty directory): a new run.
    case absent
    /// A run of this scenario that ended for good: `completed` with the variant's steps, or
    /// `diverged` (rerunning repeats a divergence bit for bit). Skipped.
    case done(status: String)
    /// A run of this scenario that did not end, with a checkpoint this scenario can continue
    /// (at `step` ≤ its steps): continued with `wgf run --resume`.
    case resumable(step: Int)
    /// A wgf run that cannot be continued (another scenario, no usable checkpoint): replaced
    /// with `wgf run --force`, which clears run directories only.
    case replace(reason: String)
    /// Something that is not a wgf run directory (it holds `file`): never touched; the run fails.
    case foreign(file: String)

    /// The files a run directory may hold (what `wgf run` writes, and `plot` and `export`
    /// derive from it): the rule of wgf's `RunDirectory`, which `--force` applies again.
    static let runFiles: Set<String> = [
        "run.json", "scenario.toml", "metrics.csv", "trajectory.csv", "trajectory.h5", CheckpointFile.name, "run.lock",
        CheckpointFile.name + ".partial", "run.json.partial", "scenario.toml.partial", "plots", "npy",
    ]

    /// What a directory holds, by the names in it.
    enum Listing: Equatable {
        /// Nothing, or no such directory.
        case empty
        /// A wgf run directory's files, with these names.
        case run([String])
        /// Something else: the first name that no run writes (or why it cannot be listed).
        case foreign(String)
    }

    /// The listing of `directory`: a run directory holds run.json or scenario.toml, and
    /// nothing but ``runFiles``.
    static func listing(_ directory: String) -> Listing {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return .empty }
        guard isDirectory.boolValue else { return .foreign((directory as NSString).lastPathComponent) }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            return .foreign("(cannot list: \(error.localizedDescription))")
        }
        if names.isEmpty { return .empty }
        guard names.contains("run.json") || names.contains("scenario.toml") else { return .foreign(names[0]) }
        if let stranger = names.first(where: { !runFiles.contains($0) }) { return .foreign(stranger) }
        return .run(names)
    }

    /// The state of `directory` for a run whose scenario has `identity` and `steps`.
    public static func inspect(_ directory: String, identity: String, steps: Int) -> RunState {
        let names: [String]
        switch listing(directory) {
        case .empty: return .absent
        case .foreign(let file): return .foreign(file: file)
        case .run(let n): names = n
        }
        let info = RunRecord.read(directory)
        if let info, info.identity == identity, info.steps == steps,
            info.status == "completed" || info.status == "diverged"
        {
            guard names.contains("metrics.csv") else { return .replace(reason: "its metrics.csv is missing") }
            return .done(status: info.status!)
        }
        // Continue only what this scenario's checkpoint and scenario.toml say is this run.
        let checkpoint: Checkpoint
        do { checkpoint = try CheckpointFile.read(directory: directory) } catch {
            return .replace(
                reason: info?.identity != nil && info?.identity != identity
                    ? "a run of another scenario" : "no usable checkpoint")
        }
        guard checkpoint.scenarioIdentity == identity else { return .replace(reason: "a run of another scenario") }
        guard checkpoint.step <= steps else {
            return .replace(reason: "its checkpoint is at step \(checkpoint.step), beyond the \(steps) steps")
        }
        let saved = directory + "/scenario.toml"
        guard let v = try? ScenarioLoader.validate(path: saved, threads: 1, memoryLimit: .unlimited),
            v.identity == identity
        else {
            return .replace(reason: "its scenario.toml is not this variant's")
        }
        return .resumable(step: checkpoint.step)
    }
}
