import Statistics

/// The target classes and, for the active source label set, which source classes make each.
///
/// A target class's id is its position in `targets` (DeepFashion: 0 hair … 7 background).
/// Mappings for other source sets are kept so the effective pipeline file can be written back.
public struct ClassMapping: Equatable, Sendable {
    /// The target classes, in id order.
    public let targets: LabelSet
    /// For each target id, the source ids that become it (active source).
    public let sourceIDsByTarget: [[Int]]
    /// Every mapping of the file, by source name, each as source class names per target id.
    public let mappingsBySource: [String: [[String]]]

    /// - Precondition: one source list per target class, at most 255 target classes (255 marks
    ///   an unmapped value in `LabelRemap`).
    public init(targets: [String], sourceIDsByTarget: [[Int]], mappingsBySource: [String: [[String]]] = [:]) {
        precondition(targets.count == sourceIDsByTarget.count, "one source list per target class")
        precondition(targets.count <= 255, "at most 255 target classes")
        self.targets = LabelSet(targetClasses: targets)
        self.sourceIDsByTarget = sourceIDsByTarget
        self.mappingsBySource = mappingsBySource
    }

    /// The target class names in id order.
    public var names: [String] { targets.names }
}
