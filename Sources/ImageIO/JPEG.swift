import CCodecs

/// The JPEG side of ImageIO: libjpeg-turbo through the `ccodecs_jpeg_*` shim.
enum JPEGCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageInfo {
        var info = ccodecs_jpeg_info()
        try ShimStatus.call(source: source) {
            ccodecs_jpeg_probe(bytes.bytePointer, bytes.count, &info, &$0)
        }
        let model: ColorModel
        switch Int(info.color_space) {
        case 1: model = .gray
        case 2: model = .rgb
        case 3: model = .ycbcr
        case 4: model = .cmyk
        case 5: model = .ycck
        default: model = .other
        }
        return ImageInfo(
            format: .jpeg, width: Int(info.width), height: Int(info.height), bitsPerSample: 8, colorModel: model,
            samplesPerPixel: Int(info.components), palette: nil, isInterlaced: info.progressive != 0,
            isTiled: false, tiffCompression: nil)
    }

    /// Decodes to RGB into `out`; a truncated file or damaged scan data throws, stray bytes
    /// between markers are returned as warnings.
    static func decodeRGB(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, into out: UnsafeMutableRawBufferPointer
    ) throws -> DecodeWarnings {
        return try ShimStatus.call(source: source) {
            ccodecs_jpeg_decode_rgb(
                bytes.bytePointer, bytes.count, UInt32(info.width), UInt32(info.height),
                out.bytePointer, out.count, &$0)
        }
    }

    /// Decodes as `decodeRGB` does, keeping no pixels (`ccodecs_jpeg_check`): the same errors,
    /// and the warnings.
    static func check(_ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo) throws -> DecodeWarnings {
        return try ShimStatus.call(source: source) {
            ccodecs_jpeg_check(bytes.bytePointer, bytes.count, UInt32(info.width), UInt32(info.height), &$0)
        }
    }

    /// JPEG bytes of gray (`components` 1), RGB (3) or CMYK (4, optionally stored as YCCK)
    /// pixels. CMYK is only written by tests, to check the CMYK/YCCK decoders.
    static func encode(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, components: Int, quality: Int,
        progressive: Bool, ycck: Bool = false, source: String
    ) throws -> [UInt8] {
        try ShimStatus.encode(source: source) {
            ccodecs_jpeg_encode(
                pixels.baseAddress, UInt32(width), UInt32(height), Int32(components), Int32(clamping: quality),
                progressive ? 1 : 0, ycck ? 1 : 0, &$0, &$1)
        }
    }
}
