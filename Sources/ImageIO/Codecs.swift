import CCodecs

// API CONTRACT: the signatures in this file are what the other targets code against. The
// bodies delegate to the per-format files (PNG.swift, JPEG.swift, TIFF.swift), the shared
// decode steps (Decoding.swift) and Resize.swift.

/// Container formats the toolkit reads, recognised by their leading bytes, never by extension.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg, tiff

    /// Recognises a format from the first bytes of a file; nil when none matches.
    public init?(sniffing bytes: UnsafeRawBufferPointer) {
        let b = Array(bytes.prefix(8))
        if b.count >= 8, b == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF {
            self = .jpeg
        } else if b.count >= 4,
            (b[0] == 0x49 && b[1] == 0x49 && b[2] == 0x2A && b[3] == 0)
                || (b[0] == 0x4D && b[1] == 0x4D && b[2] == 0 && b[3] == 0x2A)
        {
            self = .tiff
        } else {
            return nil
        }
    }
}

/// Limits checked against a file's declared size before any pixel buffer is allocated.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest accepted width × height. Default 100 million pixels (a 1 kB JPEG can claim
    /// 64250×64250, 4.1 billion).
    public var maxPixels: Int
    /// When true, a file the codec could only decode with warnings (libjpeg's stray bytes
    /// before a marker, libpng's dropped chunks) throws `.corrupt` instead of returning the
    /// pixels. A truncated JPEG, or one whose entropy-coded data is damaged (libjpeg would
    /// guess the rest of the rows), always throws, whatever this says.
    public var treatWarningsAsErrors: Bool
    public init(maxPixels: Int = 100_000_000, treatWarningsAsErrors: Bool = false) {
        self.maxPixels = maxPixels
        self.treatWarningsAsErrors = treatWarningsAsErrors
    }
    public static let `default` = DecodeLimits()
}

extension Image {
    /// Decodes a PNG, JPEG or TIFF photo into RGB. `source` names the data in errors.
    ///
    /// Palette and gray files are expanded to RGB, alpha is dropped (not composited), 16-bit
    /// samples keep their high byte, CMYK/YCCK JPEGs are converted. The declared size is
    /// checked against `limits` before the pixel buffer is allocated (`.tooLarge`).
    public init(decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default) throws {
        self = try Image.decodeReportingWarnings(bytes, source: source, limits: limits).image
    }

    /// Reads and decodes a photo file.
    public init(contentsOfFile path: String, limits: DecodeLimits = .default) throws {
        let bytes = try ImageFile.read(path)
        self = try bytes.withUnsafeBytes { try Image(decoding: $0, source: path, limits: limits) }
    }

    /// Decodes into caller-owned storage of exactly `width * height * 3` bytes, for readers that
    /// reuse one buffer per batch slot. Throws `.sizeMismatch` when the data has another size.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, into pixels: UnsafeMutableBufferPointer<UInt8>,
        width: Int, height: Int, limits: DecodeLimits = .default
    ) throws {
        precondition(pixels.count == width * height * 3, "buffer of \(pixels.count) bytes for \(width)×\(height) RGB")
        let info = try ImageInfo(probing: bytes, source: source, expectingWidth: width, height: height, limits: limits)
        let warnings = try PhotoDecoding.decodeRGB(
            bytes, source: source, info: info, into: UnsafeMutableRawBufferPointer(pixels))
        try PhotoDecoding.enforce(warnings, limits: limits, source: source)
    }

    /// PNG bytes of this image (RGB, 8-bit). `compressionLevel` is zlib's 0...9.
    public func encodedPNG(compressionLevel: Int = 6) throws -> [UInt8] {
        try pixels.withUnsafeBufferPointer {
            try PNGCodec.encode(
                $0, width: width, height: height, colorType: Int32(CCODECS_PNG_RGB),
                palette: nil, compressionLevel: compressionLevel, source: "PNG encoder")
        }
    }

    /// JPEG bytes of this image. `quality` is 1...100.
    public func encodedJPEG(quality: Int = 95) throws -> [UInt8] {
        try pixels.withUnsafeBufferPointer {
            try JPEGCodec.encode(
                $0, width: width, height: height, components: 3, quality: quality,
                progressive: false, source: "JPEG encoder")
        }
    }
}

extension LabelMap {
    /// Decodes a label map: the palette index of a palette PNG, the gray value of a grayscale
    /// PNG/TIFF (16-bit keeps values below 256 exactly and rejects larger ones). Colour images
    /// are refused, since a colour is not a class id.
    ///
    /// Indices are never rescaled: a 4-bit palette or gray file gives values 0...15. JPEG is
    /// refused too (lossy compression changes ids at edges).
    public init(decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default) throws {
        let info = try ImageInfo(probing: bytes, source: source)
        try info.check(limits, source: source)
        // Not zeroed first: every decoder fills every byte or throws (825 KB of memset per
        // DeepFashion label map otherwise).
        let values = try [UInt8](unsafeUninitializedCapacity: info.pixelCount) { buffer, count in
            try LabelDecoding.decode(bytes, source: source, info: info, into: buffer, limits: limits)
            count = buffer.count
        }
        self.init(width: info.width, height: info.height, values: values)
    }

    /// Reads and decodes a label map file.
    public init(contentsOfFile path: String, limits: DecodeLimits = .default) throws {
        let bytes = try ImageFile.read(path)
        self = try bytes.withUnsafeBytes { try LabelMap(decoding: $0, source: path, limits: limits) }
    }

