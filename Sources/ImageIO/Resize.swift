/// Separable resampling with PIL's arithmetic, so photos resized here match the reference
/// pipeline (which resizes with PIL) to the byte.
///
/// For each output coordinate i (of `outputSize`, from `inputSize`):
///   scale = inputSize / outputSize, filterScale = max(scale, 1)   (shrinking widens the kernel)
///   center = (i + 0.5) · scale, support = filter.support · filterScale
///   taps j from trunc(center − support + 0.5) to trunc(center + support + 0.5), clamped
///   weight(j) = filter((j − center + 0.5) / filterScale), normalised to sum 1,
///   then rounded to 22-bit fixed point (half away from zero).
/// The horizontal pass runs first over the rows the vertical pass needs, and each pass rounds
/// to 8 bits: (sum + 2^21) >> 22, clamped to 0...255.
enum Resampler {
    static let precisionBits: Int32 = 22

    /// Taps of every output coordinate: `starts[i]`, `counts[i]` and `kernelSize` weights each.
    struct Coefficients {
        var starts: [Int]
        var counts: [Int]
        var weights: [Int32]
        var kernelSize: Int
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
                let w = kernel(filter, (Double(j + first) - center + 0.5) / filterScale)
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
        if width == 0 || height == 0 || image.width == 0 || image.height == 0 { return Image(width: width, height: height) }
        if filter == .nearest {
            return Image(width: width, height: height, pixels: nearest(
                image.pixels, width: image.width, height: image.height, channels: 3, toWidth: width, toHeight: height))
        }
        // Horizontal pass over only the rows the vertical pass reads.
        var rows = 0..<image.height
        var vertical: Coefficients? = nil
        if height != image.height {
            let v = coefficients(inputSize: image.height, outputSize: height, filter: filter)
            rows = v.starts[0]..<(v.starts[height - 1] + v.counts[height - 1])
            vertical = v
        }
        var band: [UInt8]
        if width != image.width {
            let h = coefficients(inputSize: image.width, outputSize: width, filter: filter)
            band = horizontalPass(image.pixels, inputWidth: image.width, rows: rows, coefficients: h, outputWidth: width)
        } else {
            band = Array(image.pixels[(rows.lowerBound * width * 3)..<(rows.upperBound * width * 3)])
        }
        guard var v = vertical else { return Image(width: width, height: height, pixels: band) }
        for i in 0..<height { v.starts[i] -= rows.lowerBound }
        return Image(width: width, height: height, pixels: verticalPass(band, rowLength: width * 3, coefficients: v, outputHeight: height))
    }

    /// Resamples each row of `rows` from `inputWidth` to `outputWidth` RGB pixels.
    static func horizontalPass(
        _ pixels: [UInt8], inputWidth: Int, rows: Range<Int>, coefficients c: Coefficients, outputWidth: Int
    ) -> [UInt8] {
        let half: Int32 = 1 << (precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: rows.count * outputWidth * 3) { out, initialized in
            pixels.withUnsafeBufferPointer { input in
                c.weights.withUnsafeBufferPointer { weights in
                    for (row, y) in rows.enumerated() {
                        let source = input.baseAddress! + y * inputWidth * 3
                        let target = out.baseAddress! + row * outputWidth * 3
                        for x in 0..<outputWidth {
                            var r = half, g = half, b = half
                            let k = weights.baseAddress! + x * c.kernelSize
                            var p = source + c.starts[x] * 3
                            for j in 0..<c.counts[x] {
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
            initialized = rows.count * outputWidth * 3
        }
    }

    /// Resamples columns: each output row is a weighted sum of whole input rows, accumulated
    /// row by row so the inner loop runs over contiguous bytes.
    static func verticalPass(_ band: [UInt8], rowLength: Int, coefficients c: Coefficients, outputHeight: Int) -> [UInt8] {
        let half: Int32 = 1 << (precisionBits - 1)
        var sums = [Int32](repeating: 0, count: rowLength)
        return [UInt8](unsafeUninitializedCapacity: outputHeight * rowLength) { out, initialized in
            band.withUnsafeBufferPointer { input in
                sums.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<outputHeight {
                        for i in 0..<rowLength { acc[i] = half }
                        for j in 0..<c.counts[y] {
                            let w = c.weights[y * c.kernelSize + j]
                            let source = input.baseAddress! + (c.starts[y] + j) * rowLength
                            for i in 0..<rowLength { acc[i] &+= Int32(source[i]) &* w }
                        }
                        let target = out.baseAddress! + y * rowLength
                        for i in 0..<rowLength { target[i] = clip8(acc[i]) }
                    }
                }
            }
            initialized = outputHeight * rowLength
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

    static func nearest(
        _ values: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int
    ) -> [UInt8] {
        let columns = nearestIndices(inputSize: width, outputSize: toWidth)
        let rows = nearestIndices(inputSize: height, outputSize: toHeight)
        return [UInt8](unsafeUninitializedCapacity: toWidth * toHeight * channels) { out, initialized in
            values.withUnsafeBufferPointer { input in
                var o = 0
                for y in rows {
                    let source = input.baseAddress! + y * width * channels
                    for x in columns {
                        for ch in 0..<channels { out[o + ch] = source[x * channels + ch] }
                        o += channels
                    }
                }
            }
            initialized = toWidth * toHeight * channels
        }
    }

    static func resizeNearest(_ map: LabelMap, width: Int, height: Int) -> LabelMap {
        precondition(width >= 0 && height >= 0, "cannot resize to \(width)×\(height)")
        if width == map.width && height == map.height { return map }
        if width == 0 || height == 0 || map.width == 0 || map.height == 0 { return LabelMap(width: width, height: height) }
        return LabelMap(width: width, height: height, values: nearest(
            map.values, width: map.width, height: map.height, channels: 1, toWidth: width, toHeight: height))
    }
}
