import Dispatch
import ImageIO
import Tensor

// Inference-only helpers on N×C×H×W tensors that the evaluation networks need and the tensor
// library does not have (it has no bilinear resize, asymmetric padding or padded max pooling).
// None records a graph: evaluation never differentiates. Planes are processed in parallel.

extension Image {
    /// The photo as a 1×3×H×W tensor, each byte v mapped to `scale` · v + `shift`:
    /// (1/255, 0) is torchvision's ToTensor ([0, 1], FID's input); (1/127.5, −1) is lpips'
    /// `im2tensor` ([-1, 1]).
    func tensor(scale: Float, shift: Float) -> [Float] {
        let plane = width * height
        var values = [Float](repeating: 0, count: 3 * plane)
        for pixel in 0..<plane {
            for channel in 0..<3 {
                values[channel * plane + pixel] = Float(pixels[3 * pixel + channel]) * scale + shift
            }
        }
        return values
    }
}

/// Stacks photos of one size into an N×3×H×W tensor (see ``Image/tensor(scale:shift:)``).
func batchTensor(_ images: [Image], scale: Float, shift: Float) throws -> Tensor {
    guard let first = images.first else { throw EvaluationError.invalidInput(reason: "no images in the batch") }
    guard let other = images.first(where: { $0.width != first.width || $0.height != first.height }) else {
        let data = images.flatMap { $0.tensor(scale: scale, shift: shift) }
        return try Tensor(shape: [images.count, 3, first.height, first.width], data: data)
    }
    throw EvaluationError.invalidInput(
        reason:
            "images of one batch must share a size: \(first.width)×\(first.height) and \(other.width)×\(other.height)")
}

/// Runs `body(plane)` for every plane index in parallel, over both cores.
func forEachPlane(_ count: Int, _ body: (Int) -> Void) {
    let workers = min(count, TensorThreads.count)
    guard workers > 1 else { for plane in 0..<count { body(plane) }; return }
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var plane = worker
        while plane < count { body(plane); plane += workers }
    }
}

/// One output coordinate of a linear resize: two source indices and their weights.
struct LinearTap {
    let low: Int, high: Int
    let lowWeight: Float, highWeight: Float

    /// PyTorch's `align_corners=False` taps (`area_pixel_compute_source_index`): the source
    /// position (o + ½) · in/out − ½, clamped at 0, between its floor and the next index.
    static func taps(input: Int, output: Int) -> [LinearTap] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { o in
            let source = max(0, scale * (Float(o) + 0.5) - 0.5)
            let low = min(Int(source), input - 1)
            let fraction = source - Float(low)
            return LinearTap(low: low, high: min(low + 1, input - 1), lowWeight: 1 - fraction, highWeight: fraction)
        }
    }
}

extension Tensor {
    /// Bilinear resize to `height` × `width` as PyTorch's
    /// `F.interpolate(x, size, mode='bilinear', align_corners=False)` (no antialiasing).
    func resizedBilinear(height: Int, width: Int) throws -> Tensor {
        guard rank == 4, height > 0, width > 0 else {
            throw EvaluationError.invalidInput(
                reason: "bilinear resize needs N×C×H×W and a positive size, got \(shape)")
        }
        let (inputHeight, inputWidth) = (shape[2], shape[3])
        let rows = LinearTap.taps(input: inputHeight, output: height)
        let columns = LinearTap.taps(input: inputWidth, output: width)
        let planes = shape[0] * shape[1]
        var output = [Float](repeating: 0, count: planes * height * width)
        data.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                let (sourceBase, targetBase) = (source.baseAddress!, target.baseAddress!)
                forEachPlane(planes) { plane in
                    let input = sourceBase + plane * inputHeight * inputWidth
                    let result = targetBase + plane * height * width
                    for (y, row) in rows.enumerated() {
                        let upper = input + row.low * inputWidth, lower = input + row.high * inputWidth
                        for (x, column) in columns.enumerated() {
                            let top = column.lowWeight * upper[column.low] + column.highWeight * upper[column.high]
                            let bottom = column.lowWeight * lower[column.low] + column.highWeight * lower[column.high]
                            result[y * width + x] = row.lowWeight * top + row.highWeight * bottom
                        }
                    }
                }
            }
        }
        return try Tensor(shape: [shape[0], shape[1], height, width], data: output)
    }

    /// The tensor with `rows` zero rows above and below and `columns` zero columns left and
    /// right of every plane (PyTorch's `padding=(rows, columns)` of a convolution).
    func zeroPadded(rows: Int, columns: Int) throws -> Tensor {
        try padded(rows: rows, columns: columns, value: 0)
    }

    private func padded(rows: Int, columns: Int, value: Float) throws -> Tensor {
        let (height, width) = (shape[2], shape[3])
        let (paddedHeight, paddedWidth) = (height + 2 * rows, width + 2 * columns)
        let planes = shape[0] * shape[1]
        var output = [Float](repeating: value, count: planes * paddedHeight * paddedWidth)
        data.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                let (sourceBase, targetBase) = (source.baseAddress!, target.baseAddress!)
                forEachPlane(planes) { plane in
                    for y in 0..<height {
                        let from = sourceBase + (plane * height + y) * width
                        let to = targetBase + plane * paddedHeight * paddedWidth + (y + rows) * paddedWidth + columns
                        to.update(from: from, count: width)
                    }
                }
            }
        }
        return try Tensor(shape: [shape[0], shape[1], paddedHeight, paddedWidth], data: output)
    }

    /// Max pooling with a square window, `stride` and `padding` (padded cells never win), as
    /// PyTorch's `F.max_pool2d(x, kernel, stride, padding)`.
    func maxPooled(kernelSize: Int, stride: Int, padding: Int) throws -> Tensor {
        guard padding > 0 else { return try maxPool2d(kernelSize: kernelSize, stride: stride) }
        return try padded(rows: padding, columns: padding, value: -.infinity)
            .maxPool2d(kernelSize: kernelSize, stride: stride)
    }
}
