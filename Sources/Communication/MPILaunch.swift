/// Whether an MPI launcher started this process, from the variables launchers set: Open MPI's
/// `mpirun` (`OMPI_COMM_WORLD_SIZE`), PMIx launchers such as Slurm's `srun --mpi=pmix`
/// (`PMIX_RANK`), and PMI-1/2 launchers (`PMI_SIZE`). Read before MPI is initialised, so
/// that a process nobody launched never starts MPI. Here, apart from MPI itself, so that a
/// sweep's child processes are started without these variables by code that does not link MPI.
public enum MPILaunch {
    /// The prefixes of the variables launchers set for their ranks (Open MPI, PMIx, PMI-1/2).
    public static let prefixes = ["OMPI_", "PMIX_", "PMI_"]

    /// The variables, any one of which marks a launched process.
    public static let markers = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]

    /// Whether `environment` holds one of ``markers``.
    public static func isLaunched(_ environment: [String: String]) -> Bool {
        markers.contains { environment[$0] != nil }
    }

    /// `environment` without what marks a launched process: for a child process (a sweep's
    /// run) that must start as a plain process, not as a rank of this job.
    public static func plainEnvironment(_ environment: [String: String]) -> [String: String] {
        environment.filter { key, _ in !prefixes.contains { key.hasPrefix($0) } }
    }
}
