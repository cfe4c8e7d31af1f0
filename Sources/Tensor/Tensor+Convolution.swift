import CBLAS

// 2-D convolution (cross-correlation, as PyTorch's conv2d) by im2col + cblas_sgemm.
//
// Shapes: x N×Cin×H×W, weight Cout×(Cin/G)×KH×KW, bias Cout, y N×Cout×OH×OW with
// OH = (H + 2P − KH)/S + 1. Per sample and group g the product is
//   y_g (M × L) = W_g (M × K) · col_g (K × L),  M = Cout/G, K = Cin/G·KH·KW, L = OH·OW.
// The im2col matrix of all Cin channels is built once per chunk of output rows; its rows are
// channel-major, so group g's K rows are one contiguous block and each group is one sgemm on
// a sub-matrix (no per-group copies). Chunks bound the im2col buffer (see `convolutionColumnBudget`).
// A 1×1 convolution with stride 1 and no padding uses x itself as col (no im2col at all).

/// The most floats an im2col chunk may hold (16 MiB): large enough for wide sgemm panels,
/// small enough to stay near the caches and keep memory flat at 256×256. Tests lower it to
/// exercise chunking on small inputs.
nonisolated(unsafe) var convolutionColumnBudget = 1 << 22

/// The geometry of one convolution call, derived and checked once.
struct ConvolutionGeometry {
    let batch, inputChannels, height, width: Int
    let outputChannels, kernelHeight, kernelWidth: Int
    let stride, padding, groups: Int
    let outputHeight, outputWidth: Int

    var inputPlane: Int { height * width }
    var outputPlane: Int { outputHeight * outputWidth }
    var outputsPerGroup: Int { outputChannels / groups }            // M
    var inputsPerGroup: Int { inputChannels / groups }
    var kernelArea: Int { kernelHeight * kernelWidth }
    var columnRowsPerGroup: Int { inputsPerGroup * kernelArea }     // K
    var columnRows: Int { inputChannels * kernelArea }
    /// 1×1, stride 1, no padding: the input already is the im2col matrix.
    var isPointwise: Bool { kernelArea == 1 && stride == 1 && padding == 0 }
    /// Output rows per im2col chunk, at least one.
    var rowsPerChunk: Int { max(1, min(outputHeight, convolutionColumnBudget / max(1, columnRows * outputWidth))) }
    /// Multiply-adds ×2 of the forward pass.
    var forwardFlops: Double {
        2 * Double(batch * outputChannels * outputPlane) * Double(columnRowsPerGroup)
    }

    init(input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, groups: Int) throws {
        let operation = "conv2d"
        (batch, inputChannels, height, width) = try input.nchw(operation)
        guard weight.rank == 4 else {
            throw TensorError.shapeMismatch(operation: operation, reason: "weight must be Cout×Cin/groups×KH×KW, got \(weight.label)")
        }
        (outputChannels, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        guard stride >= 1, padding >= 0, groups >= 1 else {
            throw TensorError.invalidArgument(operation: operation, reason: "stride \(stride) must be ≥ 1, padding \(padding) ≥ 0, groups \(groups) ≥ 1")
        }
        guard inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw TensorError.invalidArgument(operation: operation, reason: "groups \(groups) must divide input channels \(inputChannels) and output channels \(outputChannels)")
        }
        guard weight.shape[1] == inputChannels / groups else {
            throw TensorError.shapeMismatch(operation: operation, reason: "weight \(weight.label) expects \(weight.shape[1] * groups) input channels with groups \(groups), input is \(input.label)")
        }
        if let bias {
            guard bias.shape == [outputChannels] else {
                throw TensorError.shapeMismatch(operation: operation, reason: "bias must be [\(outputChannels)], got \(bias.label)")
            }
        }
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
        outputHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outputWidth = (width + 2 * padding - kernelWidth) / stride + 1
        guard height + 2 * padding >= kernelHeight, width + 2 * padding >= kernelWidth else {
            throw TensorError.shapeMismatch(operation: operation, reason: "kernel \(kernelHeight)×\(kernelWidth) is larger than the padded input \(input.label) with padding \(padding)")
        }
    }

    /// The range of output columns ox whose input column ox·S − P + kx lies inside 0..<W.
    func validOutputColumns(kernelColumn kx: Int) -> Range<Int> {
        let lower = max(0, ceilDivide(padding - kx, stride))
        let upper = min(outputWidth, floorDivide(width - 1 + padding - kx, stride) + 1)
        return lower..<max(lower, upper)
    }
}

@inline(__always) private func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) private func ceilDivide(_ a: Int, _ b: Int) -> Int { -floorDivide(-a, b) }

