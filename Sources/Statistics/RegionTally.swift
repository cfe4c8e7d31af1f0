/// One label value's footprint over every image holding it, as exact counts of distinct
/// figures rather than one entry per image: images per (area, image pixels), per (box width,
/// image width) and per (box height, image height).
///
/// That keeps medians, filter drop counts and box histograms exact while the memory is bounded
/// by the label size, not the number of images: a 256 × 256 prepared set has at most 65,537
/// areas and 257 box widths per class, however many samples it holds.
struct RegionTally: Sendable {
    /// Images holding the value.
    private(set) var images = 0
    /// Pixels of the value over all those images.
    private(set) var pixels = 0
    private(set) var areas: [AreaKey: Int] = [:]
    private(set) var boxWidths: [Extent: Int] = [:]
    private(set) var boxHeights: [Extent: Int] = [:]

    var isEmpty: Bool { images == 0 }

    mutating func add(_ region: LabelRegion, imageWidth: Int, imageHeight: Int) {
        images += 1
        pixels += region.pixels
        areas[AreaKey(area: region.pixels, imagePixels: imageWidth * imageHeight), default: 0] += 1
        boxWidths[Extent(part: region.boxWidth, whole: imageWidth), default: 0] += 1
        boxHeights[Extent(part: region.boxHeight, whole: imageHeight), default: 0] += 1
    }

    mutating func merge(_ other: RegionTally) {
        images += other.images
        pixels += other.pixels
        areas.merge(other.areas, uniquingKeysWith: +)
        boxWidths.merge(other.boxWidths, uniquingKeysWith: +)
        boxHeights.merge(other.boxHeights, uniquingKeysWith: +)
    }

    /// Areas in pixels, ascending, each with the number of images having it.
    func sortedAreas() -> [CountedValue] {
        var byArea: [Int: Int] = [:]
        for (key, count) in areas { byArea[key.area, default: 0] += count }
        return byArea.map { CountedValue(value: Double($0.key), count: $0.value) }.sorted { $0.value < $1.value }
    }

    /// Areas as fractions of their image's pixels, ascending, with their image counts.
    /// Equal fractions of different images (1/4 of 4 pixels, 2/8 of 8) are one entry, so that
    /// sums over the list do not depend on the dictionaries' per-process iteration order.
    func sortedAreaFractions() -> [CountedValue] {
        var byFraction: [Double: Int] = [:]
        for (key, count) in areas { byFraction[key.fraction, default: 0] += count }
        return byFraction.map { CountedValue(value: $0.key, count: $0.value) }.sorted { $0.value < $1.value }
    }
}

/// A region's area and the pixel count of the image it lies in.
struct AreaKey: Hashable, Sendable {
    var area: Int
    var imagePixels: Int
    var fraction: Double { Double(area) / Double(imagePixels) }
}

/// A bounding box's width (or height) and its image's width (or height).
struct Extent: Hashable, Sendable {
    var part: Int
    var whole: Int
}

/// A value and how many times it occurs.
struct CountedValue: Equatable, Sendable {
    var value: Double
    var count: Int
}
