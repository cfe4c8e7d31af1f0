// Exact savings for convolutions of piecewise-constant inputs.
//
// Where the input is constant over a neighbourhood (GroupDNet's CG-Norm convolutions read the
// one-hot label map and relu(mlp_shared(label map)), which are constant inside every class
// region), neighbouring im2col columns are identical, and so are their outputs. Per chunk, runs
// of equal consecutive columns are found; when they cut the columns at least in half, the
// sgemm runs on one column per run and the result is copied out to the run (forward), or the
// output gradient is summed over each run before one product per run (dW = Σ_runs (Σ dy) ⊗ col).
// The results equal the full product up to float summation order. Inputs without repeats are
// rejected after a few rows of comparison, so ordinary convolutions pay almost nothing.
//
// Runs only merge neighbours along a row. Inside a class region every position sees the same
// neighbourhood, so the runs of one chunk repeat each other too (row after row, and region after
// region of the same class), so the products run once per distinct column of the chunk
// (``DistinctColumns``). In bench-groupdnet's DeepFashion generator (one evaluation forward and
// one training iteration, im2col route) that took the forward products on run columns from 143
// to 65 G multiply–adds and the weight gradients' from 41 to 17 G (the dense products: 1,204 and
// 340 G).
//
// For stride 1 (every CG-Norm convolution) the runs are found on the input itself, as
// ``LabelColumnRuns`` finds the label map's, and only the run columns are laid out: laying out
// and comparing the whole chunk's columns (Cin·9 values per position) had become most of these
// convolutions' time once the products were that few.

/// The runs of identical consecutive columns of a (rows × width) column buffer.
struct ColumnRuns {
    /// The first column of each run (a run ends where the next starts, the last at the width).
    var starts: [Int32]
    var count: Int { starts.count }

    /// Finds the runs, or returns nil when they would not at least halve the columns.
    /// Rows are compared one at a time, and the search stops early once too many columns
    /// have been found to differ from their left neighbour.
    init?(columns: UnsafePointer<Float>, rows: Int, width: Int) {
        guard width >= 8 else { return nil }
        // differs[p] = 1 when column p differs from column p − 1 in some row so far; a
        // branch-free loop over bytes, so that it vectorises. Counted after the first row
        // (where ordinary inputs already differ almost everywhere) and then every 16 rows.
        var differs = [UInt8](repeating: 0, count: width)
        let limit = width / 2
        let tooMany: Bool = differs.withUnsafeMutableBufferPointer { flags in
            let flags = flags.baseAddress!
            flags[0] = 1
            for r in 0..<rows {
                let row = columns + r * width
                for p in 1..<width { flags[p] |= row[p] != row[p - 1] ? 1 : 0 }
                if r == 0 || r % 16 == 15 || r == rows - 1 {
                    var differing = 0
                    for p in 0..<width { differing += Int(flags[p]) }
                    if differing > limit { return true }
                }
            }
            return false
        }
        if tooMany { return nil }
        var starts: [Int32] = []
        starts.reserveCapacity(limit)
        for p in 0..<width where differs[p] != 0 { starts.append(Int32(p)) }
        self.starts = starts
    }

    /// Finds the runs of a stride-1 convolution's chunk (output rows `rows`, input channels
    /// `channels` of one sample's `x`) from the input itself, without laying the columns out:
    /// along an output row, column x equals column x − 1 exactly when no padded input column
    /// x ..< x + KW differs from its left neighbour in any channel and tap row (as
    /// ``LabelColumnRuns`` finds the label map's runs). Every output row starts a run. Nil when
    /// the runs would not halve the columns; channels are added one at a time and the count is
    /// checked after the first and then every 16, so ordinary inputs are rejected early.
    init?(
        _ g: ConvolutionGeometry, x: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>
    ) {
        precondition(g.stride == 1, "runs from the input need stride 1")
        let width = rows.count * g.outputWidth
        guard width >= 8 else { return nil }
        let paddedWidth = g.width + 2 * g.padding
        // changes[y][j]: padded column j differs from j − 1 in a tap row of output row y.
        var changes = [UInt8](repeating: 0, count: rows.count * paddedWidth)
        var inputRow = [UInt8](repeating: 0, count: paddedWidth)
        let inputRows =
            max(0, rows.lowerBound - g.padding)..<min(g.height, rows.upperBound - 1 - g.padding + g.kernelHeight)
        let tooMany: Bool = changes.withUnsafeMutableBufferPointer { changes in
            inputRow.withUnsafeMutableBufferPointer { inputRow in
                for (number, channel) in channels.enumerated() {
                    let plane = x + channel * g.inputPlane
                    for iy in inputRows {
                        // This input row's differences, in padded columns (zeros outside).
                        let values = plane + iy * g.width
                        inputRow.update(repeating: 0)
                        inputRow[g.padding] = values[0] != 0 ? 1 : 0
                        for ix in 1..<g.width { inputRow[g.padding + ix] = values[ix] != values[ix - 1] ? 1 : 0 }
                        if g.padding > 0 { inputRow[g.padding + g.width] = values[g.width - 1] != 0 ? 1 : 0 }
                        // Into every output row that reads it (y − P + ky = iy).
                        for ky in 0..<g.kernelHeight {
                            let y = iy + g.padding - ky
                            guard rows.contains(y) else { continue }
                            let target = changes.baseAddress! + (y - rows.lowerBound) * paddedWidth
                            for j in 0..<paddedWidth { target[j] |= inputRow[j] }
                        }
                    }
                    if number == 0 || number % 16 == 15 || number == channels.count - 1 {
                        if Self.countStarts(changes.baseAddress!, g, rows: rows.count) > width / 2 { return true }
                    }
                }
                return false
            }
        }
        if tooMany { return nil }
        var starts: [Int32] = []
        changes.withUnsafeBufferPointer { changes in
            for y in 0..<rows.count {
                let row = changes.baseAddress! + y * paddedWidth
                starts.append(Int32(y * g.outputWidth))
                for ox in 1..<g.outputWidth where Self.startsRun(row, ox, g.kernelWidth) {
                    starts.append(Int32(y * g.outputWidth + ox))
                }
            }
        }
        self.starts = starts
    }

