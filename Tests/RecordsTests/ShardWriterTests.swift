import Foundation
import Records
import XCTest
import _TestSupport

final class ShardWriterTests: TemporaryFolderTestCase {
    func testRecordsPerShardSplitsAndManifestDescribesShards() throws {
        let result = try Synthetic.writeSet(folder, count: 25, sizing: .records(10))
        XCTAssertEqual(result.manifest.shards.map(\.records), [10, 10, 5])
        XCTAssertEqual(
            result.manifest.shards.map(\.name), ["train-00000.tfrecord", "train-00001.tfrecord", "train-00002.tfrecord"]
        )
        let reread = try Manifest(directory: folder)
        XCTAssertEqual(reread, result.manifest)
        XCTAssertEqual(reread.statistics, .object(["samples": .number(25)]))
        XCTAssertEqual(reread.pipeline, "stages: [synthetic]\n")
        for shard in reread.shards {
            XCTAssertEqual(try bytes(of: shard.name).count, shard.bytes)
            XCTAssertEqual(try ShardIndex(contentsOf: folder.appendingPathComponent(shard.index)).count, shard.records)
        }
        XCTAssertTrue(ShardSetVerifier.verify(directory: folder).isClean)
    }

    /// One progress call per shard, written or kept, counting inputs over both splits.
    func testProgressReportsEveryShardInOrder() throws {
        var steps: [ShardSetWriter.ShardProgress] = []
        var configuration = Synthetic.configuration(folder)
        configuration.progress = { steps.append($0) }
        let sources = { [Synthetic.source(count: 25), Synthetic.source(split: "validation", count: 12)] }
        try ShardSetWriter(configuration: configuration).write(sources())
        XCTAssertEqual(
            steps.map(\.shard),
            [
                "train-00000.tfrecord", "train-00001.tfrecord", "train-00002.tfrecord",
                "validation-00000.tfrecord", "validation-00001.tfrecord"
            ])
        XCTAssertEqual(steps.map(\.inputsDone), [10, 20, 25, 35, 37])
        XCTAssertTrue(steps.allSatisfy { $0.inputsTotal == 37 && !$0.reused })
        steps = []
        try ShardSetWriter(configuration: configuration).write(sources())
        XCTAssertEqual(steps.map(\.inputsDone), [10, 20, 25, 35, 37])
        XCTAssertTrue(steps.allSatisfy(\.reused), "a re-run keeps every shard and says so")
    }

    func testByteSizedShardsStayUnderTheLimit() throws {
        let recordSize = try Synthetic.payload(number: 0, width: 8, height: 6).count + TFRecord.overhead
        let result = try Synthetic.writeSet(folder, count: 20, sizing: .bytes(recordSize * 3 + 5))
        XCTAssertEqual(result.manifest.shards.map(\.records), [3, 3, 3, 3, 3, 3, 2])
        XCTAssertTrue(result.manifest.shards.allSatisfy { $0.bytes <= recordSize * 3 + 5 })
    }

    func testOutputIsByteIdenticalAcrossRunsAndJobCounts() throws {
        let one = folder.appendingPathComponent("one"), two = folder.appendingPathComponent("two")
        try Synthetic.writeSet(one, count: 37, jobs: 1)
        try Synthetic.writeSet(two, count: 37, jobs: 2)
        for name in ["train-00000.tfrecord", "train-00003.tfrecord", "train-00003.index", "manifest.json"] {
            XCTAssertEqual(try bytes(of: name, in: one), try bytes(of: name, in: two), name)
        }
    }

    func testRecordsComeInInputOrderWithSkippedInputsReported() throws {
        let writer = ShardSetWriter(configuration: Synthetic.configuration(folder, jobs: 2))
        let result = try writer.write([Synthetic.source(count: 30, failing: [4, 17])])
        XCTAssertEqual(result.skipped.map(\.stem), ["input 4", "input 17"])
        XCTAssertTrue(result.skipped[0].reason.contains("synthetic failure"))
        let set = try ShardSet(directory: folder)
        XCTAssertEqual(set.count, 28)
        let keys = try (0..<set.count).map { try set.segmentationRecord(at: $0).key }
        XCTAssertEqual(keys, (0..<30).filter { $0 != 4 && $0 != 17 }.map(Synthetic.key))
    }

    func testResumeReusesMatchingShardsAndRewritesChangedOnes() throws {
        try Synthetic.writeSet(folder, count: 30)
        let firstShard = folder.appendingPathComponent("train-00000.tfrecord")
        let inode = try FileManager.default.attributesOfItem(atPath: firstShard.path)[.systemFileNumber] as? UInt64
        let again = try Synthetic.writeSet(folder, count: 30)
        XCTAssertEqual(again.shardsReused, 3)
        XCTAssertEqual(again.shardsWritten, 0)
        XCTAssertEqual(
            try FileManager.default.attributesOfItem(atPath: firstShard.path)[.systemFileNumber] as? UInt64, inode)

        // A damaged shard is rewritten, and every shard after it too.
        try modify("train-00001.tfrecord") { $0[100] ^= 0xFF }
        let repaired = try Synthetic.writeSet(folder, count: 30)
        XCTAssertEqual(repaired.shardsReused, 1)
        XCTAssertEqual(repaired.shardsWritten, 2)
        XCTAssertTrue(ShardSetVerifier.verify(directory: folder).isClean)
    }

