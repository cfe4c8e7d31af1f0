import CBLAS

// 2-D convolution (cross-correlation, as PyTorch's conv2d) by im2col + cblas_sgemm.
//
// Shapes: x N×Cin×H×W, weight Cout×(Cin/G)×KH×KW, bias Cout, y N×Cout×OH×OW with
// OH = (H + 2P − KH)/S + 1. Per sample and group g the product is
//   y_g (M × L) = W_g (M × K) · col_g (K × L),  M = Cout/G, K = Cin/G·KH·KW, L = OH·OW.
// Work is cut into independent tasks, each running a single-threaded sgemm on its own
// scratch buffer (see TensorThreads for why OpenBLAS does not thread by itself):
//   forward   one task per (group, chunk of output rows): im2col of that group's channels
//             for those rows, then y_g[rows] = W_g · col.
//   backward  one task per (group, block of the group's input channels): for each chunk of
//             rows, im2col of those channels, dW_g[:, block] += dy_g · colᵀ, then
//             dcol = W_g[:, block]ᵀ · dy_g and col2im into dx of those channels only.
// Tasks write disjoint parts of y, dW and dx, so no locks or partial sums are needed.
// A 1×1 convolution with stride 1 and no padding uses x itself as col (no im2col at all).

/// The most floats all im2col buffers together may hold (16 MiB): large enough for wide
/// sgemm panels, small enough to keep memory flat at 256×256. Tests lower it to exercise
/// chunking on small inputs.
nonisolated(unsafe) var convolutionColumnBudget = 1 << 22

/// The geometry of one convolution call, derived and checked once.
struct ConvolutionGeometry {
    let batch, inputChannels, height, width: Int
    let outputChannels, kernelHeight, kernelWidth: Int
    let stride, padding, groups: Int
    let outputHeight, outputWidth: Int

    var inputPlane: Int { height * width }
    var outputPlane: Int { outputHeight * outputWidth }
    var outputsPerGroup: Int { outputChannels / groups }  // M
    var inputsPerGroup: Int { inputChannels / groups }
    var kernelArea: Int { kernelHeight * kernelWidth }
    var columnRowsPerGroup: Int { inputsPerGroup * kernelArea }  // K
    var columnRows: Int { inputChannels * kernelArea }
    /// 1×1, stride 1, no padding: the input already is the im2col matrix.
    var isPointwise: Bool { kernelArea == 1 && stride == 1 && padding == 0 }
    /// Output rows per im2col chunk for `channels` input channels, at least one, such that
    /// every worker's buffer fits its share of the budget.
    func rowsPerChunk(channels: Int) -> Int {
        let share = convolutionColumnBudget / TensorThreads.count
        return max(1, min(outputHeight, share / max(1, channels * kernelArea * outputWidth)))
    }
    /// Multiply-adds ×2 of the forward pass.
    var forwardFlops: Double {
        2 * Double(batch * outputChannels * outputPlane) * Double(columnRowsPerGroup)
    }

