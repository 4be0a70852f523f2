import Foundation
import Recording

/// `wgf export`: a trajectory as NumPy arrays (docs/export.md), read and written one record at
/// a time so that memory holds one record, whatever the run's length. Per population P:
/// P.positions.npy (records × particles × d), P.weights.npy (records × particles),
/// P.velocities.npy when velocities were recorded, particles ordered by id; with a single
/// population also positions.npy, weights.npy, velocities.npy; steps.npy and times.npy for the
/// records (P.steps.npy, P.times.npy for a population recorded at other steps than the first).
public enum NPYExport {
    /// Writes the arrays into `directory`; returns the file names in order. On failure the
    /// files begun are removed.
    public static func write(_ t: any TrajectorySource, to directory: String) throws -> [String] {
        let single = t.populationNames.count == 1
        var exports: [String: PopulationExport] = [:]
        do {
            for r in 0..<t.recordCount {
                let f = try t.frame(r, ids: nil, velocities: t.hasVelocities)
                for p in f.populations {
                    if exports[p.name] == nil {
                        exports[p.name] = try PopulationExport(
                            first: p, step: f.step, records: t.records(of: p.name).count,
                            dimension: t.dimension, velocities: t.hasVelocities,
                            directory: directory, alias: single)
                    }
                    try exports[p.name]!.append(p, step: f.step)
                }
            }
            var files: [String] = []
            var common: (steps: [Int64], times: [Double])? = nil
            let steps = t.steps
            let times = t.times
            for name in t.populationNames {
                guard let e = exports[name] else { continue }
                try e.finish()
                files += e.files
                let records = t.records(of: name)
                let own = (records.map { Int64(steps[$0]) }, records.map { times[$0] })
                if common == nil || common!.steps == own.0 {
                    common = own
                } else {
                    try write(NPY.encode(own.0, shape: [own.0.count]), directory, "\(name).steps.npy")
                    try write(NPY.encode(own.1, shape: [own.1.count]), directory, "\(name).times.npy")
                    files += ["\(name).steps.npy", "\(name).times.npy"]
                }
            }
            if let common {
                try write(NPY.encode(common.steps, shape: [common.steps.count]), directory, "steps.npy")
                try write(NPY.encode(common.times, shape: [common.times.count]), directory, "times.npy")
                files += ["steps.npy", "times.npy"]
            }
            return files
        } catch {
            for e in exports.values { for path in e.paths { try? FileManager.default.removeItem(atPath: path) } }
            throw error
        }
    }

    static func write(_ data: Data, _ directory: String, _ name: String) throws {
        let path = directory + "/" + name
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw IOFailure(path: path, .cannotWrite(reason: error.localizedDescription))
        }
    }
}

/// One population's arrays being written: its particle ids (sorted, fixed by its first
/// record) and a writer per array.
final class PopulationExport {
    let name: String
    let ids: [Int]
    let firstStep: Int
    let d: Int
    let positions: NPYWriter, weights: NPYWriter, velocities: NPYWriter?
    /// The file names, in the order `wgf export` lists them.
    let files: [String]
    var paths: [String] { ([positions, weights] + (velocities.map { [$0] } ?? [])).flatMap(\.paths) }

    init(
        first p: PopulationFrame, step: Int, records: Int, dimension d: Int, velocities: Bool, directory: String,
        alias: Bool
    ) throws {
        name = p.name
        ids = p.ids.sorted()
        firstStep = step
        self.d = d
        let n = ids.count
        func names(_ array: String) -> [String] { ["\(p.name).\(array).npy"] + (alias ? ["\(array).npy"] : []) }
        let arrays = ["positions", "weights"] + (velocities ? ["velocities"] : [])
        files = arrays.map { names($0)[0] } + (alias ? arrays.map { "\($0).npy" } : [])
        positions = try NPYWriter(paths: names("positions").map { directory + "/" + $0 }, shape: [records, n, d])
        weights = try NPYWriter(paths: names("weights").map { directory + "/" + $0 }, shape: [records, n])
        self.velocities =
            velocities
            ? try NPYWriter(paths: names("velocities").map { directory + "/" + $0 }, shape: [records, n, d]) : nil
    }

    /// Appends one record of the population, its particles in id order.
    func append(_ p: PopulationFrame, step: Int) throws {
        // Rows in id order (the identity when the ids already increase, as in trajectory.h5).
        let increasing = zip(p.ids, p.ids.dropFirst()).allSatisfy { $0 < $1 }
        let order = increasing ? Array(p.ids.indices) : p.ids.indices.sorted { p.ids[$0] < p.ids[$1] }
        guard order.count == ids.count, zip(order, ids).allSatisfy({ p.ids[$0] == $1 }) else {
            throw NPYError.particlesDiffer(population: name, step: step, firstStep: firstStep)
        }
        if increasing {
            try positions.append(p.positions)
            try weights.append(p.weights)
            if let velocities { try velocities.append(p.velocities) }
            return
        }
        try weights.append(order.map { p.weights[$0] })
        try positions.append(order.flatMap { p.positions[($0 * d)..<($0 * d + d)] })
        if let velocities { try velocities.append(order.flatMap { p.velocities[($0 * d)..<($0 * d + d)] }) }
    }

    func finish() throws {
        try positions.finish()
        try weights.finish()
        try velocities?.finish()
    }
}
