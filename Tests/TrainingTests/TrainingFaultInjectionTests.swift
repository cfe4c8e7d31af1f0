import Foundation
import XCTest
import _TestSupport

/// `smis train` killed (`kill -9`) or out of disk space at deterministic moments
/// (`SMIS_FAULT`, see `AtomicFiles.FaultPoint`): between steps, and during each file of a
/// checkpoint save. What it leaves under a final name is byte-identical to an undisturbed
/// run's, and `--resume` (or, before the first checkpoint, a fresh start in an emptied folder,
/// as the refusal's hint says) ends with bit-identical checkpoints: weights, optimizer state
/// and `state.json`.
final class TrainingFaultInjectionTests: TemporaryFolderTestCase {
    private var run: URL { folder.appendingPathComponent("run") }
    private var checkpoints: URL { run.appendingPathComponent("checkpoints") }

    private func arguments(_ shards: URL) -> [String] {
        [
            "train", "--shards", shards.path, "--out", run.path, "--preset", "tiny", "--batch-size", "2",
            "--max-steps", "4", "--save-every", "2", "--threads", "1"
        ]
    }

    /// A checkpoint folder being written (`.partial-step-…`) or an atomic writer's temporary.
    private static func isTemporary(_ path: String) -> Bool {
        path.hasPrefix(".partial-") || path.contains("/.partial-") || FaultDrill.isTemporary(path)
    }

    func testKilledOrOutOfSpaceTrainingResumesToTheSameCheckpoints() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 4)
        let arguments = arguments(shards)
        let finished = try BuiltTool.run("smis", arguments)
        XCTAssertEqual(finished.status, 0, finished.errors)
        let reference = FolderContents(checkpoints)
        XCTAssertEqual(reference.files.keys.filter { $0.hasSuffix("net_G.safetensors") }.count, 2)

        // Commit events: options.json, then per checkpoint its six files and latest.json, with
        // the sample images in between; steps: after each step's update.
        var plans = ["kill:step:1", "kill:step:3", "enospc:write:1"]
        plans += [2, 3, 5, 7, 8, 9, 13].flatMap { ["kill:commit:\($0)", "enospc:commit:\($0)"] }
        plans += [10, 30, 60].map { "kill:write:\($0)" }
        for plan in plans {
            try? FileManager.default.removeItem(at: run)
            let failed = try BuiltTool.run("smis", arguments, environment: ["SMIS_FAULT": plan])
            if plan.hasPrefix("kill") {
                XCTAssertEqual(failed.status, SIGKILL, "\(plan): \(failed.errors)")
            } else {
                XCTAssertEqual(failed.status, 1, "\(plan): \(failed.errors)")
                XCTAssertTrue(failed.errors.contains("No space left on device"), "\(plan): \(failed.errors)")
                XCTAssertTrue(failed.errors.contains(run.path + "/"), "\(plan): \(failed.errors)")
            }
            // latest.json names the newest checkpoint: an earlier one after a failure.
            for (path, bytes) in FolderContents(checkpoints).files
            where !Self.isTemporary(path) && path != "latest.json" {
                XCTAssertEqual(bytes, reference.files[path], "\(plan): \(path) is damaged")
            }
            let resumable = FileManager.default.fileExists(
                atPath: checkpoints.appendingPathComponent("latest.json").path)
            if !resumable { try FileManager.default.removeItem(at: run) }
            let rerun = try BuiltTool.run("smis", arguments + (resumable ? ["--resume"] : []))
            XCTAssertEqual(rerun.status, 0, "\(plan): \(rerun.errors)")
            assertSameFiles(FolderContents(checkpoints), reference, "\(plan), then a rerun")
        }
    }
}
