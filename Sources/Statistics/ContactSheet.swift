import ImageIO

/// One sample shown on the report's contact sheet.
public struct ContactSheetSample: Sendable {
    public var key: String
    public var label: LabelMap
    public var photo: Image?
    public init(key: String, label: LabelMap, photo: Image?) {
        self.key = key
        self.label = label
        self.photo = photo
    }
}

/// Colours of label values in colourised label maps and charts.
enum LabelPalette {
    /// The PASCAL VOC colour of index `i` (see `VOCColourMap`).
    static func voc(_ index: Int) -> RGB {
        let colour = VOCColourMap.colour(index)
        return RGB(red: colour.red, green: colour.green, blue: colour.blue)
    }

    /// Source ids use their VOC colour; target ids are shifted by one so that id 0 (hair in
    /// the default table) is not black, and a class named `background` is black.
    static func colour(of id: Int, in table: LabelSet) -> RGB {
        if table.name(of: id) == "background" { return RGB(red: 0, green: 0, blue: 0) }
        return table.kind == .source ? voc(id) : voc(id + 1)
    }

    /// All 256 colours for a label set.
    static func colours(for table: LabelSet) -> [RGB] { (0..<256).map { colour(of: $0, in: table) } }
}

/// Small images for the contact sheet, computed in memory; encoding is the report's job.
enum Thumbnail {
    /// `image` shrunk (box filter: each output pixel averages the source pixels it covers) so
    /// its longer side is at most `maxSide`; returned unchanged when already small enough.
    static func photo(_ image: Image, maxSide: Int) -> Image {
        let (width, height) = fitted(image.width, image.height, maxSide: maxSide)
        guard width != image.width || height != image.height else { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let y0 = y * image.height / height, y1 = max(y0 + 1, (y + 1) * image.height / height)
            for x in 0..<width {
                let x0 = x * image.width / width, x1 = max(x0 + 1, (x + 1) * image.width / width)
                var sums = (0, 0, 0)
                for sy in y0..<y1 {
                    for sx in x0..<x1 {
                        let i = (sy * image.width + sx) * 3
                        sums.0 += Int(image.pixels[i])
                        sums.1 += Int(image.pixels[i + 1])
                        sums.2 += Int(image.pixels[i + 2])
                    }
                }
                let n = (y1 - y0) * (x1 - x0), o = (y * width + x) * 3
                out[o] = UInt8(sums.0 / n)
                out[o + 1] = UInt8(sums.1 / n)
                out[o + 2] = UInt8(sums.2 / n)
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// The label map coloured by `palette`, shrunk by nearest neighbour (ids never blend).
    static func colourised(_ label: LabelMap, palette: [RGB], maxSide: Int) -> Image {
        let (width, height) = fitted(label.width, label.height, maxSide: maxSide)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let sy = (2 * y + 1) * label.height / (2 * height)
            for x in 0..<width {
                let sx = (2 * x + 1) * label.width / (2 * width)
                let colour = palette[Int(label.values[sy * label.width + sx])]
                let o = (y * width + x) * 3
                out[o] = colour.red
                out[o + 1] = colour.green
                out[o + 2] = colour.blue
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// What the encoder sees of one class: the photo cropped to the class's bounding box, with
    /// every pixel of another class black. Nil when the photo and label sizes differ.
    static func classSplit(photo: Image, label: LabelMap, region: LabelRegion) -> Image? {
        guard photo.width == label.width, photo.height == label.height else { return nil }
        var out = [UInt8](repeating: 0, count: region.boxWidth * region.boxHeight * 3)
        for y in region.minY...region.maxY {
            for x in region.minX...region.maxX where label.values[y * label.width + x] == region.value {
                let i = (y * photo.width + x) * 3
                let o = ((y - region.minY) * region.boxWidth + (x - region.minX)) * 3
                out[o] = photo.pixels[i]
                out[o + 1] = photo.pixels[i + 1]
                out[o + 2] = photo.pixels[i + 2]
            }
        }
        return Image(width: region.boxWidth, height: region.boxHeight, pixels: out)
    }

    private static func fitted(_ width: Int, _ height: Int, maxSide: Int) -> (Int, Int) {
        let longer = max(width, height)
        guard longer > maxSide else { return (width, height) }
        return (max(1, width * maxSide / longer), max(1, height * maxSide / longer))
    }
}
