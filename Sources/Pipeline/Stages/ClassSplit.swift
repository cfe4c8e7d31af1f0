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
        var counts = [Int](repeating: 0, count: classCount)
        var minX = [Int](repeating: Int.max, count: classCount), maxX = [Int](repeating: -1, count: classCount)
        var minY = [Int](repeating: Int.max, count: classCount), maxY = [Int](repeating: -1, count: classCount)
        // Label maps are runs of equal ids along a row: each run updates its class once.
        label.values.withUnsafeBufferPointer { values in
            for y in 0..<label.height {
                let row = values.baseAddress! + y * label.width
                var x = 0
                while x < label.width {
                    let value = row[x]
                    let start = x
                    x += 1
                    while x < label.width && row[x] == value { x += 1 }
                    let id = Int(value)
                    guard id < classCount else { continue }
                    counts[id] += x - start
                    if start < minX[id] { minX[id] = start }
                    if x - 1 > maxX[id] { maxX[id] = x - 1 }
                    if y < minY[id] { minY[id] = y }
                    maxY[id] = y
                }
            }
        }
        return (0..<classCount).map { id in
            ClassPart(
                classID: id, pixelCount: counts[id],
                boundingBox: counts[id] == 0
                    ? nil : PixelRect(x: minX[id], y: minY[id], width: maxX[id] - minX[id] + 1, height: maxY[id] - minY[id] + 1))
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
        guard let box = part.boundingBox else { return nil }
        precondition(photo.width == label.width && photo.height == label.height, "photo and label map differ in size")
        var crop = photo.cropped(to: box)
        let id = UInt8(part.classID)
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
