import ImageIO

/// Where one label value lies in one label map: its pixel count and bounding box.
struct LabelRegion: Equatable {
    var value: UInt8
    var pixels: Int
    /// Inclusive bounding box in pixel coordinates.
    var minX: Int, maxX: Int, minY: Int, maxY: Int
    var boxWidth: Int { maxX - minX + 1 }
    var boxHeight: Int { maxY - minY + 1 }
}

extension LabelMap {
    /// Calls `body` once per label value present in this map, in value order, with its pixel
    /// count and bounding box. One pass over the pixels and no heap allocation.
    ///
    /// Label maps are piecewise constant, so the pass walks runs of equal values: eight bytes
    /// at a time are compared against the run's value, and each run (not each pixel) updates
    /// the count and the box.
    func forEachRegion(_ body: (LabelRegion) -> Void) {
        let width = self.width
        let height = self.height
        guard width > 0, height > 0 else { return }
        // Per value: count, minX, maxX, minY, maxY (5 Ints × 256 on the stack).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 5 * 256) { table in
            let counts = table.baseAddress!
            let minXs = counts + 256, maxXs = counts + 512, minYs = counts + 768, maxYs = counts + 1024
            for v in 0..<256 {
                counts[v] = 0
                minXs[v] = Int.max
                maxXs[v] = -1
                minYs[v] = Int.max
                maxYs[v] = -1
            }
            values.withUnsafeBytes { raw in
                let base = raw.baseAddress!
                for y in 0..<height {
                    let row = base + y * width
                    var x = 0
                    while x < width {
                        let value = row.load(fromByteOffset: x, as: UInt8.self)
                        let end = Self.runEnd(row, from: x + 1, width: width, value: value)
                        let v = Int(value)
                        counts[v] += end - x
                        if x < minXs[v] { minXs[v] = x }
                        if end - 1 > maxXs[v] { maxXs[v] = end - 1 }
                        if y < minYs[v] { minYs[v] = y }
                        maxYs[v] = y
                        x = end
                    }
                }
            }
            for v in 0..<256 where counts[v] > 0 {
                body(LabelRegion(
                    value: UInt8(v), pixels: counts[v],
                    minX: minXs[v], maxX: maxXs[v], minY: minYs[v], maxY: maxYs[v]))
            }
        }
    }

    /// The first x at or after `start` whose byte differs from `value`, or `width`.
    @inline(__always)
    private static func runEnd(_ row: UnsafeRawPointer, from start: Int, width: Int, value: UInt8) -> Int {
        var x = start
        let pattern = UInt64(value) &* 0x0101_0101_0101_0101
        while x + 8 <= width {
            let difference = row.loadUnaligned(fromByteOffset: x, as: UInt64.self) ^ pattern
            if difference != 0 {
                // Little-endian: the lowest differing byte is the first differing pixel.
                return x + UInt64(littleEndian: difference).trailingZeroBitCount / 8
            }
            x += 8
        }
        while x < width, row.load(fromByteOffset: x, as: UInt8.self) == value { x += 1 }
        return x
    }
}
