import ImageIO

/// Gathers data-set statistics one sample at a time, in the same pass as other work (the
/// pipeline's writer, the shard writer) or alone (`smisprep stats`).
///
/// Accumulators are mergeable: give each core its own, `add` samples to each, then `merge`
/// them; `finish()` gives the same `DatasetStatistics` as one accumulator fed every sample in
/// any order. That holds bit for bit, because the state is exact integers and lists that
/// `finish()` sorts before it computes any floating-point figure.
///
/// What the state keeps, and why:
/// - per label value, a `RegionTally`: how many images have each distinct area, box width
///   and box height, so medians and filter drop counts are exact and thresholds can be chosen
///   at `finish()`, in memory bounded by the label size rather than the number of images;
/// - a 256 × 256 co-occurrence matrix of image counts;
/// - per photo channel, Σx and Σx² as exact 128-bit integers (see `ExactSum`);
/// - a 64-bit content hash per photo with its sample key, for duplicates: the one part that
///   grows with the data set, by 16 bytes plus the key's length per photo (about 3 MB for
///   DeepFashion's 52,712 photos).
public struct StatisticsAccumulator: Sendable {
    public let labelSet: LabelSet
    /// The thresholds a source set's statistics count `--filter` drops at.
    public let filterThresholds: [FilterThreshold]
    /// Bins of the bounding-box width and height histograms (fractions of the image size).
    public let boundingBoxBinCount: Int

    var sampleCount = 0
    /// Indexed by label value.
    var regions = [RegionTally](repeating: RegionTally(), count: 256)
    /// `cooccurrence[a * 256 + b]`: images holding both values a and b.
    var cooccurrence = [Int](repeating: 0, count: 256 * 256)
    var partitions: [String: Int] = [:]
    var photoSizes: [PixelSize: Int] = [:]
    var labelSizes: [PixelSize: Int] = [:]
    var samplesWithoutPhoto = 0
    var sizeMismatches = 0
    var photoPixelCount = 0
    var channelSums = [ExactSum](repeating: ExactSum(), count: 3)
    var channelSquares = [ExactSum](repeating: ExactSum(), count: 3)
    /// The content hash of every photo added, in order, and its key at the same index.
    var photoHashes: [UInt64] = []
    var photoKeys = PackedKeys()

    /// An accumulator for label maps holding target class ids: `classNames[i]` names id `i`.
    public init(classNames: [String], boundingBoxBinCount: Int = 10) {
        self.init(labelSet: LabelSet(targetClasses: classNames), boundingBoxBinCount: boundingBoxBinCount)
    }

    /// An accumulator over any label set. For a parser's raw output (a source set such as
    /// `Pipelines/sources/lip.yaml`) its statistics also count, per class, the images a
    /// `--filter` on it would drop at `filterThresholds`.
    /// - Precondition: `boundingBoxBinCount >= 1`.
    public init(
        labelSet: LabelSet, filterThresholds: [FilterThreshold] = FilterThreshold.statisticsDefaults,
        boundingBoxBinCount: Int = 10
    ) {
        precondition(boundingBoxBinCount >= 1, "a histogram needs at least one bin")
        self.labelSet = labelSet
        self.filterThresholds = filterThresholds
        self.boundingBoxBinCount = boundingBoxBinCount
    }

    /// Adds one sample.
    /// - Parameters:
    ///   - label: its label map; values outside the label set are counted, not rejected.
    ///   - photo: its photo, or nil when only labels are available (no channel, size or
    ///     duplicate figures for it). A photo of another size than the label is counted as a
    ///     mismatch and still used.
    ///   - partition: e.g. `train` or `val`.
    ///   - key: names the sample in duplicate groups (the file stem); nil uses
    ///     `sample <n>` with `n` counted within this accumulator.
    public mutating func add(label: LabelMap, photo: Image?, partition: String, key: String? = nil) {
        var present: [Int] = []
        present.reserveCapacity(32)
        label.forEachRegion { region in
            regions[Int(region.value)].add(region, imageWidth: label.width, imageHeight: label.height)
            present.append(Int(region.value))
        }
        for a in present {
            for b in present { cooccurrence[a * 256 + b] += 1 }
        }
        partitions[partition, default: 0] += 1
        labelSizes[PixelSize(width: label.width, height: label.height), default: 0] += 1
        if let photo {
            addPhoto(photo, label: label, key: key ?? "sample \(sampleCount)")
        } else {
            samplesWithoutPhoto += 1
        }
        sampleCount += 1
    }

    private mutating func addPhoto(_ photo: Image, label: LabelMap, key: String) {
        photoSizes[PixelSize(width: photo.width, height: photo.height), default: 0] += 1
        if photo.width != label.width || photo.height != label.height { sizeMismatches += 1 }
        photoPixelCount += photo.pixelCount
        let sums = photo.summary()
        channelSums[0].add(sums.sum.0)
        channelSums[1].add(sums.sum.1)
        channelSums[2].add(sums.sum.2)
        channelSquares[0].add(sums.sumOfSquares.0)
        channelSquares[1].add(sums.sumOfSquares.1)
        channelSquares[2].add(sums.sumOfSquares.2)
        photoHashes.append(sums.contentHash)
        photoKeys.append(key)
    }

    /// Adds everything `other` has seen.
    /// - Precondition: both accumulators have the same label set, thresholds and bins.
    public mutating func merge(_ other: StatisticsAccumulator) {
        precondition(
            labelSet == other.labelSet && filterThresholds == other.filterThresholds
                && boundingBoxBinCount == other.boundingBoxBinCount,
            "only accumulators with the same label set, thresholds and bins can merge")
        sampleCount += other.sampleCount
        for v in 0..<256 where !other.regions[v].isEmpty { regions[v].merge(other.regions[v]) }
        for i in 0..<cooccurrence.count { cooccurrence[i] += other.cooccurrence[i] }
        partitions.merge(other.partitions, uniquingKeysWith: +)
        photoSizes.merge(other.photoSizes, uniquingKeysWith: +)
        labelSizes.merge(other.labelSizes, uniquingKeysWith: +)
        samplesWithoutPhoto += other.samplesWithoutPhoto
        sizeMismatches += other.sizeMismatches
        photoPixelCount += other.photoPixelCount
        for c in 0..<3 {
            channelSums[c].add(other.channelSums[c])
            channelSquares[c].add(other.channelSquares[c])
        }
        photoHashes.append(contentsOf: other.photoHashes)
        photoKeys.append(contentsOf: other.photoKeys)
    }
}

struct PixelSize: Hashable, Sendable {
    var width: Int
    var height: Int
}

/// An unsigned 128-bit running sum: Σx² stays exact up to 2⁶⁴ pixels of 255². Exact sums make
/// merging order-free; the one rounding to `Double` happens in `finish()`.
struct ExactSum: Equatable, Sendable {
    var high: UInt64 = 0
    var low: UInt64 = 0

    mutating func add(_ value: UInt64) {
        let (sum, overflow) = low.addingReportingOverflow(value)
        low = sum
        if overflow { high &+= 1 }
    }

    mutating func add(_ other: ExactSum) {
        add(other.low)
        high &+= other.high
    }

    /// The nearest Double (one rounding for values below 2⁶⁴, two above).
    var doubleValue: Double { Double(high) * 18_446_744_073_709_551_616.0 + Double(low) }
}
