import CCodecs

/// The PNG side of ImageIO: libpng through the `ccodecs_png_*` shim.
enum PNGCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageInfo {
        var info = ccodecs_png_info()
        try ShimStatus.call(source: source) {
            ccodecs_png_probe(bytes.bytePointer, bytes.count, &info, &$0)
        }
        let palette: [RGBColor]? = info.palette_count > 0 && Int(info.color_type) == Int(CCODECS_PNG_PALETTE)
            ? withUnsafeBytes(of: &info.palette) { raw in
                (0..<Int(info.palette_count)).map { RGBColor(raw[3 * $0], raw[3 * $0 + 1], raw[3 * $0 + 2]) }
            }
            : nil
        let model: ColorModel
        let samples: Int
        switch Int(info.color_type) {
        case 0: (model, samples) = (.gray, 1)
        case 2: (model, samples) = (.rgb, 3)
        case 3: (model, samples) = (.palette, 1)
        case 4: (model, samples) = (.grayAlpha, 2)
        case 6: (model, samples) = (.rgba, 4)
        default: (model, samples) = (.other, 0)
        }
        return ImageInfo(
            format: .png, width: Int(info.width), height: Int(info.height), bitsPerSample: Int(info.bit_depth),
            colorModel: model, samplesPerPixel: samples, palette: palette, isInterlaced: info.interlaced != 0,
            isTiled: false, tiffCompression: nil)
    }

    /// Decodes into `out` in the given layout; the caller checked the size and the limits. With
    /// `valueCounts` (256 entries, layout SAMPLE8) it also counts each sample value's pixels as
    /// the rows are decoded.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, layout: ccodecs_png_layout, info: ImageInfo,
        into out: UnsafeMutableRawBufferPointer, valueCounts: UnsafeMutablePointer<UInt64>? = nil
    ) throws -> DecodeWarnings {
        return try ShimStatus.call(source: source) {
            ccodecs_png_decode(
                bytes.bytePointer, bytes.count, layout, UInt32(info.width), UInt32(info.height), out.bytePointer,
                out.count, valueCounts, &$0)
        }
    }

    /// PNG bytes of 8-bit pixels: gray (1 byte/pixel), RGB (3) or palette indices (1).
    static func encode(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, colorType: Int32,
        palette: [RGBColor]?, compressionLevel: Int, rowFilter: PNGRowFilter = .adaptive, source: String
    ) throws -> [UInt8] {
        let flatPalette = (palette ?? []).flatMap { [$0.red, $0.green, $0.blue] }
        return try flatPalette.withUnsafeBufferPointer { paletteBytes in
            try ShimStatus.encode(source: source) {
                ccodecs_png_encode(
                    pixels.baseAddress, UInt32(width), UInt32(height), colorType, paletteBytes.baseAddress,
                    Int32(palette?.count ?? 0), Int32(clamping: compressionLevel), rowFilter.libpngMask, &$0, &$1)
            }
        }
    }
}

/// The row filters a PNG encoder may use: each row is transformed by one before compression.
public enum PNGRowFilter: Sendable, Hashable {
    /// libpng's default: for each row, the filter that seems to compress best. Smallest files
    /// for photos, but every row is filtered five ways.
    case adaptive
    /// No filtering: for label maps, whose long runs of one value deflate well as they are,
    /// at a fraction of the adaptive cost.
    case none
    /// Each byte minus its left neighbour.
    case sub
    /// Each byte minus the one above.
    case up

    var libpngMask: Int32 {
        switch self {
        case .adaptive: return 0
        case .none: return 0x08  // PNG_FILTER_NONE
        case .sub: return 0x10  // PNG_FILTER_SUB
        case .up: return 0x20  // PNG_FILTER_UP
        }
    }
}
