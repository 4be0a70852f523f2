import ArgumentParser
import Foundation
import Plotting
import Recording

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's trajectory as NumPy .npy arrays.",
        discussion: """
            Reads RUN_DIR/trajectory.csv or trajectory.h5 (one record at a time) and writes into DIR (default RUN_DIR/npy/), for each population \
            P (records in file order, particles by id): P.positions.npy float64 (records × particles × d), \
            P.weights.npy float64 (records × particles), P.velocities.npy (records × particles × d, \
            when the run recorded velocities: underdamped Langevin), and steps.npy int64 (records,), \
            times.npy float64 (records,). With one population the files are also named positions.npy, \
            weights.npy (and velocities.npy). Load with numpy.load; the numbers are the run's exactly. See docs/export.md.
            """)

    @Argument(help: "A run directory written by `wgf run`.")
    var runDirectory: String

    @Option(name: [.short, .long], help: "Output directory (default: RUN_DIR/npy).")
    var out: String?

    @Option(help: "Output format (only npy).")
    var format: String = "npy"

    func run() throws {
        guard format == "npy" else { throw fail("--format \(format): unknown (allowed: npy)", code: Exit.badInput) }
        guard let (path, _) = trajectoryFile(runDirectory: runDirectory),
            let t = try reporting({ try openTrajectory(runDirectory: runDirectory) })
        else {
            throw fail(
                "\(runDirectory): no trajectory.csv or trajectory.h5 (not a run directory, or recorded with record.trajectory = false)",
                code: Exit.badInput)
        }
        let directory = out ?? runDirectory + "/npy"
        try makeDirectory(directory)
        let files = try reporting {
            // An NPYError names no trajectory: it is located here, at the one read.
            do { return try NPYExport.write(t, to: directory) } catch let e as NPYError {
                throw fail(e, context: "\(path): ")
            }
        }
        print("\(runDirectory): \(files.joined(separator: ", ")) → \(directory)/")
    }
}
