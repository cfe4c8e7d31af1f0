import CMPIShim
import Foundation

/// How this process was started, read from the variables the launchers set, before MPI is
/// touched: a process started by `mpirun` (also under Kubernetes' MPI Operator, whose launcher
/// runs `mpirun`) or `srun --mpi=pmix` is one rank of a job and must join it; any other process
/// trains alone and never initialises MPI, so that `smis train` without a launcher runs exactly
/// as it always did.
///
/// | launcher | variables read |
/// |---|---|
/// | `mpirun` (Open MPI) | `OMPI_COMM_WORLD_RANK`, `_SIZE`, `_LOCAL_RANK`, `_LOCAL_SIZE` |
/// | `srun --mpi=pmix` | `PMIX_RANK`; `SLURM_STEP_NUM_TASKS` (else `SLURM_NTASKS`), `SLURM_LOCALID` |
/// | other PMI launchers | `PMI_RANK`, `PMI_SIZE` |
///
/// A Slurm batch script's own shell also has `SLURM_PROCID` and `SLURM_NTASKS`, so those alone
/// never make a rank: the script may run `smis train` directly on its first node. What is
/// refused is `srun` starting several tasks without an MPI plugin (`SLURM_STEP_NUM_TASKS` > 1,
/// no PMIx or PMI variables): each would train alone into the same run folder.
public struct LaunchEnvironment: Equatable, Sendable {
    public enum Launcher: String, Equatable, Sendable {
        case mpirun
        case srun
        case pmi = "a PMI launcher"
    }

    /// nil: a process on its own.
    public let launcher: Launcher?
    /// This process's rank and the job's size as the launcher announced them; nil where it
    /// does not say (MPI then tells).
    public let rank: Int?
    public let size: Int?
    /// This process's rank among those on its machine, and their number, when known.
    public let localRank: Int?
    public let localSize: Int?

    /// A process on its own.
    public static let singleProcess = LaunchEnvironment(launcher: nil, rank: nil, size: nil, localRank: nil,
                                                        localSize: nil)

    public init(launcher: Launcher?, rank: Int?, size: Int?, localRank: Int?, localSize: Int?) {
        self.launcher = launcher
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.localSize = localSize
    }

    /// Whether the process is a rank of a launched job (MPI must be initialised).
    public var isLaunched: Bool { launcher != nil }

    /// Reads `environment` (this process's by default). Throws ``LaunchError`` for `srun`
    /// without an MPI plugin.
    public static func detect(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> LaunchEnvironment {
        func number(_ name: String) -> Int? {
            environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        if let rank = number("OMPI_COMM_WORLD_RANK"), let size = number("OMPI_COMM_WORLD_SIZE") {
            return LaunchEnvironment(launcher: .mpirun, rank: rank, size: size,
                                     localRank: number("OMPI_COMM_WORLD_LOCAL_RANK"),
                                     localSize: number("OMPI_COMM_WORLD_LOCAL_SIZE"))
        }
        let slurmTasks = number("SLURM_STEP_NUM_TASKS")
        if let rank = number("PMIX_RANK") {
            let isSlurm = environment["SLURM_JOB_ID"] != nil || slurmTasks != nil
            return LaunchEnvironment(launcher: isSlurm ? .srun : .pmi, rank: rank,
                                     size: slurmTasks ?? number("SLURM_NTASKS"), localRank: number("SLURM_LOCALID"),
                                     localSize: nil)
        }
        if let rank = number("PMI_RANK") {
            return LaunchEnvironment(launcher: .pmi, rank: rank, size: number("PMI_SIZE"),
                                     localRank: number("SLURM_LOCALID"), localSize: nil)
        }
        if let tasks = slurmTasks, tasks > 1 {
            throw LaunchError(
                reason: "srun started \(tasks) tasks without an MPI plugin (no PMIX_RANK or PMI_RANK in the "
                    + "environment), so each would train alone into the same run folder",
                hint: "start them with srun --mpi=pmix (srun --mpi=list shows the plugins), or run one task")
        }
        return .singleProcess
    }

    /// Threads for the tensor operations of one rank when none are asked for: the CPUs this
    /// process may run on (the launcher binds each rank to its share: `mpirun -np 2` on two cores
    /// gives each one), divided among the ranks on this machine when they were not bound apart.
    public func defaultThreadCount(onlineCores: Int = ProcessInfo.processInfo.activeProcessorCount,
                                   allowedCores: Int? = LaunchEnvironment.allowedCoreCount()) -> Int {
        let allowed = allowedCores ?? onlineCores
        if allowed < onlineCores { return max(1, allowed) }
        return max(1, onlineCores / max(1, localSize ?? 1))
    }

    /// The number of CPUs in this process's affinity mask (`sched_getaffinity`), nil when it
    /// cannot be read.
    public static func allowedCoreCount() -> Int? {
        let count = Int(smis_allowed_cpu_count())
        return count > 0 ? count : nil
    }
}

/// The launch cannot work as started; says what to do instead.
public struct LaunchError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public let hint: String

    public init(reason: String, hint: String) {
        self.reason = reason
        self.hint = hint
    }

    public var description: String { "\(reason)\nHint: \(hint)" }
}
