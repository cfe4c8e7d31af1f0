/// Separable resampling with PIL's arithmetic, so photos resized here match the reference
/// pipeline (which resizes with PIL) to the byte.
///
/// For each output coordinate i (of `outputSize`, from `inputSize`):
///   scale = inputSize / outputSize, filterScale = max(scale, 1)   (shrinking widens the kernel)
///   center = (i + 0.5) · scale, support = filter.support · filterScale
///   taps j from trunc(center − support + 0.5) to trunc(center + support + 0.5), clamped
///   weight(j) = filter((j − center + 0.5) / filterScale), normalised to sum 1,
///   then rounded to 22-bit fixed point (half away from zero).
/// Each pass rounds to 8 bits: (sum + 2^21) >> 22, clamped to 0...255, so the pass order changes
/// results. Pillow 13 runs the vertical pass first when the height loses more than twice as
/// many pixels as the width (sourceHeight − height > 2 · (sourceWidth − width), height
/// shrinking), otherwise the horizontal pass first, over only the rows the vertical pass needs;
/// Pillow 12 and earlier always went horizontal first. `ResizePassOrder` picks which to match.
/// (DeepFashion's 750×1101 → 256×256 is horizontal-first under both.)
import CResample

/// Which Pillow's pass order `PhotoResizer` reproduces (the results differ by rounding).
public enum ResizePassOrder: Sendable, Equatable {
    /// Pillow 13 and later: vertical first when the height loses more than twice as many pixels
    /// as the width, else horizontal first. The default.
    case pillow13
    /// Pillow 12 and earlier: always horizontal first.
    case horizontalFirst
}

/// Which inner loops `PhotoResizer` runs. Both give the same bytes.
public enum ResizeKernels: Sendable, Equatable {
    /// The AVX2 loops of `CResample` when the CPU has AVX2, else the portable ones. The default.
    case automatic
    /// The portable Swift loops: the reference the AVX2 loops are tested against.
    case portable

    /// True when `automatic` runs the AVX2 loops on this CPU.
    public static let avx2Available = resample_avx2_available() != 0
}

enum Resampler {
    static let precisionBits: Int32 = 22

    /// Taps of every output coordinate: `starts[i]`, `counts[i]` and `kernelSize` weights each.
    struct Coefficients {
        var starts: [Int]
        var counts: [Int]
        var weights: [Int32]
        var kernelSize: Int

        /// `starts` and `counts` as the C kernels take them, `starts` shifted by `firstRow`.
        func int32Taps(firstRow: Int = 0) -> (starts: [Int32], counts: [Int32]) {
            (starts.map { Int32($0 - firstRow) }, counts.map { Int32($0) })
        }
    }

    static func support(of filter: ResizeFilter) -> Double {
        switch filter {
        case .nearest: return 0.5
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// Keys' cubic with a = −0.5 (PIL's BICUBIC) or the triangle (BILINEAR).
    @inline(__always)
    static func kernel(_ filter: ResizeFilter, _ t: Double) -> Double {
        let x = abs(t)
        switch filter {
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .nearest:
            return x <= 0.5 ? 1 : 0
        }
    }

    static func coefficients(inputSize: Int, outputSize: Int, filter: ResizeFilter) -> Coefficients {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = support(of: filter) * filterScale
        let inverseScale = 1 / filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outputSize)
        var counts = [Int](repeating: 0, count: outputSize)
        var weights = [Int32](repeating: 0, count: outputSize * kernelSize)
        var taps = [Double](repeating: 0, count: kernelSize)
        let one = Double(1 << precisionBits)
        for i in 0..<outputSize {
            let center = (Double(i) + 0.5) * scale
            let first = max(Int(center - support + 0.5), 0)
            let count = min(Int(center + support + 0.5), inputSize) - first
            var total = 0.0
            for j in 0..<count {
                // Multiplying by the reciprocal (not dividing) as PIL does: the last bit matters when
                // a weight lands on a fixed-point rounding edge.
                let w = kernel(filter, (Double(j + first) - center + 0.5) * inverseScale)
                taps[j] = w
                total += w
            }
            for j in 0..<count {
                let w = total != 0 ? taps[j] / total : taps[j]
                weights[i * kernelSize + j] = Int32(w < 0 ? w * one - 0.5 : w * one + 0.5)
            }
            starts[i] = first
            counts[i] = count
        }
        return Coefficients(starts: starts, counts: counts, weights: weights, kernelSize: kernelSize)
    }

    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> precisionBits
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(truncatingIfNeeded: v)
    }

