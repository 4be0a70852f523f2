import Flows
import Foundation
import Recording
import Scenarios

/// The recorder of a run into `directory`, as the scenario's `[record]` asks: metrics.csv
/// always; the trajectory as trajectory.csv (`format = "csv"`) or as the H5MD file
/// trajectory.h5 (`format = "h5md"`, metrics duplicated there as observables), or not at all
/// (`trajectory = false`). Failures are ``IOFailure``s naming the path.
///
/// `resuming`: the checkpoint a resume continues from. The CSV files are cut back to the
/// lengths it recorded, trajectory.h5 to the records it had seen (step ≤ its last recorded
/// step: a record taken after the checkpoint, such as a finished run's last, is dropped).
func makeRecorder(
    directory: String, loaded: LoadedScenario, resuming checkpoint: Checkpoint? = nil
) throws -> any Recorder {
    let sim = loaded.simulation
    let populations = sim.state.populations
    let csvTrajectory = loaded.writeTrajectory && loaded.trajectoryFormat == .csv
    let csv = try RunRecorder(
        directory: directory, dimension: populations.map(\.dimension).max()!,
        metricNames: sim.metricNames, writeTrajectory: csvTrajectory,
        velocities: populations[0].velocities != nil, resuming: checkpoint?.outputs)
    guard loaded.writeTrajectory, loaded.trajectoryFormat == .h5md else { return csv }
    let layout = H5MDLayout(
        state: sim.state, period: { sim.flow.domain(ofPopulation: $0).period },
        metricNames: sim.metricNames, scenario: loaded.resolvedTOML, creatorVersion: wgfVersion)
    let h5md = try H5MDRecorder(
        path: directory + "/" + H5MD.fileName, layout: layout,
        resumeAfter: checkpoint?.lastRecordedStep)
    return CombinedRecorder([csv, h5md])
}

/// The files `makeRecorder` writes besides scenario.toml and run.json, as run.json lists them.
func recordedFiles(_ loaded: LoadedScenario) -> [String] {
    (loaded.writeTrajectory ? [loaded.trajectoryFormat.fileName] : []) + ["metrics.csv"]
}