    /// Whether output column `ox` starts a run: a change in one of the padded columns it reads.
    @inline(__always)
    private static func startsRun(_ changes: UnsafePointer<UInt8>, _ ox: Int, _ kernelWidth: Int) -> Bool {
        var any: UInt8 = 0
        for j in ox..<(ox + kernelWidth) { any |= changes[j] }
        return any != 0
    }

    private static func countStarts(_ changes: UnsafePointer<UInt8>, _ g: ConvolutionGeometry, rows: Int) -> Int {
        let paddedWidth = g.width + 2 * g.padding
        var count = 0
        for y in 0..<rows {
            let row = changes + y * paddedWidth
            count += 1
            for ox in 1..<g.outputWidth where startsRun(row, ox, g.kernelWidth) { count += 1 }
        }
        return count
    }

    /// Lays out the column of each run's first position into `compact` ((channels·KH·KW) × count,
    /// rows ordered as `im2col` orders them), read from the input: what `im2col` then
    /// ``gatherColumns(_:rows:width:into:)`` would give, without the whole chunk's columns.
    func gatherColumns(
        _ g: ConvolutionGeometry, x: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>,
        into compact: UnsafeMutablePointer<Float>
    ) {
        let runs = count
        // Each run's first position as the input coordinates of its top-left tap.
        var tops = [Int](repeating: 0, count: runs), lefts = [Int](repeating: 0, count: runs)
        for u in 0..<runs {
            let p = Int(starts[u])
            tops[u] = rows.lowerBound + p / g.outputWidth - g.padding
            lefts[u] = p % g.outputWidth - g.padding
        }
        tops.withUnsafeBufferPointer { tops in
            lefts.withUnsafeBufferPointer { lefts in
                var row = compact
                for channel in channels {
                    let plane = x + channel * g.inputPlane
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            for u in 0..<runs {
                                let iy = tops[u] + ky, ix = lefts[u] + kx
                                row[u] =
                                    iy >= 0 && iy < g.height && ix >= 0 && ix < g.width ? plane[iy * g.width + ix] : 0
                            }
                            row += runs
                        }
                    }
                }
            }
        }
    }

    /// Copies the first column of each run into `compact` (rows × count).
    func gatherColumns(
        _ columns: UnsafePointer<Float>, rows: Int, width: Int, into compact: UnsafeMutablePointer<Float>
    ) {
        let runs = count
        starts.withUnsafeBufferPointer { starts in
            for r in 0..<rows {
                let source = columns + r * width, target = compact + r * runs
                for u in 0..<runs { target[u] = source[Int(starts[u])] }
            }
        }
    }

    /// Writes each run's value to all of its columns: y[i, p] = compact[i, run(p)] for `rows` rows
    /// of y with leading dimension `ldy`; with `distinct`, compact holds one column per distinct
    /// column (y[i, p] = compact[i, distinct.index[run(p)]]).
    func scatterColumns(
        _ compact: UnsafePointer<Float>, rows: Int, width: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int, distinct: DistinctColumns? = nil
    ) {
        let runs = count, columns = distinct?.count ?? runs
        let index = distinct?.index ?? (0..<Int32(runs)).map { $0 }
        starts.withUnsafeBufferPointer { starts in
            index.withUnsafeBufferPointer { index in
                for i in 0..<rows {
                    let source = compact + i * columns, target = y + i * ldy
                    for u in 0..<runs {
                        let start = Int(starts[u]), end = u + 1 < runs ? Int(starts[u + 1]) : width
                        (target + start).update(repeating: source[Int(index[u])], count: end - start)
                    }
                }
            }
        }
    }

    /// Sums each run's columns: compact[i, u] = Σ_{p in run u} dy[i, p], for `rows` rows of dy
    /// with leading dimension `ldy`.
    func sumColumns(
        _ dy: UnsafePointer<Float>, rows: Int, width: Int, ldy: Int,
        into compact: UnsafeMutablePointer<Float>
    ) {
        let runs = count
        // Runs are contiguous: each is summed left to right (the same order as adding column by
        // column into its slot), without a scattered read-modify-write per column.
        starts.withUnsafeBufferPointer { starts in
            for i in 0..<rows {
                let source = dy + i * ldy, target = compact + i * runs
                var u = 0
                while u < runs {
                    var p = Int(starts[u])
                    let end = u + 1 < runs ? Int(starts[u + 1]) : width
                    var total: Float = 0
                    while p < end {
                        total += source[p]
                        p += 1
                    }
                    target[u] = total
                    u += 1
                }
            }
        }
    }
}

