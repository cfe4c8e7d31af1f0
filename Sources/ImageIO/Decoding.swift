import CCodecs

/// The format dispatch behind `Image`'s decoders. The caller has probed the header and checked
/// the limits; these functions only fill the buffer.
enum PhotoDecoding {
    static func decodeRGB(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, into out: UnsafeMutableRawBufferPointer
    ) throws -> DecodeWarnings {
        switch info.format {
        case .png:
            return try PNGCodec.decode(bytes, source: source, layout: CCODECS_PNG_LAYOUT_RGB8, info: info, into: out)
        case .jpeg: return try JPEGCodec.decodeRGB(bytes, source: source, info: info, into: out)
        case .tiff: return try TIFFCodec.decodeRGB(bytes, source: source, info: info, into: out)
        }
    }

    /// Throws when the caller asked for warnings to count as errors and there were some.
    static func enforce(_ warnings: DecodeWarnings, limits: DecodeLimits, source: String) throws {
        guard limits.treatWarningsAsErrors, warnings.count > 0 else { return }
        throw ImageIOError(
            source: source,
            reason: .corrupt(
                "\(warnings.count) recoverable error(s), first: \(warnings.first ?? "?")"))
    }
}

extension Image {
    /// Decodes like `init(decoding:source:limits:)` and also returns the warnings the codec
    /// raised while recovering from damage (a JPEG with corrupt entropy data still decodes).
    public static func decodeReportingWarnings(
        _ bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default
    ) throws -> (image: Image, warnings: DecodeWarnings) {
        let info = try ImageInfo(probing: bytes, source: source)
        try info.check(limits, source: source)
        var warnings = DecodeWarnings()
        let pixels = try [UInt8](unsafeUninitializedCapacity: info.pixelCount * 3) { buffer, count in
            warnings = try PhotoDecoding.decodeRGB(
                bytes, source: source, info: info, into: UnsafeMutableRawBufferPointer(buffer))
            count = buffer.count
        }
        try PhotoDecoding.enforce(warnings, limits: limits, source: source)
        return (Image(width: info.width, height: info.height, pixels: pixels), warnings)
    }
}

extension Image {
    /// Throws what `init(decoding:source:limits:)` would throw for `bytes`, and nothing when it
    /// would decode them, without keeping the pixels: for a caller that must report a broken
    /// photo but has no use for a good one (a sample dropped for its label). A JPEG's
    /// compressed data is decoded whole, which is where its damage shows, but its pixels only
    /// at 1/8 scale, in half the time; other formats are decoded whole.
    public static func checkDecodes(
        _ bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default
    ) throws {
        let info = try ImageInfo(probing: bytes, source: source)
        guard info.format == .jpeg else {
            _ = try decodeReportingWarnings(bytes, source: source, limits: limits)
            return
        }
        try info.check(limits, source: source)
        try PhotoDecoding.enforce(
            try JPEGCodec.check(bytes, source: source, info: info), limits: limits, source: source)
    }
}

/// The format dispatch behind `LabelMap`'s decoders: raw samples only, never colours.
enum LabelDecoding {
    /// Decodes into `out`; with `valueCounts` (256 entries) also counts each value's pixels,
    /// row by row as rows are decoded where the codec can (8-bit PNG), else in a pass after.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, into out: UnsafeMutableBufferPointer<UInt8>,
        limits: DecodeLimits, valueCounts: UnsafeMutableBufferPointer<UInt64>? = nil
    ) throws {
        precondition(valueCounts == nil || valueCounts!.count == 256, "value counts have 256 entries")
        let raw = UnsafeMutableRawBufferPointer(out)
        var warnings: DecodeWarnings
        var counted = false
        // TIFF's JPEG compressions (6, 7) are as lossy as a JPEG file.
        if info.format == .tiff, let compression = info.tiffCompression, compression == 6 || compression == 7 {
            throw ImageIOError(
                source: source,
                reason: .unsupported(
                    "a JPEG-compressed TIFF cannot hold a label map (lossy compression changes class ids); use LZW, "
                        + "deflate or no compression"))
        }
        switch (info.format, info.colorModel, info.bitsPerSample) {
        case (.png, .palette, _), (.png, .gray, ...8), (.png, .grayAlpha, ...8):
            warnings = try PNGCodec.decode(
                bytes, source: source, layout: CCODECS_PNG_LAYOUT_SAMPLE8, info: info, into: raw,
                valueCounts: valueCounts?.baseAddress)
            counted = true
        case (.png, .gray, 16), (.png, .grayAlpha, 16):
            warnings = try narrowing16(info: info, source: source, into: out) {
                try PNGCodec.decode(bytes, source: source, layout: CCODECS_PNG_LAYOUT_SAMPLE16, info: info, into: $0)
            }
        case (.tiff, .gray, 8) where info.samplesPerPixel == 1, (.tiff, .palette, 8):
            warnings = try TIFFCodec.decodeSamples(bytes, source: source, info: info, sampleBytes: 1, into: raw)
        case (.tiff, .gray, 16) where info.samplesPerPixel == 1:
            warnings = try narrowing16(info: info, source: source, into: out) {
                try TIFFCodec.decodeSamples(bytes, source: source, info: info, sampleBytes: 2, into: $0)
            }
        case (.jpeg, _, _):
            throw ImageIOError(
                source: source,
                reason: .unsupported(
                    "a JPEG cannot hold a label map (lossy compression changes class ids); use a palette or "
                        + "grayscale PNG"))
        default:
            throw ImageIOError(
                source: source,
                reason: .unsupported(
                    "\(info.format.rawValue) \(info.colorModel.rawValue) at \(info.bitsPerSample) bits is not a label map: "
                        + "a label map is a palette or grayscale image (a colour is not a class id)"))
        }
        try PhotoDecoding.enforce(warnings, limits: limits, source: source)
        if let valueCounts, !counted {
            valueCounts.update(repeating: 0)
            for value in out { valueCounts[Int(value)] += 1 }
        }
    }

    /// Decodes 16-bit samples into a scratch buffer and narrows them to bytes, refusing any
    /// value above 255 (it cannot be a class id of this toolkit).
    private static func narrowing16(
        info: ImageInfo, source: String, into out: UnsafeMutableBufferPointer<UInt8>,
        decode: (UnsafeMutableRawBufferPointer) throws -> DecodeWarnings
    ) throws -> DecodeWarnings {
        var wide = [UInt16](repeating: 0, count: info.pixelCount)
        let warnings = try wide.withUnsafeMutableBytes { try decode($0) }
        for index in 0..<wide.count {
            let value = wide[index]
            guard value < 256 else {
                throw ImageIOError(
                    source: source,
                    reason: .unsupported(
                        "16-bit value \(value) at (\(index % info.width), \(index / info.width)) is not a class id "
                            + "(0...255)"))
            }
            out[index] = UInt8(value)
        }
        return warnings
    }
}
