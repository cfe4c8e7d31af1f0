import Foundation

/// How much of one class a sample may hold before a `--filter` on that class drops it: a pixel
/// count, or a percentage of the image's pixels. The one threshold type of the pipeline's
/// rare-attribute filter and of the statistics' drop counts (`FilterCandidates`), so both
/// speak the same unit.
public enum FilterThreshold: Equatable, Sendable, CustomStringConvertible {
    /// Absolute pixel count, compared with the full-size label map.
    case pixels(Int)
    /// Percent of the image's pixels, e.g. 0.1 for 0.1 %.
    case percent(Double)

    /// The thresholds `smisprep stats` counts drops at: 0 (any pixel), 100, 1,000 and 10,000
    /// pixels; 0.1 %, 1 % and 5 % of the image.
    public static let statisticsDefaults: [FilterThreshold] = [
        .pixels(0), .pixels(100), .pixels(1_000), .pixels(10_000), .percent(0.1), .percent(1), .percent(5),
    ]

    /// The largest pixel count still kept in an image of `pixelCount` pixels.
    public func limit(forPixelCount pixelCount: Int) -> Double {
        switch self {
        case .pixels(let count): return Double(count)
        case .percent(let percent): return Double(pixelCount) * percent / 100
        }
    }

    /// The count of a pixel threshold; nil for a percentage.
    var pixelCount: Int? {
        if case .pixels(let count) = self { return count }
        return nil
    }

    /// The share of the image of a percentage (`percent / 100`: 0.001 for 0.1 %); nil for a
    /// pixel count.
    var fraction: Double? {
        if case .percent(let percent) = self { return percent / 100 }
        return nil
    }

    /// As written in a pipeline file: `500` or `0.1%`.
    public var description: String {
        switch self {
        case .pixels(let count): return String(count)
        case .percent(let percent): return "\(Self.formatted(percent))%"
        }
    }

    /// Parses `500` (pixels) or `0.1%` (percent); nil for anything else, negatives and more
    /// than 100 %.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let value = Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)),
                value >= 0, value <= 100
            else { return nil }
            self = .percent(value)
        } else {
            guard let value = Int(trimmed), value >= 0 else { return nil }
            self = .pixels(value)
        }
    }

    /// `0.1` rather than `0.1000000001`-style noise, and `2` rather than `2.0`.
    private static func formatted(_ value: Double) -> String {
        if value == value.rounded() { return String(Int(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
