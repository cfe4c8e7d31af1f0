import CCodecs

/// The JPEG side of ImageIO: libjpeg-turbo through the `ccodecs_jpeg_*` shim.
enum JPEGCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageInfo {
        var info = ccodecs_jpeg_info()
        var status = ccodecs_status()
        ccodecs_jpeg_probe(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, &status)
        try ShimStatus.check(&status, source: source)
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
        var status = ccodecs_status()
        ccodecs_jpeg_decode_rgb(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, UInt32(info.width),
            UInt32(info.height), out.baseAddress?.assumingMemoryBound(to: UInt8.self), out.count, &status)
        try ShimStatus.check(&status, source: source)
        return DecodeWarnings.from(&status)
    }

    /// Decodes as `decodeRGB` does, keeping no pixels (`ccodecs_jpeg_check`): the same errors,
    /// and the warnings.
    static func check(_ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo) throws -> DecodeWarnings {
        var status = ccodecs_status()
        ccodecs_jpeg_check(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, UInt32(info.width), UInt32(info.height), &status)
        try ShimStatus.check(&status, source: source)
        return DecodeWarnings.from(&status)
    }

    /// JPEG bytes of gray (`components` 1), RGB (3) or CMYK (4, optionally stored as YCCK)
    /// pixels. CMYK is only written by tests, to check the CMYK/YCCK decoders.
    static func encode(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, components: Int, quality: Int,
        progressive: Bool, ycck: Bool = false, source: String
    ) throws -> [UInt8] {
        var buffer = ccodecs_buffer()
        var status = ccodecs_status()
        ccodecs_jpeg_encode(
            pixels.baseAddress, UInt32(width), UInt32(height), Int32(components), Int32(clamping: quality),
            progressive ? 1 : 0, ycck ? 1 : 0, &buffer, &status)
        try ShimStatus.check(&status, source: source, encoding: true)
        return ShimStatus.take(&buffer)
    }
}
