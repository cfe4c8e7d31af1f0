import ImageIO
import Statistics

/// The check stage: photo and label map have the same size, and every label value belongs to
/// the source label set (or is the ignore value under a rule that keeps it).
public struct SampleCheck: Sendable {
    /// `accepted[v]` is true when value `v` may appear.
    public let accepted: [Bool]

    public init(source: LabelSet, ignore: IgnoreRule) {
        var accepted = [Bool](repeating: false, count: 256)
        for id in source.ids { accepted[id] = true }
        if ignore.becomes != nil { accepted[Int(ignore.value)] = true }
        self.accepted = accepted
    }

    /// Nil when the sample passes, else the first problem (size before values; the smallest
    /// unknown value).
    public func problem(photoWidth: Int, photoHeight: Int, label: LabelMap, histogram: LabelHistogram) -> DropReason? {
        guard photoWidth == label.width, photoHeight == label.height else {
            return .sizeMismatch(
                photoWidth: photoWidth, photoHeight: photoHeight, labelWidth: label.width, labelHeight: label.height)
        }
        if let value = histogram.presentValues.first(where: { !accepted[$0] }) {
            return .unknownLabelValue(value: value, pixels: histogram.counts[value])
        }
        return nil
    }
}
