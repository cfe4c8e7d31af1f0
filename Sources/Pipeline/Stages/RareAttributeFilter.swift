import Statistics

/// The filter stage: drop a sample holding more than `threshold` of a listed source class.
public struct RareAttributeFilter: Equatable, Sendable {
    /// Source class names as written in the file, e.g. ["glove"].
    public var classNames: [String]
    /// Their source ids, same order.
    public var sourceIDs: [Int]
    /// The amount above which a sample is dropped.
    public var threshold: FilterThreshold

    /// Nil when the sample is kept, else the first listed class (in the file's order) holding
    /// more than the threshold, with its pixel count.
    ///
    /// Counts come from the full-size source histogram, so the verdict does not depend on the
    /// training size. A threshold of `0` drops a sample with a single pixel of the class.
    public func verdict(for histogram: LabelHistogram, pixelCount: Int) -> DropReason? {
        let limit = threshold.limit(forPixelCount: pixelCount)
        for (name, id) in zip(classNames, sourceIDs) {
            let pixels = histogram.counts[id]
            if Double(pixels) > limit { return .filtered(sourceClass: name, pixels: pixels, limit: limit) }
        }
        return nil
    }
}
