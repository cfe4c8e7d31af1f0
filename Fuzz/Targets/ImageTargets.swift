import ImageIO

/// PNG, JPEG and TIFF photos and label maps through ImageIO, as the pipeline and the shard
/// reader decode them: header probe, limits, whole decode, decode into a caller's buffer, the
/// decode-only check and (JPEG) the one-pass decode and resize.
enum ImageTargets {
    /// The decoders' real limit is 100 M pixels; a fuzzer input claiming that much would spend
    /// seconds filling memory with grey, so the targets allow 256 K (512 × 512: the same code
    /// paths). At 4 M, JPEG inputs declaring large sizes held `jpeg` to 120–380 executions a
    /// second, against 1,600–5,000 for the other image formats.
    static let limits = DecodeLimits(maxPixels: 1 << 18)

    static let png = photoTarget(.png, "PNG photo: probe, decode to RGB (whole and into a buffer), check")
    static let jpeg = photoTarget(.jpeg, "JPEG photo: probe, decode, check, one-pass decode and resize to 64×48")
    static let tiff = photoTarget(.tiff, "TIFF photo: probe, decode to RGB (whole and into a buffer), check")

    static let label = FuzzTarget(
        name: "label", summary: "label map of any format: decode, decode counting values, decode into a buffer"
    ) { bytes in
        guard let (map, counts) = try? LabelMap.decodeCountingValues(bytes, source: "fuzz", limits: limits) else {
            _ = try? LabelMap(decoding: bytes, source: "fuzz", limits: limits)
            return
        }
        expect(counts.reduce(0, +) == map.width * map.height, "value counts add up to the pixels")
        let again = try? LabelMap(decoding: bytes, source: "fuzz", limits: limits)
        expect(again?.values == map.values, "the two label decoders agree")
        var values = [UInt8](repeating: 0, count: map.width * map.height)
        values.withUnsafeMutableBufferPointer { buffer in
            _ = try? LabelMap.decode(
                bytes, source: "fuzz", into: buffer, width: map.width, height: map.height, limits: limits)
        }
        expect(values == map.values, "decoding into a buffer gives the same values")
    }

    /// Inputs of another format return at once: each target explores its own decoder.
    private static func photoTarget(_ format: ImageFormat, _ summary: String) -> FuzzTarget {
        FuzzTarget(name: format.rawValue, summary: summary) { bytes in
            guard ImageFormat(sniffing: bytes) == format else { return }
            let checks = (try? Image.checkDecodes(bytes, source: "fuzz", limits: limits)) != nil
            let image = try? Image(decoding: bytes, source: "fuzz", limits: limits)
            expect(checks == (image != nil), "checkDecodes throws exactly when decoding does")
            guard let image else { return }
            var pixels = [UInt8](repeating: 0, count: image.pixels.count)
            pixels.withUnsafeMutableBufferPointer { buffer in
                _ = try? Image.decode(
                    bytes, source: "fuzz", into: buffer, width: image.width, height: image.height, limits: limits)
            }
            expect(pixels == image.pixels, "decoding into a buffer gives the same pixels")
            guard format == .jpeg else { return }
            let resizer = PhotoResizer(fromWidth: image.width, fromHeight: image.height, toWidth: 64, toHeight: 48)
            let streamed = try? resizer.resize(decoding: bytes, source: "fuzz", limits: limits)
            expect(streamed == resizer.resize(image), "the one-pass resize succeeds and equals decode then resize")
        }
    }
}