    func testChangedInputsAreRewrittenAndStaleShardsRemoved() throws {
        try Synthetic.writeSet(folder, count: 30)
        let writer = ShardSetWriter(configuration: Synthetic.configuration(folder))
        let result = try writer.write([Synthetic.source(count: 15, identitySalt: "-changed")])
        XCTAssertEqual(result.shardsWritten, 2)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("train-00002.tfrecord").path))
        XCTAssertEqual(try ShardSet(directory: folder).count, 15)
    }

    /// The journal of a longer run describes inputs this run does not have: the shard is
    /// rewritten (its range was once read past the inputs, which crashed on real folders).
    func testAShorterInputListRewritesTheShardThatReachedPastIt() throws {
        try Synthetic.writeSet(folder, count: 30)
        let shorter = try Synthetic.writeSet(folder, count: 25)
        XCTAssertEqual(shorter.shardsReused, 2)
        XCTAssertEqual(shorter.manifest.shards.map(\.records), [10, 10, 5])
        XCTAssertEqual(try ShardSet(directory: folder).count, 25)
        XCTAssertTrue(ShardSetVerifier.verify(directory: folder).isClean)
    }

    /// Other settings (the journal no longer applies) or a split that is gone: the old shard
    /// files go, so that a reader globbing `train-*.tfrecord` sees only the manifest's.
    func testShardFilesTheManifestNoLongerListsAreRemoved() throws {
        let writer = ShardSetWriter(configuration: Synthetic.configuration(folder))
        try writer.write([Synthetic.source(count: 30), Synthetic.source(split: "validation", count: 5)])
        let unrelated = ["notes.txt", "train-final.tfrecord", "train-1.tfrecord", "imagenet-00001.tfrecord"]
        for name in unrelated { try Data().write(to: folder.appendingPathComponent(name)) }
        let wider = ShardSetWriter(configuration: Synthetic.configuration(folder, sizing: .records(20)))
        let result = try wider.write([Synthetic.source(count: 30)])
        XCTAssertEqual(result.manifest.shards.map(\.name), ["train-00000.tfrecord", "train-00001.tfrecord"])
        XCTAssertEqual(
            result.staleFilesRemoved,
            [
                "train-00002.index", "train-00002.tfrecord", "validation-00000.index", "validation-00000.tfrecord"
            ])
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(
            Set(left.filter { ShardSetWriter.isShardFileName($0) && !$0.hasPrefix("imagenet-") }),
            ["train-00000.tfrecord", "train-00000.index", "train-00001.tfrecord", "train-00001.index"])
        for name in unrelated { XCTAssertTrue(left.contains(name), name) }
        XCTAssertTrue(ShardSetVerifier.verify(directory: folder).isClean)
    }

    /// A crash after the first shard: the journal lists it, no manifest exists, and a re-run
    /// reuses it. Simulated by writing a set, then deleting the manifest and a later shard.
    func testInterruptedRunLeavesNoManifestAndResumes() throws {
        try Synthetic.writeSet(folder, count: 30)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("manifest.json"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("train-00002.tfrecord"))
        XCTAssertThrowsError(try ShardSet(directory: folder))
        let resumed = try Synthetic.writeSet(folder, count: 30)
        XCTAssertEqual(resumed.shardsReused, 2)
        XCTAssertEqual(resumed.shardsWritten, 1)
        XCTAssertTrue(ShardSetVerifier.verify(directory: folder).isClean)
    }

    /// A tiny tmpfs fills up: the error says the disk is full, names the file, and nothing
    /// appears under a final name (no manifest; no partial shard). Needs root to mount.
    func testFullDiskGivesAClearErrorAndNoPartialFile() throws {
        let mountPoint = folder.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path]
        mount.standardError = FileHandle.nullDevice
        try? mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root)") }
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [mountPoint.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        let out = mountPoint.appendingPathComponent("set")
        XCTAssertThrowsError(try Synthetic.writeSet(out, count: 200, sizing: .records(50), width: 32, height: 32)) {
            error in
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
            XCTAssertTrue("\(error)".contains("disk is full"), "\(error)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertFalse(names.contains("manifest.json"))
        XCTAssertFalse(names.contains { $0.hasPrefix(".") && $0.contains("partial") }, "\(names)")
        // Every shard under a final name is complete: it has its index and verifies in full.
        for name in names where name.hasSuffix(".tfrecord") {
            let index = try ShardIndex(contentsOf: out.appendingPathComponent(ShardIndex.fileName(forShard: name)))
            let size =
                try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(name).path)[.size] as? Int
            XCTAssertEqual(UInt64(size ?? -1), index.shardSize)
        }
    }

    /// The spellings `smisprep shard` and a pipeline file's `outputs.shards` accept.
    func testShardSizeAndImageEncodingSpellings() {
        XCTAssertEqual(ShardSizing.byteCount(parsing: "256MB"), 256_000_000)
        XCTAssertEqual(ShardSizing.byteCount(parsing: "64MiB"), 64 << 20)
        XCTAssertEqual(ShardSizing.byteCount(parsing: "4096"), 4096)
        XCTAssertEqual(ShardSizing.byteCount(parsing: "1.5K"), 1536)
        for bad in ["", "0", "-5MB", "0.0001KB", "MB", "12 parsecs"] {
            XCTAssertNil(ShardSizing.byteCount(parsing: bad), bad)
        }
        for text in ["jpeg", "jpeg:1", "jpeg:100", "png", "raw"] {
            XCTAssertEqual(SegmentationRecord.ImageEncoding(parsing: text)?.description, text)
        }
        XCTAssertEqual(SegmentationRecord.ImageEncoding(parsing: "jpeg:keep"), .jpeg(quality: nil))
        for bad in ["jpeg:0", "jpeg:101", "jpg", "jpeg:", "PNG"] {
            XCTAssertNil(SegmentationRecord.ImageEncoding(parsing: bad), bad)
        }
    }
}