    static func resize(_ image: Image, width: Int, height: Int, filter: ResizeFilter) -> Image {
        precondition(width >= 0 && height >= 0, "cannot resize to \(width)×\(height)")
        if width == image.width && height == image.height { return image }
        if width == 0 || height == 0 || image.width == 0 || image.height == 0 {
            return Image(width: width, height: height)
        }
        let resizer = PhotoResizer(
            fromWidth: image.width, fromHeight: image.height, toWidth: width, toHeight: height, filter: filter)
        return resizer.resize(image)
    }

    /// Resamples each row of `rows` from `inputWidth` to `outputWidth` RGB pixels into `out`.
    /// Rows go in pairs: both use the same taps, so each weight is loaded once for six sums.
    static func horizontalPass(
        _ input: UnsafePointer<UInt8>, inputWidth: Int, rows: Range<Int>, coefficients c: Coefficients,
        outputWidth: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
        let half: Int32 = 1 << (precisionBits - 1)
        let kernelSize = c.kernelSize
        let inputRow = inputWidth * 3, outputRow = outputWidth * 3
        c.weights.withUnsafeBufferPointer { weights in
            c.starts.withUnsafeBufferPointer { starts in
                c.counts.withUnsafeBufferPointer { counts in
                    var row = 0
                    while row + 1 < rows.count {
                        let first = input + (rows.lowerBound + row) * inputRow
                        let second = first + inputRow
                        let target = out + row * outputRow
                        for x in 0..<outputWidth {
                            var r0 = half, g0 = half, b0 = half, r1 = half, g1 = half, b1 = half
                            let k = weights.baseAddress! + x * kernelSize
                            var p = starts[x] * 3
                            for j in 0..<counts[x] {
                                let w = k[j]
                                r0 &+= Int32(first[p]) &* w
                                g0 &+= Int32(first[p + 1]) &* w
                                b0 &+= Int32(first[p + 2]) &* w
                                r1 &+= Int32(second[p]) &* w
                                g1 &+= Int32(second[p + 1]) &* w
                                b1 &+= Int32(second[p + 2]) &* w
                                p += 3
                            }
                            target[3 * x] = clip8(r0)
                            target[3 * x + 1] = clip8(g0)
                            target[3 * x + 2] = clip8(b0)
                            target[outputRow + 3 * x] = clip8(r1)
                            target[outputRow + 3 * x + 1] = clip8(g1)
                            target[outputRow + 3 * x + 2] = clip8(b1)
                        }
                        row += 2
                    }
                    if row < rows.count {
                        let source = input + (rows.lowerBound + row) * inputRow
                        let target = out + row * outputRow
                        for x in 0..<outputWidth {
                            var r = half, g = half, b = half
                            let k = weights.baseAddress! + x * kernelSize
                            var p = source + starts[x] * 3
                            for j in 0..<counts[x] {
                                let w = k[j]
                                r &+= Int32(p[0]) &* w
                                g &+= Int32(p[1]) &* w
                                b &+= Int32(p[2]) &* w
                                p += 3
                            }
                            target[3 * x] = clip8(r)
                            target[3 * x + 1] = clip8(g)
                            target[3 * x + 2] = clip8(b)
                        }
                    }
                }
            }
        }
    }

