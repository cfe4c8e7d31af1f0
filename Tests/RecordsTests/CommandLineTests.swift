import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport

/// Runs the built `smisprep` on shard sets. Raw sets need no codec; the tests over a prepared
/// folder of JPEG photos and PNG labels need the ImageIO codecs and skip (saying so) while
/// ImageIO still throws `.unsupported`.
final class CommandLineTests: TemporaryFolderTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try BuiltTool.run("smisprep", arguments)
    }

    func testVerifyPassesACleanSetAndNamesEveryProblemOfADamagedOne() throws {
        try Synthetic.writeSet(folder, count: 20)
        let clean = try run(["verify", folder.path])
        XCTAssertEqual(clean.status, 0, clean.output + clean.errors)
        XCTAssertTrue(clean.output.contains("2 shards, 20 records checked, 0 problems"), clean.output)

        let recordSize = try Synthetic.payload(number: 0, width: 8, height: 6).count + TFRecord.overhead
        try modify("train-00001.tfrecord") { $0[2 * recordSize + 50] ^= 0x04 }
        let damaged = try run(["verify", folder.path])
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(
            damaged.output.contains(
                "train-00001.tfrecord record 2 at byte \(2 * recordSize) (key sample-00012): payload checksum "
                + "mismatch"),
            damaged.output)
        XCTAssertTrue(damaged.output.contains("SHA-256"), damaged.output)
    }

    func testInspectPrintsOneRecordByKeyOrIndex() throws {
        try Synthetic.writeSet(folder, count: 15)
        let byKey = try run(["inspect", folder.path, "--key", "sample-00011"])
        XCTAssertEqual(byKey.status, 0, byKey.errors)
        XCTAssertTrue(byKey.output.contains("record 11: train-00001.tfrecord record 1"), byKey.output)
        XCTAssertTrue(byKey.output.contains("image: raw, 8×6"), byKey.output)
        let byIndex = try run(["inspect", folder.path, "--index", "11"])
        XCTAssertEqual(byIndex.output, byKey.output)
        let neither = try run(["inspect", folder.path])
        XCTAssertEqual(neither.status, 64)
        XCTAssertTrue(neither.errors.contains("Give exactly one of --key and --index."), neither.errors)
    }

    func testShardRefusesContradictorySizing() throws {
        let result = try run([
            "shard", folder.path, "--out", folder.path, "--records-per-shard", "5", "--shard-size", "1MB"
        ])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(
            result.errors.contains("Give either --records-per-shard or --shard-size, not both."), result.errors)
    }

    // MARK: Codec-dependent (enabled once the ImageIO codecs are merged)

    /// A prepared folder as the pipeline writes it; skips while the ImageIO encoders are stubs.
    private func makePreparedFolder(count: Int) throws -> URL {
        let prepared = folder.appendingPathComponent("prepared")
        for folder in ["train", "cihp_train_mask", "test", "cihp_test_mask"] {
            try FileManager.default.createDirectory(
                at: prepared.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for number in 0..<count {
            let sample = Synthetic.sample(number: number, width: 32, height: 24)
            let (photos, labels) = number % 4 == 3 ? ("test", "cihp_test_mask") : ("train", "cihp_train_mask")
            let stem = "MEN-Denim-id_\(number)-01_1_front"
            do {
                try Data(sample.image.encodedJPEG(quality: 95)).write(
                    to: prepared.appendingPathComponent("\(photos)/\(stem).jpg"))
                try Data(sample.label.encodedPNG()).write(to: prepared.appendingPathComponent("\(labels)/\(stem).png"))
            } catch let error as ImageIOError {
                if case .unsupported = error.reason { throw XCTSkip("needs the ImageIO codecs: \(error)") }
                throw error
            }
        }
        try Data(
            #"{"classes": ["hair","face","skin","top-clothes","bottom-clothes","socks","shoes","background"]}"#.utf8
        )
        .write(to: prepared.appendingPathComponent("classes.json"))
        try Data("source: lip\n".utf8).write(to: prepared.appendingPathComponent("pipeline.yaml"))
        try Data(#"{"kept": 12}"#.utf8).write(to: prepared.appendingPathComponent("report.json"))
        return prepared
    }

    func testShardVerifyInspectAndExportAPreparedFolder() throws {
        let prepared = try makePreparedFolder(count: 12)
        let shards = folder.appendingPathComponent("shards")
        let shard = try run(["shard", prepared.path, "--out", shards.path, "--records-per-shard", "4", "--jobs", "2"])
        XCTAssertEqual(shard.status, 0, shard.errors)
        let manifest = try Manifest(directory: shards)
        XCTAssertEqual(manifest.recordCount(split: "train"), 9)
        XCTAssertEqual(manifest.recordCount(split: "validation"), 3)
        XCTAssertEqual(manifest.pipeline, "source: lip\n")
        // report.json holds no statistics, so the shard writer scanned the folder for them.
        guard case .object(let statistics) = manifest.statistics else { return XCTFail("no statistics object") }
        XCTAssertEqual(statistics["sampleCount"], .number(12))
        XCTAssertEqual(statistics["partitions"], .object(["train": .number(9), "val": .number(3)]))
        XCTAssertTrue(shard.errors.contains("scanning"), shard.errors)

        // JPEG bytes are stored unchanged; labels decode to exactly the prepared values.
        let set = try ShardSet(directory: shards, split: "train")
        let first = try set.segmentationRecord(at: 0)
        XCTAssertEqual(Array(first.imageBytes), try bytes(of: "train/\(first.key).jpg", in: prepared))
        let decoded = try first.decoded()
        let number = Int(first.key.split(separator: "_")[1].split(separator: "-")[0])!
        XCTAssertEqual(decoded.label, Synthetic.sample(number: number, width: 32, height: 24).label)

        let verify = try run(["verify", shards.path])
        XCTAssertEqual(verify.status, 0, verify.output)
        let again = try run(["shard", prepared.path, "--out", shards.path, "--records-per-shard", "4"])
        XCTAssertTrue(again.output.contains("0 written, 4 kept"), again.output)

        let inspect = try run([
            "inspect", shards.path, "--key", first.key, "--write-split", folder.appendingPathComponent("split").path
        ])
        XCTAssertEqual(inspect.status, 0, inspect.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("split/label.png").path))

        let export = try run(["export", shards.path, "--webdataset", folder.appendingPathComponent("wds").path])
        XCTAssertEqual(export.status, 0, export.errors)
        XCTAssertTrue(export.output.contains("4 tars, 12 samples"), export.output)

        // A damaged record is left out of the export and named; the others are all exported.
        let shardFile = shards.appendingPathComponent("train-00000.tfrecord")
        var shardBytes = try Data(contentsOf: shardFile)
        shardBytes[100] ^= 0x10
        try shardBytes.write(to: shardFile)
        let partial = try run(["export", shards.path, "--webdataset", folder.appendingPathComponent("wds2").path])
        XCTAssertEqual(partial.status, 3, partial.errors)
        XCTAssertTrue(partial.output.contains("4 tars, 11 samples"), partial.output)
        XCTAssertTrue(
            partial.errors.contains("skipped damaged record: \(shardFile.path) record 0 at byte 0"), partial.errors)
    }

    /// A prepared folder without samples would replace a good manifest with an empty one.
    func testShardRefusesAPreparedFolderWithoutSamples() throws {
        let prepared = try makePreparedFolder(count: 0)
        let result = try run(["shard", prepared.path, "--out", folder.appendingPathComponent("shards").path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errors.contains("holds no sample (a photo with its label map) in train/ or test/"), result.errors)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("shards/manifest.json").path))
    }

    /// Bad inputs are each named on standard error, the others are packed, and the exit status
    /// is 3 (not 0, not 1), so a script notices an incomplete set.
    func testSkippedInputsAreNamedAndGiveExitStatusThree() throws {
        let prepared = try makePreparedFolder(count: 12)
        let missingLabel = "MEN-Denim-id_1-01_1_front", truncatedPhoto = "MEN-Denim-id_3-01_1_front"
        try FileManager.default.removeItem(at: prepared.appendingPathComponent("cihp_train_mask/\(missingLabel).png"))
        let photoURL = prepared.appendingPathComponent("test/\(truncatedPhoto).jpg")
        try Data(contentsOf: photoURL).prefix(10).write(to: photoURL)
        // Cut in its compressed data: the header reads, the pixels do not (it was stored once).
        let halfPhoto = "MEN-Denim-id_5-01_1_front"
        let halfURL = prepared.appendingPathComponent("train/\(halfPhoto).jpg")
        let halfBytes = try Data(contentsOf: halfURL)
        try halfBytes.prefix(halfBytes.count / 2).write(to: halfURL)
        let shards = folder.appendingPathComponent("shards")
        let result = try run(["shard", prepared.path, "--out", shards.path, "--records-per-shard", "4"])
        XCTAssertEqual(result.status, 3, result.errors)
        XCTAssertTrue(result.errors.contains("skipped train/\(missingLabel): photo or label missing"), result.errors)
        XCTAssertTrue(result.errors.contains("skipped validation/\(truncatedPhoto): \(photoURL.path)"), result.errors)
        XCTAssertTrue(result.errors.contains("skipped train/\(halfPhoto): \(halfURL.path)"), result.errors)
        XCTAssertTrue(result.errors.contains("3 prepared samples are not in the shards"), result.errors)
        XCTAssertTrue(result.output.contains("9 records, 3 inputs skipped"), result.output)
        let manifest = try Manifest(directory: shards)
        XCTAssertEqual(manifest.recordCount(split: "train"), 7)
        // The manifest's statistics describe the records, not the prepared folder's 12 samples.
        guard case .object(let statistics) = manifest.statistics else { return XCTFail("no statistics object") }
        XCTAssertEqual(statistics["sampleCount"], .number(9))
        XCTAssertEqual(statistics["partitions"], .object(["train": .number(7), "val": .number(2)]))
        XCTAssertEqual(manifest.recordCount(split: "validation"), 2)
        XCTAssertEqual(try run(["verify", shards.path]).status, 0)
    }
}
