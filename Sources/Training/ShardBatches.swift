import Foundation
import GroupDNet
import ImageIO
import Records

/// Batches for GroupDNet straight from shards: the Records loader decodes photo and label of
/// each sample (in its background thread, into its own preallocated slots); they are copied
/// into this object's batch buffers (allocated once, B samples) and turned into the model's
/// inputs: one-hot seg B×G×H×W, image in [-1, 1], and the split image.
///
/// Opening checks that the data fit the model: the manifest's class count must equal the
/// preset's G, and the records' size the preset's image size unless `resize` is set, in which
/// case each sample is resampled to the model's size (photo bicubic as the pipeline does, label
/// nearest so ids never blend), which costs an allocation per sample.
///
/// With `flip`, each sample is mirrored left to right (photo and label together) with
/// probability ½, as the reference's training data is (its `base_dataset.py`, off with
/// `--no_flip`); whether a sample flips is drawn from the seed and its stream index
/// (``RunRandomness/flips(seed:streamIndex:)``), so a resumed run flips what the
/// uninterrupted one would.
public final class ShardBatches {
    public let set: ShardSet
    public let batchSize: Int
    /// Whether samples are mirrored at random (see above).
    public let flip: Bool
    private let seed: UInt64
    private let loader: SegmentationLoader
    private let classCount: Int
    private let width: Int
    private let height: Int
    private let resize: Bool
    private var labels: [UInt8]
    private var pixels: [UInt8]

    /// Opens the "train" split of `directory` for `configuration`, resuming at `state` (nil:
    /// the beginning, shuffled with `seed`). Damaged records are skipped and listed in
    /// ``skipped``.
    public init(directory: URL, configuration: GroupDNetConfiguration, batchSize: Int, seed: UInt64,
                state: ReaderState? = nil, resize: Bool = false, flip: Bool = false) throws {
        set = try ShardSet(directory: directory, split: "train")
        let manifestPath = directory.appendingPathComponent(Manifest.fileName).path
        guard set.manifest.classes.count == configuration.classCount else {
            throw TrainingError.dataMismatch(
                file: manifestPath,
                reason: "the shards have \(set.manifest.classes.count) classes (\(set.manifest.classes.joined(separator: ", "))), the model has \(configuration.classCount)",
                hint: "prepare the data with the model's \(configuration.classCount) classes, or choose a preset with \(set.manifest.classes.count)")
        }
        guard set.count > 0 else {
            throw TrainingError.dataMismatch(file: manifestPath, reason: "no records in the train split",
                                             hint: "run `smisprep shard` on a prepared folder with a train/ folder")
        }
        guard batchSize <= set.count else {
            throw TrainingError.dataMismatch(
                file: manifestPath, reason: "--batch-size \(batchSize) is larger than the \(set.count) training records",
                hint: "use a batch size of at most \(set.count)")
        }
        loader = try SegmentationLoader(set: set, options: .init(seed: seed), state: state)
        guard resize || (loader.width == configuration.imageWidth && loader.height == configuration.imageHeight) else {
            throw TrainingError.dataMismatch(
                file: manifestPath,
                reason: "the records are \(loader.width)×\(loader.height), the model expects \(configuration.imageWidth)×\(configuration.imageHeight)",
                hint: "pass --resize to resample each sample to the model's size, prepare the data at \(configuration.imageWidth)×\(configuration.imageHeight), or choose the preset of that size")
        }
        self.batchSize = batchSize
        self.resize = resize
        self.flip = flip
        self.seed = seed
        classCount = configuration.classCount
        width = configuration.imageWidth
        height = configuration.imageHeight
        let plane = width * height
        labels = [UInt8](repeating: 0, count: batchSize * plane)
        pixels = [UInt8](repeating: 0, count: batchSize * plane * 3)
    }

    /// Where the reader stands after the last batch returned: a checkpoint saves it.
    public var readerState: ReaderState { loader.state }

    /// Records skipped as damaged so far, each with shard, record, offset and key.
    public var skipped: [RecordsError] { loader.skipped }

    /// The next `batchSize` samples as model inputs, with their stream indices.
    public func next() throws -> StreamBatch {
        var streamIndices: [UInt64] = []
        for index in 0..<batchSize {
            guard let sample = try loader.next() else {
                throw TrainingError.dataMismatch(file: set.directory.path, reason: "the reader ended",
                                                 hint: "every record may be damaged; run `smisprep verify`")
            }
            if sample.width == width && sample.height == height {
                copy(label: sample.label, pixels: sample.pixels, intoSlot: index)
            } else {
                let label = LabelMap(width: sample.width, height: sample.height, values: Array(sample.label)).resized(width: width, height: height)
                let photo = Image(width: sample.width, height: sample.height, pixels: Array(sample.pixels)).resized(width: width, height: height)
                label.values.withUnsafeBufferPointer { labelValues in
                    photo.pixels.withUnsafeBufferPointer { copy(label: labelValues, pixels: $0, intoSlot: index) }
                }
            }
            if flip && RunRandomness.flips(seed: seed, streamIndex: sample.streamIndex) { mirrorSlot(index) }
            streamIndices.append(sample.streamIndex)
        }
        let seg = try ModelInput.oneHot(labels: labels, batch: batchSize, height: height, width: width, classes: classCount)
        let image = try ModelInput.image(rgb: pixels, batch: batchSize, height: height, width: width)
        return StreamBatch(inputs: try TrainingBatch(seg: seg, image: image), streamIndices: streamIndices)
    }

    /// Mirrors batch slot `slot` left to right in place: its label row by row, its photo
    /// pixel (three bytes) by pixel.
    private func mirrorSlot(_ slot: Int) {
        let plane = width * height
        labels.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<height {
                var line = UnsafeMutableBufferPointer(start: buffer.baseAddress! + slot * plane + row * width, count: width)
                line.reverse()
            }
        }
        pixels.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<height {
                let start = buffer.baseAddress! + (slot * plane + row * width) * 3
                for column in 0..<width / 2 {
                    let left = start + column * 3, right = start + (width - 1 - column) * 3
                    for channel in 0..<3 { swap(&left[channel], &right[channel]) }
                }
            }
        }
    }

    /// Copies one sample (model-sized) into batch slot `slot` of the reused buffers.
    private func copy(label: UnsafeBufferPointer<UInt8>, pixels source: UnsafeBufferPointer<UInt8>, intoSlot slot: Int) {
        let plane = width * height
        labels.withUnsafeMutableBufferPointer { ($0.baseAddress! + slot * plane).update(from: label.baseAddress!, count: plane) }
        pixels.withUnsafeMutableBufferPointer { ($0.baseAddress! + slot * plane * 3).update(from: source.baseAddress!, count: plane * 3) }
    }
}

/// One batch of the training stream: the model's inputs, and each sample's stream index (its
/// flip and its noise are drawn from it).
public struct StreamBatch {
    public let inputs: TrainingBatch
    public let streamIndices: [UInt64]
}
