import Foundation
import Yams
import XCTest
import _TestSupport

/// The Slurm batch script and the MPIJob manifest users copy from the README: neither scheduler
/// runs here, so check that the README's copies are the committed files, that the manifest
/// parses as an MPIJob whose launcher starts one rank per worker, and that the script is valid
/// bash that launches through PMIx and asks for the warning signal.
final class DeployFilesTests: XCTestCase {
    private let deploy = TestPaths.repositoryRoot.appendingPathComponent("Deploy")

    private func text(_ relative: String) throws -> String {
        try String(contentsOf: deploy.appendingPathComponent(relative), encoding: .utf8)
    }

    private var readme: String {
        get throws {
            try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        }
    }

    func testTheREADMEShowsTheCommittedFiles() throws {
        let readme = try readme
        for file in ["slurm/smis-train.sbatch", "kubernetes/smis-train-mpijob.yaml"] {
            XCTAssertTrue(readme.contains(try text(file)), "README.md does not hold Deploy/\(file) verbatim")
        }
    }

    func testTheManifestIsAnMPIJobWithOneRankPerWorker() throws {
        let manifest = try XCTUnwrap(try Yams.load(yaml: text("kubernetes/smis-train-mpijob.yaml")) as? [String: Any])
        XCTAssertEqual(manifest["apiVersion"] as? String, "kubeflow.org/v2beta1")
        XCTAssertEqual(manifest["kind"] as? String, "MPIJob")
        let spec = try XCTUnwrap(manifest["spec"] as? [String: Any])
        XCTAssertEqual(spec["mpiImplementation"] as? String, "OpenMPI")
        XCTAssertEqual(spec["slotsPerWorker"] as? Int, 1)
        let replicas = try XCTUnwrap(spec["mpiReplicaSpecs"] as? [String: [String: Any]])
        XCTAssertEqual(replicas["Launcher"]?["replicas"] as? Int, 1)
        let workers = try XCTUnwrap(replicas["Worker"]?["replicas"] as? Int)
        func container(_ role: String) throws -> [String: Any] {
            let template = try XCTUnwrap(replicas[role]?["template"] as? [String: Any])
            let podSpec = try XCTUnwrap(template["spec"] as? [String: Any])
            return try XCTUnwrap((podSpec["containers"] as? [[String: Any]])?.first)
        }
        let script = try XCTUnwrap((try container("Launcher")["args"] as? [String])?.first)
        XCTAssertTrue(script.contains("exec mpirun "), "mpirun must be PID 1 to receive SIGUSR1:\n\(script)")
        XCTAssertTrue(script.contains("-np \(workers) "), "one rank per worker:\n\(script)")
        XCTAssertTrue(script.contains("smis train --shards "), script)
        let resources = try XCTUnwrap(try container("Worker")["resources"] as? [String: Any])
        let cpus = try XCTUnwrap((resources["limits"] as? [String: Any])?["cpu"] as? String)
        XCTAssertTrue(script.contains("--threads \(cpus) "), "threads = the worker's CPUs:\n\(script)")
    }

    func testTheBatchScriptIsValidBashLaunchingThroughPMIxWithAWarningSignal() throws {
        let script = try text("slurm/smis-train.sbatch")
        let expected = ["#SBATCH --signal=USR1@", "#SBATCH --ntasks-per-node=1", "srun --mpi=pmix ",
                        "smis train --shards "]
        for line in expected {
            XCTAssertTrue(script.contains(line), "\(line) missing from the batch script")
        }
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", deploy.appendingPathComponent("slurm/smis-train.sbatch").path]
        try bash.run()
        bash.waitUntilExit()
        XCTAssertEqual(bash.terminationStatus, 0, "bash -n finds a syntax error")
    }
}
