import CCodecs

extension Image {
    /// Progressive JPEG bytes of this image (libjpeg's simple progression). `quality` 1...100.
    public func encodedProgressiveJPEG(quality: Int = 95) throws -> [UInt8] {
        try pixels.withUnsafeBufferPointer {
            try JPEGCodec.encode(
                $0, width: width, height: height, components: 3, quality: quality,
                progressive: true, source: "JPEG encoder")
        }
    }

    /// TIFF bytes of this image (8-bit RGB, one directory). JPEG compression uses quality 90.
    public func encodedTIFF(
        compression: TIFFCompression = .lzw, layout: TIFFLayout = .strips(rowsPerStrip: 16)
    ) throws -> [UInt8] {
        try pixels.withUnsafeBufferPointer {
            try TIFFEncoder.encode(
                $0, width: width, height: height, photometric: Int32(CCODECS_TIFF_RGB), palette: nil,
                compression: compression, layout: layout, source: "TIFF encoder")
        }
    }
}

extension LabelMap {
    /// Grayscale JPEG bytes of these values. Only for tests and previews: JPEG is lossy, so
    /// `LabelMap(decoding:)` refuses it.
    public func encodedGrayJPEG(quality: Int = 95) throws -> [UInt8] {
        try values.withUnsafeBufferPointer {
            try JPEGCodec.encode(
                $0, width: width, height: height, components: 1, quality: quality,
                progressive: false, source: "JPEG encoder")
        }
    }

    /// TIFF bytes: palette when `palette` is given, else 8-bit gray (min-is-black).
    public func encodedTIFF(
        palette: [RGBColor]? = nil, compression: TIFFCompression = .lzw, layout: TIFFLayout = .strips(rowsPerStrip: 16)
    ) throws -> [UInt8] {
        if let palette { try checkFits(palette, source: "TIFF encoder") }
        let photometric = Int32(palette == nil ? CCODECS_TIFF_MINISBLACK : CCODECS_TIFF_PALETTE)
        return try values.withUnsafeBufferPointer {
            try TIFFEncoder.encode(
                $0, width: width, height: height, photometric: photometric, palette: palette,
                compression: compression, layout: layout, source: "TIFF encoder")
        }
    }
}