    /// Resamples columns: each output row is a weighted sum of whole input rows, accumulated
    /// row by row so the inner loop runs over contiguous bytes. `sums` holds `rowLength` values.
    /// Output row y (of `outputRows`) goes to `out + y * rowLength`.
    static func verticalPass(
        _ band: UnsafePointer<UInt8>, rowLength: Int, coefficients c: Coefficients, firstRow: Int,
        outputRows: Range<Int>,
        sums: UnsafeMutablePointer<Int32>, into out: UnsafeMutablePointer<UInt8>
    ) {
        let half: Int32 = 1 << (precisionBits - 1)
        for y in outputRows {
            sums.update(repeating: half, count: rowLength)
            for j in 0..<c.counts[y] {
                let w = c.weights[y * c.kernelSize + j]
                let source = band + (c.starts[y] - firstRow + j) * rowLength
                for i in 0..<rowLength { sums[i] &+= Int32(source[i]) &* w }
            }
            let target = out + y * rowLength
            for i in 0..<rowLength { target[i] = clip8(sums[i]) }
        }
    }

    /// Source index of each output index for nearest neighbour, as PIL computes it: the centre
    /// (i + 0.5) · scale, stepped by adding `scale` (PIL accumulates rather than multiplies,
    /// which decides ties), truncated, clamped to the input.
    static func nearestIndices(inputSize: Int, outputSize: Int) -> [Int] {
        let scale = Double(inputSize) / Double(outputSize)
        var position = scale * 0.5
        var indices = [Int](repeating: 0, count: outputSize)
        for i in 0..<outputSize {
            indices[i] = min(max(Int(position), 0), inputSize - 1)
            position += scale
        }
        return indices
    }

    /// Nearest-neighbour resampling of interleaved bytes; with `table` (one channel only),
    /// each value picked is replaced by `table[value]` in the same gather.
    static func nearest(
        _ values: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int, table: [UInt8]? = nil
    ) -> [UInt8] {
        precondition(
            table == nil || (channels == 1 && table!.count == 256), "a lookup table is 256 entries for one channel")
        let columns = nearestIndices(inputSize: width, outputSize: toWidth)
        let rows = nearestIndices(inputSize: height, outputSize: toHeight)
        return [UInt8](unsafeUninitializedCapacity: toWidth * toHeight * channels) { out, initialized in
            values.withUnsafeBufferPointer { input in
                columns.withUnsafeBufferPointer { columns in
                    var target = out.baseAddress!
                    for y in rows {
                        let source = input.baseAddress! + y * width * channels
                        if let table {
                            table.withUnsafeBufferPointer { table in
                                for x in 0..<toWidth { target[x] = table[Int(source[columns[x]])] }
                            }
                        } else if channels == 1 {  // label maps: a plain gather, no per-channel loop
                            for x in 0..<toWidth { target[x] = source[columns[x]] }
                        } else {
                            for x in 0..<toWidth {
                                for ch in 0..<channels {
                                    target[x * channels + ch] = source[columns[x] * channels + ch]
                                }
                            }
                        }
                        target += toWidth * channels
                    }
                }
            }
            initialized = toWidth * toHeight * channels
        }
    }

    static func resizeNearest(_ map: LabelMap, width: Int, height: Int, table: [UInt8]? = nil) -> LabelMap {
        precondition(width >= 0 && height >= 0, "cannot resize to \(width)×\(height)")
        if width == 0 || height == 0 || map.width == 0 || map.height == 0 {
            // An empty source has no values to pick: zeros, as without a table, through the table.
            return LabelMap(width: width, height: height, filledWith: table?[0] ?? 0)
        }
        if width == map.width && height == map.height && table == nil { return map }
        return LabelMap(
            width: width, height: height,
            values: nearest(
                map.values, width: map.width, height: map.height, channels: 1, toWidth: width, toHeight: height,
                table: table))
    }
}

