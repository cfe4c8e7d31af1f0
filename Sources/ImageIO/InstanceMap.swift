import CCodecs

/// An instance map: one 16-bit id per pixel, row-major, telling apart the objects of one class
/// (Cityscapes' `*_gtFine_instanceIds.png`: the class id for stuff, class id × 1000 + n for the
/// n-th car or person). Only equality of neighbouring ids matters to GroupDNet, which turns the
/// map into an instance-edge channel; the ids themselves are kept exactly.
///
/// A type of its own, like `LabelMap`, so that an instance map is never passed as a label map:
/// its ids need 16 bits and are not class ids.
public struct InstanceMap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `width * height` ids.
    public var values: [UInt16]

    /// Wraps existing ids. `values.count` must be `width * height`.
    public init(width: Int, height: Int, values: [UInt16]) {
        precondition(width >= 0 && height >= 0, "Instance map size must not be negative: \(width)×\(height)")
        precondition(
            values.count == width * height,
            "Instance map of \(width)×\(height) needs \(width * height) values, got \(values.count)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// An instance map of the given size filled with one id.
    public init(width: Int, height: Int, filledWith value: UInt16 = 0) {
        self.init(width: width, height: height, values: [UInt16](repeating: value, count: width * height))
    }

    public var pixelCount: Int { width * height }
}

extension InstanceMap {
    /// Decodes a 16-bit grayscale PNG or TIFF (Cityscapes' format), or an 8-bit grayscale or
    /// palette one (its samples widened). Colour images and JPEGs are refused: a colour is not
    /// an id, and lossy compression changes ids at edges.
    public init(decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default) throws {
        let info = try ImageInfo(probing: bytes, source: source)
        try info.check(limits, source: source)
        var values = [UInt16](repeating: 0, count: info.pixelCount)
        try values.withUnsafeMutableBufferPointer {
            try InstanceDecoding.decode(bytes, source: source, info: info, into: $0, limits: limits)
        }
        self.init(width: info.width, height: info.height, values: values)
    }

    /// Reads and decodes an instance map file.
    public init(contentsOfFile path: String, limits: DecodeLimits = .default) throws {
        let bytes = try ImageFile.read(path)
        self = try bytes.withUnsafeBytes { try InstanceMap(decoding: $0, source: path, limits: limits) }
    }

    /// Decodes into caller-owned storage of exactly `width * height` ids (the shard loader's
    /// preallocated slots); the file must declare that size.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, into values: UnsafeMutableBufferPointer<UInt16>,
        width: Int, height: Int, limits: DecodeLimits = .default
    ) throws {
        precondition(values.count == width * height, "buffer of \(values.count) ids for a \(width)×\(height) map")
        let info = try ImageInfo(probing: bytes, source: source, expectingWidth: width, height: height, limits: limits)
        try InstanceDecoding.decode(bytes, source: source, info: info, into: values, limits: limits)
    }

    /// A 16-bit grayscale PNG, rows unfiltered (ids come in long runs, which deflate as they are).
    public func encodedPNG(compressionLevel: Int = 6) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { samples in
            try ShimStatus.encode(source: "PNG encoder") {
                ccodecs_png_encode_gray16(
                    samples.baseAddress, UInt32(width), UInt32(height), Int32(clamping: compressionLevel), &$0, &$1)
            }
        }
    }

    /// This map resampled to `width × height` by nearest neighbour, with PIL's NEAREST rule
    /// (the reference resizes instance maps with the label transform), as `LabelMap.resized`.
    public func resized(width: Int, height: Int) -> InstanceMap {
        precondition(width >= 0 && height >= 0, "cannot resize to \(width)×\(height)")
        if width == self.width && height == self.height { return self }
        if self.width == 0 || self.height == 0 { return InstanceMap(width: width, height: height) }
        let columns = Resampler.nearestIndices(inputSize: self.width, outputSize: width)
        let rows = Resampler.nearestIndices(inputSize: self.height, outputSize: height)
        var output = [UInt16](repeating: 0, count: width * height)
        for (y, sourceRow) in rows.enumerated() {
            let source = sourceRow * self.width, target = y * width
            for x in 0..<width { output[target + x] = values[source + columns[x]] }
        }
        return InstanceMap(width: width, height: height, values: output)
    }

    /// The ids inside `rect`, which must lie inside the map.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> InstanceMap {
        precondition(x >= 0 && y >= 0 && x + width <= self.width && y + height <= self.height, "crop outside the map")
        var output = [UInt16](repeating: 0, count: width * height)
        for row in 0..<height {
            let from = (y + row) * self.width + x
            output.replaceSubrange(row * width..<(row + 1) * width, with: values[from..<from + width])
        }
        return InstanceMap(width: width, height: height, values: output)
    }
}

/// The format dispatch behind `InstanceMap`'s decoders: raw samples only, never colours.
enum InstanceDecoding {
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, info: ImageInfo, into out: UnsafeMutableBufferPointer<UInt16>,
        limits: DecodeLimits
    ) throws {
        let raw = UnsafeMutableRawBufferPointer(out)
        let warnings: DecodeWarnings
        switch (info.format, info.colorModel, info.bitsPerSample) {
        case (.png, .gray, 16), (.png, .grayAlpha, 16):
            warnings = try PNGCodec.decode(
                bytes, source: source, layout: CCODECS_PNG_LAYOUT_SAMPLE16, info: info, into: raw)
        case (.tiff, .gray, 16) where info.samplesPerPixel == 1:
            warnings = try TIFFCodec.decodeSamples(bytes, source: source, info: info, sampleBytes: 2, into: raw)
        case (.png, .palette, _), (.png, .gray, ...8), (.png, .grayAlpha, ...8),
            (.tiff, .gray, 8) where info.samplesPerPixel == 1:
            // An 8-bit map (the reference reads one too): decoded as a label map's bytes, widened.
            var narrow = [UInt8](repeating: 0, count: info.pixelCount)
            try narrow.withUnsafeMutableBufferPointer {
                try LabelDecoding.decode(bytes, source: source, info: info, into: $0, limits: limits)
            }
            for index in 0..<narrow.count { out[index] = UInt16(narrow[index]) }
            return
        default:
            throw ImageIOError(
                source: source,
                reason: .unsupported(
                    "\(info.format.rawValue) \(info.colorModel.rawValue) at \(info.bitsPerSample) bits is not an "
                        + "instance map: an instance map is a 16-bit (or 8-bit) grayscale image"))
        }
        try PhotoDecoding.enforce(warnings, limits: limits, source: source)
    }
}
