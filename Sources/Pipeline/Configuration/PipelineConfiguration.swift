import Records
import Statistics

/// Everything one run of the preparation pipeline needs to know, decoded once from a pipeline
/// file (`Pipelines/deepfashion.yaml`) and handed to each stage as the typed piece it uses.
///
/// Runtime choices that do not change the output (threads, worker slice) are not part of it.
/// It is made by reading a pipeline file (`init(contentsOfFile:overrides:)`), so this type and
/// its settings keep their memberwise initialisers internal; only `ShardSettings`, which
/// `smisprep shard` fills from its options, has a public one.
public struct PipelineConfiguration: Equatable, Sendable {
    /// How the source was named in the file (`lip`, or a path), kept for the effective file.
    public var sourceReference: String
    /// The parser's label set.
    public var source: LabelSet
    /// The label-set file it was read from (absolute), when read from a file; the effective
    /// `pipeline.yaml` names this path so it reads back from any folder.
    public var sourceFile: String?
    /// Photos folder (DeepFashion's `img/`), nil until given.
    public var images: String?
    /// Parser output folder, nil until given.
    public var labels: String?
    /// Prepared output folder, nil until given.
    public var output: String?
    /// How photos, label maps and instance maps are named (file-name suffixes); by extension
    /// when not given (DeepFashion).
    public var inputs = InputNaming()
    /// Source ids → target classes.
    public var classMapping: ClassMapping
    /// What happens to the parser's "ignore" value.
    public var ignore: IgnoreRule
    /// Rare-attribute filter.
    public var filter: RareAttributeFilter
    /// Training size and fit.
    public var resize = ResizeSettings()
    /// Train/validation assignment.
    public var partition = PartitionSettings()
    /// What to write.
    public var outputs = OutputSettings()
}

/// How the files of one sample are named, when not by extension alone: each kind's file is its
/// sample's stem followed by a suffix (Cityscapes: `aachen_000000_000019` +
/// `_leftImg8bit.png`, `_gtFine_labelIds.png`, `_gtFine_instanceIds.png`).
public struct InputNaming: Equatable, Sendable {
    /// Photos: the files under `images` whose names end with this; nil takes every photo
    /// extension (`.jpg`, `.png`, …) with the extension as the suffix.
    public var photoSuffix: String?
    /// Label maps: the files under `labels` whose names end with this; nil takes `.png` and
    /// `.tif` files.
    public var labelSuffix: String?
    /// Instance maps: beside each label map under `labels`, its stem followed by this (16-bit
    /// ids); nil when the data set has none.
    public var instanceSuffix: String?

    public init(photoSuffix: String? = nil, labelSuffix: String? = nil, instanceSuffix: String? = nil) {
        (self.photoSuffix, self.labelSuffix, self.instanceSuffix) = (photoSuffix, labelSuffix, instanceSuffix)
    }

    /// True when nothing is set: files are told apart by their extensions.
    public var isDefault: Bool { self == InputNaming() }
}

/// What the parser's "ignore" value (255 by convention) turns into.
public struct IgnoreRule: Equatable, Sendable {
    /// The value, e.g. 255. Must not be an id of the source set.
    public var value: UInt8 = 255
    /// Target class id it becomes, or nil to drop any sample holding it.
    public var becomes: Int?
}

/// Training size, aspect handling and photo resampling.
public struct ResizeSettings: Equatable, Sendable {
    /// Output size, e.g. 256×256 (the validation size when `trainSize` is given).
    public var size = Size(width: 256, height: 256)
    /// The training samples' size when it differs from `size` (ADE20K: 286×286, the reference's
    /// load size, from which training crops `size` at random); nil: `size` for both sides.
    public var trainSize: Size?
    /// How the aspect ratio is handled.
    public var fit = Fit.stretch
    /// Photo resampling filter (label maps are always nearest).
    public var photoFilter = PhotoFilter.bicubic

    /// How a photo of another aspect ratio reaches the training size.
    public enum Fit: String, Sendable, CaseIterable {
        /// Resize to the size, distorting the aspect (what the reference does).
        case stretch
        /// Keep the aspect; pad the short side (black photo, background label).
        case pad
        /// Keep the aspect; cut the long side around the centre.
        case crop
    }

    /// Photo resampling filter, mirroring ImageIO's `ResizeFilter`.
    public enum PhotoFilter: String, Sendable, CaseIterable {
        case nearest, bilinear, bicubic
    }
}

/// Train/validation assignment settings.
public struct PartitionSettings: Equatable, Sendable {
    /// Path of DeepFashion's `list_eval_partition.txt`, or nil to hash item ids.
    public var list: String?
    /// Share of items sent to validation when hashing, in 0...1.
    public var validationFraction = 0.08
    /// The data set's own split by top-level folder (Cityscapes: `train`, `val`; ADE20K:
    /// `training`, `validation`), in the file's order; only these folders of `images` and
    /// `labels` are read. Empty: the list or the hash decides.
    public var folders: [FolderSplit] = []

    /// One top-level folder of a data set and the side its samples land on.
    public struct FolderSplit: Equatable, Sendable {
        public var folder: String
        public var split: DataSplit
        public init(folder: String, split: DataSplit) {
            self.folder = folder
            self.split = split
        }
    }
}

/// Which outputs a run writes.
public struct OutputSettings: Equatable, Sendable {
    /// The prepared folders (`train/`, `cihp_train_mask/`, `test/`, `cihp_test_mask/`).
    public var prepared = true
    /// Per-class PNGs under `split/<stem>/`, for inspection.
    public var split = false
    /// JPEG quality of written photos, 1...100.
    public var photoQuality = 95
    /// The optional last stage: shards packed from the prepared folders once the run is
    /// complete. Nil (the default) writes none. Not part of the run's resume fingerprint, so
    /// changing it re-shards without re-preparing (see `preparationFingerprint`).
    public var shards: ShardSettings?
}

/// The settings of `smisprep shard`, as a pipeline file's `outputs.shards` holds them.
public struct ShardSettings: Equatable, Sendable {
    /// Folder of the shards, their indexes and `manifest.json`; relative paths are relative to
    /// the current directory, like `output`.
    public var directory: String
    /// Records per shard, or the largest shard size in bytes.
    public var sizing: ShardSizing
    /// How photos are stored (`jpeg` keeps the prepared files' bytes).
    public var image: SegmentationRecord.ImageEncoding
    /// How label maps are stored (`png` keeps the prepared files' bytes).
    public var label: SegmentationRecord.LabelEncoding

    public init(
        directory: String, sizing: ShardSizing = .defaultSize,
        image: SegmentationRecord.ImageEncoding = .jpeg(quality: nil), label: SegmentationRecord.LabelEncoding = .png
    ) {
        self.directory = directory
        self.sizing = sizing
        self.image = image
        self.label = label
    }
}