extension Tensor {
    /// 2-D convolution of an N×Cin×H×W input with a Cout×(Cin/groups)×KH×KW weight and an
    /// optional bias of Cout, as PyTorch's `F.conv2d(x, weight, bias, stride, padding, 1, groups)`
    /// (zero padding, no dilation). Throws on mismatched channels, groups that do not divide
    /// both channel counts, or a kernel larger than the padded input.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       groups: Int = 1) throws -> Tensor {
        let geometry = try ConvolutionGeometry(input: self, weight: weight, bias: bias,
                                               stride: stride, padding: padding, groups: groups)
        let x = self
        let g = geometry
        var y = [Float](repeating: 0, count: g.batch * g.outputChannels * g.outputPlane)
        withReadPointer(x.data) { xp in withReadPointer(weight.data) { wp in withWritePointer(&y) { yp in
            convolutionForward(g, x: xp, weight: wp, y: yp)
            if let bias { withReadPointer(bias.data) { addBias(g, bias: $0, y: yp) } }
        } } }
        let output = Tensor(uncheckedShape: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], data: y)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        Tensor.record(output, inputs: inputs) { y in
            y.withOutputGradient { dy in
                if let bias { bias.accumulateGradientPointer { biasGradient(g, dy: dy, dBias: $0) } }
                withReadPointer(x.data) { xp in weight.accumulateGradientPointer { dw in
                    weightGradient(g, x: xp, dy: dy, dWeight: dw)
                } }
                withReadPointer(weight.data) { wp in x.accumulateGradientPointer { dx in
                    inputGradient(g, weight: wp, dy: dy, dx: dx)
                } }
            }
        }
        return output
    }
}

// MARK: - Kernels (g: geometry; pointers at the start of whole tensors)

/// y = conv(x, weight), y zeroed on entry.
private func convolutionForward(_ g: ConvolutionGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                y: UnsafeMutablePointer<Float>) {
    let m = g.outputsPerGroup, k = g.columnRowsPerGroup
    for sample in 0..<g.batch {
        let xSample = x + sample * g.inputChannels * g.inputPlane
        let ySample = y + sample * g.outputChannels * g.outputPlane
        if g.isPointwise {
            for group in 0..<g.groups {
                sgemm(false, false, m, g.outputPlane, k, 1, weight + group * m * k, k,
                      xSample + group * k * g.inputPlane, g.inputPlane, 0,
                      ySample + group * m * g.outputPlane, g.outputPlane)
            }
            continue
        }
        withColumnChunks(g) { rows, columns in
            im2col(g, x: xSample, rows: rows, columns: columns)
            let width = rows.count * g.outputWidth
            for group in 0..<g.groups {
                sgemm(false, false, m, width, k, 1, weight + group * m * k, k,
                      columns + group * k * width, width, 0,
                      ySample + group * m * g.outputPlane + rows.lowerBound * g.outputWidth, g.outputPlane)
            }
        }
    }
}

/// dWeight += Σ_samples dy_g · col_gᵀ.
private func weightGradient(_ g: ConvolutionGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                            dWeight: UnsafeMutablePointer<Float>) {
    let m = g.outputsPerGroup, k = g.columnRowsPerGroup
    for sample in 0..<g.batch {
        let xSample = x + sample * g.inputChannels * g.inputPlane
        let dySample = dy + sample * g.outputChannels * g.outputPlane
        if g.isPointwise {
            for group in 0..<g.groups {
                sgemm(false, true, m, k, g.outputPlane, 1, dySample + group * m * g.outputPlane, g.outputPlane,
                      xSample + group * k * g.inputPlane, g.inputPlane, 1, dWeight + group * m * k, k)
            }
            continue
        }
        withColumnChunks(g) { rows, columns in
            im2col(g, x: xSample, rows: rows, columns: columns)
            let width = rows.count * g.outputWidth
            for group in 0..<g.groups {
                sgemm(false, true, m, k, width, 1,
                      dySample + group * m * g.outputPlane + rows.lowerBound * g.outputWidth, g.outputPlane,
                      columns + group * k * width, width, 1, dWeight + group * m * k, k)
            }
        }
    }
}

