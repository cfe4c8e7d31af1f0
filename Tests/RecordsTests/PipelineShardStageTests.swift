import Foundation
import Records
import XCTest
import _TestSupport

/// `outputs.shards`, the pipeline's last stage, through the built `smisprep` on the committed
/// fixtures (12 people; with their partition list 9 are kept: 6 train, 3 validation).
final class PipelineShardStageTests: TemporaryFolderTestCase {
    private let fixture = TestPaths.fixtures.appendingPathComponent("deepfashion").path
    private var prepared: String { folder.appendingPathComponent("prepared").path }
    private var shards: String { folder.appendingPathComponent("shards").path }
    private var pipelineFile: URL { folder.appendingPathComponent("with-shards.yaml") }

    /// The bundled pipeline with the fixtures as inputs and `shardLines` under `outputs`.
    private func writePipeline(shardLines: String) throws {
        let sources = TestPaths.repositoryRoot.appendingPathComponent("Pipelines/sources/lip.yaml").path
        var text = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent("Pipelines/deepfashion.yaml"), encoding: .utf8)
        for (old, new) in [
            ("\nsource: lip\n", "\nsource: \(sources)\n"), ("\nimages: null", "\nimages: \(fixture)/img"),
            ("\nlabels: null", "\nlabels: \(fixture)/labels"), ("\noutput: null", "\noutput: \(prepared)"),
            ("\n  list: null", "\n  list: \(fixture)/list_eval_partition.txt")
        ] {
            XCTAssertTrue(text.contains(old), old)
            text = text.replacingOccurrences(of: old, with: new)
        }
        try Data((text + "  shards:\n    directory: \(shards)\n" + shardLines).utf8).write(to: pipelineFile)
    }

    private func runPipeline() throws -> (status: Int32, output: String, errors: String) {
        try BuiltTool.run("smisprep", ["run", pipelineFile.path, "--quiet", "--jobs", "2"])
    }

    private func json(_ path: String) throws -> [String: JSONValue] {
        guard
            case .object(let object) = try JSONDecoder().decode(
                JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        else {
            throw XCTSkip("\(path) is not a JSON object")
        }
        return object
    }

    func testRunWithShardsPacksThePreparedSetWithTheRunStatisticsAndReshardsWithoutPreparing() throws {
        try writePipeline(shardLines: "    records-per-shard: 4\n")
        let first = try runPipeline()
        XCTAssertEqual(first.status, 0, first.errors)
        XCTAssertTrue(
            first.output.contains("3 shards (3 written, 0 kept from an earlier run), 9 records, 0 inputs skipped"),
            first.output)

        let report = try json(prepared + "/report.json")
        let manifest = try Manifest(directory: URL(fileURLWithPath: shards))
        XCTAssertEqual(report["kept"], .number(9))
        XCTAssertEqual(manifest.recordCount(), 9)
        XCTAssertEqual(manifest.recordCount(split: "validation"), 3)
        let statistics = try XCTUnwrap(report["statistics"])
        XCTAssertEqual(manifest.statistics, statistics, "the run's statistics, stored as report.json holds them")
        guard case .object(let fields) = statistics else { return XCTFail("statistics is not an object") }
        XCTAssertEqual(fields["sampleCount"], .number(9))
        XCTAssertEqual(manifest.pipeline, try String(contentsOfFile: prepared + "/pipeline.yaml", encoding: .utf8))
        XCTAssertTrue(manifest.pipeline?.contains("    records-per-shard: 4\n") == true)
        XCTAssertEqual(try BuiltTool.run("smisprep", ["verify", shards]).status, 0)

        // Another shard size: re-sharded, not re-prepared (journal untouched, nothing processed).
        let journal = URL(fileURLWithPath: prepared + "/.smisprep/journal-0-of-1.jsonl")
        let journalBefore = try Data(contentsOf: journal)
        try writePipeline(shardLines: "    records-per-shard: 2\n")
        let second = try runPipeline()
        XCTAssertEqual(second.status, 0, second.errors)
        XCTAssertTrue(
            second.output.contains("5 shards (5 written, 0 kept from an earlier run), 9 records"), second.output)
        XCTAssertEqual(try Data(contentsOf: journal), journalBefore)
        let resumed = try json(prepared + "/report.json")
        XCTAssertEqual(resumed["processedThisRun"], .number(0))
        XCTAssertEqual(resumed["resumed"], .number(12))
        let resharded = try Manifest(directory: URL(fileURLWithPath: shards))
        XCTAssertEqual(resharded.shards.count, 5)
        XCTAssertEqual(resharded.statistics, statistics, "a resumed run scans its folder: the same figures")

        // Same settings again: every shard kept.
        let third = try runPipeline()
        XCTAssertTrue(third.output.contains("5 shards (0 written, 5 kept from an earlier run)"), third.output)
    }

    func testMisspeltShardKeyIsRefusedWithItsLine() throws {
        try writePipeline(shardLines: "    records-per-shrad: 4\n")
        let lines = try String(contentsOf: pipelineFile, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let line = try XCTUnwrap(lines.firstIndex { $0.contains("records-per-shrad") }) + 1
        let result = try runPipeline()
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errors.contains(
                "Error: \(pipelineFile.path):\(line): unknown key 'records-per-shrad' (did you mean "
                + "'records-per-shard'?)"),
            result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: prepared), "refused before anything is written")
    }

    /// A prepared file damaged after the run: the re-run (nothing to prepare) names it on
    /// standard error, packs the rest and exits with 3.
    func testSkippedSampleInTheShardStageGivesExitStatusThree() throws {
        try writePipeline(shardLines: "    records-per-shard: 4\n")
        XCTAssertEqual(try runPipeline().status, 0)
        let labels = prepared + "/cihp_train_mask"
        let damaged = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: labels).sorted().first)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: labels + "/" + damaged))
        let result = try runPipeline()
        XCTAssertEqual(result.status, 3, result.errors)
        let stem = (damaged as NSString).deletingPathExtension
        XCTAssertTrue(result.errors.contains("skipped train/\(stem): \(labels)/\(damaged)"), result.errors)
        XCTAssertTrue(result.output.contains("8 records, 1 inputs skipped"), result.output)
        let manifest = try Manifest(directory: URL(fileURLWithPath: shards))
        XCTAssertEqual(manifest.recordCount(), 8)
        guard case .object(let statistics) = manifest.statistics else { return XCTFail("no statistics object") }
        XCTAssertEqual(
            statistics["sampleCount"], .number(8), "the statistics of the records, not of report.json's 9 samples")
    }

    /// `--no-statistics`: report.json holds none, and the shard stage at the end of the run
    /// scans the prepared folder for the manifest's, which equal what a run gathering them
    /// stores (the figures describe the stored files either way).
    func testRunWithoutStatisticsLeavesThemToTheShardStageScan() throws {
        func deepfashion(
            out: String, shards: String, _ extra: [String]
        ) throws -> (status: Int32, output: String, errors: String) {
            try BuiltTool.run(
                "smisprep",
                [
                    "deepfashion", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out", out,
                    "--partition", fixture + "/list_eval_partition.txt", "--shards", shards, "--records-per-shard", "4",
                    "--quiet", "--jobs", "2"
                ] + extra)
        }
        let without = try deepfashion(out: prepared, shards: shards, ["--no-statistics"])
        XCTAssertEqual(without.status, 0, without.errors)
        XCTAssertNil(try json(prepared + "/report.json")["statistics"])
        XCTAssertEqual(try json(prepared + "/report.json")["kept"], .number(9))
        XCTAssertTrue(without.errors.contains("no statistics in \(prepared)/report.json: scanning"), without.errors)
        let scanned = try XCTUnwrap(try Manifest(directory: URL(fileURLWithPath: shards)).statistics)

        let gathering = folder.appendingPathComponent("gathering").path
        let with = try deepfashion(
            out: gathering, shards: folder.appendingPathComponent("gathering-shards").path, [])
        XCTAssertEqual(with.status, 0, with.errors)
        XCTAssertFalse(with.errors.contains("scanning"), with.errors)
        XCTAssertEqual(try json(gathering + "/report.json")["statistics"], scanned)

        // The same command again, with its progress lines: every sample is resumed, none
        // processed, and the last line has no rate (it once computed an ETA of 0/0 and trapped).
        let again = try BuiltTool.run(
            "smisprep",
            [
                "deepfashion", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out", gathering,
                "--partition", fixture + "/list_eval_partition.txt", "--jobs", "2"
            ])
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertTrue(again.errors.contains("12/12  – samples/s  ETA –:––"), again.errors)
    }

    /// Worker slices write no shards and gather no statistics (each sees part of the set);
    /// `merge` packs the joined folder with the statistics of a scan of it.
    func testWorkerSlicesLeaveTheShardsToMerge() throws {
        for index in 0..<2 {
            let slice = try BuiltTool.run(
                "smisprep",
                [
                    "deepfashion", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out", prepared,
                    "--partition", fixture + "/list_eval_partition.txt", "--shards", shards, "--records-per-shard", "4",
                    "--worker", "\(index)/2", "--quiet", "--jobs", "1"
                ])
            XCTAssertEqual(slice.status, 0, slice.errors)
            XCTAssertTrue(slice.output.contains("worker \(index)/2: no shards written"), slice.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: shards + "/manifest.json"))
            let workerReport = try json(prepared + "/report-worker-\(index)-of-2.json")
            XCTAssertNotNil(workerReport["kept"])
            XCTAssertNil(workerReport["statistics"], "a worker slice gathered statistics that merge replaces")
        }
        let merge = try BuiltTool.run("smisprep", ["merge", prepared])
        XCTAssertEqual(merge.status, 0, merge.errors)
        let report = try json(prepared + "/report.json")
        let manifest = try Manifest(directory: URL(fileURLWithPath: shards))
        XCTAssertEqual(manifest.recordCount(), 9)
        XCTAssertEqual(report["kept"], .number(9))
        XCTAssertEqual(manifest.statistics, report["statistics"])
        guard case .object(let statistics) = report["statistics"] else { return XCTFail("merge stored no statistics") }
        XCTAssertEqual(statistics["sampleCount"], .number(9))
        XCTAssertEqual(manifest.settings["sizing"], "4 records")
    }

    func testShardOptionsWithoutAShardFolderAreRefused() throws {
        let result = try BuiltTool.run(
            "smisprep",
            [
                "deepfashion", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out", prepared,
                "--shard-size", "1MB"
            ])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errors.contains(
                "Error: command line: 'outputs.shards' must be given (--shards DIR) for the shard size and encoding "
                + "options to apply"
            ), result.errors)
        let both = try BuiltTool.run(
            "smisprep",
            [
                "deepfashion", "--images", fixture, "--labels", fixture, "--out", prepared, "--shards", shards,
                "--shard-size", "1MB", "--records-per-shard", "3"
            ])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.errors.contains("Give either --records-per-shard or --shard-size, not both."), both.errors)
    }

    /// Two worker slices on "machines" without a shared folder, gathered by `merge --from`:
    /// the joined folder holds the nine kept samples, and its shards equal those of one run.
    func testMergeFromGathersWorkerFoldersAndShardsThem() throws {
        let workerFolders = (0..<2).map { folder.appendingPathComponent("machine-\($0)").path }
        for (index, folder) in workerFolders.enumerated() {
            let run = try BuiltTool.run(
                "smisprep",
                [
                    "deepfashion", "--quiet", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out",
                    folder,
                    "--partition", fixture + "/list_eval_partition.txt", "--worker", "\(index)/2", "--shards", shards
                ])
            XCTAssertEqual(run.status, 0, run.errors)
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: shards + "/manifest.json"), "worker slices write no shards")
        let merge = try BuiltTool.run("smisprep", ["merge", prepared, "--from"] + workerFolders)
        XCTAssertEqual(merge.status, 0, merge.errors)
        XCTAssertTrue(merge.output.contains("gathered 2 worker folders into \(prepared)"), merge.output)
        XCTAssertEqual(try json(prepared + "/report.json")["kept"], .number(9))
        XCTAssertEqual(try Manifest(directory: URL(fileURLWithPath: shards)).recordCount(), 9)
        XCTAssertEqual(try BuiltTool.run("smisprep", ["verify", shards]).status, 0)

        // A folder from another configuration is refused, naming it.
        let other = folder.appendingPathComponent("machine-other").path
        _ = try BuiltTool.run(
            "smisprep",
            [
                "deepfashion", "--quiet", "--images", fixture + "/img", "--labels", fixture + "/labels", "--out", other,
                "--worker", "1/2", "--size", "128x128"
            ])
        let refused = try BuiltTool.run(
            "smisprep", ["merge", folder.appendingPathComponent("mixed").path, "--from", workerFolders[0], other])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(
            refused.errors.contains("another configuration") && refused.errors.contains(other), refused.errors)
    }
}
