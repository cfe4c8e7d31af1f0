import ImageIO

/// One class of one sample, as the encoder eats it: where the class is and what it looks like.
public struct ClassPart: Equatable, Sendable {
    /// Target class id.
    public let classID: Int
    /// Pixels of the class.
    public let pixelCount: Int
    /// Smallest rectangle holding every pixel of the class; nil when the class is absent.
    public let boundingBox: PixelRect?
}

/// The split stage: per target class its pixel count and bounding box (one pass over the
/// label map), and on request its binary mask and its masked photo cropped to the box.
public enum ClassSplit {
    /// Pixel count and bounding box of every class id below `classCount`. Values at or above
    /// `classCount` are ignored.
    public static func parts(of label: LabelMap, classCount: Int) -> [ClassPart] {
        // Per value: pixel count, then min x, max x, min y, max y; one flat buffer, so the
        // loop below touches no array bookkeeping.
        let stats = UnsafeMutableBufferPointer<Int>.allocate(capacity: 256 * 5)
        defer { stats.deallocate() }
        for value in 0..<256 { (stats[value * 5], stats[value * 5 + 1], stats[value * 5 + 2]) = (0, .max, -1) }
        let width = label.width
        // Label maps are runs of equal ids along a row: each run updates its class once, and a
        // run is skipped eight bytes at a time.
        label.values.withUnsafeBufferPointer { values in
            guard let base = values.baseAddress else { return }
            for y in 0..<label.height {
                let row = base + y * width
                var x = 0
                while x < width {
                    let value = row[x]
                    let start = x
                    x += 1
                    let word = UInt64(value) &* 0x0101_0101_0101_0101
                    while x + 8 <= width && UnsafeRawPointer(row + x).loadUnaligned(as: UInt64.self) == word { x += 8 }
                    while x < width && row[x] == value { x += 1 }
                    let entry = Int(value) * 5
                    if stats[entry] == 0 { stats[entry + 3] = y }  // rows come in order: the first run sets min y
                    stats[entry] += x - start
                    if start < stats[entry + 1] { stats[entry + 1] = start }
                    if x - 1 > stats[entry + 2] { stats[entry + 2] = x - 1 }
                    stats[entry + 4] = y
                }
            }
        }
        return (0..<classCount).map { id in
            guard id < 256 else { return ClassPart(classID: id, pixelCount: 0, boundingBox: nil) }  // no byte holds it
            let entry = id * 5
            return ClassPart(
                classID: id, pixelCount: stats[entry],
                boundingBox: stats[entry] == 0 ? nil : PixelRect(
                    x: stats[entry + 1], y: stats[entry + 3],
                    width: stats[entry + 2] - stats[entry + 1] + 1, height: stats[entry + 4] - stats[entry + 3] + 1))
        }
    }

    /// The class's binary mask over the whole map: 255 where the class is, 0 elsewhere.
    public static func mask(of label: LabelMap, classID: Int) -> LabelMap {
        let id = UInt8(classID)
        return LabelMap(width: label.width, height: label.height, values: label.values.map { $0 == id ? 255 : 0 })
    }

    /// The photo cropped to the class's box, with pixels of other classes set to black.
    /// Nil when the class is absent. Photo and label map must have the same size.
    public static func maskedCrop(photo: Image, label: LabelMap, part: ClassPart) -> Image? {
        part.boundingBox.map { maskedCrop(photo: photo, label: label, classID: part.classID, box: $0) }
    }

    /// The photo cropped to `box`, with pixels of classes other than `classID` set to black
    /// (`smisprep inspect` takes the box from a record). Photo and label map must have the
    /// same size.
    public static func maskedCrop(photo: Image, label: LabelMap, classID: Int, box: PixelRect) -> Image {
        precondition(photo.width == label.width && photo.height == label.height, "photo and label map differ in size")
        var crop = photo.cropped(to: box)
        let id = UInt8(classID)
        for y in 0..<box.height {
            for x in 0..<box.width where label.values[(box.y + y) * label.width + box.x + x] != id {
                let offset = (y * box.width + x) * 3
                crop.pixels[offset] = 0
                crop.pixels[offset + 1] = 0
                crop.pixels[offset + 2] = 0
            }
        }
        return crop
    }
}
