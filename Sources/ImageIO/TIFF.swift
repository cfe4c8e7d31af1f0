import CCodecs

/// The TIFF side of ImageIO: libtiff through the `ccodecs_tiff_*` shim.
enum TIFFCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageInfo {
        var info = ccodecs_tiff_info()
        try ShimStatus.call(source: source) {
            ccodecs_tiff_probe(bytes.bytePointer, bytes.count, &info, &$0)
        }
        let model: ColorModel
        switch Int(info.photometric) {
        case 0, 1: model = info.samples_per_pixel >= 2 ? .grayAlpha : .gray
        case 2: model = info.samples_per_pixel >= 4 ? .rgba : .rgb
        case 3: model = .palette
        case 5: model = .cmyk
        case 6: model = .ycbcr
        default: model = .other
        }
        return ImageInfo(
            format: .tiff, width: Int(info.width), height: Int(info.height), bitsPerSample: Int(info.bits_per_sample),
            colorModel: model, samplesPerPixel: Int(info.samples_per_pixel), palette: nil, isInterlaced: false,
            isTiled: info.tiled != 0, tiffCompression: Int(info.compression))
    }

    static func decodeRGB(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, into out: UnsafeMutableRawBufferPointer
    ) throws -> DecodeWarnings {
        return try ShimStatus.call(source: source) {
            ccodecs_tiff_decode_rgb(
                bytes.bytePointer, bytes.count, UInt32(info.width), UInt32(info.height),
                out.bytePointer, out.count, &$0)
        }
    }

    /// Raw one-channel samples (1 or 2 bytes each, host order) into `out`.
    static func decodeSamples(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, sampleBytes: Int,
        into out: UnsafeMutableRawBufferPointer
    ) throws -> DecodeWarnings {
        return try ShimStatus.call(source: source) {
            ccodecs_tiff_decode_samples(
                bytes.bytePointer, bytes.count, UInt32(info.width), UInt32(info.height), Int32(sampleBytes),
                out.bytePointer, out.count, &$0)
        }
    }
}

/// How `encodedTIFF` compresses.
public enum TIFFCompression: Int, Sendable, CaseIterable {
    case none = 1, lzw = 5, jpeg = 7, deflate = 8, packBits = 32773
}

/// How `encodedTIFF` lays out the pixels.
public enum TIFFLayout: Sendable, Equatable {
    /// Strips of this many rows.
    case strips(rowsPerStrip: Int)
    /// Square tiles of this side, a multiple of 16.
    case tiles(size: Int)
}

enum TIFFEncoder {
    static func encode(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, photometric: Int32, palette: [RGBColor]?,
        compression: TIFFCompression, layout: TIFFLayout, source: String
    ) throws -> [UInt8] {
        let flatPalette = (palette ?? []).flatMap { [$0.red, $0.green, $0.blue] }
        var rowsPerStrip = 0
        var tileSize = 0
        switch layout {
        case .strips(let rows): rowsPerStrip = rows
        case .tiles(let size): tileSize = size
        }
        return try flatPalette.withUnsafeBufferPointer { paletteBytes in
            try ShimStatus.encode(source: source) {
                ccodecs_tiff_encode(
                    pixels.baseAddress, UInt32(width), UInt32(height), photometric, paletteBytes.baseAddress,
                    Int32(palette?.count ?? 0), Int32(compression.rawValue), UInt32(clamping: rowsPerStrip),
                    UInt32(clamping: tileSize), &$0, &$1)
            }
        }
    }
}
