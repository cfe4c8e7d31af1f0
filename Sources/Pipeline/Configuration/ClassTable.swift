import Foundation

/// The target classes and, for the active source label set, which source classes make each.
///
/// A target class's id is its position in `names` (DeepFashion: 0 hair … 7 background).
/// Mappings for other source sets are kept so the effective pipeline file can be written back.
public struct ClassTable: Equatable, Sendable {
    /// Target class names in id order.
    public let names: [String]
    /// For each target id, the source ids that become it (active source).
    public let sourceIDsByTarget: [[Int]]
    /// Every mapping of the file, by source name, each as source class names per target id.
    public let mappingsBySource: [String: [[String]]]

    public init(names: [String], sourceIDsByTarget: [[Int]], mappingsBySource: [String: [[String]]] = [:]) {
        precondition(names.count == sourceIDsByTarget.count, "one source list per target class")
        precondition(names.count <= 255, "at most 255 target classes")
        self.names = names
        self.sourceIDsByTarget = sourceIDsByTarget
        self.mappingsBySource = mappingsBySource
    }

    /// Number of target classes.
    public var count: Int { names.count }

    /// Target id of a class name, or nil.
    public func id(named name: String) -> Int? { names.firstIndex(of: name) }

    /// The target id each source id becomes (nil for ids no target lists).
    public func targetBySourceID() -> [Int: Int] {
        var result: [Int: Int] = [:]
        for (target, sources) in sourceIDsByTarget.enumerated() {
            for source in sources { result[source] = target }
        }
        return result
    }
}

/// The rare-attribute filter: drop a sample holding more than `threshold` of a listed class.
public struct RareAttributeFilter: Equatable, Sendable {
    /// Source class names as written in the file, e.g. ["glove"].
    public var classNames: [String]
    /// Their source ids, same order.
    public var sourceIDs: [Int]
    /// The amount above which a sample is dropped.
    public var threshold: Threshold

    /// A limit in pixels or as a share of the image.
    public enum Threshold: Equatable, Sendable, CustomStringConvertible {
        /// Absolute pixel count, compared with the full-size label map.
        case pixels(Int)
        /// Percent of the image's pixels, e.g. 0.1 for 0.1 %.
        case percent(Double)

        /// The largest pixel count still kept in an image of `pixelCount` pixels.
        public func limit(forPixelCount pixelCount: Int) -> Double {
            switch self {
            case .pixels(let count): return Double(count)
            case .percent(let percent): return Double(pixelCount) * percent / 100
            }
        }

        /// As written in a pipeline file: `500` or `0.1%`.
        public var description: String {
            switch self {
            case .pixels(let count): return String(count)
            case .percent(let percent): return "\(formatPercent(percent))%"
            }
        }

        /// Parses `500` (pixels) or `0.1%` (percent); nil for anything else or negatives.
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
    }

    public init(classNames: [String], sourceIDs: [Int], threshold: Threshold) {
        self.classNames = classNames
        self.sourceIDs = sourceIDs
        self.threshold = threshold
    }
}

/// `0.1` rather than `0.1000000001`-style noise, and `2` rather than `2.0`.
func formatPercent(_ value: Double) -> String {
    if value == value.rounded() { return String(Int(value)) }
    var text = String(format: "%.6f", value)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}
