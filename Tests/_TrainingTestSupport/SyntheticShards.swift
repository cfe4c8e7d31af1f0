import Foundation
import GroupDNet
import ImageIO
import Records
import Training
import XCTest
import _TestSupport

/// Small shard sets for the tests of the model side (training, generation, the web page),
/// stored raw (no codec needed): sample n is a label map of horizontal class bands shifted by
/// n, and a photo whose colour follows the class plus a little seeded noise, so that G has
/// something learnable.
public enum SyntheticShards {
    public static let classes = ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"]

    public static func sample(number: Int, size: Int, classCount: Int) -> (image: Image, label: LabelMap) {
        var state = UInt64(number) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var values = [UInt8](repeating: 0, count: size * size)
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let label = ((y + number * 3) / max(1, size / classCount) + (x > size / 2 ? 1 : 0)) % classCount
                values[y * size + x] = UInt8(label)
                for channel in 0..<3 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let noise = Int(state >> 60)
                    pixels[(y * size + x) * 3 + channel] = UInt8((label * 37 + channel * 80 + noise) % 256)
                }
            }
        }
        return (Image(width: size, height: size, pixels: pixels), LabelMap(width: size, height: size, values: values))
    }

    /// Samples 0 and 1 at 64×64 with the eight classes, as one training batch.
    public static func fixedBatch() throws -> TrainingBatch {
        var labels: [UInt8] = [], pixels: [UInt8] = []
        for number in 0..<2 {
            let sample = sample(number: number, size: 64, classCount: 8)
            labels += sample.label.values
            pixels += sample.image.pixels
        }
        return try TrainingBatch(seg: ModelInput.oneHot(labels: labels, batch: 2, height: 64, width: 64, classes: 8),
                                 image: ModelInput.image(rgb: pixels, batch: 2, height: 64, width: 64))
    }

    /// Writes `count` training records (and `validation` validation ones) of `size`×`size` into `directory`.
    public static func write(to directory: URL, count: Int, size: Int = 64, classes: [String] = classes,
                      validation: Int = 2) throws {
        func source(split: String, count: Int, offset: Int) -> RecordSource {
            RecordSource(split: split, count: count, identity: { "\(split)/\($0)" }) { number in
                let sample = sample(number: number + offset, size: size, classCount: classes.count)
                return try SegmentationRecord.example(
                    key: "\(split)-\(number)", photo: .pixels(sample.image), label: sample.label, classCount: classes.count,
                    imageEncoding: .raw, labelEncoding: .raw).encoded()
            }
        }
        let configuration = ShardSetWriter.Configuration(
            directory: directory, sizing: .records(3), toolVersion: "training tests", schema: SegmentationRecord.schema,
            classes: classes, settings: ["image": "raw", "label": "raw"])
        _ = try ShardSetWriter(configuration: configuration).write([
            source(split: "train", count: count, offset: 0),
            source(split: "validation", count: validation, offset: 1000),
        ])
    }

    /// Flips one payload byte of record `record` of the shard file `shard` in `directory`: its
    /// checksum then fails, and the reader skips the record as damaged.
    public static func damage(record: Int, ofShard shard: String, in directory: URL) throws {
        let file = directory.appendingPathComponent(shard + ".tfrecord")
        let index = try ShardIndex(contentsOf: directory.appendingPathComponent(shard + ".index"))
        var bytes = try Data(contentsOf: file)
        bytes[index.range(ofRecord: record).lowerBound + TFRecord.headerSize + 40] ^= 0x01
        try bytes.write(to: file)
    }
}

extension TemporaryFolderTestCase {
    /// Tiny-preset options over `shards`, writing into `run`.
    public func tinyOptions(shards: URL, run: String, batchSize: Int = 2, maxSteps: Int? = nil, seed: UInt64 = 7) -> TrainingOptions {
        var options = TrainingOptions(preset: .tiny, shardsDirectory: shards.path, runDirectory: folder.appendingPathComponent(run).path)
        options.batchSize = batchSize
        options.maxSteps = maxSteps
        options.seed = seed
        return options
    }
}
