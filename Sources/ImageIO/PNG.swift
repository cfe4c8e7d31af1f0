import CCodecs

/// The PNG side of ImageIO: libpng through the `ccodecs_png_*` shim.
enum PNGCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageInfo {
        var info = ccodecs_png_info()
        var status = ccodecs_status()
        ccodecs_png_probe(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, &status)
        try ShimStatus.check(&status, source: source)
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

    /// Decodes into `out` in the given layout; the caller checked the size and the limits.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, layout: ccodecs_png_layout, info: ImageInfo,
        into out: UnsafeMutableRawBufferPointer
    ) throws -> DecodeWarnings {
        var status = ccodecs_status()
        ccodecs_png_decode(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, layout,
            UInt32(info.width), UInt32(info.height), out.baseAddress?.assumingMemoryBound(to: UInt8.self), out.count,
            &status)
        try ShimStatus.check(&status, source: source)
        return DecodeWarnings.from(&status)
    }

    /// PNG bytes of 8-bit pixels: gray (1 byte/pixel), RGB (3) or palette indices (1).
    static func encode(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, colorType: Int32,
        palette: [RGBColor]?, compressionLevel: Int, source: String
    ) throws -> [UInt8] {
        let flatPalette = (palette ?? []).flatMap { [$0.red, $0.green, $0.blue] }
        var buffer = ccodecs_buffer()
        var status = ccodecs_status()
        flatPalette.withUnsafeBufferPointer { paletteBytes in
            _ = ccodecs_png_encode(
                pixels.baseAddress, UInt32(width), UInt32(height), colorType, paletteBytes.baseAddress,
                Int32(palette?.count ?? 0), Int32(clamping: compressionLevel), &buffer, &status)
        }
        try ShimStatus.check(&status, source: source, encoding: true)
        return ShimStatus.take(&buffer)
    }
}
