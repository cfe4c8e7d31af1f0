import Distributed
import XCTest

/// The rank and size each launcher announces, read from the variables it sets (faked here:
/// neither Slurm nor Kubernetes runs on the test machine).
final class LaunchEnvironmentTests: XCTestCase {
    func testMpirunAndTheMPIOperatorAnnounceRankSizeAndLocalRanks() throws {
        // What Open MPI 4.1's mpirun sets (the MPI Operator's launcher runs mpirun, which sets the
        // same on every worker; the pod's own variables change nothing).
        let mpirun = ["OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                      "OMPI_COMM_WORLD_LOCAL_SIZE": "2", "PMIX_RANK": "3", "PMIX_NAMESPACE": "prterun-host-1234@1"]
        XCTAssertEqual(try LaunchEnvironment.detect(mpirun),
                       LaunchEnvironment(launcher: .mpirun, rank: 3, size: 8, localRank: 1, localSize: 2))
        let pod = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "smis-train-worker-3"]
        let operatorWorker = mpirun.merging(pod) { $1 }
        XCTAssertEqual(try LaunchEnvironment.detect(operatorWorker).launcher, .mpirun)
    }

    func testSrunWithPMIxAnnouncesTheStepsTasks() throws {
        let srun = ["PMIX_RANK": "5", "PMIX_NAMESPACE": "slurm.pmix.1234.0", "SLURM_JOB_ID": "1234",
                    "SLURM_STEP_ID": "0", "SLURM_PROCID": "5", "SLURM_LOCALID": "0", "SLURM_STEP_NUM_TASKS": "16",
                    "SLURM_NTASKS": "16"]
        XCTAssertEqual(try LaunchEnvironment.detect(srun),
                       LaunchEnvironment(launcher: .srun, rank: 5, size: 16, localRank: 0, localSize: nil))
        let pmi2 = ["PMI_RANK": "1", "PMI_SIZE": "4"]
        XCTAssertEqual(try LaunchEnvironment.detect(pmi2),
                       LaunchEnvironment(launcher: .pmi, rank: 1, size: 4, localRank: nil, localSize: nil))
    }

    /// A batch script's shell has SLURM_PROCID and SLURM_NTASKS of the whole job: `smis train`
    /// started there directly is one process on its own, not a rank.
    func testABatchScriptAndAPlainShellAreOneProcess() throws {
        let batchShell = ["SLURM_JOB_ID": "1234", "SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0",
                          "SLURM_NNODES": "4", "SLURM_TASKS_PER_NODE": "1(x4)"]
        XCTAssertEqual(try LaunchEnvironment.detect(batchShell), .singleProcess)
        XCTAssertFalse(try LaunchEnvironment.detect(batchShell).isLaunched)
        XCTAssertEqual(try LaunchEnvironment.detect(["HOME": "/root", "PATH": "/usr/bin"]), .singleProcess)
        let oneTask = ["SLURM_STEP_NUM_TASKS": "1", "SLURM_PROCID": "0"]
        XCTAssertEqual(try LaunchEnvironment.detect(oneTask), .singleProcess, "srun of one task, no MPI: one process")
    }

    func testSrunOfSeveralTasksWithoutAnMPIPluginIsRefused() {
        let srunWithoutPlugin = ["SLURM_JOB_ID": "1234", "SLURM_STEP_ID": "0", "SLURM_PROCID": "1",
                                 "SLURM_STEP_NUM_TASKS": "4"]
        XCTAssertThrowsError(try LaunchEnvironment.detect(srunWithoutPlugin)) { error in
            XCTAssertEqual("\(error)", "srun started 4 tasks without an MPI plugin (no PMIX_RANK or PMI_RANK in the "
                + "environment), so each would train alone into the same run folder\n"
                + "Hint: start them with srun --mpi=pmix (srun --mpi=list shows the plugins), or run one task")
        }
    }

    func testThreadsDefaultToTheCoresARankMayUse() {
        let two = LaunchEnvironment(launcher: .mpirun, rank: 0, size: 2, localRank: 0, localSize: 2)
        XCTAssertEqual(two.defaultThreadCount(onlineCores: 2, allowedCores: 1), 1, "mpirun -np 2 binds a core each")
        XCTAssertEqual(two.defaultThreadCount(onlineCores: 8, allowedCores: 8), 4, "unbound: the cores are shared")
        let one = LaunchEnvironment(launcher: .srun, rank: 0, size: 8, localRank: 0, localSize: nil)
        XCTAssertEqual(one.defaultThreadCount(onlineCores: 64, allowedCores: 2), 2, "srun --cpus-per-task=2")
        XCTAssertEqual(one.defaultThreadCount(onlineCores: 4, allowedCores: nil), 4)
    }
}
