import Foundation
import GroupDNet
import Records
import Tensor
import Training
import XCTest
import _TestSupport

/// A shard truncated and another one's record overwritten while `smis train` reads them (a
/// copy still arriving, a disk going bad). The run stops itself after its first step
/// (`SMIS_FAULT=stop:step:1`), the test damages the shards, and the run goes on: no timing.
/// What the README documents must hold: each damaged record is skipped and reported with its
/// shard, record number and byte offset every time the stream meets it, the samples before it
/// are trained on as in an undisturbed run, every checkpoint stays loadable, and a `--resume`
/// on the cut shard stops at once, naming it, leaving the checkpoints as they were.
final class ShardDamagedDuringTrainingTests: TemporaryFolderTestCase {
    private let seed: UInt64 = 7
    private let steps = 14
    /// Stream positions the loader may have decoded before the stop: the two samples of step 1
    /// and those it decodes ahead (the default queue depth, which `ShardBatches` uses on one
    /// process).
    private let readBeforeStop = 2 + SegmentationLoader.Options(seed: 0).queueDepth
    /// Samples the step-7 checkpoint was trained on (7 steps of 2).
    private let trainedBeforeCheckpoint = 14

    private var shards: URL { folder.appendingPathComponent("shards") }

    private func arguments(run: String, maxSteps: Int) -> [String] {
        [
            "train", "--shards", shards.path, "--out", folder.appendingPathComponent(run).path, "--preset", "tiny",
            "--batch-size", "2", "--max-steps", "\(maxSteps)", "--save-every", "7", "--threads", "1",
            "--seed", "\(seed)"
        ]
    }

