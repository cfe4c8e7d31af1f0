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
/// With `crop`, records larger than the model's size in both directions give a random window of
/// the model's size instead (ADE20K: the reference loads 286 × 286 and crops 256 × 256), its
/// place drawn from the seed and the stream index (``RunRandomness/cropOrigin``) like the flip.
/// A model with instance edges (Cityscapes) needs records with instance maps: they are cropped,
/// resized (nearest) and flipped with the label, and their edge channel is computed after that,
/// as the reference computes it from the flipped instance map.
///
/// With `flip`, each sample is mirrored left to right (photo and label together) with
/// probability ½, as the reference's training data is (its `base_dataset.py`, off with
/// `--no_flip`); whether a sample flips is drawn from the seed and its stream index
/// (``RunRandomness/flips(seed:streamIndex:)``), so a resumed run flips what the
/// uninterrupted one would.
///
/// In a data-parallel run every rank reads the whole global batch of `ranks` × `batchSize`
/// samples (the stream one process would read at that batch, damaged records skipped as there)
/// and keeps its own slice of it, positions rank·B ..< (rank+1)·B: so the ranks' slices
/// together are exactly one process's batch, a skipped record shifts every rank alike, and the
/// reader's position after a step (saved in checkpoints) is the same on every rank, whatever
/// their number. Each rank decodes every record of the global batch, in the loader's
/// background thread (about a millisecond each at 256 × 256, against seconds of a step), and
/// copies, resizes and flips only its own.
public final class ShardBatches {
    public let set: ShardSet
    /// Samples this rank takes from each global batch.
    public let batchSize: Int
    /// This rank's slice of each global batch of `ranks` × `batchSize`.
    public let rank: Int
    public let ranks: Int
    /// Whether samples are mirrored at random (see above).
    public let flip: Bool
    private let seed: UInt64
    private let loader: SegmentationLoader
    private let classCount: Int
    private let width: Int
    private let height: Int
    private let resize: Bool
    private let crop: Bool
    private let configuration: GroupDNetConfiguration
    private var labels: [UInt8]
    private var pixels: [UInt8]
    /// Instance ids of the batch, for a model with instance edges (else empty).
    private var instances: [UInt16]

    /// Opens the "train" split of `directory` for `configuration`, resuming at `state` (nil:
    /// the beginning, shuffled with `seed`). Damaged records are skipped and listed in
    /// ``skipped``.
    public init(directory: URL, configuration: GroupDNetConfiguration, batchSize: Int, seed: UInt64,
                state: ReaderState? = nil, resize: Bool = false, flip: Bool = false, crop: Bool = false,
                rank: Int = 0, ranks: Int = 1) throws {
        precondition(ranks >= 1 && (0..<ranks).contains(rank), "rank \(rank) of \(ranks)")
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
        guard batchSize * ranks <= set.count else {
            let batch = ranks == 1 ? "--batch-size \(batchSize)"
                : "the global batch of \(batchSize * ranks) (\(ranks) ranks × --batch-size \(batchSize))"
            throw TrainingError.dataMismatch(
                file: manifestPath, reason: "\(batch) is larger than the \(set.count) training records",
                hint: "use a batch size of at most \(set.count / ranks)" + (ranks == 1 ? "" : " per rank"))
        }
        // Every rank decodes the whole global batch: keep it decoded ahead (a slot is one
        // photo and label map, 256 KiB at 256 × 256).
        let depth = ranks == 1 ? SegmentationLoader.Options(seed: seed).queueDepth
            : min(1024, max(8, 2 * batchSize * ranks))
        loader = try SegmentationLoader(set: set, options: .init(seed: seed, queueDepth: depth), state: state)
        let cropsRecords =
            crop && loader.width >= configuration.imageWidth && loader.height >= configuration.imageHeight
        guard resize || cropsRecords
            || (loader.width == configuration.imageWidth && loader.height == configuration.imageHeight)
        else {
            throw TrainingError.dataMismatch(
                file: manifestPath,
                reason: "the records are \(loader.width)×\(loader.height), the model expects \(configuration.imageWidth)×\(configuration.imageHeight)",
                hint: "pass --resize to resample each sample to the model's size, prepare the data at \(configuration.imageWidth)×\(configuration.imageHeight), or choose the preset of that size")
        }
        guard !configuration.hasInstanceEdges || loader.hasInstances else {
            throw TrainingError.dataMismatch(
                file: manifestPath, reason: "the model takes instance edges, and the records hold no instance maps",
                hint: "prepare the data with its instance maps (smisprep cityscapes keeps them)")
        }
        self.batchSize = batchSize
        self.crop = crop
        self.configuration = configuration
        self.rank = rank
        self.ranks = ranks
        self.resize = resize
        self.flip = flip
        self.seed = seed
        classCount = configuration.classCount
        width = configuration.imageWidth
        height = configuration.imageHeight
        let plane = width * height
        labels = [UInt8](repeating: 0, count: batchSize * plane)
        pixels = [UInt8](repeating: 0, count: batchSize * plane * 3)
        instances = [UInt16](repeating: 0, count: configuration.hasInstanceEdges ? batchSize * plane : 0)
    }

