import ImageIO

/// The remap stage: a 256-entry table from source values to target class ids.
///
/// Values the source set does not define map to `unmapped` (255); the check stage drops such
/// samples before remapping, so remapped maps hold target ids only.
public struct LabelRemap: Equatable, Sendable {
    /// Marks a value with no target; never a target id (at most 255 classes, ids 0...254).
    public static let unmapped: UInt8 = 255
    /// `table[source value]` = target id.
    public let table: [UInt8]

    public init(table: [UInt8]) {
        precondition(table.count == 256, "a remap table has 256 entries")
        self.table = table
    }

    /// The table of a class mapping and ignore rule.
    public init(classMapping: ClassMapping, ignore: IgnoreRule) {
        var table = [UInt8](repeating: Self.unmapped, count: 256)
        for (target, sources) in classMapping.sourceIDsByTarget.enumerated() {
            for source in sources { table[source] = UInt8(target) }
        }
        if let becomes = ignore.becomes { table[Int(ignore.value)] = UInt8(becomes) }
        self.init(table: table)
    }

    /// The label map with every value replaced through the table.
    public func apply(to label: LabelMap) -> LabelMap {
        var output = [UInt8](repeating: 0, count: label.values.count)
        table.withUnsafeBufferPointer { table in
            label.values.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    for i in 0..<input.count { output[i] = table[Int(input[i])] }
                }
            }
        }
        return LabelMap(width: label.width, height: label.height, values: output)
    }

    /// The target histogram implied by a source histogram (no pass over the pixels).
    public func apply(to histogram: LabelHistogram) -> LabelHistogram {
        var counts = [Int](repeating: 0, count: 256)
        for value in 0..<256 { counts[Int(table[value])] += histogram.counts[value] }
        return LabelHistogram(counts: counts)
    }
}
