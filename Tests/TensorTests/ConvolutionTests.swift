import _TestSupport
import XCTest
@testable import Tensor

/// A direct, obviously correct convolution: the reference for the im2col + sgemm path.
func naiveConvolution(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int, padding: Int, groups: Int) -> [Float]
{
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, cinPerGroup, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    let oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1
    let coutPerGroup = cout / groups
    var y = [Float](repeating: 0, count: n * cout * oh * ow)
    for b in 0..<n {
        for co in 0..<cout {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let group = co / coutPerGroup
                    var total = Double(bias?.data[co] ?? 0)
                    for ci in 0..<cinPerGroup {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                let xi = ((b * cin + group * cinPerGroup + ci) * h + iy) * w + ix
                                let wi = ((co * cinPerGroup + ci) * kh + ky) * kw + kx
                                total += Double(x.data[xi]) * Double(weight.data[wi])
                            }
                        }
                    }
                    y[((b * cout + co) * oh + oy) * ow + ox] = Float(total)
                }
            }
        }
    }
    _ = cin
    return y
}

final class ConvolutionTests: XCTestCase {
    override func tearDown() { convolutionColumnBudget = 1 << 22 }

    /// A convolution's input shape (N, Cin, H, W) and its settings.
    struct Geometry {
        var input: [Int]
        var outputChannels, kernel, stride, padding, groups: Int
        var bias: Bool

        init(_ input: [Int], to outputChannels: Int, kernel: Int, stride: Int, padding: Int, groups: Int, bias: Bool) {
            (self.input, self.outputChannels, self.kernel) = (input, outputChannels, kernel)
            (self.stride, self.padding, self.groups, self.bias) = (stride, padding, groups, bias)
        }
    }

    /// One configuration: values against the naive reference, gradients against finite differences.
    private func check(_ g: Geometry, file: StaticString = #filePath, line: UInt = #line) throws {
        let (batch, height, width) = (g.input[0], g.input[2], g.input[3])
        let x = randomInput(g.input, seed: 1, name: "x")
        let weight = randomInput([g.outputChannels, g.input[1] / g.groups, g.kernel, g.kernel], seed: 2, name: "weight")
        let b = g.bias ? randomInput([g.outputChannels], seed: 3, name: "bias") : nil
        let expected = naiveConvolution(x, weight, b, stride: g.stride, padding: g.padding, groups: g.groups)
        let oh = (height + 2 * g.padding - g.kernel) / g.stride + 1,
            ow = (width + 2 * g.padding - g.kernel) / g.stride + 1
        try checkGradients(
            [x, weight] + (b.map { [$0] } ?? []),
            expectedShape: [batch, g.outputChannels, oh, ow], expectedValues: expected, file: file, line: line
        ) { inputs in
            try inputs[0].conv2d(
                weight: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil,
                stride: g.stride, padding: g.padding, groups: g.groups)
        }
    }

    /// Every kind of convolution the model runs, and the edge cases of the im2col path: a
    /// table, whose rows share one shape on purpose; each prints its name before it runs.
    func testEveryGeometryMatchesTheDirectConvolutionAndFiniteDifferences() throws {
        let geometries: [(name: String, Geometry)] = [
            (
                "dense 3×3, odd sizes, batch 2",
                Geometry([2, 3, 5, 7], to: 4, kernel: 3, stride: 1, padding: 1, groups: 1, bias: true)
            ),
            (
                "grouped, stride 2",
                Geometry([2, 4, 7, 5], to: 6, kernel: 3, stride: 2, padding: 1, groups: 2, bias: true)
            ),
            (
                "eight groups, like the encoder",
                Geometry([1, 8, 6, 6], to: 16, kernel: 3, stride: 2, padding: 1, groups: 8, bias: false)
            ),
            (
                "the discriminator's kernel 4, stride 2, padding 2",
                Geometry([2, 3, 9, 8], to: 2, kernel: 4, stride: 2, padding: 2, groups: 1, bias: true)
            ),
            (
                "pointwise fast path with groups",
                Geometry([2, 6, 3, 5], to: 4, kernel: 1, stride: 1, padding: 0, groups: 2, bias: false)
            ),
            (
                "pointwise with a stride takes the general path",
                Geometry([1, 2, 5, 5], to: 3, kernel: 1, stride: 2, padding: 0, groups: 1, bias: true)
            )
        ]
        for (name, geometry) in geometries {
            print("geometry: \(name)")  // the failures that follow are this row's
            try check(geometry)
        }
    }

