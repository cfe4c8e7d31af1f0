// The gradient of CG-Norm's first convolution from run sums, exactly, without dh.
//
// In the modulation's backward pass (Tensor+Modulation.swift) the label map m needs no gradient,
// so dh (the gradient of h = relu(conv(m, Ws) + bs)) serves only the first convolution's weight and
// bias gradients:  dWs = Σ_q relu'(q)·dh(q) ⊗ col_m(q),  dbs = Σ_q relu'(q)·dh(q).
// Computed densely, dh = convᵀ(dγ, Wγ) + convᵀ(dy, Wβ) costs as much as the γ and β convolutions
// themselves (about a third of the generator's training work at 256 × 256). But m is piecewise
// constant: along an output row, neighbouring positions often see identical label columns col_m.
// Over such a run R the column, the pre-activation and so relu' are the same, so only Σ_{q∈R} dh(q)
// is needed, and by linearity
//     Σ_{q∈R} dh(q) = Σ_k W_kᵀ · S_k(R),   S_k(R) = Σ_{q∈R} dγ(q + P − k)
// (k over the kernel's taps, P the padding; positions outside the image contribute nothing), where
// each S_k(R) is a difference of two row prefix sums of dγ. One small product per run replaces a
// product per position. The values are the dense path's up to float summation order (the prefix
// sums are kept in double precision); ModulationRunSumsTests compares the two.

/// Process-wide settings of ``Tensor/modulation(normalized:labels:shared:gamma:beta:padding:groups:sharedGroups:)``,
/// like ``ConvolutionSettings``: set them once at the start.
public enum ModulationSettings {
    /// Whether the backward pass may take the run-sum path where the label map allows it (the
    /// default); off, it always computes dh densely, for measuring and checking the two against
    /// each other (`bench-groupdnet --label-gradients dense`, ModulationRunSumsTests).
    nonisolated(unsafe) public static var runSums = true
}

/// The runs of one sample's output positions of the first convolution (labels → h) along each row
/// whose im2col columns of the label map are identical.
struct LabelColumnRuns {
    /// Runs of row y are `rowOffsets[y] ..< rowOffsets[y + 1]`.
    let rowOffsets: [Int]
    /// Each run's first column and the column after its last.
    let starts, ends: [Int32]
    var count: Int { starts.count }

    /// Finds the runs of `labels` (one sample, Cin × H × W) for a stride-1 geometry, or nil when
    /// there would be more than `limit` of them (then the dense path is as cheap).
    init?(labels: UnsafePointer<Float>, geometry g: ConvolutionGeometry, limit: Int) {
        let paddedWidth = g.width + 2 * g.padding
        var rowOffsets = [0], starts: [Int32] = [], ends: [Int32] = []
        // changes[j] = 1 when padded column j differs from column j − 1 in some channel and tap row.
        var changes = [UInt8](repeating: 0, count: paddedWidth)
        var padded = [Float](repeating: 0, count: paddedWidth)
        for y in 0..<g.outputHeight {
            changes.withUnsafeMutableBufferPointer { changes in
                padded.withUnsafeMutableBufferPointer { padded in
                    Self.markChanges(labels, g, row: y, padded: padded, changes: changes)
                }
            }
            starts.append(0)
            for x in 1..<g.outputWidth where changes[x..<(x + g.kernelWidth)].contains(1) {
                ends.append(Int32(x))
                starts.append(Int32(x))
            }
            ends.append(Int32(g.outputWidth))
            if starts.count > limit { return nil }
            rowOffsets.append(starts.count)
        }
        (self.rowOffsets, self.starts, self.ends) = (rowOffsets, starts, ends)
    }

    /// Sets `changes[j]` where padded column j of the tap rows feeding output row `row` differs
    /// from column j − 1 in any channel (zero padding included). Output column x reads padded
    /// columns x ..< x + KW, so its im2col column equals column x − 1's exactly when none of
    /// `changes[x ..< x + KW]` is set.
    private static func markChanges(
        _ labels: UnsafePointer<Float>, _ g: ConvolutionGeometry, row: Int,
        padded: UnsafeMutableBufferPointer<Float>, changes: UnsafeMutableBufferPointer<UInt8>
    ) {
        changes.update(repeating: 0)
        for ky in 0..<g.kernelHeight {
            let iy = row - g.padding + ky
            guard iy >= 0, iy < g.height else { continue }  // a padding row: zeros on both sides
            for channel in 0..<g.inputChannels {
                let source = labels + (channel * g.height + iy) * g.width
                padded.baseAddress!.advanced(by: g.padding).update(from: source, count: g.width)
                for j in 1..<padded.count { changes[j] |= padded[j] != padded[j - 1] ? 1 : 0 }
            }
        }
    }
}

