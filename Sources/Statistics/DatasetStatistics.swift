/// Everything `smisprep stats` knows about a data set, as one Codable value.
///
/// The JSON form is a stable, versioned schema (see `Sources/Statistics/README.md` for every
/// field): `--json` prints it, the pipeline stores it in `report.json`, and the shard writer
/// stores it as the `statistics` object of `manifest.json`. Fields are only ever added under a
/// new `schemaVersion`; readers must ignore fields they do not know.
///
/// All figures are computed from exact integer state (`StatisticsAccumulator`), so the same
/// samples give the same value whatever the order they were added in or how accumulators were
/// split across cores and merged.
///
/// This value and its parts are made by `StatisticsAccumulator.finish()` or decoded from JSON,
/// never assembled by callers, so their memberwise initialisers stay internal.
public struct DatasetStatistics: Codable, Equatable, Sendable {
    /// The schema version this toolkit writes. Version 1 is the first.
    public static let currentSchemaVersion = 1

    /// Version of the JSON schema; 1 for this toolkit.
    public var schemaVersion = DatasetStatistics.currentSchemaVersion
    /// Whether the label maps hold target class ids (a prepared set) or a parser's source ids.
    public var labelSet: LabelSetKind
    /// Number of samples (label maps) seen.
    public var sampleCount: Int
    /// Samples per partition name (e.g. `train`, `val`; `all` for raw parser output).
    public var partitions: [String: Int]
    /// Distinct photo sizes with their counts, most frequent first (ties by width, height).
    public var photoSizes: [SizeCount]
    /// Distinct label-map sizes with their counts, most frequent first.
    public var labelSizes: [SizeCount]
    /// Samples given without a photo (label map only).
    public var samplesWithoutPhoto: Int
    /// Samples whose photo size differs from their label map's size.
    public var photoLabelSizeMismatches: Int
    /// Total number of label pixels over all samples (the denominator of `pixelShare`).
    public var labelPixelCount: Int
    /// One entry per class of the table, in id order.
    public var classes: [ClassStatistics]
    /// Images containing both classes, indexed by position in `classes`; the diagonal holds
    /// the images containing that class.
    public var cooccurrence: [[Int]]
    /// For source label sets only: how many images each candidate `--filter` class would drop.
    public var filterCandidates: FilterCandidates?
    /// Photo channel statistics, nil when no photo was seen.
    public var channels: ChannelStatistics?
    /// Photos whose decoded pixels are identical.
    public var duplicates: DuplicateStatistics
    /// Label values that are not in the class table, in value order.
    public var valuesOutsideTable: [OutsideValue]
}

/// A width × height and how many images have it.
public struct SizeCount: Codable, Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var count: Int
}

/// Figures for one class of the table.
public struct ClassStatistics: Codable, Equatable, Sendable {
    /// The label value (class id).
    public var id: Int
    public var name: String
    /// Pixels of this class over all samples.
    public var pixels: Int
    /// `pixels / labelPixelCount`; 0 when there are no pixels at all.
    public var pixelShare: Double
    /// Images holding at least one pixel of this class.
    public var images: Int
    /// `images / sampleCount`; 0 for an empty set.
    public var imageShare: Double
    /// Mean area in pixels over the images that contain the class; 0 when none does.
    public var meanArea: Double
    /// Exact median area in pixels over the images that contain the class (mean of the two
    /// middle values for an even count); 0 when none does.
    public var medianArea: Double
    /// Mean of area ÷ image pixels over the images that contain the class.
    public var meanAreaFraction: Double
    /// Exact median of area ÷ image pixels over the images that contain the class.
    public var medianAreaFraction: Double
    /// Bounding-box widths as fractions of the image width, over the images containing it.
    public var boundingBoxWidths: FractionHistogram
    /// Bounding-box heights as fractions of the image height.
    public var boundingBoxHeights: FractionHistogram
}

/// A histogram of fractions in [0, 1] with `counts.count` equal bins. Bin `i` holds values in
/// `[i/n, (i+1)/n)`, and the last bin also holds 1 exactly. A box of `w` pixels in an image
/// `W` wide has fraction `w / W`, so a full-width box lands in the last bin.
public struct FractionHistogram: Codable, Equatable, Sendable {
    public var counts: [Int]
    /// Mean of the fractions binned (exact, not from the bins); 0 when empty.
    public var mean: Double
}

/// For each source class, how many images a `--filter` on it would drop at fixed thresholds.
///
/// The pipeline's filter drops a sample whose label map holds MORE than the threshold of a
/// named class, so `dropsAbovePixels[k]` counts images with area `> pixelThresholds[k]` and
/// `dropsAboveFraction[k]` those with area ÷ image pixels `> fractionThresholds[k]`.
public struct FilterCandidates: Codable, Equatable, Sendable {
    public var pixelThresholds: [Int]
    public var fractionThresholds: [Double]
    /// One entry per class of the table, in id order.
    public var classes: [FilterCandidate]
}

/// Drop counts for one candidate filter class.
public struct FilterCandidate: Codable, Equatable, Sendable {
    public var id: Int
    public var name: String
    public var dropsAbovePixels: [Int]
    public var dropsAboveFraction: [Int]
}

/// Per-channel (R, G, B) mean and population standard deviation of all photo pixels, in
/// 0…255 units (divide by 255 for a `Normalize` on [0, 1] tensors).
public struct ChannelStatistics: Codable, Equatable, Sendable {
    public var mean: [Double]
    public var standardDeviation: [Double]
    /// Photo pixels the figures are over (each counted once, not per channel).
    public var pixelCount: Int
}

/// Photos with identical decoded pixels (same size, same RGB bytes).
public struct DuplicateStatistics: Codable, Equatable, Sendable {
    /// Groups of two or more identical photos.
    public var groupCount: Int
    /// Photos beyond the first of each group (what deduplication would remove).
    public var redundantPhotoCount: Int
    /// Every group, sorted by its first key; keys sorted within a group.
    public var groups: [DuplicateGroup]
}

/// One set of identical photos.
public struct DuplicateGroup: Codable, Equatable, Sendable {
    /// The 64-bit content hash, 16 lowercase hex digits.
    public var hash: String
    /// Sample keys (file stems) holding this photo.
    public var keys: [String]
}

/// A label value missing from the class table, and where it occurs.
public struct OutsideValue: Codable, Equatable, Sendable {
    public var value: Int
    /// Images holding at least one pixel of it.
    public var images: Int
    public var pixels: Int
}
