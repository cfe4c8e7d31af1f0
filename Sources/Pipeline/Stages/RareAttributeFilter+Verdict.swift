extension RareAttributeFilter {
    /// The filter stage: nil when the sample is kept, else the first listed class (in the
    /// file's order) holding more than the threshold, with its pixel count.
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
