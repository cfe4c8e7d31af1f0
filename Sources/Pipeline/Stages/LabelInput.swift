import ImageIO

/// A decoded label map and the pixel count of each of its values, which the check and filter
/// stages read. ImageIO's PNG decoder counts the values as it decodes each row, while the row
/// is in cache (`LabelMap.decodeCountingValues`), which saves the pipeline a pass over the
/// full-size map; other decoders are counted after.
public struct LabelInput: Sendable {
    public let map: LabelMap
    public let histogram: LabelHistogram

    /// A map counted here.
    public init(_ map: LabelMap) {
        self.init(map: map, histogram: LabelHistogram(map))
    }

    /// A map and its counts, which must be of this map (`histogram.total == map.pixelCount`).
    public init(map: LabelMap, histogram: LabelHistogram) {
        precondition(
            histogram.total == map.pixelCount, "a histogram of \(histogram.total) pixels for \(map.pixelCount)")
        self.map = map
        self.histogram = histogram
    }

    /// The encoded file `bytes` at `path`, decoded and counted in one pass.
    public init(encoded bytes: [UInt8], path: String) throws {
        let (map, counts) = try bytes.withUnsafeBytes { try LabelMap.decodeCountingValues($0, source: path) }
        self.init(map: map, histogram: LabelHistogram(counts: counts))
    }
}
