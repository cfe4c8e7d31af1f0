import Foundation
import Records
import XCTest
import _TestSupport

final class CorruptionTests: TemporaryFolderTestCase {
    private var recordSize = 0

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Synthetic.writeSet(folder, count: 30, sizing: .records(10))
        recordSize = try Synthetic.payload(number: 0, width: 8, height: 6).count + TFRecord.overhead
    }

    /// A flipped payload byte in record 4 of shard 1: the reader names shard, record, offset and
    /// key; verify reports it and still checks every later record of the shard.
    func testFlippedByteIsReportedWithLocationAndTheRestIsStillRead() throws {
        let offset = 4 * recordSize
        try modify("train-00001.tfrecord") { $0[offset + TFRecord.headerSize + 40] ^= 0x01 }
        let set = try ShardSet(directory: folder)
        XCTAssertThrowsError(try set.record(at: 14)) { error in
            let error = error as! RecordsError
            XCTAssertTrue(error.file.hasSuffix("train-00001.tfrecord"))
            XCTAssertEqual(error.record, 4)
            XCTAssertEqual(error.offset, offset)
            XCTAssertEqual(error.key, "sample-00014")
            guard case .checksumMismatch(what: "payload", _, _) = error.reason else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try set.record(at: 15))

        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertEqual(report.recordsChecked, 30)
        let recordProblems = report.problems.filter { $0.record != nil }
        XCTAssertEqual(recordProblems.count, 1, "\(report.problems)")
        XCTAssertEqual(recordProblems.first?.key, "sample-00014")
        XCTAssertTrue(report.problems.contains { "\($0)".contains("SHA-256") }, "the hash must disagree too")
    }

    /// A damaged length field: the scan cannot follow the framing, and resynchronises through
    /// the index instead of losing the rest of the file.
    func testDamagedLengthResynchronisesThroughTheIndex() throws {
        try modify("train-00000.tfrecord") { $0[2 * recordSize + 1] ^= 0x40 }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertEqual(report.recordsChecked, 30)
        XCTAssertEqual(report.problems.filter { $0.record == 2 }.count, 1, "\(report.problems)")
    }

    func testTruncatedShardIsRefusedOnOpenAndReportedByVerify() throws {
        try modify("train-00002.tfrecord") { $0.removeLast(7) }
        XCTAssertThrowsError(try ShardSet(directory: folder)) { error in
            XCTAssertTrue("\(error)".contains("train-00002.tfrecord"), "\(error)")
        }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertTrue(
            report.problems.contains {
                if case .truncated = $0.reason { return $0.record == 9 && $0.file.hasSuffix("train-00002.tfrecord") }
                return false
            }, "\(report.problems)")
    }

    func testMissingIndexIsNamed() throws {
        try FileManager.default.removeItem(at: folder.appendingPathComponent("train-00001.index"))
        XCTAssertThrowsError(try ShardSet(directory: folder)) { error in
            let error = error as! RecordsError
            XCTAssertTrue(error.file.hasSuffix("train-00001.index"))
            guard case .badIndex = error.reason else { return XCTFail("\(error)") }
        }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertEqual(report.recordsChecked, 30, "records are still checked without the index")
        XCTAssertEqual(report.problems.count, 1, "\(report.problems)")
    }

    func testDamagedIndexFailsItsChecksum() throws {
        try modify("train-00000.index") { $0[40] ^= 0x10 }
        XCTAssertThrowsError(try ShardSet(directory: folder)) { error in
            guard case .checksumMismatch(what: "index", _, _) = (error as! RecordsError).reason else {
                return XCTFail("\(error)")
            }
        }
    }

    func testManifestThatDisagreesWithItsShards() throws {
        var manifest = try Manifest(directory: folder)
        manifest.shards[1].records = 11
        manifest.shards[2].sha256 = String(repeating: "0", count: 64)
        try manifest.write(to: folder)
        XCTAssertThrowsError(try ShardSet(directory: folder)) { error in
            XCTAssertTrue("\(error)".contains("train-00001.index"), "\(error)")
        }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertTrue(report.problems.contains { "\($0)".contains("manifest says 11") }, "\(report.problems)")
        XCTAssertTrue(
            report.problems.contains { $0.file.hasSuffix("train-00002.tfrecord") && "\($0)".contains("SHA-256") })
    }

    func testLabelValueBeyondTheClassCountIsReportedByVerify() throws {
        // Rewrite record 0 of shard 0 with label value 9 in an otherwise valid record.
        let sample = Synthetic.sample(number: 0, width: 8, height: 6)
        var features = try SegmentationRecord.example(
            key: Synthetic.key(0), photo: .pixels(sample.image), label: sample.label, classCount: 8,
            imageEncoding: .raw,
            labelEncoding: .raw
        ).features
        var values = sample.label.values
        values[5] = 9
        features[SegmentationRecord.Field.labelEncoded] = .bytes([values])
        let payload = Example(features: features).encoded()
        XCTAssertEqual(payload.count + TFRecord.overhead, recordSize)
        try modify("train-00000.tfrecord") { $0.replaceSubrange(0..<recordSize, with: TFRecord.framed(payload)) }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertTrue(
            report.problems.contains {
                $0.record == 0 && $0.key == "sample-00000" && "\($0)".contains("label value 9")
            },
            "\(report.problems)")
    }

    func testLoaderSkipsAndCountsOrFailsByPolicy() throws {
        try modify("train-00001.tfrecord") { $0[3 * recordSize + 30] ^= 0x01 }
        let set = try ShardSet(directory: folder)
        let skipping = try SegmentationLoader(set: set, options: .init(seed: 1, queueDepth: 3, epochLimit: 1))
        var seen = 0
        while try skipping.next() != nil { seen += 1 }
        XCTAssertEqual(seen, 29)
        XCTAssertEqual(skipping.skipped.map(\.key), ["sample-00013"])
        XCTAssertEqual(skipping.skipped.first?.record, 3)

        let failing = try SegmentationLoader(
            set: set, options: .init(seed: 1, queueDepth: 3, corruptionPolicy: .fail, epochLimit: 1))
        var thrown: RecordsError?
        do { while try failing.next() != nil {} } catch { thrown = error as? RecordsError }
        XCTAssertEqual(thrown?.key, "sample-00013")
        XCTAssertEqual(thrown?.offset, 3 * recordSize)
    }

    /// Bytes after the last record: verify lists the problem instead of crashing.
    func testBytesAfterTheLastRecordAreReportedByVerify() throws {
        try modify("train-00000.tfrecord") { $0 += Array($0[0..<100]) + Array("garbage".utf8) }
        let report = ShardSetVerifier.verify(directory: folder)
        XCTAssertFalse(report.isClean)
        XCTAssertTrue(
            report.problems.contains { $0.file.hasSuffix("train-00000.tfrecord") && $0.offset == 10 * recordSize },
            "\(report.problems)")
    }

    /// Records that parse but whose photo does not decode, every one: an endless stream must
    /// end in an error, not skip them forever.
    func testALoaderOverAnEntirelyUndecodableSetThrowsInsteadOfSpinning() throws {
        let broken = folder.appendingPathComponent("broken")
        let truncatedJPEG: [UInt8] = [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00]
        let source = RecordSource(split: "train", count: 5, identity: { "\($0)" }) { number in
            let sample = Synthetic.sample(number: number, width: 8, height: 6)
            return try SegmentationRecord.example(
                key: Synthetic.key(number), photo: .encoded(bytes: truncatedJPEG, format: .jpeg, width: 8, height: 6),
                label: sample.label, classCount: 8, imageEncoding: .jpeg(quality: nil), labelEncoding: .raw
            ).encoded()
        }
        try ShardSetWriter(configuration: Synthetic.configuration(broken)).write([source])
        let loader = try SegmentationLoader(
            set: try ShardSet(directory: broken), options: .init(seed: 1, queueDepth: 2))
        XCTAssertThrowsError(try loader.next()) { error in
            XCTAssertTrue("\(error)".contains("all 5 records of a whole epoch were skipped as damaged"), "\(error)")
        }
        XCTAssertEqual(loader.skipped.count, 5)
    }

    func testLoaderStartsEvenWhenTheFirstRecordIsDamaged() throws {
        try modify("train-00000.tfrecord") { $0[TFRecord.headerSize + 20] ^= 0x01 }
        let loader = try SegmentationLoader(
            set: try ShardSet(directory: folder),
            options: .init(seed: 5, shuffle: false, queueDepth: 2, epochLimit: 1))
        var keys: [String] = []
        while let sample = try loader.next() { keys.append(sample.key) }
        XCTAssertEqual(keys, (1..<30).map(Synthetic.key))
        XCTAssertEqual(loader.skipped.map(\.record), [0])
    }

    func testKeyUsedTwiceIsReportedAndParallelVerifyGivesTheSameReport() throws {
        let second = folder.appendingPathComponent("second")
        try ShardSetWriter(configuration: Synthetic.configuration(second)).write([Synthetic.source(count: 10)])
        // Append the other set's shard (same keys as train-00000) to this manifest.
        var manifest = try Manifest(directory: folder)
        var copied = try Manifest(directory: second).shards[0]
        for (from, to) in [(copied.name, "extra.tfrecord"), (copied.index, "extra.index")] {
            try FileManager.default.copyItem(
                at: second.appendingPathComponent(from), to: folder.appendingPathComponent(to))
        }
        copied.name = "extra.tfrecord"
        copied.index = "extra.index"
        manifest.shards.append(copied)
        try manifest.write(to: folder)
        let serial = ShardSetVerifier.verify(directory: folder, jobs: 1)
        let parallel = ShardSetVerifier.verify(directory: folder, jobs: 2)
        XCTAssertEqual(serial.problems, parallel.problems)
        XCTAssertEqual(serial.problems.count, 10, "\(serial.problems)")
        XCTAssertTrue(serial.problems.allSatisfy { "\($0)".contains("key used twice: train-00000.tfrecord record") })
    }
}
