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
        // Label maps are runs of equal ids. The current run is counted in a register, eight
        // bytes per comparison: only where the value changes does a count go to memory.
        // Words of mixed values go to four partial tables, which break the store-to-load
        // dependency of consecutive equal values. One flat buffer keeps the loop free of array
        // bookkeeping.
        let partial = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4 * 256)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0)
        label.values.withUnsafeBufferPointer { values in
            guard let base = values.baseAddress else { return }
            let n = values.count
            var runValue = 0, runWord: UInt64 = 0, runCount = 0
            var i = 0
            while i + 8 <= n {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                i += 8
                if word == runWord {
                    runCount += 8
                    continue
                }
                let first = word & 0xFF
                if word == first &* 0x0101_0101_0101_0101 {  // a new run
                    partial[runValue] += runCount
                    runValue = Int(first)
                    runWord = word
                    runCount = 8
                } else {
                    partial[Int(first)] += 1
                    partial[256 + Int((word >> 8) & 0xFF)] += 1
                    partial[512 + Int((word >> 16) & 0xFF)] += 1
                    partial[768 + Int((word >> 24) & 0xFF)] += 1
                    partial[Int((word >> 32) & 0xFF)] += 1
                    partial[256 + Int((word >> 40) & 0xFF)] += 1
                    partial[512 + Int((word >> 48) & 0xFF)] += 1
                    partial[768 + Int(word >> 56)] += 1
                }
            }
            partial[runValue] += runCount
            while i < n {
                partial[Int(base[i])] += 1
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