/// The run-sum computation of one modulation's backward pass over a batch: per sample, the runs
/// and Σ dh over each run (hidden × runs), filled from dy (β's side) and dγ (γ's side) in turn.
struct ModulationRunSums {
    let shared, modulation: ConvolutionGeometry
    let runs: [LabelColumnRuns]
    /// Per sample, hidden × runs.count: Σ over each run of dh, before the ReLU.
    private(set) var hiddenSums: [[Float]]

    /// Nil when the path does not apply: a stride other than 1, or too many runs in some sample.
    init?(shared: ConvolutionGeometry, modulation: ConvolutionGeometry, labels: UnsafePointer<Float>) {
        guard ModulationSettings.runSums, shared.stride == 1, modulation.stride == 1 else { return nil }
        let limit = shared.outputPlane / 2
        var runs: [LabelColumnRuns] = []
        for sample in 0..<shared.batch {
            let sampleLabels = labels + sample * shared.inputChannels * shared.inputPlane
            guard let found = LabelColumnRuns(labels: sampleLabels, geometry: shared, limit: limit) else { return nil }
            runs.append(found)
        }
        (self.shared, self.modulation, self.runs) = (shared, modulation, runs)
        hiddenSums = runs.map { [Float](repeating: 0, count: shared.outputChannels * $0.count) }
    }

    /// Adds Σ_{q∈R} convᵀ(gradient, weight)(q) for every run R: `gradient` is the gradient of one of
    /// the h → γ or h → β convolutions' outputs (batch × C × H × W), `weight` that convolution's.
    mutating func accumulate(outputGradient gradient: UnsafePointer<Float>, weight: [Float]) {
        let g = modulation
        let tapsWeight = weightByTaps(weight, g)
        for sample in 0..<g.batch {
            let sampleGradient = gradient + sample * g.outputChannels * g.outputPlane
            let sampleRuns = runs[sample]
            // Taken out of the array while written (no copy), since `accumulate` reads self.
            var sums = hiddenSums[sample]
            hiddenSums[sample] = []
            withWritePointer(&sums) { sums in
                withReadPointer(tapsWeight) { taps in
                    accumulate(sampleGradient, runs: sampleRuns, taps: taps, into: sums)
                }
            }
            hiddenSums[sample] = sums
        }
    }

    /// One sample, in blocks of rows whose tap sums fit the convolution scratch budget.
    private func accumulate(
        _ gradient: UnsafePointer<Float>, runs: LabelColumnRuns, taps: UnsafePointer<Float>,
        into sums: UnsafeMutablePointer<Float>
    ) {
        let g = modulation
        let tapRows = g.outputChannels * g.kernelArea
        let runsPerBlock = max(g.outputWidth, convolutionColumnBudget / tapRows)
        var firstRow = 0
        while firstRow < shared.outputHeight {
            var lastRow = firstRow + 1
            while lastRow < shared.outputHeight,
                runs.rowOffsets[lastRow + 1] - runs.rowOffsets[firstRow] <= runsPerBlock
            {
                lastRow += 1
            }
            let rows = firstRow..<lastRow
            let firstRun = runs.rowOffsets[firstRow], blockRuns = runs.rowOffsets[lastRow] - firstRun
            var tapSums = [Float](repeating: 0, count: tapRows * blockRuns)
            withWritePointer(&tapSums) { tapSums in
                sumTaps(gradient, runs: runs, rows: rows, into: tapSums)
                // Σ dh over each run, group by group: (Cin/G × runs) += tapsᵀ (Cin/G × C/G·taps) · sums.
                // Columns are cut into pieces so that every thread has a task.
                let inputs = g.inputsPerGroup, tapRowsPerGroup = g.outputsPerGroup * g.kernelArea
                let pieces = min(blockRuns, max(1, (TensorThreads.count + g.groups - 1) / g.groups))
                parallelTasks(g.groups * pieces, scratchCount: 0) { task, _ in
                    let group = task / pieces, piece = task % pieces
                    let start = blockRuns * piece / pieces, end = blockRuns * (piece + 1) / pieces
                    sgemm(
                        true, false, inputs, end - start, tapRowsPerGroup, 1, taps + group * tapRowsPerGroup * inputs,
                        inputs, tapSums + group * tapRowsPerGroup * blockRuns + start, blockRuns, 1,
                        sums + group * inputs * runs.count + firstRun + start, runs.count)
                }
            }
            firstRow = lastRow
        }
    }

