// API CONTRACT (skeleton). The signatures below are what the other targets code against; the
// bodies arrive with the codec work (issue 2). Until then every call throws `.unsupported`.

/// Container formats the toolkit reads, recognised by their leading bytes, never by extension.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg, tiff

    /// Recognises a format from the first bytes of a file; nil when none matches.
    public init?(sniffing bytes: UnsafeRawBufferPointer) {
        let b = Array(bytes.prefix(8))
        if b.count >= 8, b == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { self = .png }
        else if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { self = .jpeg }
        else if b.count >= 4, (b[0] == 0x49 && b[1] == 0x49 && b[2] == 0x2A && b[3] == 0)
            || (b[0] == 0x4D && b[1] == 0x4D && b[2] == 0 && b[3] == 0x2A) { self = .tiff }
        else { return nil }
    }
}

/// Limits checked against a file's declared size before any pixel buffer is allocated.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest accepted width × height. Default 100 million pixels (a 1 kB JPEG can claim
    /// 64250×64250, 4.1 billion).
    public var maxPixels: Int
    public init(maxPixels: Int = 100_000_000) { self.maxPixels = maxPixels }
    public static let `default` = DecodeLimits()
}

private func notYet(_ source: String) -> ImageIOError {
    ImageIOError(source: source, reason: .unsupported("codecs not implemented yet"))
}

extension Image {
    /// Decodes a PNG, JPEG or TIFF photo into RGB. `source` names the data in errors.
    public init(decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default) throws {
        throw notYet(source)
    }

    /// Reads and decodes a photo file.
    public init(contentsOfFile path: String, limits: DecodeLimits = .default) throws {
        throw notYet(path)
    }

    /// Decodes into caller-owned storage of exactly `width * height * 3` bytes, for readers that
    /// reuse one buffer per batch slot. Throws `.sizeMismatch` when the data has another size.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, into pixels: UnsafeMutableBufferPointer<UInt8>,
        width: Int, height: Int, limits: DecodeLimits = .default
    ) throws {
        throw notYet(source)
    }

    /// PNG bytes of this image (RGB, 8-bit). `compressionLevel` is zlib's 0...9.
    public func encodedPNG(compressionLevel: Int = 6) throws -> [UInt8] { throw notYet("PNG encoder") }

    /// JPEG bytes of this image. `quality` is 1...100.
    public func encodedJPEG(quality: Int = 95) throws -> [UInt8] { throw notYet("JPEG encoder") }
}

extension LabelMap {
    /// Decodes a label map: the palette index of a palette PNG, the gray value of a grayscale
    /// PNG/TIFF (16-bit keeps values below 256 exactly and rejects larger ones). Colour images
    /// are refused, since a colour is not a class id.
    public init(decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default) throws {
        throw notYet(source)
    }

    /// Reads and decodes a label map file.
    public init(contentsOfFile path: String, limits: DecodeLimits = .default) throws {
        throw notYet(path)
    }

    /// Decodes into caller-owned storage of exactly `width * height` bytes.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, into values: UnsafeMutableBufferPointer<UInt8>,
        width: Int, height: Int, limits: DecodeLimits = .default
    ) throws {
        throw notYet(source)
    }

    /// PNG bytes: a palette PNG when `palette` is given (colours for ids 0..<palette.count),
    /// otherwise 8-bit grayscale.
    public func encodedPNG(palette: [(UInt8, UInt8, UInt8)]? = nil, compressionLevel: Int = 6) throws -> [UInt8] {
        throw notYet("PNG encoder")
    }
}

/// How a photo is resampled.
public enum ResizeFilter: String, Sendable, CaseIterable {
    case nearest, bilinear, bicubic
}

extension Image {
    /// This photo resampled to `width × height` (bicubic by default, as PIL's BICUBIC which the
    /// reference uses).
    public func resized(width: Int, height: Int, filter: ResizeFilter = .bicubic) -> Image {
        fatalError("resize not implemented yet")
    }
}

extension LabelMap {
    /// This label map resampled to `width × height` by nearest neighbour (class ids never blend).
    public func resized(width: Int, height: Int) -> LabelMap {
        fatalError("resize not implemented yet")
    }
}