/// A reusable photo resizer for one source size and one target size: the weights are computed
/// once and the intermediate buffers allocated once, so resizing many same-sized photos (every
/// DeepFashion photo is 750×1101) allocates nothing but the result. Not thread-safe: use one
/// per worker thread.
public final class PhotoResizer {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let width: Int
    public let height: Int
    public let filter: ResizeFilter
    /// True when the vertical pass runs first (see `ResizePassOrder`).
    public let verticalFirst: Bool
    let horizontal: Resampler.Coefficients?
    let vertical: Resampler.Coefficients?
    /// Rows of the source the vertical pass reads (all of them when only the width changes).
    let rows: Range<Int>
    /// The intermediate image between the two passes.
    let band: UnsafeMutableBufferPointer<UInt8>
    private let sums: UnsafeMutableBufferPointer<Int32>
    /// True when the AVX2 loops run (see `ResizeKernels`).
    public let usesAVX2: Bool
    /// The taps as the AVX2 loops take them; the vertical starts count from the first row the
    /// vertical pass reads from its input.
    private let horizontalTaps: (starts: [Int32], counts: [Int32])
    let verticalTaps: (starts: [Int32], counts: [Int32])
    /// The source row the vertical pass's input begins at: `rows.lowerBound` when it reads the
    /// band of the horizontal pass, else 0.
    private let verticalFirstRow: Int
    /// The horizontal weights packed once for the AVX2 loop over cached rows (streaming only).
    let horizontalPlan: OpaquePointer?
    /// Rows decoded per step of `resize(decoding:)`, and the buffer they land in (zeroed
    /// padding after them, which the AVX2 loads may read); empty when it cannot stream.
    static let streamingRows = 16
    let streamingChunk: UnsafeMutableBufferPointer<UInt8>

    /// Prepares resizing `fromWidth × fromHeight` photos to `toWidth × toHeight` (all > 0).
    public init(
        fromWidth: Int, fromHeight: Int, toWidth: Int, toHeight: Int, filter: ResizeFilter = .bicubic,
        passOrder: ResizePassOrder = .pillow13, kernels: ResizeKernels = .automatic
    ) {
        precondition(
            fromWidth > 0 && fromHeight > 0 && toWidth > 0 && toHeight > 0,
            "cannot resize \(fromWidth)×\(fromHeight) to \(toWidth)×\(toHeight)")
        sourceWidth = fromWidth
        sourceHeight = fromHeight
        width = toWidth
        height = toHeight
        self.filter = filter
        let resamples = filter != .nearest
        let horizontal =
            resamples && toWidth != fromWidth
            ? Resampler.coefficients(inputSize: fromWidth, outputSize: toWidth, filter: filter) : nil
        let vertical =
            resamples && toHeight != fromHeight
            ? Resampler.coefficients(inputSize: fromHeight, outputSize: toHeight, filter: filter) : nil
        self.horizontal = horizontal
        self.vertical = vertical
        if let vertical {
            rows = vertical.starts[0]..<(vertical.starts[toHeight - 1] + vertical.counts[toHeight - 1])
        } else {
            rows = 0..<fromHeight
        }
        verticalFirst =
            passOrder == .pillow13 && toHeight < fromHeight
            && fromHeight - toHeight > 2 * (fromWidth - toWidth)
        let twoPasses = horizontal != nil && vertical != nil
        band = .allocate(capacity: !twoPasses ? 0 : verticalFirst ? fromWidth * toHeight * 3 : rows.count * toWidth * 3)
        sums = .allocate(capacity: vertical != nil ? max(toWidth, fromWidth) * 3 : 0)
        usesAVX2 = kernels == .automatic && ResizeKernels.avx2Available
        horizontalTaps = horizontal?.int32Taps() ?? ([], [])
        verticalFirstRow = twoPasses && !verticalFirst ? rows.lowerBound : 0
        verticalTaps = vertical?.int32Taps(firstRow: verticalFirstRow) ?? ([], [])
        let streams = twoPasses && !verticalFirst
        if streams, usesAVX2, let horizontal {
            let taps = horizontalTaps
            horizontalPlan = horizontal.weights.withUnsafeBufferPointer { weights in
                resample_horizontal_plan_create(
                    taps.starts, taps.counts, weights.baseAddress, horizontal.kernelSize, toWidth)
            }
        } else {
            horizontalPlan = nil
        }
        streamingChunk = .allocate(capacity: streams ? (Self.streamingRows + 1) * fromWidth * 3 + 64 : 0)
        streamingChunk.initialize(repeating: 0)
    }

    deinit {
        band.deallocate()
        sums.deallocate()
        streamingChunk.deallocate()
        resample_horizontal_plan_destroy(horizontalPlan)
    }