    /// Decodes as `init(decoding:source:limits:)` does and counts the pixels of each value
    /// (`valueCounts[v]`, 256 entries). An 8-bit PNG is counted row by row as it is decoded,
    /// while each row is in cache, which costs a fraction of a second pass over the map.
    public static func decodeCountingValues(
        _ bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default
    ) throws -> (map: LabelMap, valueCounts: [Int]) {
        let info = try ImageInfo(probing: bytes, source: source)
        try info.check(limits, source: source)
        var counts = [UInt64](repeating: 0, count: 256)
        let values = try [UInt8](unsafeUninitializedCapacity: info.pixelCount) { buffer, count in
            try counts.withUnsafeMutableBufferPointer { counts in
                try LabelDecoding.decode(
                    bytes, source: source, info: info, into: buffer, limits: limits, valueCounts: counts)
            }
            count = buffer.count
        }
        return (LabelMap(width: info.width, height: info.height, values: values), counts.map { Int($0) })
    }

    /// Decodes into caller-owned storage of exactly `width * height` bytes.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, into values: UnsafeMutableBufferPointer<UInt8>,
        width: Int, height: Int, limits: DecodeLimits = .default
    ) throws {
        precondition(
            values.count == width * height, "buffer of \(values.count) bytes for a \(width)×\(height) label map")
        let info = try ImageInfo(probing: bytes, source: source, expectingWidth: width, height: height, limits: limits)
        try LabelDecoding.decode(bytes, source: source, info: info, into: values, limits: limits)
    }

    /// PNG bytes: a palette PNG when `palette` is given (colours for ids 0..<palette.count),
    /// otherwise 8-bit grayscale.
    ///
    /// Throws `.encodeFailed` when a value has no palette entry, or the palette has more than
    /// 256 colours.
    /// `rowFilter` trades file size for speed; `.none` suits label maps (see `PNGRowFilter`).
    public func encodedPNG(
        palette: [(UInt8, UInt8, UInt8)]? = nil, compressionLevel: Int = 6, rowFilter: PNGRowFilter = .adaptive
    ) throws -> [UInt8] {
        let colours = palette?.map { RGBColor($0.0, $0.1, $0.2) }
        if let colours { try checkFits(colours, source: "PNG encoder") }
        return try values.withUnsafeBufferPointer {
            try PNGCodec.encode(
                $0, width: width, height: height,
                colorType: Int32(colours == nil ? CCODECS_PNG_GRAY : CCODECS_PNG_PALETTE),
                palette: colours, compressionLevel: compressionLevel, rowFilter: rowFilter, source: "PNG encoder")
        }
    }

    /// Throws unless every value indexes `palette`.
    func checkFits(_ palette: [RGBColor], source: String) throws {
        guard (1...256).contains(palette.count) else {
            throw ImageIOError(
                source: source, reason: .encodeFailed("a palette needs 1 to 256 colours, got \(palette.count)"))
        }
        if let index = values.firstIndex(where: { Int($0) >= palette.count }) {
            throw ImageIOError(
                source: source,
                reason: .encodeFailed(
                    "value \(values[index]) at (\(index % width), \(index / width)) has no colour in a palette of "
                        + "\(palette.count)"))
        }
    }
}

/// How a photo is resampled.
public enum ResizeFilter: String, Sendable, CaseIterable {
    case nearest, bilinear, bicubic
}

extension Image {
    /// This photo resampled to `width × height` (bicubic by default, as PIL's BICUBIC which the
    /// reference uses).
    ///
    /// Bilinear and bicubic reproduce Pillow 13's `Image.resize` byte for byte: separable,
    /// kernel support widened by the scale when shrinking (antialiasing), 22-bit fixed point
    /// weights, each pass rounded to 8 bits, pass order as Pillow 13 chooses it (see
    /// `PhotoResizer` and `ResizePassOrder`). Nearest picks source index
    /// floor((i + 0.5) · source / target), as PIL's NEAREST. A size of 0 gives an empty image.
    /// For many photos of one size, a reused `PhotoResizer` avoids recomputing weights.
    public func resized(width: Int, height: Int, filter: ResizeFilter = .bicubic) -> Image {
        Resampler.resize(self, width: width, height: height, filter: filter)
    }
}

extension LabelMap {
    /// This label map resampled to `width × height` by nearest neighbour (class ids never blend).
    ///
    /// Source index floor((i + 0.5) · source / target) on each axis, as PIL's NEAREST.
    public func resized(width: Int, height: Int) -> LabelMap {
        Resampler.resizeNearest(self, width: width, height: height)
    }

    /// `resized(width:height:)` with each value then replaced by `table[value]` (256 entries),
    /// in the same pass: a class remap applied while resampling.
    public func resized(width: Int, height: Int, relabeling table: [UInt8]) -> LabelMap {
        precondition(table.count == 256, "a relabeling table has 256 entries")
        return Resampler.resizeNearest(self, width: width, height: height, table: table)
    }
}

extension ImageInfo {
    /// The header of `bytes`, which must declare `width` × `height` (else `.sizeMismatch`)
    /// within `limits`: what a decode into a caller's buffer of that size checks first.
    init(
        probing bytes: UnsafeRawBufferPointer, source: String, expectingWidth width: Int, height: Int,
        limits: DecodeLimits
    ) throws {
        self = try ImageInfo(probing: bytes, source: source)
        guard self.width == width, self.height == height else {
            throw ImageIOError(
                source: source,
                reason: .sizeMismatch(
                    expectedWidth: width, expectedHeight: height, width: self.width, height: self.height))
        }
        try check(limits, source: source)
    }
}
