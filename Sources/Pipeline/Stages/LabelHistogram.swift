import ImageIO

/// Pixel count of each of the 256 possible label values, computed in one pass and shared by
/// the check and filter stages (so each label map is scanned once for both).
public struct LabelHistogram: Equatable, Sendable {
    /// `counts[v]` = number of pixels holding value `v`; always 256 entries.
    public private(set) var counts: [Int]

    public init(counts: [Int]) {
        precondition(counts.count == 256, "a label histogram has 256 bins")
        self.counts = counts
    }

    /// Counts the values of a label map.
    public init(_ label: LabelMap) {
        // Four partial tables break the store-to-load dependency on runs of equal values,
        // which is what label maps are made of.
        var partial = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 4)
        label.values.withUnsafeBufferPointer { values in
            let n = values.count
            var i = 0
            while i + 4 <= n {
                partial[0][Int(values[i])] += 1
                partial[1][Int(values[i + 1])] += 1
                partial[2][Int(values[i + 2])] += 1
                partial[3][Int(values[i + 3])] += 1
                i += 4
            }
            while i < n {
                partial[0][Int(values[i])] += 1
                i += 1
            }
        }
        counts = (0..<256).map { partial[0][$0] + partial[1][$0] + partial[2][$0] + partial[3][$0] }
    }

    /// Values with at least one pixel, ascending.
    public var presentValues: [Int] { counts.indices.filter { counts[$0] > 0 } }

    /// Total pixels.
    public var total: Int { counts.reduce(0, +) }
}
