import Records
import Statistics

/// Values that replace a pipeline file's settings before it is checked, e.g. from the command
/// line of `smisprep deepfashion`. Nil leaves the file's value.
public struct PipelineOverrides: Equatable, Sendable {
    public var source: String?
    public var images: String?
    public var labels: String?
    public var output: String?
    public var filterClasses: [String]?
    public var filterThreshold: FilterThreshold?
    public var size: Size?
    /// The training samples' size (`resize.train-size`).
    public var trainSize: Size?
    public var fit: ResizeSettings.Fit?
    public var partitionList: String?
    public var validationFraction: Double?
    public var writeSplit: Bool?
    /// Shard folder: adds `outputs.shards` (or moves the file's).
    public var shardDirectory: String?
    /// Shard sizing, image and label encodings: replace the values of `outputs.shards`, which
    /// must then exist (in the file or through `shardDirectory`).
    public var shardSizing: ShardSizing?
    public var shardImage: SegmentationRecord.ImageEncoding?
    public var shardLabel: SegmentationRecord.LabelEncoding?

    public init() {}
}

extension PipelineDocument {
    /// Replaces the file's values with those `overrides` gives. A replaced value has no line:
    /// errors about it name the command line.
    mutating func apply(_ overrides: PipelineOverrides) throws {
        if let source = overrides.source { self.source = Located(value: source, line: nil) }
        if let images = overrides.images { self.images = images }
        if let labels = overrides.labels { self.labels = labels }
        if let output = overrides.output { self.output = output }
        if let classes = overrides.filterClasses { filter.classes = classes.map { Located(value: $0, line: nil) } }
        if let threshold = overrides.filterThreshold { filter.threshold = threshold }
        if let size = overrides.size { resize.size = size }
        if let size = overrides.trainSize { resize.trainSize = size }
        if let fit = overrides.fit { resize.fit = fit }
        if let list = overrides.partitionList { partition.list = list }
        if let fraction = overrides.validationFraction { partition.validationFraction = fraction }
        if let split = overrides.writeSplit { outputs.split = split }
        try applyShardOverrides(overrides)
    }

    private mutating func applyShardOverrides(_ overrides: PipelineOverrides) throws {
        if let directory = overrides.shardDirectory {
            if outputs.shards == nil { shardsLine = nil }
            outputs.shards = outputs.shards ?? ShardSettings(directory: directory)
            outputs.shards!.directory = directory
        }
        let changesSettings = overrides.shardSizing != nil || overrides.shardImage != nil || overrides.shardLabel != nil
        guard changesSettings else { return }
        guard var shards = outputs.shards else {
            throw PipelineFileError(
                file: "command line", line: nil,
                reason: .invalidValue(
                    key: "outputs.shards",
                    expected: "given (--shards DIR) for the shard size and encoding options to apply"))
        }
        if let sizing = overrides.shardSizing { shards.sizing = sizing }
        if let image = overrides.shardImage { shards.image = image }
        if let label = overrides.shardLabel { shards.label = label }
        outputs.shards = shards
    }
}
