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
    /// of y with leading dimension `ldy`.
    func scatterColumns(
        _ compact: UnsafePointer<Float>, rows: Int, width: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        let runs = count
        starts.withUnsafeBufferPointer { starts in
            for i in 0..<rows {
                let source = compact + i * runs, target = y + i * ldy
                for u in 0..<runs {
                    let start = Int(starts[u]), end = u + 1 < runs ? Int(starts[u + 1]) : width
                    (target + start).update(repeating: source[u], count: end - start)
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