    /// tapSums[(c·KH + ky)·KW + kx][r] = Σ over run r (rows `rows`) of gradient[c, y + P − ky, x + P − kx],
    /// from double-precision prefix sums of each gradient row (positions outside add nothing).
    private func sumTaps(
        _ gradient: UnsafePointer<Float>, runs: LabelColumnRuns, rows: Range<Int>,
        into tapSums: UnsafeMutablePointer<Float>
    ) {
        let g = modulation, width = g.outputWidth
        parallelChunks(g.outputChannels) { channels in
            var prefixes = [SIMD8<Double>](repeating: .zero, count: width + 1)
            prefixes.withUnsafeMutableBufferPointer { prefixes in
                let prefixes = prefixes.baseAddress!
                for channel in channels {
                    let plane = gradient + channel * g.outputPlane
                    // Each gradient row's prefix sums once, for every output row y = row − P + ky in the block.
                    let firstSource = max(0, rows.lowerBound + g.padding - (g.kernelHeight - 1))
                    let lastSource = min(g.outputHeight - 1, rows.upperBound - 1 + g.padding)
                    var first = firstSource
                    while first <= lastSource {
                        let lanes = min(8, lastSource - first + 1)
                        prefixSums(of: plane + first * width, rows: lanes, width: width, into: prefixes)
                        for lane in 0..<lanes {
                            writeTapSums(
                                ofRow: first + lane, channel: channel, prefixes: prefixes, lane: lane, runs: runs,
                                rows: rows, into: tapSums)
                        }
                        first += lanes
                    }
                }
            }
        }
    }

    /// Writes what gradient row `sourceRow` of `channel` gives the tap sums of the output rows it
    /// feeds (in `rows`), from its prefix sums in lane `lane` of `prefixes`.
    private func writeTapSums(
        ofRow sourceRow: Int, channel: Int, prefixes: UnsafePointer<SIMD8<Double>>, lane: Int, runs: LabelColumnRuns,
        rows: Range<Int>, into tapSums: UnsafeMutablePointer<Float>
    ) {
        let g = modulation, width = g.outputWidth
        let firstRun = runs.rowOffsets[rows.lowerBound]
        let blockRuns = runs.rowOffsets[rows.upperBound] - firstRun
        let sums = UnsafeRawPointer(prefixes).assumingMemoryBound(to: Double.self)  // lane l of prefix x: 8x + l
        // The runs as plain pointers: no bounds checks in the innermost loop.
        runs.starts.withUnsafeBufferPointer { starts in
            runs.ends.withUnsafeBufferPointer { ends in
                for ky in 0..<g.kernelHeight {
                    let y = sourceRow - g.padding + ky
                    guard rows.contains(y) else { continue }
                    let runsOfRow = runs.rowOffsets[y]..<runs.rowOffsets[y + 1]
                    for kx in 0..<g.kernelWidth {
                        let target = tapSums + ((channel * g.kernelHeight + ky) * g.kernelWidth + kx) * blockRuns
                        let shift = g.padding - kx
                        for run in runsOfRow {
                            let lower = min(width, max(0, Int(starts[run]) + shift))
                            let upper = min(width, max(0, Int(ends[run]) + shift))
                            target[run - firstRun] = Float(sums[8 * upper + lane] - sums[8 * lower + lane])
                        }
                    }
                }
            }
        }
    }