    func testDamageUnderARunningTrainingIsSkippedAndNamedAndTheCheckpointsStayLoadable() throws {
        try SyntheticShards.write(to: shards, count: 24)
        let set = try ShardSet(directory: shards, split: "train")
        let order = { (epoch: UInt64) in
            ShuffleOrder(
                recordCounts: set.recordCounts, digest: set.manifest.contentDigest, seed: self.seed, epoch: epoch)
        }
        // Records first met after the step-7 checkpoint's samples (and long after the stop):
        // the last record of one shard (cut in its header) and a record of another (one byte
        // flipped).
        let firstLate = max(trainedBeforeCheckpoint + 2, readBeforeStop)
        let late = (firstLate..<set.count).map { order(0).globalIndex(atPosition: $0) }
        let cut = try XCTUnwrap(late.first { isLastOfShard($0, set) }, "seed \(seed) puts no shard's end late")
        let flipped = try XCTUnwrap(late.first { set.location(ofGlobalIndex: $0).shard != shard(of: cut, set) })

        let reference = try BuiltTool.run("smis", arguments(run: "reference", maxSteps: 7))
        XCTAssertEqual(reference.status, 0, reference.errors)
        let damaged = try BuiltTool.runStopping(
            "smis", arguments(run: "run", maxSteps: steps), environment: ["SMIS_FAULT": "stop:step:1"],
            scratch: folder.appendingPathComponent("logs")
        ) {
            try truncateInsideHeader(cut, set)
            try flipPayloadByte(flipped, set)
        }
        XCTAssertEqual(damaged.status, 0, "the run skips damaged records: \(damaged.errors)")

        // Every report, in stream order, names shard, record and offset, with the reason.
        let expected = skippedInStreamOrder(damaged: [cut, flipped], samples: steps * 2, order: order, count: set.count)
        let reports = damaged.errors.split(separator: "\n").filter { $0.hasPrefix("skipped damaged record: ") }
        XCTAssertEqual(reports.count, expected.count, damaged.errors)
        for (report, global) in zip(reports, expected) {
            // The cut record has no payload left to take a key from; the flipped one has.
            let reason = global == cut ? ": file ends early" : " (key train-\(global)): payload checksum mismatch"
            let start = "skipped damaged record: " + location(global, set) + reason
            XCTAssertTrue(report.hasPrefix(start), "\(report) should start with \(start)")
        }
        XCTAssertEqual(Set(expected), [cut, flipped], "both met in the first epoch")
        XCTAssertTrue(
            damaged.errors.contains("damaged records: 2 (skipped \(expected.count) times in all, listed above)"),
            damaged.errors)
        let lastMetrics = try XCTUnwrap(
            String(contentsOf: folder.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").last)
        XCTAssertTrue(lastMetrics.contains("\"skippedRecords\":\(expected.count)"), "\(lastMetrics)")

        // The checkpoint before the damage was met holds exactly the undisturbed run's weights
        // and optimizer state; the last one loads.
        let checkpoints = folder.appendingPathComponent("run/checkpoints")
        let early = FolderContents(checkpoints.appendingPathComponent("step-00000007"))
        let undisturbed = FolderContents(folder.appendingPathComponent("reference/checkpoints/step-00000007"))
        for name in early.files.keys where name.hasSuffix(".safetensors") {
            XCTAssertEqual(early.files[name], undisturbed.files[name], "\(name) of step 7")
        }
        XCTAssertEqual(early.files.keys.filter { $0.hasSuffix(".safetensors") }.count, 5)
        XCTAssertEqual(try loadedStep(checkpoints.appendingPathComponent(String(format: "step-%08d", steps))), steps)

        // A resume opens the set anew: the cut shard no longer has its manifest size, and the
        // run stops before it writes anything.
        let before = FolderContents(checkpoints)
        let resumed = try BuiltTool.run("smis", arguments(run: "run", maxSteps: steps + 2) + ["--resume"])
        XCTAssertEqual(resumed.status, 1, resumed.errors)
        XCTAssertTrue(resumed.errors.contains(shardPath(of: cut, set)), resumed.errors)
        let manifestBytes = set.shards[shard(of: cut, set)].entry.bytes
        XCTAssertTrue(
            resumed.errors.contains("the manifest says \(manifestBytes): it changed after the set"), resumed.errors)
        assertSameFiles(FolderContents(checkpoints), before, "a refused resume leaves the checkpoints")
        XCTAssertEqual(try loadedStep(checkpoints.appendingPathComponent(String(format: "step-%08d", steps))), steps)
    }

    /// The global indices the loader skips, in order, until it has delivered `samples`.
    private func skippedInStreamOrder(
        damaged: Set<Int>, samples: Int, order: (UInt64) -> ShuffleOrder, count: Int
    ) -> [Int] {
        var skipped: [Int] = [], delivered = 0, stream = 0
        while delivered < samples {
            let global = order(UInt64(stream / count)).globalIndex(atPosition: stream % count)
            if damaged.contains(global) { skipped.append(global) } else { delivered += 1 }
            stream += 1
        }
        return skipped
    }

    /// Loads the checkpoint into a fresh tiny model and optimisers (the checkpoint reader a
    /// resume uses); returns its step.
    private func loadedStep(_ checkpoint: URL) throws -> Int {
        var random = RandomSource(seed: 1)
        let options = tinyOptions(shards: shards, run: "unused")
        let step = TrainingStep(model: try GroupDNetModel(.tiny, using: &random), options: options)
        return try TrainingCheckpoint.load(checkpoint, into: step).step
    }

    private func shard(of global: Int, _ set: ShardSet) -> Int { set.location(ofGlobalIndex: global).shard }

    private func isLastOfShard(_ global: Int, _ set: ShardSet) -> Bool {
        let (shard, record) = set.location(ofGlobalIndex: global)
        return record == set.shards[shard].index.count - 1
    }

    private func shardPath(of global: Int, _ set: ShardSet) -> String {
        set.shards[shard(of: global, set)].file.url.path
    }

    private func range(of global: Int, _ set: ShardSet) -> Range<Int> {
        let (shard, record) = set.location(ofGlobalIndex: global)
        return set.shards[shard].index.range(ofRecord: record)
    }

    /// "PATH record N at byte OFFSET", as a `RecordsError` names a record.
    private func location(_ global: Int, _ set: ShardSet) -> String {
        "\(shardPath(of: global, set)) record \(set.location(ofGlobalIndex: global).record) at byte "
            + "\(range(of: global, set).lowerBound)"
    }

    /// Cuts the shard in the middle of the record's header (the record is its last).
    private func truncateInsideHeader(_ global: Int, _ set: ShardSet) throws {
        let length = off_t(range(of: global, set).lowerBound + TFRecord.headerSize / 2)
        XCTAssertEqual(truncate(shardPath(of: global, set), length), 0)
    }

    /// Flips one payload byte in place (the open file, not a replacement of it).
    private func flipPayloadByte(_ global: Int, _ set: ShardSet) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: shardPath(of: global, set)))
        defer { try? handle.close() }
        let offset = UInt64(range(of: global, set).lowerBound + TFRecord.headerSize + 40)
        try handle.seek(toOffset: offset)
        let byte = try XCTUnwrap(handle.read(upToCount: 1))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte[byte.startIndex] ^ 0x01])
    }
}
