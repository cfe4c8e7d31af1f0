/// An 8-bit RGB photo: `height` rows of `width` pixels, each pixel three bytes (r, g, b),
/// row-major with no padding between rows.
///
/// Photos of every source format (gray, palette, RGBA, 16-bit, CMYK JPEG, TIFF) decode into
/// this one type, so the pipeline has a single photo representation. Alpha is dropped, 16-bit
/// samples keep their high byte, gray is replicated into three channels.
public struct Image: Equatable, Sendable {
    /// Width in pixels, e.g. 750 for a DeepFashion photo.
    public let width: Int
    /// Height in pixels, e.g. 1101 for a DeepFashion photo.
    public let height: Int
    /// `width * height * 3` bytes, interleaved RGB.
    public var pixels: [UInt8]

    /// Wraps existing pixel bytes. `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Image size must not be negative: \(width)×\(height)")
        precondition(
            pixels.count == width * height * 3,
            "Image of \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image of the given size.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// Number of pixels (not bytes).
    public var pixelCount: Int { width * height }
}

/// A semantic label map: one byte per pixel holding a class id, row-major. Its shape is
/// `Image`'s on purpose (one type per kind of raster, so a label can never be passed as a
/// photo): the two initialisers check the same things for their own byte counts.
///
/// Human parsers write label maps as palette or grayscale PNGs; in both cases the byte stored
/// here is the palette index or gray value itself, never a colour. Values are not checked
/// against any class table here: that is the pipeline's job, which knows the table.
public struct LabelMap: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height` class ids.
    public var values: [UInt8]

    /// Wraps existing values. `values.count` must be `width * height`.
    public init(width: Int, height: Int, values: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Label map size must not be negative: \(width)×\(height)")
        precondition(
            values.count == width * height,
            "Label map of \(width)×\(height) needs \(width * height) values, got \(values.count)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// A label map of the given size filled with one value.
    public init(width: Int, height: Int, filledWith value: UInt8 = 0) {
        self.init(width: width, height: height, values: [UInt8](repeating: value, count: width * height))
    }

    /// Number of pixels.
    public var pixelCount: Int { width * height }
}
