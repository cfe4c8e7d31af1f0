// Nearest-neighbour resizing, average and max pooling on NCHW tensors.

extension Tensor {
    /// Nearest-neighbour upsampling by 2 in height and width (PyTorch's
    /// `F.interpolate(x, scale_factor=2, mode='nearest')`): output pixel (oy, ox) copies
    /// input pixel (oy/2, ox/2). The gradient sums each 2×2 block.
    public func upsampleNearest2x() throws -> Tensor {
        let (_, _, h, w) = try nchw("upsampleNearest2x")
        return try resizeNearest(height: 2 * h, width: 2 * w)
    }

    /// Nearest-neighbour resize to `height`×`width` with PyTorch's rule for
    /// `F.interpolate(x, size=(height, width), mode='nearest')`: source index
    /// min(⌊dst · in/out⌋, in − 1), with the scale computed in Float32 like PyTorch's kernel.
    /// The gradient adds each output pixel's gradient to its source pixel.
    public func resizeNearest(height outputHeight: Int, width outputWidth: Int) throws -> Tensor {
        let (_, _, h, w) = try nchw("resizeNearest")
        guard outputHeight > 0, outputWidth > 0 else {
            throw TensorError.invalidArgument(
                operation: "resizeNearest", reason: "output size \(outputHeight)×\(outputWidth) must be positive")
        }
        let sourceRows = nearestSourceIndices(input: h, output: outputHeight)
        let sourceColumns = nearestSourceIndices(input: w, output: outputWidth)
        return planewise(outputHeight: outputHeight, outputWidth: outputWidth) { source, target in
            for oy in 0..<outputHeight {
                let sourceRow = source + sourceRows[oy] * w, targetRow = target + oy * outputWidth
                for ox in 0..<outputWidth { targetRow[ox] = sourceRow[sourceColumns[ox]] }
            }
        } backward: { dy, dx in
            for oy in 0..<outputHeight {
                let targetRow = dx + sourceRows[oy] * w, sourceRow = dy + oy * outputWidth
                for ox in 0..<outputWidth { targetRow[sourceColumns[ox]] += sourceRow[ox] }
            }
        }
    }

    /// Average pooling with a square `kernelSize` window, `stride` and zero `padding`, with
    /// `count_include_pad=False` and `ceil_mode=False` as in PyTorch: each output is the mean
    /// of the window's in-bounds inputs only. Output size ⌊(H + 2P − K)/S⌋ + 1.
    public func averagePool2d(kernelSize: Int, stride: Int, padding: Int) throws -> Tensor {
        let operation = "averagePool2d"
        let (_, _, h, w) = try nchw(operation)
        guard kernelSize >= 1, stride >= 1, padding >= 0, padding <= kernelSize / 2 else {
            throw TensorError.invalidArgument(
                operation: operation,
                reason: "kernel \(kernelSize), stride \(stride), padding \(padding): need kernel ≥ 1, stride ≥ 1, 0 ≤ "
                    + "padding ≤ kernel/2")
        }
        guard h + 2 * padding >= kernelSize, w + 2 * padding >= kernelSize else {
            throw TensorError.shapeMismatch(
                operation: operation, reason: "window \(kernelSize) is larger than the padded input \(label)")
        }
        let outputHeight = (h + 2 * padding - kernelSize) / stride + 1
        let outputWidth = (w + 2 * padding - kernelSize) / stride + 1
        // The clipped window of each output row / column, shared by all planes.
        func windows(_ outputs: Int, _ extent: Int) -> [Range<Int>] {
            (0..<outputs).map { o in
                let start = o * stride - padding
                return max(0, start)..<min(extent, start + kernelSize)
            }
        }
        let rowWindows = windows(outputHeight, h), columnWindows = windows(outputWidth, w)
        return planewise(outputHeight: outputHeight, outputWidth: outputWidth) { source, target in
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var total: Float = 0
                    for iy in rowWindows[oy] { for ix in columnWindows[ox] { total += source[iy * w + ix] } }
                    target[oy * outputWidth + ox] = total / Float(rowWindows[oy].count * columnWindows[ox].count)
                }
            }
        } backward: { dy, dx in
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let share = dy[oy * outputWidth + ox] / Float(rowWindows[oy].count * columnWindows[ox].count)
                    for iy in rowWindows[oy] { for ix in columnWindows[ox] { dx[iy * w + ix] += share } }
                }
            }
        }
    }
}

