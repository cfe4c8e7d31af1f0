import CCodecs
import CResample

/// Decoding and resizing in one pass over a JPEG's rows.
///
/// `resize(Image(decoding:))` writes the whole decoded photo (2.5 MB at 750×1101) to memory and
/// reads it back for the horizontal pass, and writes the half-resized band (845 KB) and reads it
/// back for the vertical pass. Out of cache, with the other core doing the same, those reads
/// made the resize cost half again what it costs on cached pixels. Here libjpeg decodes 16 rows
/// at a time into a small buffer, the horizontal pass runs on them at once, and every output row
/// whose taps are complete is computed from band rows written moments before: every pass reads
/// what is still in L1 or L2. The arithmetic is the same, so the bytes are the same.
extension PhotoResizer {
    /// True when `resize(decoding:)` streams a JPEG's rows; else it decodes the whole photo and
    /// then resizes it (nearest neighbour, one axis unchanged, or Pillow's vertical-first order).
    public var streamsRows: Bool { streamingChunk.count > 0 }

    /// The encoded photo `bytes` decoded and resized: the same pixels as
    /// `resize(try Image(decoding: bytes, source: source, limits: limits))`, with the same
    /// errors (the photo must be `sourceWidth × sourceHeight`, else `.sizeMismatch`), but a
    /// JPEG is never held at full size (see above). Other formats are decoded whole.
    public func resize(
        decoding bytes: UnsafeRawBufferPointer, source: String, limits: DecodeLimits = .default
    ) throws -> Image {
        let info = try ImageInfo(probing: bytes, source: source)
        try info.check(limits, source: source)
        guard info.width == sourceWidth, info.height == sourceHeight else {
            throw ImageIOError(
                source: source,
                reason: .sizeMismatch(
                    expectedWidth: sourceWidth, expectedHeight: sourceHeight, width: info.width, height: info.height))
        }
        guard info.format == .jpeg, streamsRows, let horizontal, let vertical else {
            let decoded = try Image.decodeReportingWarnings(bytes, source: source, limits: limits)
            return resize(decoded.image)
        }
        var status = ccodecs_status()
        guard
            let reader = ccodecs_jpeg_reader_open(
                bytes.bytePointer, bytes.count, UInt32(sourceWidth), UInt32(sourceHeight), &status)
        else {
            try ShimStatus.check(&status, source: source)
            throw ImageIOError(source: source, reason: .corrupt("the JPEG decoder did not start"))
        }
        defer { ccodecs_jpeg_reader_close(reader) }
        let pixels = try [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            try streamRows(
                from: reader, status: &status, source: source, horizontal: horizontal, vertical: vertical,
                into: out.baseAddress!)
            count = width * height * 3
        }
        ccodecs_jpeg_reader_finish(reader, &status)
        try ShimStatus.check(&status, source: source)
        try PhotoDecoding.enforce(DecodeWarnings.from(&status), limits: limits, source: source)
        return Image(width: width, height: height, pixels: pixels)
    }

    /// Decodes `streamingRows` rows at a time, runs the horizontal pass on those the vertical
    /// pass reads, then computes every output row whose taps have all been decoded.
    private func streamRows(
        from reader: OpaquePointer, status: inout ccodecs_status, source: String,
        horizontal: Resampler.Coefficients, vertical: Resampler.Coefficients, into out: UnsafeMutablePointer<UInt8>
    ) throws {
        let chunk = streamingChunk.baseAddress!
        let rowBytes = sourceWidth * 3, bandRowBytes = width * 3
        var decoded = 0, finishedOutputRows = 0
        while decoded < sourceHeight {
            let count = Int(ccodecs_jpeg_reader_read(reader, chunk, UInt32(Self.streamingRows), &status))
            guard count > 0 else {
                try ShimStatus.check(&status, source: source)
                throw ImageIOError(
                    source: source, reason: .corrupt("the decoder stopped after \(decoded) of \(sourceHeight) rows"))
            }
            let first = decoded
            decoded += count
            let needed = max(first, rows.lowerBound)..<min(decoded, rows.upperBound)
            if !needed.isEmpty {
                let skipped = (needed.lowerBound - first) * rowBytes
                horizontalPass(
                    cachedRows: chunk + skipped, readable: streamingChunk.count - skipped, count: needed.count,
                    horizontal, into: band.baseAddress! + (needed.lowerBound - rows.lowerBound) * bandRowBytes)
            }
            var ready = finishedOutputRows
            while ready < height, vertical.starts[ready] + vertical.counts[ready] <= min(decoded, rows.upperBound) {
                ready += 1
            }
            if ready > finishedOutputRows {
                verticalPass(
                    band.baseAddress!, rowLength: bandRowBytes, vertical, outputRows: finishedOutputRows..<ready,
                    into: out)
                finishedOutputRows = ready
            }
        }
    }

    /// The horizontal pass over `count` rows that were just decoded (so are in cache).
    private func horizontalPass(
        cachedRows input: UnsafePointer<UInt8>, readable: Int, count: Int, _ h: Resampler.Coefficients,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        if let horizontalPlan,
            resample_horizontal_rgb8_avx2_cached(horizontalPlan, input, sourceWidth, readable, count, out) == 0
        {
            return
        }  // else no AVX2, or its padded-row allocation failed: the portable loop needs none
        Resampler.horizontalPass(
            input, inputWidth: sourceWidth, rows: 0..<count, coefficients: h, outputWidth: width, into: out)
    }
}