    /// prefixes[x][l] = Σ_{i<x} row l's value i in Double, for `rows` (1 to 8) consecutive rows
    /// of `width` values from `first`; lanes past `rows` repeat the last row. Lane by lane the
    /// additions are those of one row at a time, in order: eight independent chains of additions
    /// instead of one (a chain of dependent additions runs at a quarter of the adder's rate).
    private func prefixSums(
        of first: UnsafePointer<Float>, rows: Int, width: Int, into prefixes: UnsafeMutablePointer<SIMD8<Double>>
    ) {
        let row = (0..<8).map { first + min($0, rows - 1) * width }
        let (r0, r1, r2, r3, r4, r5, r6, r7) = (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
        prefixes[0] = .zero
        for x in 0..<width {
            let values = SIMD8<Float>(r0[x], r1[x], r2[x], r3[x], r4[x], r5[x], r6[x], r7[x])
            prefixes[x + 1] = prefixes[x] + SIMD8<Double>(values)
        }
    }

    /// The first convolution's weight and bias gradients from the run sums: through the ReLU
    /// (relu' is one value per run, read at its first position of `hidden`), then
    /// dWs_g += Σ_R dh(R) ⊗ col_m(R) and dbs += Σ_R dh(R).
    func sharedGradients(
        hidden: UnsafePointer<Float>, labels: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
        dBias: UnsafeMutablePointer<Float>?
    ) {
        let g = shared
        for sample in 0..<g.batch {
            let sampleRuns = runs[sample], count = sampleRuns.count
            var sums = hiddenSums[sample]
            let hiddenSample = hidden + sample * g.outputChannels * g.outputPlane
            withWritePointer(&sums) { sums in
                maskInactive(sums, hidden: hiddenSample, runs: sampleRuns)
                if let dBias {
                    for channel in 0..<g.outputChannels {
                        dBias[channel] += Float(vectorSum(sums + channel * count, count))
                    }
                }
                guard let dWeight else { return }
                let columns = runColumns(labels + sample * g.inputChannels * g.inputPlane, runs: sampleRuns)
                let m = g.outputsPerGroup, k = g.columnRowsPerGroup
                withReadPointer(columns) { columns in
                    parallelTasks(g.groups, scratchCount: 0) { group, _ in
                        sgemm(
                            false, true, m, k, count, 1, sums + group * m * count, count, columns + group * k * count,
                            count, 1, dWeight + group * m * k, k)
                    }
                }
            }
        }
    }

    /// Zeroes each run's sum in the hidden channels the ReLU cut there (h = 0 exactly where its
    /// input was ≤ 0, as the dense path's mask).
    private func maskInactive(_ sums: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, runs: LabelColumnRuns)
    {
        let g = shared, count = runs.count
        parallelChunks(g.outputChannels) { channels in
            for channel in channels {
                let plane = hidden + channel * g.outputPlane, row = sums + channel * count
                for y in 0..<g.outputHeight {
                    for run in runs.rowOffsets[y]..<runs.rowOffsets[y + 1]
                    where plane[y * g.outputWidth + Int(runs.starts[run])] <= 0 {
                        row[run] = 0
                    }
                }
            }
        }
    }

    /// The im2col column of the label map at each run's first position: (Cin·KH·KW) × runs,
    /// rows ordered as `im2col` orders them (channel, ky, kx).
    private func runColumns(_ labels: UnsafePointer<Float>, runs: LabelColumnRuns) -> [Float] {
        let g = shared, count = runs.count
        var columns = [Float](repeating: 0, count: g.columnRows * count)
        withWritePointer(&columns) { columns in
            for channel in 0..<g.inputChannels {
                let plane = labels + channel * g.inputPlane
                for ky in 0..<g.kernelHeight {
                    for kx in 0..<g.kernelWidth {
                        let target = columns + ((channel * g.kernelHeight + ky) * g.kernelWidth + kx) * count
                        for y in 0..<g.outputHeight {
                            let iy = y - g.padding + ky
                            guard iy >= 0, iy < g.height else { continue }
                            for run in runs.rowOffsets[y]..<runs.rowOffsets[y + 1] {
                                let ix = Int(runs.starts[run]) - g.padding + kx
                                if ix >= 0, ix < g.width { target[run] = plane[iy * g.width + ix] }
                            }
                        }
                    }
                }
            }
        }
        return columns
    }
}

/// A Cout × Cin/G × KH × KW weight rearranged as (Cout·KH·KW) × Cin/G, rows (c, ky, kx): the
/// matrix whose transpose maps a run's tap sums of one group to that group's Σ dh.
private func weightByTaps(_ weight: [Float], _ g: ConvolutionGeometry) -> [Float] {
    let inputs = g.inputsPerGroup, area = g.kernelArea
    var taps = [Float](repeating: 0, count: weight.count)
    withReadPointer(weight) { w in
        withWritePointer(&taps) { t in
            for output in 0..<g.outputChannels {
                for input in 0..<inputs {
                    for tap in 0..<area {
                        t[(output * area + tap) * inputs + input] = w[(output * inputs + input) * area + tap]
                    }
                }
            }
        }
    }
    return taps
}