/// dx += col2im(W_gᵀ · dy_g).
private func inputGradient(_ g: ConvolutionGeometry, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                           dx: UnsafeMutablePointer<Float>) {
    let m = g.outputsPerGroup, k = g.columnRowsPerGroup
    for sample in 0..<g.batch {
        let dxSample = dx + sample * g.inputChannels * g.inputPlane
        let dySample = dy + sample * g.outputChannels * g.outputPlane
        if g.isPointwise {
            for group in 0..<g.groups {
                sgemm(true, false, k, g.outputPlane, m, 1, weight + group * m * k, k,
                      dySample + group * m * g.outputPlane, g.outputPlane, 1,
                      dxSample + group * k * g.inputPlane, g.inputPlane)
            }
            continue
        }
        withColumnChunks(g) { rows, columns in
            let width = rows.count * g.outputWidth
            for group in 0..<g.groups {
                sgemm(true, false, k, width, m, 1, weight + group * m * k, k,
                      dySample + group * m * g.outputPlane + rows.lowerBound * g.outputWidth, g.outputPlane, 0,
                      columns + group * k * width, width)
            }
            col2im(g, columns: columns, rows: rows, dx: dxSample)
        }
    }
}

/// dBias[c] += Σ over samples and positions of dy[n, c].
private func biasGradient(_ g: ConvolutionGeometry, dy: UnsafePointer<Float>, dBias: UnsafeMutablePointer<Float>) {
    parallelChunks(g.outputChannels) { channels in
        for channel in channels {
            var total: Float = 0
            for sample in 0..<g.batch {
                let plane = dy + (sample * g.outputChannels + channel) * g.outputPlane
                for i in 0..<g.outputPlane { total += plane[i] }
            }
            dBias[channel] += total
        }
    }
}

private func addBias(_ g: ConvolutionGeometry, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    parallelChunks(g.batch * g.outputChannels) { planes in
        for planeIndex in planes {
            let value = bias[planeIndex % g.outputChannels]
            let plane = y + planeIndex * g.outputPlane
            for i in 0..<g.outputPlane { plane[i] += value }
        }
    }
}

/// Calls `body(outputRows, columnBuffer)` for consecutive chunks of output rows, with one
/// scratch buffer of `columnRows × rows·OW` floats reused across chunks.
private func withColumnChunks(_ g: ConvolutionGeometry,
                              _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let chunk = g.rowsPerChunk
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: g.columnRows * chunk * g.outputWidth)
    defer { buffer.deallocate() }
    var start = 0
    while start < g.outputHeight {
        let end = min(g.outputHeight, start + chunk)
        body(start..<end, buffer)
        start = end
    }
}

/// Fills columns (columnRows × rows·OW, row r = (ci·KH + ky)·KW + kx) from one sample's x.
private func im2col(_ g: ConvolutionGeometry, x: UnsafePointer<Float>, rows: Range<Int>,
                    columns: UnsafeMutablePointer<Float>) {
    let width = rows.count * g.outputWidth
    parallelChunks(g.inputChannels) { channels in
        for channel in channels {
            let plane = x + channel * g.inputPlane
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let row = columns + ((channel * g.kernelHeight + ky) * g.kernelWidth + kx) * width
                    let valid = g.validOutputColumns(kernelColumn: kx)
                    for oy in rows {
                        let target = row + (oy - rows.lowerBound) * g.outputWidth
                        let iy = oy * g.stride - g.padding + ky
                        guard iy >= 0, iy < g.height, !valid.isEmpty else {
                            target.update(repeating: 0, count: g.outputWidth)
                            continue
                        }
                        target.update(repeating: 0, count: valid.lowerBound)
                        (target + valid.upperBound).update(repeating: 0, count: g.outputWidth - valid.upperBound)
                        let source = plane + iy * g.width - g.padding + kx
                        if g.stride == 1 {
                            (target + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
                        } else {
                            for ox in valid { target[ox] = source[ox * g.stride] }
                        }
                    }
                }
            }
        }
    }
}

/// Adds columns back into one sample's dx: the transpose of `im2col`.
private func col2im(_ g: ConvolutionGeometry, columns: UnsafePointer<Float>, rows: Range<Int>,
                    dx: UnsafeMutablePointer<Float>) {
    let width = rows.count * g.outputWidth
    parallelChunks(g.inputChannels) { channels in
        for channel in channels {
            let plane = dx + channel * g.inputPlane
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let row = columns + ((channel * g.kernelHeight + ky) * g.kernelWidth + kx) * width
                    let valid = g.validOutputColumns(kernelColumn: kx)
                    if valid.isEmpty { continue }
                    for oy in rows {
                        let iy = oy * g.stride - g.padding + ky
                        guard iy >= 0, iy < g.height else { continue }
                        let source = row + (oy - rows.lowerBound) * g.outputWidth
                        let target = plane + iy * g.width - g.padding + kx
                        if g.stride == 1 {
                            for ox in valid { target[ox] += source[ox] }
                        } else {
                            for ox in valid { target[ox * g.stride] += source[ox] }
                        }
                    }
                }
            }
        }
    }
}

/// Row-major cblas_sgemm: C (m×n) = alpha · op(A) · op(B) + beta · C.
@inline(__always)
func sgemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
           _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
           _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                 Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
