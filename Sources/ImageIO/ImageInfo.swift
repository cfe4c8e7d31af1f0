import CCodecs

/// How a file stores its colours, as declared in its header. Only `gray` and `palette` (and
/// `grayAlpha`, whose alpha is ignored) can be read as label maps.
public enum ColorModel: String, Sendable, Equatable {
    /// One gray sample per pixel (PNG colour type 0, JPEG 1 component, TIFF min-is-black/white).
    case gray
    /// Gray plus alpha (PNG colour type 4).
    case grayAlpha
    /// Indices into a colour table (PNG colour type 3, TIFF photometric 3).
    case palette
    /// Red, green, blue samples (PNG colour type 2, RGB JPEG without colour transform, TIFF RGB).
    case rgb
    /// RGB plus alpha (PNG colour type 6, TIFF RGB with an extra sample).
    case rgba
    /// Four-ink JPEG or TIFF; decoded photos are converted to RGB.
    case cmyk
    /// JPEG CMYK stored as YCC plus K (Adobe transform 2); converted to RGB.
    case ycck
    /// The usual JPEG (and TIFF YCbCr) luma/chroma encoding.
    case ycbcr
    /// Anything else the header names (e.g. TIFF CIELab); photo decoding may still succeed.
    case other
}

/// What a file's header declares, read without decoding any pixel: cheap enough to run on
/// every file of a data set before deciding what to decode.
public struct ImageInfo: Sendable, Equatable {
    /// The container, recognised from the leading bytes.
    public var format: ImageFormat
    /// Declared width in pixels; not yet checked against any limit.
    public var width: Int
    /// Declared height in pixels; not yet checked against any limit.
    public var height: Int
    /// Bits per sample: 1, 2, 4, 8 or 16.
    public var bitsPerSample: Int
    public var colorModel: ColorModel
    /// Samples per pixel as stored (3 for RGB, 1 for palette and gray).
    public var samplesPerPixel: Int
    /// The colours of a palette file (PNG PLTE), nil for other files. Index i of a label map
    /// decoded from this file is drawn in `palette[i]`.
    public var palette: [RGBColor]?
    /// PNG interlaced (Adam7) or progressive JPEG.
    public var isInterlaced: Bool
    /// TIFF stored in tiles rather than strips.
    public var isTiled: Bool
    /// TIFF compression tag (1 none, 5 LZW, 7 JPEG, 8 deflate, 32773 PackBits); nil elsewhere.
    public var tiffCompression: Int?

    init(
        format: ImageFormat, width: Int, height: Int, bitsPerSample: Int, colorModel: ColorModel,
        samplesPerPixel: Int, palette: [RGBColor]?, isInterlaced: Bool, isTiled: Bool, tiffCompression: Int?
    ) {
        (self.format, self.width, self.height) = (format, width, height)
        (self.bitsPerSample, self.colorModel, self.samplesPerPixel) = (bitsPerSample, colorModel, samplesPerPixel)
        (self.palette, self.isInterlaced) = (palette, isInterlaced)
        (self.isTiled, self.tiffCompression) = (isTiled, tiffCompression)
    }

    /// Number of pixels the header declares.
    public var pixelCount: Int { width * height }

    /// Reads the header of PNG, JPEG or TIFF bytes. Throws `.unknownFormat` for other data and
    /// `.corrupt` when the header itself is damaged or cut short. No limit is applied here:
    /// this is how a caller learns the declared size.
    public init(probing bytes: UnsafeRawBufferPointer, source: String) throws {
        guard let format = ImageFormat(sniffing: bytes) else {
            throw ImageIOError(source: source, reason: .unknownFormat)
        }
        switch format {
        case .png: self = try PNGCodec.probe(bytes, source: source)
        case .jpeg: self = try JPEGCodec.probe(bytes, source: source)
        case .tiff: self = try TIFFCodec.probe(bytes, source: source)
        }
    }

    /// Reads the header of a file.
    public init(contentsOfFile path: String) throws {
        let bytes = try ImageFile.read(path)
        self = try bytes.withUnsafeBytes { try ImageInfo(probing: $0, source: path) }
    }

    /// Throws `.tooLarge` when the declared size exceeds `limits`, `.corrupt` for an empty one.
    func check(_ limits: DecodeLimits, source: String) throws {
        if width <= 0 || height <= 0 {
            throw ImageIOError(source: source, reason: .corrupt("declared size \(width)×\(height) is empty"))
        }
        if width > limits.maxPixels || pixelCount > limits.maxPixels {
            throw ImageIOError(source: source, reason: .tooLarge(width: width, height: height, limit: limits.maxPixels))
        }
    }
}

/// One palette entry.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8
    /// A colour from its three 8-bit components.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}