    /// Where the reader stands after the last batch returned: a checkpoint saves it.
    public var readerState: ReaderState { loader.state }

    /// Records skipped as damaged so far, each with shard, record, offset and key.
    public var skipped: [RecordsError] { loader.skipped }

    /// This rank's `batchSize` samples of the next global batch as model inputs, with their
    /// stream indices.
    public func next() throws -> StreamBatch {
        var streamIndices: [UInt64] = []
        for position in 0..<batchSize * ranks {
            guard let sample = try loader.next() else {
                throw TrainingError.dataMismatch(file: set.directory.path, reason: "the reader ended",
                                                 hint: "every record may be damaged; run `smisprep verify`")
            }
            let index = position - rank * batchSize
            guard (0..<batchSize).contains(index) else { continue }
            place(sample, intoSlot: index)
            if flip && RunRandomness.flips(seed: seed, streamIndex: sample.streamIndex) { mirrorSlot(index) }
            streamIndices.append(sample.streamIndex)
        }
        let seg = try ModelInput.seg(
            labels: labels, instances: configuration.hasInstanceEdges ? instances : nil, batch: batchSize,
            height: height, width: width, configuration: configuration)
        let image = try ModelInput.image(rgb: pixels, batch: batchSize, height: height, width: width)
        return StreamBatch(
            inputs: try TrainingBatch(seg: seg, image: image, classes: classCount), streamIndices: streamIndices)
    }

    /// Puts one sample into batch slot `slot`: as it is at the model's size, a random window
    /// of it with `crop`, else resampled to the model's size.
    private func place(_ sample: SegmentationLoader.Sample, intoSlot slot: Int) {
        let sameSize = sample.width == width && sample.height == height
        if sameSize || (crop && sample.width >= width && sample.height >= height) {
            let origin = sameSize ? (x: 0, y: 0) : RunRandomness.cropOrigin(
                seed: seed, streamIndex: sample.streamIndex, recordWidth: sample.width, recordHeight: sample.height,
                width: width, height: height)
            copy(label: sample.label, pixels: sample.pixels, instances: sample.instances,
                 sourceWidth: sample.width, origin: origin, intoSlot: slot)
            return
        }
        let label = LabelMap(width: sample.width, height: sample.height, values: Array(sample.label))
            .resized(width: width, height: height)
        let photo = Image(width: sample.width, height: sample.height, pixels: Array(sample.pixels))
            .resized(width: width, height: height)
        let ids = (configuration.hasInstanceEdges ? sample.instances : nil).map {
            InstanceMap(width: sample.width, height: sample.height, values: Array($0))
                .resized(width: width, height: height)
        }
        label.values.withUnsafeBufferPointer { labelValues in
            photo.pixels.withUnsafeBufferPointer { photoPixels in
                if let ids {
                    ids.values.withUnsafeBufferPointer {
                        copy(label: labelValues, pixels: photoPixels, instances: $0, sourceWidth: width,
                             origin: (0, 0), intoSlot: slot)
                    }
                } else {
                    copy(label: labelValues, pixels: photoPixels, instances: nil, sourceWidth: width,
                         origin: (0, 0), intoSlot: slot)
                }
            }
        }
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
        if configuration.hasInstanceEdges {
            instances.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<height {
                    var line = UnsafeMutableBufferPointer(
                        start: buffer.baseAddress! + slot * plane + row * width, count: width)
                    line.reverse()
                }
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

    /// Copies the model-sized window at `origin` of a sample `sourceWidth` wide into batch
    /// slot `slot` of the reused buffers, row by row (instance ids only where the model takes
    /// them).
    private func copy(label: UnsafeBufferPointer<UInt8>, pixels source: UnsafeBufferPointer<UInt8>,
                      instances ids: UnsafeBufferPointer<UInt16>?, sourceWidth: Int, origin: (x: Int, y: Int),
                      intoSlot slot: Int) {
        let plane = width * height
        let withInstances = configuration.hasInstanceEdges
        for row in 0..<height {
            let from = (origin.y + row) * sourceWidth + origin.x, to = slot * plane + row * width
            labels.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + to).update(from: label.baseAddress! + from, count: width)
            }
            pixels.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + 3 * to).update(from: source.baseAddress! + 3 * from, count: 3 * width)
            }
            if withInstances, let ids {
                instances.withUnsafeMutableBufferPointer {
                    ($0.baseAddress! + to).update(from: ids.baseAddress! + from, count: width)
                }
            }
        }
    }
}

/// One batch of the training stream: the model's inputs, and each sample's stream index (its
/// flip and its noise are drawn from it).
public struct StreamBatch {
    public let inputs: TrainingBatch
    public let streamIndices: [UInt64]
}
