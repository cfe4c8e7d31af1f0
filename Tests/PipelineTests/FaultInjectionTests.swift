import Foundation
import XCTest
import _TestSupport

/// Full disk and `kill -9` at deterministic moments (`SMIS_FAULT`, see `AtomicFiles.FaultPoint`)
/// during `smisprep deepfashion` (with its shard stage), `smisprep shard` and `smisprep merge`
/// on the fixtures: the failed run names the file, leaves nothing half-written under a final
/// name, and the same command run again ends byte-identical to an undisturbed run. The faults
/// hit the 1st, 2nd, 3rd, 5th, 8th, … write of the run, until one past its last.
final class FaultInjectionTests: TemporaryFolderTestCase {
    private var work: URL { folder.appendingPathComponent("work") }

    private func deepFashion(_ out: URL, _ extra: [String] = []) -> [String] {
        let fixtures = TestPaths.repositoryRoot.appendingPathComponent("Fixtures/deepfashion")
        return [
            "deepfashion", "--quiet", "--images", fixtures.appendingPathComponent("img").path, "--labels",
            fixtures.appendingPathComponent("labels").path, "--partition",
            fixtures.appendingPathComponent("list_eval_partition.txt").path, "--size", "32x32", "--jobs", "2",
            "--out", out.path
        ] + extra
    }

    /// The runner's own state is not a result: its journals (their line order follows the
    /// threads), locks, and the shard stage's resume journal (its input digests cover the
    /// prepared files' times). Everything else is compared.
    private static func isRunnerState(_ path: String) -> Bool {
        path.contains(".smisprep/") || path.hasSuffix("/.shard-journal.json")
            || (path as NSString).lastPathComponent.hasPrefix(".lock-")
    }

    /// The lines of report.json and summary.txt that tell how this run went rather than what
    /// it produced: how many samples an earlier, killed run had finished. A rerun after a kill
    /// says so (found by scripts/kill-drill); everything else must be byte-identical.
    private static let runHistoryLines = try! NSRegularExpression(
        pattern: #"^\s*"(processedThisRun|resumed)" :|^resumed: \d+ samples were finished by an earlier run$"#)

    func testThePipelineWithItsShardStageRecoversFromAFullDiskAndFromKill9() throws {
        let drill = FaultDrill(
            tool: "smisprep",
            arguments: deepFashion(
                work.appendingPathComponent("prepared"), ["--shards", work.appendingPathComponent("shards").path]),
            output: work, excluding: Self.isRunnerState, timeLines: Self.runHistoryLines)
        let reference = try drill.reference()
        XCTAssertNotNil(reference.files["shards/manifest.json"])
        XCTAssertEqual(reference.files.keys.filter { $0.hasPrefix("prepared/train/") }.count, 6)
        try drill.drillEvents("enospc", reference: reference)
        try drill.drillEvents("kill", reference: reference)
        try drill.drillEvents("kill", at: "commit", reference: reference)
    }

    func testTheShardWriterRecoversFromAFullDiskAndFromKill9() throws {
        let prepared = folder.appendingPathComponent("prepared")
        let preparing = try BuiltTool.run("smisprep", deepFashion(prepared))
        XCTAssertEqual(preparing.status, 0, preparing.errors)
        var drill = FaultDrill(
            tool: "smisprep", arguments: ["shard", prepared.path, "--out", work.path, "--records-per-shard", "2"],
            output: work)
        drill.progress = { $0 == ".shard-journal.json" }
        let reference = try drill.reference()
        XCTAssertEqual(reference.files.keys.filter { $0.hasSuffix(".tfrecord") }.count, 5)
        try drill.drillEvents("enospc", reference: reference)
        try drill.drillEvents("kill", reference: reference)
        try drill.drillEvents("kill", at: "commit", reference: reference)
    }

    /// Two worker slices, then the merge under faults (the slices run again before each drill).
    func testTheMergeRecoversFromAFullDiskAndFromKill9() throws {
        var drill = FaultDrill(
            tool: "smisprep", arguments: ["merge", work.appendingPathComponent("prepared").path], output: work,
            excluding: Self.isRunnerState)
        drill.setUp = { [self] in
            for worker in ["0/2", "1/2"] {
                let slice = try BuiltTool.run(
                    "smisprep", deepFashion(work.appendingPathComponent("prepared"), ["--worker", worker]))
                XCTAssertEqual(slice.status, 0, slice.errors)
            }
        }
        let reference = try drill.reference()
        XCTAssertNotNil(reference.files["prepared/report.json"])
        XCTAssertEqual(try drill.drill("enospc:write:1", reference: reference), true)
        XCTAssertEqual(try drill.drill("enospc:write:2", reference: reference), true)
        XCTAssertEqual(try drill.drill("kill:write:1", reference: reference), true)
        XCTAssertEqual(try drill.drill("kill:commit:2", reference: reference), true)
    }
}
