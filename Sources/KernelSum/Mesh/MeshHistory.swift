/// The grid choice of the mesh's last call: the next call keeps its near radius and mode
/// counts while they stay near the best (``MeshPlan``'s hysteresis), so the grid, its
/// multiplier and FFTW's plans persist from step to step. Which grid a sum uses changes its
/// rounding, so this is part of a run's state: a checkpoint saves it and a resume restores it.
struct MeshHistory: Equatable {
    let kernelSpec: String
    let dimension: Int
    /// The mode spacing (L/n in the periodic box).
    let spacing: Double
    /// The near radius ε (0 when the kernel skipped the near field).
    let radius: Double
    /// n_a per axis (1 beyond the dimension).
    let modes: [Int]
}

extension MeshSum: StatefulPart {
    /// The last call's `MeshHistory` (kernel spec, dimension, mode spacing, near radius, mode
    /// counts), or an empty state before the first call.
    public func saveState() -> PartState {
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        guard let h = workspace.history else { return PartState() }
        return PartState(
            reals: ["spacing": [h.spacing], "radius": [h.radius]],
            integers: ["dimension": [h.dimension], "modes": h.modes], texts: ["kernel": h.kernelSpec])
    }

    /// Restores a saved `MeshHistory` (an empty state forgets it), so that the next call
    /// chooses the grid the saved run would have: a resumed run continues bit for bit. Throws
    /// ``PartStateError`` for a missing entry or an impossible grid.
    /// - Parameter state: a state ``saveState()`` gave.
    public func restoreState(_ state: PartState) throws {
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        guard !state.isEmpty else {
            workspace.history = nil
            return
        }
        guard let kernel = state.texts["kernel"] else { throw PartStateError("mesh: checkpoint lacks 'kernel'") }
        let dimension = try state.integers("dimension", count: 1, part: "mesh")[0]
        let modes = try state.integers("modes", count: 3, part: "mesh")
        guard (1...3).contains(dimension), modes.allSatisfy({ $0 >= 1 && $0 <= options.maximumGridPoints }) else {
            throw PartStateError("mesh: checkpoint has an impossible grid (d = \(dimension), modes \(modes))")
        }
        workspace.history = MeshHistory(
            kernelSpec: kernel, dimension: dimension,
            spacing: try state.reals("spacing", count: 1, part: "mesh")[0],
            radius: try state.reals("radius", count: 1, part: "mesh")[0], modes: modes)
    }
}

extension AutoSum: StatefulPart {
    /// `auto` keeps no choice of its own from call to call; its mesh does.
    public func saveState() -> PartState { mesh.saveState() }
    /// Restores its mesh's state (``MeshSum/restoreState(_:)``).
    /// - Parameter state: a state ``saveState()`` gave.
    public func restoreState(_ state: PartState) throws { try mesh.restoreState(state) }
}