/// The distinct columns among the gathered run columns of a chunk (rows × count, as
/// ``ColumnRuns/gatherColumns(_:rows:width:into:)`` writes them): equal bit for bit, found by a
/// hash of each column and confirmed by comparing the two.
struct DistinctColumns {
    /// Per run, the number of its distinct column.
    let index: [Int32]
    /// Per distinct column, the first run that has it.
    let representatives: [Int32]
    var count: Int { representatives.count }

    init(_ compact: UnsafePointer<Float>, rows: Int, runs: Int) {
        // FNV-1a over the columns' bit patterns, row by row (contiguous reads).
        var hashes = [UInt64](repeating: 0xcbf2_9ce4_8422_2325, count: runs)
        hashes.withUnsafeMutableBufferPointer { hashes in
            for r in 0..<rows {
                let row = compact + r * runs
                for u in 0..<runs { hashes[u] = (hashes[u] ^ UInt64(row[u].bitPattern)) &* 0x100_0000_01b3 }
            }
        }
        var index = [Int32](repeating: 0, count: runs), representatives: [Int32] = []
        var byHash: [UInt64: [Int32]] = [:]  // hash → the distinct columns with it
        for u in 0..<runs {
            let known = byHash[hashes[u], default: []]
            if let same = known.first(where: {
                Self.equal(compact, rows: rows, runs: runs, Int(representatives[Int($0)]), u)
            }) {
                index[u] = same
                continue
            }
            index[u] = Int32(representatives.count)
            byHash[hashes[u], default: []].append(Int32(representatives.count))
            representatives.append(Int32(u))
        }
        (self.index, self.representatives) = (index, representatives)
    }

    private static func equal(_ compact: UnsafePointer<Float>, rows: Int, runs: Int, _ a: Int, _ b: Int) -> Bool {
        for r in 0..<rows where compact[r * runs + a].bitPattern != compact[r * runs + b].bitPattern { return false }
        return true
    }

    /// Adds up, in place, the columns of `values` (rows × runs, one column per run) that belong to
    /// the same distinct column, in run order, leaving rows × count (one column per distinct
    /// column). In place is safe: run u's value goes to distinct column index[u] ≤ u of its row,
    /// and row r's results end before row r + 1's inputs start, so nothing is overwritten before
    /// it is read.
    func merge(_ values: UnsafeMutablePointer<Float>, rows: Int, runs: Int) {
        let distinct = count
        index.withUnsafeBufferPointer { index in
            representatives.withUnsafeBufferPointer { representatives in
                for r in 0..<rows {
                    let source = values + r * runs, target = values + r * distinct
                    for u in 0..<runs {
                        let d = Int(index[u])
                        let value = source[u]
                        if Int(representatives[d]) == u { target[d] = value } else { target[d] += value }
                    }
                }
            }
        }
    }

    /// Copies each distinct column into `packed` (rows × count).
    func pack(_ compact: UnsafePointer<Float>, rows: Int, runs: Int, into packed: UnsafeMutablePointer<Float>) {
        let distinct = count
        representatives.withUnsafeBufferPointer { representatives in
            for r in 0..<rows {
                let source = compact + r * runs, target = packed + r * distinct
                for d in 0..<distinct { target[d] = source[Int(representatives[d])] }
            }
        }
    }
}