    /// `image` resized; it must be `sourceWidth × sourceHeight`.
    public func resize(_ image: Image) -> Image {
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            resize(image, into: out)
            count = width * height * 3
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    /// Writes `image` resized into `out` of exactly `width * height * 3` bytes.
    public func resize(_ image: Image, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(
            image.width == sourceWidth && image.height == sourceHeight,
            "resizer for \(sourceWidth)×\(sourceHeight) given \(image.width)×\(image.height)")
        precondition(out.count == width * height * 3, "output of \(out.count) bytes for \(width)×\(height) RGB")
        image.pixels.withUnsafeBufferPointer { input in
            let source = input.baseAddress!
            let target = out.baseAddress!
            if filter == .nearest {
                let resized = Resampler.nearest(
                    image.pixels, width: sourceWidth, height: sourceHeight, channels: 3,
                    toWidth: width, toHeight: height)
                _ = out.initialize(from: resized)
                return
            }
            let sourceBytes = input.count
            switch (horizontal, vertical) {
            case let (h?, v?) where verticalFirst:
                verticalPass(source, rowLength: sourceWidth * 3, v, into: band.baseAddress!)
                horizontalPass(
                    band.baseAddress!, readable: band.count, inputWidth: sourceWidth, rows: 0..<height, h,
                    into: target)
            case let (h?, v?):
                horizontalPass(
                    source, readable: sourceBytes, inputWidth: sourceWidth, rows: rows, h, into: band.baseAddress!)
                verticalPass(band.baseAddress!, rowLength: width * 3, v, into: target)
            case let (h?, nil):
                horizontalPass(source, readable: sourceBytes, inputWidth: sourceWidth, rows: rows, h, into: target)
            case let (nil, v?):
                verticalPass(source, rowLength: width * 3, v, into: target)
            case (nil, nil):
                target.update(from: source, count: width * height * 3)
            }
        }
    }

    /// `rows` of `input` (`inputWidth` RGB pixels each, `readable` bytes in all) resampled to
    /// `width` pixels each, written one after another into `out`.
    private func horizontalPass(
        _ input: UnsafePointer<UInt8>, readable: Int, inputWidth: Int, rows: Range<Int>, _ h: Resampler.Coefficients,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        if usesAVX2 {
            let skipped = rows.lowerBound * inputWidth * 3
            let status = h.weights.withUnsafeBufferPointer { weights in
                resample_horizontal_rgb8_avx2(
                    input + skipped, inputWidth, readable - skipped, rows.count, out, width,
                    horizontalTaps.starts, horizontalTaps.counts, weights.baseAddress, h.kernelSize)
            }
            if status == 0 { return }  // else its scratch allocation failed: the portable loop needs none
        }
        Resampler.horizontalPass(
            input, inputWidth: inputWidth, rows: rows, coefficients: h, outputWidth: width, into: out)
    }

    /// `input` (rows of `rowLength` bytes) resampled to `height` rows into `out`.
    /// Output rows `outputRows` (all by default) go to `out + row * rowLength`.
    func verticalPass(
        _ input: UnsafePointer<UInt8>, rowLength: Int, _ v: Resampler.Coefficients, outputRows: Range<Int>? = nil,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        let outputRows = outputRows ?? 0..<height
        if usesAVX2 {
            let first = outputRows.lowerBound
            v.weights.withUnsafeBufferPointer { weights in
                verticalTaps.starts.withUnsafeBufferPointer { starts in
                    verticalTaps.counts.withUnsafeBufferPointer { counts in
                        resample_vertical_u8_avx2(
                            input, rowLength, out + first * rowLength, outputRows.count, starts.baseAddress! + first,
                            counts.baseAddress! + first, weights.baseAddress! + first * v.kernelSize, v.kernelSize)
                    }
                }
            }
            return
        }
        Resampler.verticalPass(
            input, rowLength: rowLength, coefficients: v, firstRow: verticalFirstRow, outputRows: outputRows,
            sums: sums.baseAddress!, into: out)
    }
}
