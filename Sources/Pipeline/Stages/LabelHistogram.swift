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
        // which is what label maps are made of; one flat buffer keeps the loop free of
        // array bookkeeping.
        let partial = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4 * 256)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0)
        label.values.withUnsafeBufferPointer { values in
            let n = values.count
            var i = 0
            while i + 4 <= n {
                partial[Int(values[i])] += 1
                partial[256 + Int(values[i + 1])] += 1
                partial[512 + Int(values[i + 2])] += 1
                partial[768 + Int(values[i + 3])] += 1
                i += 4
            }
            while i < n {
                partial[Int(values[i])] += 1
                i += 1
            }
        }
        counts = (0..<256).map { partial[$0] + partial[256 + $0] + partial[512 + $0] + partial[768 + $0] }
    }

    /// Values with at least one pixel, ascending.
    public var presentValues: [Int] { counts.indices.filter { counts[$0] > 0 } }

    /// Total pixels.
    public var total: Int { counts.reduce(0, +) }
}
