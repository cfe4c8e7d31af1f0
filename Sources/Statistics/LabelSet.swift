/// The names of the label values a data set uses, and whether they are target classes or a
/// human parser's source ids. One type for every place that names label values: the pipeline's
/// source label set (`Pipelines/sources/lip.yaml`) and target classes, the statistics' class
/// tables and the report's colours.
///
/// Any of the 256 byte values may be named; a value without a name that occurs in a label map
/// is reported as outside the set.
public struct LabelSet: Equatable, Sendable {
    /// Target classes or source ids.
    public let kind: LabelSetKind
    /// Short name of a source set, e.g. "lip"; empty for target classes.
    public let name: String
    /// Class names indexed by label value; nil where a value is unused. Ends at the highest
    /// named value, so two sets with the same names are equal.
    public let namesByID: [String?]

    /// Target classes: `names[i]` names id `i`.
    /// - Precondition: at most 256 names.
    public init(targetClasses names: [String]) {
        precondition(names.count <= 256, "a label byte holds at most 256 classes, got \(names.count)")
        self.kind = .target
        self.name = ""
        self.namesByID = names
    }

    /// A parser's source label set (e.g. LIP's 20 ids), usually read from
    /// `Pipelines/sources/<name>.yaml`. Values absent from `classes` (such as a parser's 255
    /// "ignore") are outside the set.
    /// - Precondition: ids in 0...255.
    public init(source name: String, classes: [Int: String]) {
        var names = [String?](repeating: nil, count: (classes.keys.max() ?? -1) + 1)
        for (id, className) in classes {
            precondition((0...255).contains(id), "label value \(id) is not a byte")
            names[id] = className
        }
        self.kind = .source
        self.name = name
        self.namesByID = names
    }

    /// The label values that have a name, ascending.
    public var ids: [Int] { namesByID.indices.filter { namesByID[$0] != nil } }

    /// The names of `ids`, in the same order (for target classes, `names[id]`).
    public var names: [String] { namesByID.compactMap { $0 } }

    /// Number of named values.
    public var count: Int { ids.count }

    /// The label value of a class name, or nil when the set has no such class.
    public func id(named name: String) -> Int? { namesByID.firstIndex { $0 == name } }

    /// The name of a label value, or nil when it has none.
    public func name(of id: Int) -> String? { namesByID.indices.contains(id) ? namesByID[id] : nil }

    /// True when `value` has a name in this set.
    public func contains(_ value: Int) -> Bool { name(of: value) != nil }
}

/// What the label values of a data set mean.
public enum LabelSetKind: String, Codable, Sendable {
    /// Target class ids (0..<n) of a prepared data set or of shards.
    case target
    /// A human parser's source ids (LIP, CIHP, ATR…), before remapping.
    case source
}