    func testChunkedIm2colMatchesUnchunked() throws {
        convolutionColumnBudget = 1  // one output row per chunk
        try check(Geometry([2, 4, 6, 5], to: 4, kernel: 3, stride: 1, padding: 1, groups: 4, bias: true))
        try check(Geometry([1, 2, 7, 7], to: 2, kernel: 3, stride: 2, padding: 1, groups: 1, bias: false))
    }

    func testTaskSplittingAcrossThreadsGivesTheSameResults() throws {
        // Tests run with one thread; force the multi-task split (row chunks per group forward,
        // input-channel blocks per group backward), including more threads than groups.
        let saved = TensorThreads.count
        defer { TensorThreads.count = saved }
        TensorThreads.count = 3
        try check(Geometry([2, 6, 7, 5], to: 4, kernel: 3, stride: 1, padding: 1, groups: 2, bias: true))
        try check(Geometry([1, 5, 6, 6], to: 3, kernel: 3, stride: 2, padding: 1, groups: 1, bias: false))
        try check(Geometry([2, 4, 3, 5], to: 6, kernel: 1, stride: 1, padding: 0, groups: 2, bias: true))
    }

    func testPiecewiseConstantInputTakesTheRepeatedColumnPath() throws {
        // Constant over wide regions, like a one-hot label map: most im2col columns repeat.
        let x = randomInput([2, 4, 9, 24], seed: 4, name: "labels")
        for plane in 0..<8 {
            for y in 0..<9 {
                for column in 0..<24 {
                    x.data[(plane * 9 + y) * 24 + column] =
                        column < 10 ? Float(plane) * 0.5 - 1 : (y < 4 ? 0.75 : -0.25 * Float(plane))
                }
            }
        }
        let columns = try XCTUnwrap(im2colForTest(x, kernel: 3, padding: 1))
        XCTAssertNotNil(
            ColumnRuns(columns: columns.data, rows: columns.rows, width: columns.width),
            "the input should have repeated columns")
        for groups in [1, 2] {
            let weight = randomInput([6, 4 / groups, 3, 3], seed: 5, name: "weight")
            let bias = randomInput([6], seed: 6, name: "bias")
            let expected = naiveConvolution(x, weight, bias, stride: 1, padding: 1, groups: groups)
            try checkGradients([x, weight, bias], expectedShape: [2, 6, 9, 24], expectedValues: expected) {
                try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1, groups: groups)
            }
        }
    }

    func testColumnRunsFindsRunsAndRejectsVaryingColumns() throws {
        // Two rows, width 10: columns 0–3 equal, 4–9 equal → runs start at 0 and 4.
        let repeated: [Float] = [
            1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
            5, 5, 5, 5, 5, 5, 5, 5, 5, 5
        ]
        let runs = try XCTUnwrap(
            repeated.withUnsafeBufferPointer { ColumnRuns(columns: $0.baseAddress!, rows: 2, width: 10) })
        XCTAssertEqual(runs.starts, [0, 4])
        // Each run's columns summed, and each run's value written back to all of its columns.
        let gradient = (0..<10).map(Float.init)
        var sums = [Float](repeating: -1, count: 2)
        gradient.withUnsafeBufferPointer { dy in
            sums.withUnsafeMutableBufferPointer {
                runs.sumColumns(dy.baseAddress!, rows: 1, width: 10, ldy: 10, into: $0.baseAddress!)
            }
        }
        XCTAssertEqual(sums, [6, 39])  // 0 + 1 + 2 + 3 and 4 + … + 9
        var spread = [Float](repeating: -1, count: 10)
        [Float(7), 9].withUnsafeBufferPointer { compact in
            spread.withUnsafeMutableBufferPointer {
                runs.scatterColumns(compact.baseAddress!, rows: 1, width: 10, into: $0.baseAddress!, ldy: 10)
            }
        }
        XCTAssertEqual(spread, [7, 7, 7, 7, 9, 9, 9, 9, 9, 9])
        let varying = (0..<20).map(Float.init)
        XCTAssertNil(varying.withUnsafeBufferPointer { ColumnRuns(columns: $0.baseAddress!, rows: 2, width: 10) })
    }

    func testZeroedArraysAreZeroOnSeveralThreads() {
        let saved = TensorThreads.count
        defer { TensorThreads.count = saved }
        TensorThreads.count = 3
        // Large enough to be split (64 K per thread at least), and not a multiple of the split.
        let zeros = makeZeroedArray(3 * (1 << 16) + 5)
        XCTAssertEqual(zeros.count, 3 * (1 << 16) + 5)
        XCTAssertTrue(zeros.allSatisfy { $0 == 0 && $0.sign == .plus })
    }

    /// Runs found on the input (stride 1) against the im2col columns themselves: every column of
    /// a run equals its first, every run but a row's first starts where the column differs from
    /// its left neighbour, and the gathered columns are the im2col columns at the run starts.
    func testRunsFoundOnTheInputMatchTheColumns() throws {
        var source = RandomSource(seed: 9)
        // Three classes in vertical and slanted bands over a 3-channel 11 × 29 input, one noisy patch.
        let (c, h, w) = (3, 11, 29)
        var values = [Float](repeating: 0, count: c * h * w)
        let noise = source.normals(c * h * w)
        for channel in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let band = x < 8 ? 0 : (x + y / 3 < 18 ? 1 : 2)
                    let noisy = y >= 7 && x >= 26
                    values[(channel * h + y) * w + x] =
                        noisy ? noise[(channel * h + y) * w + x] : Float(band * (channel + 1)) * 0.5 - 0.25
                }
            }
        }
        let x = try Tensor(shape: [1, c, h, w], data: values)
        for (kernel, padding, channels, rows) in [
            (3, 1, 0..<3, 0..<11), (3, 1, 1..<3, 3..<7), (3, 0, 0..<3, 0..<9), (1, 0, 0..<2, 2..<5)
        ] {
            let g = try ConvolutionGeometry(
                input: x, weight: Tensor.zeros([2, c, kernel, kernel]), bias: nil, stride: 1, padding: padding,
                groups: 1)
            let k = channels.count * kernel * kernel, width = rows.count * g.outputWidth
            var columns = [Float](repeating: .nan, count: k * width)
            let runs = try XCTUnwrap(
                x.data.withUnsafeBufferPointer { xp in
                    columns.withUnsafeMutableBufferPointer { columns in
                        im2col(g, x: xp.baseAddress!, channels: channels, rows: rows, columns: columns.baseAddress!)
                        return ColumnRuns(g, x: xp.baseAddress!, channels: channels, rows: rows)
                    }
                }, "kernel \(kernel), padding \(padding), rows \(rows)")
            let starts = runs.starts.map(Int.init)
            func column(_ p: Int) -> [Float] { (0..<k).map { columns[$0 * width + p] } }
            for (u, start) in starts.enumerated() {
                let end = u + 1 < starts.count ? starts[u + 1] : width
                for p in start..<end {
                    XCTAssertEqual(column(p), column(start), "position \(p) in the run from \(start)")
                }
                if start % g.outputWidth != 0 {
                    XCTAssertNotEqual(column(start), column(start - 1), "run from \(start) should have merged")
                } else {
                    XCTAssertEqual(start / g.outputWidth, u == 0 ? 0 : starts[u - 1] / g.outputWidth + 1)
                }
            }
            var gathered = [Float](repeating: .nan, count: k * starts.count)
            x.data.withUnsafeBufferPointer { xp in
                gathered.withUnsafeMutableBufferPointer {
                    runs.gatherColumns(g, x: xp.baseAddress!, channels: channels, rows: rows, into: $0.baseAddress!)
                }
            }
            for (u, start) in starts.enumerated() {
                XCTAssertEqual((0..<k).map { gathered[$0 * starts.count + u] }, column(start))
            }
        }
        // An input without repeats is refused.
        let varying = try Tensor(shape: [1, 2, 6, 9], data: source.normals(108))
        let g = try ConvolutionGeometry(
            input: varying, weight: Tensor.zeros([2, 2, 3, 3]), bias: nil, stride: 1, padding: 1, groups: 1)
        XCTAssertNil(
            varying.data.withUnsafeBufferPointer { ColumnRuns(g, x: $0.baseAddress!, channels: 0..<2, rows: 0..<6) })
    }

    func testDistinctColumnsMergesEqualRunColumnsAnywhere() throws {
        // Two rows, five run columns a b a c b (c differs from a only in its second row; the
        // last is b with −0 for 0, which is a different bit pattern and stays distinct).
        let compact: [Float] = [
            1, 2, 1, 1, 2, 2,
            0, 5, 0, 7, 5, -0.0
        ]
        let distinct = compact.withUnsafeBufferPointer { DistinctColumns($0.baseAddress!, rows: 2, runs: 6) }
        XCTAssertEqual(distinct.index, [0, 1, 0, 2, 1, 3])
        XCTAssertEqual(distinct.representatives, [0, 1, 3, 5])
        var packed = [Float](repeating: -1, count: 8)
        compact.withUnsafeBufferPointer { source in
            packed.withUnsafeMutableBufferPointer {
                distinct.pack(source.baseAddress!, rows: 2, runs: 6, into: $0.baseAddress!)
            }
        }
        XCTAssertEqual(packed, [1, 2, 1, 2, 0, 5, 7, -0.0])
        // Gradient sums per run (two rows), merged in place per distinct column, in run order.
        var sums: [Float] = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]
        sums.withUnsafeMutableBufferPointer { distinct.merge($0.baseAddress!, rows: 2, runs: 6) }
        XCTAssertEqual(Array(sums[0..<8]), [4, 7, 4, 6, 40, 70, 40, 60] as [Float])  // 1 + 3, 2 + 5, 4, 6; 10 + 30, …
        // Scattered back through the runs: each run's columns get its distinct column's value.
        let runs = try XCTUnwrap(
            [Float]([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]).withUnsafeBufferPointer {
                ColumnRuns(columns: $0.baseAddress!, rows: 1, width: 12)
            })
        XCTAssertEqual(runs.starts, [0, 2, 4, 6, 8, 10])
        var spread = [Float](repeating: -1, count: 12)
        [Float](packed[0..<4]).withUnsafeBufferPointer { values in
            spread.withUnsafeMutableBufferPointer {
                runs.scatterColumns(
                    values.baseAddress!, rows: 1, width: 12, into: $0.baseAddress!, ldy: 12, distinct: distinct)
            }
        }
        XCTAssertEqual(spread, [1, 1, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2])
    }

    func testKernelWiderThanPaddedInputThrows() {
        let x = Tensor.zeros([1, 1, 2, 2]), weight = Tensor.zeros([1, 1, 5, 5])
        XCTAssertThrowsError(try x.conv2d(weight: weight, padding: 1)) { error in
            XCTAssertTrue("\(error)".contains("larger than the padded input"), "\(error)")
        }
    }

    func testGroupsMustDivideChannels() {
        let x = Tensor.zeros([1, 6, 4, 4]), weight = Tensor.zeros([4, 2, 3, 3])
        XCTAssertThrowsError(try x.conv2d(weight: weight, groups: 4)) { error in
            XCTAssertTrue("\(error)".contains("groups 4 must divide"), "\(error)")
        }
    }

    func testWeightInputChannelMismatchNamesBothShapes() {
        let x = Tensor.zeros([1, 6, 4, 4]), weight = Tensor(shape: [4, 2, 3, 3], repeating: 0, name: "conv_0.weight")
        XCTAssertThrowsError(try x.conv2d(weight: weight, groups: 1)) { error in
            XCTAssertTrue("\(error)".contains("conv_0.weight [4, 2, 3, 3]"), "\(error)")
            XCTAssertTrue("\(error)".contains("[1, 6, 4, 4]"), "\(error)")
        }
    }

    func testBiasShapeIsChecked() {
        let x = Tensor.zeros([1, 2, 4, 4]), weight = Tensor.zeros([4, 2, 3, 3])
        XCTAssertThrowsError(try x.conv2d(weight: weight, bias: Tensor.zeros([3])))
    }
}

/// The im2col matrix of sample 0 (all channels, stride 1), built naively, to show that a test
/// input really has repeated columns.
func im2colForTest(_ x: Tensor, kernel: Int, padding: Int) -> (data: [Float], rows: Int, width: Int)? {
    let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
    let oh = h + 2 * padding - kernel + 1, ow = w + 2 * padding - kernel + 1
    let rows = c * kernel * kernel, width = oh * ow
    var data = [Float](repeating: 0, count: rows * width)
    for ci in 0..<c {
        for ky in 0..<kernel {
            for kx in 0..<kernel {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let iy = oy - padding + ky, ix = ox - padding + kx
                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                        data[((ci * kernel + ky) * kernel + kx) * width + oy * ow + ox] = x.data[(ci * h + iy) * w + ix]
                    }
                }
            }
        }
    }
    return (data, rows, width)
}