extension Tensor {
    /// Max pooling with a square `kernelSize` window and `stride`, no padding, no dilation and
    /// `ceil_mode=False`, as PyTorch's `F.max_pool2d(x, kernelSize, stride)`: output size
    /// ⌊(H − K)/S⌋ + 1. The gradient goes to the window's maximum only; when several inputs
    /// tie, to the first in row-major order (PyTorch's CPU kernel picks the same one). A NaN
    /// wins its window, so NaNs propagate as in PyTorch.
    public func maxPool2d(kernelSize: Int, stride: Int) throws -> Tensor {
        let operation = "maxPool2d"
        let (n, c, h, w) = try nchw(operation)
        guard kernelSize >= 1, stride >= 1 else {
            throw TensorError.invalidArgument(
                operation: operation, reason: "kernel \(kernelSize), stride \(stride): both must be ≥ 1")
        }
        guard h >= kernelSize, w >= kernelSize else {
            throw TensorError.shapeMismatch(
                operation: operation, reason: "window \(kernelSize) is larger than the input \(label)")
        }
        let outputHeight = (h - kernelSize) / stride + 1, outputWidth = (w - kernelSize) / stride + 1
        let inputPlane = h * w, outputPlane = outputHeight * outputWidth
        let x = self
        // The winning input of each output, as an offset within its plane, kept for backward.
        var winnerOffsets = [Int32](repeating: 0, count: n * c * outputPlane)
        let data = withReadPointer(x.data) { xp in
            winnerOffsets.withUnsafeMutableBufferPointer { winnerBuffer in
                let wp = winnerBuffer.baseAddress!
                return makeFilledArray(n * c * outputPlane) { yp in
                    parallelChunks(n * c) { planes in
                        for planeIndex in planes {
                            let source = xp + planeIndex * inputPlane
                            let target = yp + planeIndex * outputPlane, winner = wp + planeIndex * outputPlane
                            for oy in 0..<outputHeight {
                                for ox in 0..<outputWidth {
                                    var best = oy * stride * w + ox * stride
                                    for iy in oy * stride..<oy * stride + kernelSize {
                                        for ix in ox * stride..<ox * stride + kernelSize {
                                            let value = source[iy * w + ix]
                                            if value > source[best] || value.isNaN { best = iy * w + ix }
                                        }
                                    }
                                    target[oy * outputWidth + ox] = source[best]
                                    winner[oy * outputWidth + ox] = Int32(best)
                                }
                            }
                        }
                    }
                }
            }
        }
        let winners = winnerOffsets
        let output = Tensor(uncheckedShape: [n, c, outputHeight, outputWidth], data: data)
        let xNode = x.node
        Tensor.record(output, inputs: [x]) { y in
            y.withOutputGradient { dy in
                xNode.accumulateGradientPointer { dx in
                    // Windows overlap when stride < kernel, so two outputs may share a winner:
                    // each plane is one task, so the additions within it never race.
                    winners.withUnsafeBufferPointer { winnerBuffer in
                        let wp = winnerBuffer.baseAddress!
                        parallelChunks(n * c) { planes in
                            for planeIndex in planes {
                                let source = dy + planeIndex * outputPlane, target = dx + planeIndex * inputPlane
                                let winner = wp + planeIndex * outputPlane
                                for o in 0..<outputPlane { target[Int(winner[o])] += source[o] }
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}

/// Runs `body` on each of `count` planes (N·C of them): the plane's `sourcePlane` values at
/// `source` and its `targetPlane` values at `target`, planes split across the threads. Each
/// plane is one task, so a body that adds into its target never races with another.
private func forEachPlane(
    _ count: Int, _ source: UnsafePointer<Float>, _ sourcePlane: Int,
    _ target: UnsafeMutablePointer<Float>, _ targetPlane: Int,
    _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
) {
    parallelChunks(count) { planes in
        for plane in planes { body(source + plane * sourcePlane, target + plane * targetPlane) }
    }
}

/// A new array of `count` planes of `outputPlane` values, each filled by `body` from the
/// matching plane of `input` (planes of `inputPlane` values), planes split across the threads.
private func mapPlanes(
    _ input: [Float], count: Int, _ inputPlane: Int, _ outputPlane: Int,
    _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
) -> [Float] {
    withReadPointer(input) { source in
        makeFilledArray(count * outputPlane) { target in
            forEachPlane(count, source, inputPlane, target, outputPlane, body)
        }
    }
}

extension Tensor {
    /// An N × C × `outputHeight` × `outputWidth` result computed plane by plane from this
    /// N × C × H × W tensor: `forward` fills each output plane from its input plane, and the
    /// recorded backward has `backward` add each output plane's gradient into its input
    /// plane's gradient. Planes are split across the threads in both directions.
    fileprivate func planewise(
        outputHeight: Int, outputWidth: Int,
        _ forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        backward: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = self
        let inputPlane = h * w, outputPlane = outputHeight * outputWidth
        let data = mapPlanes(x.data, count: n * c, inputPlane, outputPlane, forward)
        let output = Tensor(uncheckedShape: [n, c, outputHeight, outputWidth], data: data)
        let xNode = x.node
        Tensor.record(output, inputs: [x]) { y in
            y.withOutputGradient { dy in
                xNode.accumulateGradientPointer { dx in forEachPlane(n * c, dy, outputPlane, dx, inputPlane, backward) }
            }
        }
        return output
    }
}

/// PyTorch's nearest source index for each output index along one axis.
func nearestSourceIndices(input: Int, output: Int) -> [Int] {
    if input == output { return Array(0..<output) }
    if output == 2 * input { return (0..<output).map { $0 >> 1 } }
    let scale = Float(input) / Float(output)
    return (0..<output).map { min(Int((Float($0) * scale).rounded(.down)), input - 1) }
}
