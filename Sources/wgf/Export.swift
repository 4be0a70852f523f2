import ArgumentParser
import Foundation
import Plotting
import Recording

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's trajectory as NumPy .npy arrays.",
        discussion: """
        Reads RUN_DIR/trajectory.csv and writes into DIR (default RUN_DIR/npy/), for each population \
        P (records in file order, particles by id): P.positions.npy float64 (records × particles × d), \
        P.weights.npy float64 (records × particles), P.velocities.npy (records × particles × d, \
        when the run recorded velocities: underdamped Langevin), and steps.npy int64 (records,), \
        times.npy float64 (records,). With one population the files are also named positions.npy, \
        weights.npy (and velocities.npy). Load with numpy.load; the numbers are the CSV's exactly. See docs/export.md.
        """)

    @Argument(help: "A run directory written by `wgf run`.")
    var runDirectory: String

    @Option(help: "Output directory (default: RUN_DIR/npy).")
    var out: String?

    @Option(help: "Output format (only npy).")
    var format: String = "npy"

    func run() throws {
        guard format == "npy" else { throw fail("--format \(format): unknown (allowed: npy)", code: Exit.badInput) }
        let path = runDirectory + "/trajectory.csv"
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("\(runDirectory): no trajectory.csv (not a run directory, or recorded with record.trajectory = false)", code: Exit.badInput)
        }
        let t: Trajectory
        do { t = try Trajectory.read(path: path) } catch let e as RunFileError { throw fail(e.description, code: Exit.badInput) }
        let directory = out ?? runDirectory + "/npy"
        try makeDirectory(directory)
        var files: [String] = []
        var commonSteps: [Int64]? = nil, commonTimes: [Double] = []
        for name in t.populationNames {
            let a: (positions: [Double], velocities: [Double], weights: [Double], steps: [Int64], times: [Double], particles: Int)
            do { a = try t.arrays(population: name) } catch let e as NPYError { throw fail("\(path): \(e.description)", code: Exit.badInput) }
            let r = a.steps.count
            var outputs: [(String, Data)] = [
                ("\(name).positions.npy", NPY.encode(a.positions, shape: [r, a.particles, t.dimension])),
                ("\(name).weights.npy", NPY.encode(a.weights, shape: [r, a.particles])),
            ]
            if t.hasVelocities {
                outputs.append(("\(name).velocities.npy", NPY.encode(a.velocities, shape: [r, a.particles, t.dimension])))
            }
            if t.populationNames.count == 1 {
                outputs += [("positions.npy", outputs[0].1), ("weights.npy", outputs[1].1)]
                if t.hasVelocities { outputs.append(("velocities.npy", outputs[2].1)) }
            }
            if commonSteps == nil || commonSteps == a.steps { commonSteps = a.steps; commonTimes = a.times } else {
                outputs += [("\(name).steps.npy", NPY.encode(a.steps, shape: [r])), ("\(name).times.npy", NPY.encode(a.times, shape: [r]))]
            }
            for (file, data) in outputs { try write(data, directory + "/" + file); files.append(file) }
        }
        if let s = commonSteps {
            try write(NPY.encode(s, shape: [s.count]), directory + "/steps.npy")
            try write(NPY.encode(commonTimes, shape: [commonTimes.count]), directory + "/times.npy")
            files += ["steps.npy", "times.npy"]
        }
        print("\(runDirectory): \(files.joined(separator: ", ")) → \(directory)/")
    }

    func write(_ data: Data, _ path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw fail("\(path): cannot write (\(error.localizedDescription))", code: Exit.ioFailure)
        }
    }
}
