/// The names of the label values a data set uses, and whether they are target classes or a
/// parser's source ids. Any of the 256 byte values may be named; unnamed values that occur in a
/// label map are reported as outside the table.
public struct ClassTable: Equatable, Sendable {
    /// Name per label value; nil for values not in the table.
    public let names: [String?]
    public let kind: LabelSetKind

    /// Target classes: `classNames[i]` is the name of id `i`.
    /// - Precondition: at most 256 names.
    public init(classNames: [String]) {
        precondition(classNames.count <= 256, "a label byte holds at most 256 classes, got \(classNames.count)")
        self.names = classNames.map { Optional($0) } + Array(repeating: nil, count: 256 - classNames.count)
        self.kind = .target
    }

    /// A parser's source label set (e.g. LIP's 20 ids), named by the caller, usually from
    /// `Pipelines/sources/<name>.yaml`. Values absent from `sourceClasses` (such as a parser's
    /// 255 "ignore") are outside the table.
    public init(sourceClasses: [UInt8: String]) {
        var names = [String?](repeating: nil, count: 256)
        for (id, name) in sourceClasses { names[Int(id)] = name }
        self.names = names
        self.kind = .source
    }

    /// The label values that have a name, ascending.
    public var ids: [Int] { (0..<256).filter { names[$0] != nil } }
}

/// Thresholds at which `StatisticsAccumulator` counts the images a `--filter` would drop.
public struct FilterThresholds: Equatable, Sendable {
    /// Pixel counts; an image is dropped when a class holds MORE pixels than this.
    public var pixels: [Int]
    /// Fractions of the image's pixels, in (0, 1).
    public var fractions: [Double]

    public init(pixels: [Int], fractions: [Double]) {
        self.pixels = pixels
        self.fractions = fractions
    }

    /// 0 (any pixel), 100, 1,000 and 10,000 pixels; 0.1 %, 1 % and 5 % of the image.
    public static let `default` = FilterThresholds(pixels: [0, 100, 1_000, 10_000], fractions: [0.001, 0.01, 0.05])
}