    init(input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, groups: Int) throws {
        let operation = "conv2d"
        (batch, inputChannels, height, width) = try input.nchw(operation)
        guard weight.rank == 4 else {
            throw TensorError.shapeMismatch(
                operation: operation, reason: "weight must be Cout×Cin/groups×KH×KW, got \(weight.label)")
        }
        (outputChannels, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        guard stride >= 1, padding >= 0, groups >= 1 else {
            throw TensorError.invalidArgument(
                operation: operation,
                reason: "stride \(stride) must be ≥ 1, padding \(padding) ≥ 0, groups \(groups) ≥ 1")
        }
        guard inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw TensorError.invalidArgument(
                operation: operation,
                reason: "groups \(groups) must divide input channels \(inputChannels) and output channels "
                    + "\(outputChannels)")
        }
        guard weight.shape[1] == inputChannels / groups else {
            throw TensorError.shapeMismatch(
                operation: operation,
                reason: "weight \(weight.label) expects \(weight.shape[1] * groups) input channels with groups "
                    + "\(groups), input is \(input.label)")
        }
        if let bias {
            guard bias.shape == [outputChannels] else {
                throw TensorError.shapeMismatch(
                    operation: operation, reason: "bias must be [\(outputChannels)], got \(bias.label)")
            }
        }
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
        outputHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outputWidth = (width + 2 * padding - kernelWidth) / stride + 1
        guard height + 2 * padding >= kernelHeight, width + 2 * padding >= kernelWidth else {
            throw TensorError.shapeMismatch(
                operation: operation,
                reason: "kernel \(kernelHeight)×\(kernelWidth) is larger than the padded input \(input.label) with "
                    + "padding \(padding)")
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
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
        groups: Int = 1
    ) throws -> Tensor {
        let geometry = try ConvolutionGeometry(
            input: self, weight: weight, bias: bias,
            stride: stride, padding: padding, groups: groups)
        let x = self
        let g = geometry
        let route = withReadPointer(x.data) { xp in
            ConvolutionRoute.choose(
                g, bias: bias != nil,
                repeatedColumns: ConvolutionSettings.backend == .automatic && inputHasRepeatedColumns(g, x: xp))
        }
        // Both forward paths write every element, so the output needs no zero-fill first.
        let y = withReadPointer(x.data) { xp in
            withReadPointer(weight.data) { wp in
                makeFilledArray(g.batch * g.outputChannels * g.outputPlane) { yp in
                    switch route.forward {
                    case .im2col:
                        if let bias {
                            withReadPointer(bias.data) { convolutionForward(g, x: xp, weight: wp, bias: $0, y: yp) }
                        } else {
                            convolutionForward(g, x: xp, weight: wp, y: yp)
                        }
                    case .oneDNN(let convolution):
                        if let bias {
                            withReadPointer(bias.data) { convolution.runForward(x: xp, weight: wp, bias: $0, y: yp) }
                        } else {
                            convolution.runForward(x: xp, weight: wp, bias: nil, y: yp)
                        }
                    }
                }
            }
        }
        let output = Tensor(uncheckedShape: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], data: y)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        // dW reads x and dx reads the weight: keep each only when the other needs a gradient,
        // so a frozen network's activations (VGG19's) are freed as soon as they are used.
        let weightNeedsGradient = weight.requiresGrad, inputNeedsGradient = x.requiresGrad
        let xData = weightNeedsGradient ? x.data : [], weightData = inputNeedsGradient ? weight.data : []
        let xNode = x.node, weightNode = weight.node, biasNode = bias?.node
        Tensor.record(output, inputs: inputs) { y in
            y.withOutputGradient { dy in
                biasNode?.accumulateGradientPointer { biasGradient(g, dy: dy, dBias: $0) }
                withReadPointer(xData) { xp in
                    withReadPointer(weightData) { wp in
                        weightNode.withOptionalGradient { dw in
                            xNode.withOptionalGradient { dx in
                                convolutionBackward(
                                    g, route, x: xp, weight: wp, dy: dy, dWeight: weightNeedsGradient ? dw : nil,
                                    dx: inputNeedsGradient ? dx : nil)
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Kernels (g: geometry; pointers at the start of whole tensors)

/// The two gradients, each by its route's path.
private func convolutionBackward(
    _ g: ConvolutionGeometry, _ route: ConvolutionRoute, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?
) {
    if case .oneDNN(let weightsPass) = route.weightGradient, case .oneDNN(let dataPass) = route.inputGradient,
        weightsPass === dataPass
    {
        weightsPass.runBackward(x: x, dy: dy, weight: weight, dWeight: dWeight, dx: dx)
        return
    }
    var im2colWeight: UnsafeMutablePointer<Float>?, im2colInput: UnsafeMutablePointer<Float>?
    if let dWeight {
        switch route.weightGradient {
        case .im2col: im2colWeight = dWeight
        case .oneDNN(let convolution): convolution.runBackwardWeights(x: x, dy: dy, dWeight: dWeight)
        }
    }
    if let dx {
        switch route.inputGradient {
        case .im2col: im2colInput = dx
        case .oneDNN(let convolution): convolution.runBackwardData(dy: dy, weight: weight, dx: dx)
        }
    }
    convolutionBackward(g, x: x, weight: weight, dy: dy, dWeight: im2colWeight, dx: im2colInput)
}

/// y = conv(x, weight) (+ bias); every element of y is written.
func convolutionForward(
    _ g: ConvolutionGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>? = nil, y: UnsafeMutablePointer<Float>
) {
    convolutionForward(g, x: x, weights: [weight], biases: [bias], outputs: [y])
}

/// outputs[i] = conv(x, weights[i]) + biases[i] for weights of the same shape: x's columns are
/// laid out (and searched for repeats) once for all of them. Each output is computed exactly as a
/// convolution of its own would compute it (the product's sum, then + bias, as a separate pass
/// would add it, but while the values are at hand); every element is written.
func convolutionForward(
    _ g: ConvolutionGeometry, x: UnsafePointer<Float>, weights: [UnsafePointer<Float>],
    biases: [UnsafePointer<Float>?], outputs: [UnsafeMutablePointer<Float>]
) {
    precondition(weights.count == outputs.count && biases.count == outputs.count, "one output per weight")
    let m = g.outputsPerGroup, k = g.columnRowsPerGroup
    let threads = TensorThreads.count
    for sample in 0..<g.batch {
        let xSample = x + sample * g.inputChannels * g.inputPlane
        let ySamples = outputs.map { $0 + sample * g.outputChannels * g.outputPlane }
        if g.isPointwise {
            // Split the L columns so that there are at least as many tasks as threads.
            let pieces = min(g.outputPlane, max(1, (threads + g.groups - 1) / g.groups))
            parallelTasks(g.groups * pieces, scratchCount: 0) { task, _ in
                let group = task / pieces, piece = task % pieces
                let start = g.outputPlane * piece / pieces, end = g.outputPlane * (piece + 1) / pieces
                for (index, weight) in weights.enumerated() {
                    let yPiece = ySamples[index] + group * m * g.outputPlane + start
                    sgemm(
                        false, false, m, end - start, k, 1, weight + group * m * k, k,
                        xSample + group * k * g.inputPlane + start, g.inputPlane, 0, yPiece, g.outputPlane)
                    addBias(
                        biases[index].map { $0 + group * m }, rows: m, width: end - start, to: yPiece,
                        ldy: g.outputPlane)
                }
            }
            continue
        }
        var rows = g.rowsPerChunk(channels: g.inputsPerGroup)
        // Enough chunks for every thread to have a task.
        let chunksWanted = (threads + g.groups - 1) / g.groups
        rows = max(1, min(rows, (g.outputHeight + chunksWanted - 1) / chunksWanted))
        let chunks = (g.outputHeight + rows - 1) / rows
        let columnCount = k * rows * g.outputWidth
        // Scratch: the columns, then (for repeated columns) a compact copy of half of them and
        // the compact output of half the width.
        let scratch = columnCount + columnCount / 2 + m * (rows * g.outputWidth / 2 + 1)
        parallelTasks(g.groups * chunks, scratchCount: scratch) { task, columns in
            let group = task / chunks, chunk = task % chunks
            let rowRange = (chunk * rows)..<min(g.outputHeight, (chunk + 1) * rows)
            let width = rowRange.count * g.outputWidth
            let channels = (group * g.inputsPerGroup)..<((group + 1) * g.inputsPerGroup)
            let chunkOffset = group * m * g.outputPlane + rowRange.lowerBound * g.outputWidth
            let (found, laidOut) = repeatedColumns(g, x: xSample, channels: channels, rows: rowRange, columns: columns)
            if let chunk = found {
                let runs = chunk.runs, compact = columns + columnCount, compactOutput = compact + columnCount / 2
                chunk.gather(into: compact)
                // One product per distinct column, packed where the im2col columns were.
                let distinct = DistinctColumns(compact, rows: k, runs: runs.count)
                distinct.pack(compact, rows: k, runs: runs.count, into: columns)
                for (index, weight) in weights.enumerated() {
                    sgemm(
                        false, false, m, distinct.count, k, 1, weight + group * m * k, k, columns, distinct.count, 0,
                        compactOutput, distinct.count)
                    if let bias = biases[index] {
                        addBias(
                            bias + group * m, rows: m, width: distinct.count, to: compactOutput, ldy: distinct.count)
                    }
                    runs.scatterColumns(
                        compactOutput, rows: m, width: width, into: ySamples[index] + chunkOffset, ldy: g.outputPlane,
                        distinct: distinct)
                }
                return
            }
            if !laidOut { im2col(g, x: xSample, channels: channels, rows: rowRange, columns: columns) }
            for (index, weight) in weights.enumerated() {
                let yChunk = ySamples[index] + chunkOffset
                sgemm(false, false, m, width, k, 1, weight + group * m * k, k, columns, width, 0, yChunk, g.outputPlane)
                addBias(biases[index].map { $0 + group * m }, rows: m, width: width, to: yChunk, ldy: g.outputPlane)
            }
        }
    }
}

/// dWeight += dy_g · col_gᵀ and dx += col2im(W_gᵀ · dy_g), each only when its pointer is given.
func convolutionBackward(
    _ g: ConvolutionGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
    dx: UnsafeMutablePointer<Float>?
) {
    guard dWeight != nil || dx != nil else { return }
    let m = g.outputsPerGroup, k = g.columnRowsPerGroup, area = g.kernelArea
    // Blocks of input channels per group, enough for every thread to have a task.
    let blocks = min(g.inputsPerGroup, max(1, (TensorThreads.count + g.groups - 1) / g.groups))
    let largestBlock = (g.inputsPerGroup + blocks - 1) / blocks
    let rows = g.rowsPerChunk(channels: largestBlock)
    let columnCount = largestBlock * area * rows * g.outputWidth
    let scratch = g.isPointwise ? 0 : columnCount + columnCount / 2 + m * (rows * g.outputWidth / 2 + 1)
    for sample in 0..<g.batch {
        let xSample = x + sample * g.inputChannels * g.inputPlane
        let dySample = dy + sample * g.outputChannels * g.outputPlane
        let dxSample = dx.map { $0 + sample * g.inputChannels * g.inputPlane }
        parallelTasks(g.groups * blocks, scratchCount: scratch) { task, columns in
            let group = task / blocks, block = task % blocks
            let first = g.inputsPerGroup * block / blocks, last = g.inputsPerGroup * (block + 1) / blocks
            let channels = (group * g.inputsPerGroup + first)..<(group * g.inputsPerGroup + last)
            let blockRows = channels.count * area  // rows of col_g owned by this task
            let weightGroup = weight + group * m * k + first * area
            let dWeightGroup = dWeight.map { $0 + group * m * k + first * area }
            let dyGroup = dySample + group * m * g.outputPlane
            if g.isPointwise {
                let xBlock = xSample + channels.lowerBound * g.inputPlane
                if let dWeightGroup {
                    sgemm(
                        false, true, m, blockRows, g.outputPlane, 1, dyGroup, g.outputPlane,
                        xBlock, g.inputPlane, 1, dWeightGroup, k)
                }
                if let dxSample {
                    sgemm(
                        true, false, blockRows, g.outputPlane, m, 1, weightGroup, k, dyGroup, g.outputPlane, 1,
                        dxSample + channels.lowerBound * g.inputPlane, g.inputPlane)
                }
                return
            }
            var start = 0
            while start < g.outputHeight {
                let rowRange = start..<min(g.outputHeight, start + rows)
                let width = rowRange.count * g.outputWidth
                let dyChunk = dyGroup + rowRange.lowerBound * g.outputWidth
                if let dWeightGroup {
                    let (found, laidOut) = repeatedColumns(
                        g, x: xSample, channels: channels, rows: rowRange, columns: columns)
                    if let chunk = found {
                        // dW += Σ_distinct (Σ_{runs u with that column} Σ_{p in u} dy[:, p]) ⊗ col
                        let runs = chunk.runs, compact = columns + columnCount
                        let compactGradient = compact + columnCount / 2
                        chunk.gather(into: compact)
                        runs.sumColumns(dyChunk, rows: m, width: width, ldy: g.outputPlane, into: compactGradient)
                        let distinct = DistinctColumns(compact, rows: blockRows, runs: runs.count)
                        distinct.pack(compact, rows: blockRows, runs: runs.count, into: columns)
                        distinct.merge(compactGradient, rows: m, runs: runs.count)
                        sgemm(
                            false, true, m, blockRows, distinct.count, 1, compactGradient, distinct.count, columns,
                            distinct.count, 1, dWeightGroup, k)
                    } else {
                        if !laidOut { im2col(g, x: xSample, channels: channels, rows: rowRange, columns: columns) }
                        sgemm(
                            false, true, m, blockRows, width, 1, dyChunk, g.outputPlane, columns, width, 1,
                            dWeightGroup, k)
                    }
                }
                if let dxSample {
                    sgemm(
                        true, false, blockRows, width, m, 1, weightGroup, k, dyChunk, g.outputPlane, 0, columns, width)
                    col2im(g, columns: columns, channels: channels, rows: rowRange, dx: dxSample)
                }
                start = rowRange.upperBound
            }
        }
    }
}

/// The runs of a chunk's columns (see ConvolutionRepeatedColumns.swift), nil when they would not
/// halve them; and whether `columns` now holds the chunk's im2col columns. Stride 1 finds the runs
/// on the input; other strides lay the columns out first and compare those.
private func repeatedColumns(
    _ g: ConvolutionGeometry, x: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>,
    columns: UnsafeMutablePointer<Float>
) -> (runs: ChunkRuns?, columnsLaidOut: Bool) {
    let width = rows.count * g.outputWidth, columnRows = channels.count * g.kernelArea
    if g.stride == 1 {
        guard let runs = ColumnRuns(g, x: x, channels: channels, rows: rows) else { return (nil, false) }
        return (ChunkRuns(runs: runs) { runs.gatherColumns(g, x: x, channels: channels, rows: rows, into: $0) }, false)
    }
    im2col(g, x: x, channels: channels, rows: rows, columns: columns)
    guard let runs = ColumnRuns(columns: columns, rows: columnRows, width: width) else { return (nil, true) }
    return (ChunkRuns(runs: runs) { runs.gatherColumns(columns, rows: columnRows, width: width, into: $0) }, true)
}

/// A chunk's runs and how to lay out their columns.
private struct ChunkRuns {
    let runs: ColumnRuns
    /// Writes each run's column into the buffer ((channels·KH·KW) × runs).
    let layOut: (UnsafeMutablePointer<Float>) -> Void

    func gather(into compact: UnsafeMutablePointer<Float>) { layOut(compact) }
}

/// dBias[c] += Σ over samples and positions of dy[n, c].
func biasGradient(_ g: ConvolutionGeometry, dy: UnsafePointer<Float>, dBias: UnsafeMutablePointer<Float>) {
    parallelChunks(g.outputChannels) { channels in
        for channel in channels {
            var total = 0.0
            for sample in 0..<g.batch {
                total += vectorSum(dy + (sample * g.outputChannels + channel) * g.outputPlane, g.outputPlane)
            }
            dBias[channel] += Float(total)
        }
    }
}

/// y[i, p] += bias[i] for `rows` rows of `width` values (leading dimension `ldy`); nothing without a bias.
@inline(__always)
private func addBias(
    _ bias: UnsafePointer<Float>?, rows: Int, width: Int, to y: UnsafeMutablePointer<Float>, ldy: Int
) {
    guard let bias else { return }
    for i in 0..<rows {
        let value = bias[i], row = y + i * ldy
        for p in 0..<width { row[p] += value }
    }
}

/// Fills columns ((channels.count·KH·KW) × rows·OW; row r = ((c − first)·KH + ky)·KW + kx)
/// from one sample's x.
func im2col(
    _ g: ConvolutionGeometry, x: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>,
    columns: UnsafeMutablePointer<Float>
) {
    let width = rows.count * g.outputWidth
    for channel in channels {
        let plane = x + channel * g.inputPlane
        for ky in 0..<g.kernelHeight {
            for kx in 0..<g.kernelWidth {
                let row =
                    columns + (((channel - channels.lowerBound) * g.kernelHeight + ky) * g.kernelWidth + kx) * width
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

/// Adds columns (laid out as `im2col` writes them) back into one sample's dx: its transpose.
/// It walks the same loop nest as `im2col` on purpose (llm.c's habit: a kernel and its
/// transpose side by side, each readable alone, no indirection in the innermost loops).
private func col2im(
    _ g: ConvolutionGeometry, columns: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>,
    dx: UnsafeMutablePointer<Float>
) {
    let width = rows.count * g.outputWidth
    for channel in channels {
        let plane = dx + channel * g.inputPlane
        for ky in 0..<g.kernelHeight {
            for kx in 0..<g.kernelWidth {
                let row =
                    columns + (((channel - channels.lowerBound) * g.kernelHeight + ky) * g.kernelWidth + kx) * width
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

/// Row-major cblas_sgemm: C (m×n) = alpha · op(A) · op(B) + beta · C.
@inline(__always)
func sgemm(
    _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
