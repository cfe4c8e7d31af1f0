import _TestSupport
import XCTest
@testable import Tensor

/// oneDNN's convolutions (direct and Winograd) against the im2col + sgemm path, which
/// ConvolutionTests checks against a naive sum and finite differences: the forward values and
/// both gradients, accumulated into gradients that already hold something, must agree to
/// float32 rounding (Winograd's transforms round more: a looser bound, measured below).
final class OneDNNConvolutionTests: XCTestCase {
    private let savedBackend = ConvolutionSettings.backend

    override func tearDown() {
        ConvolutionSettings.backend = savedBackend
        try? ConvolutionSettings.setPrecision(.float32)
    }

    struct Shape {
        var input: [Int]
        var outputs, kernel, stride, padding, groups: Int
        var bias: Bool
    }

    /// The values and gradients of two convolutions of the same x and weight (so that the
    /// second gradient accumulates into the first), weighted by fixed random output gradients.
    private func run(_ s: Shape, _ backend: ConvolutionBackend) throws -> [String: [Float]] {
        ConvolutionSettings.backend = backend
        let x = randomInput(s.input, seed: 1, name: "x")
        let weight = randomInput([s.outputs, s.input[1] / s.groups, s.kernel, s.kernel], seed: 2, name: "weight")
        let bias = s.bias ? randomInput([s.outputs], seed: 3, name: "bias") : nil
        func convolution() throws -> Tensor {
            try x.conv2d(weight: weight, bias: bias, stride: s.stride, padding: s.padding, groups: s.groups)
        }
        let first = try convolution(), second = try convolution()
        var random = RandomSource(seed: 4)
        let r1 = Tensor.randomNormal(first.shape, using: &random), r2 = Tensor.randomNormal(first.shape, using: &random)
        try ((first * r1).sum() + (second * r2).sum()).backward()
        var result = ["y": first.data, "dx": try XCTUnwrap(x.grad), "dw": try XCTUnwrap(weight.grad)]
        if let bias { result["db"] = try XCTUnwrap(bias.grad) }
        return result
    }

    /// `backend` (in `precision`) against im2col in float32.
    private func compare(
        _ s: Shape, _ backend: ConvolutionBackend, _ tolerance: Tolerance, _ name: String,
        precision: ConvolutionPrecision = .float32
    ) throws {
        try ConvolutionSettings.setPrecision(.float32)
        let expected = try run(s, .im2col)
        try ConvolutionSettings.setPrecision(precision)
        let actual = try run(s, backend)
        for key in expected.keys.sorted() {
            assertClose(try XCTUnwrap(actual[key]), try XCTUnwrap(expected[key]), tolerance, "\(name) \(key)")
        }
    }

    /// The geometry of a convolution of `s`.
    private func geometry(_ s: Shape) throws -> ConvolutionGeometry {
        try ConvolutionGeometry(
            input: Tensor.zeros(s.input), weight: Tensor.zeros([s.outputs, s.input[1] / s.groups, s.kernel, s.kernel]),
            bias: nil, stride: s.stride, padding: s.padding, groups: s.groups)
    }

    /// The model's kinds of convolution, at sizes where oneDNN's blocked kernels engage (16
    /// channels and more) and below (3 and 8 channels: its reference kernels).
    static let shapes: [(String, Shape)] = [
        (
            "3×3, stride 1, bias",
            Shape(
                input: [2, 16, 12, 10], outputs: 32, kernel: 3, stride: 1, padding: 1,
                groups: 1, bias: true)
        ),
        (
            "grouped 3×3",
            Shape(
                input: [1, 32, 9, 9], outputs: 64, kernel: 3, stride: 1, padding: 1, groups: 8,
                bias: true)
        ),
        (
            "grouped, stride 2",
            Shape(
                input: [2, 16, 11, 9], outputs: 32, kernel: 3, stride: 2, padding: 1,
                groups: 2, bias: false)
        ),
        (
            "D's kernel 4, stride 2, padding 2",
            Shape(
                input: [1, 11, 13, 12], outputs: 16, kernel: 4, stride: 2,
                padding: 2, groups: 1, bias: true)
        ),
        (
            "pointwise, groups",
            Shape(
                input: [2, 16, 6, 7], outputs: 32, kernel: 1, stride: 1, padding: 0, groups: 2,
                bias: false)
        ),
        (
            "batch 2 at 64 × 64: one sample per call",
            Shape(
                input: [2, 16, 64, 64], outputs: 16, kernel: 3, stride: 1, padding: 1, groups: 1,
                bias: true)
        ),
        (
            "grouped, stride 2 from 64 × 64: one sample per call",
            Shape(
                input: [3, 16, 64, 64], outputs: 32, kernel: 3, stride: 2, padding: 1, groups: 2,
                bias: true)
        ),
        (
            "few channels",
            Shape(
                input: [1, 3, 8, 8], outputs: 8, kernel: 3, stride: 1, padding: 1, groups: 1,
                bias: true)
        )
    ]

    func testDirectKernelsMatchIm2colToFloatRounding() throws {
        for (name, shape) in Self.shapes {
            try compare(shape, .direct, Tolerance(ofScale: 2e-6, scaleFloor: 1), name)
        }
    }

    func testWinogradMatchesIm2colWithinItsRoundingBound() throws {
        // Winograd's transforms scale the terms up before the sums: seen 1e-6–4e-6 of the scale.
        for (name, shape) in Self.shapes {
            try compare(shape, .winograd, Tolerance(ofScale: 2e-5, scaleFloor: 1), name)
        }
    }

    /// Every shape above runs on oneDNN (no silent fall-back to im2col, which would make the
    /// comparisons vacuous), the 64 × 64 ones one sample per call and the others a whole batch.
    func testLargePlanesRunOneSamplePerCall() throws {
        for (name, s) in Self.shapes {
            let g = try geometry(s)
            let plan = try XCTUnwrap(
                OneDNNConvolution.plan(.init(g, bias: s.bias, precision: .float32, algorithm: .direct)), name)
            XCTAssertTrue(plan.hasBackward, name)
            let large = s.input[2] * s.input[3] >= OneDNNConvolution.largePlane
            XCTAssertEqual(plan.samplesPerCall, large ? 1 : s.input[0], name)
        }
    }

    /// Both gradients from one call (the output gradient laid out once for the two passes) equal,
    /// bit for bit, the two passes run one after the other, in float32 and bfloat16, with
    /// gradients that already hold something; and each alone when the other is not wanted.
    func testBothGradientsAtOnceEqualTheTwoPasses() throws {
        var precisions: [ConvolutionPrecision] = [.float32]
        if ConvolutionSettings.supportsBFloat16 { precisions.append(.bfloat16) }
        for precision in precisions {
            for (name, s) in Self.shapes {
                let g = try geometry(s)
                let plan = try XCTUnwrap(
                    OneDNNConvolution.plan(.init(g, bias: false, precision: precision, algorithm: .direct)), name)
                let x = randomInput(s.input, seed: 11, name: "x").data
                let weight = randomInput([s.outputs, s.input[1] / s.groups, s.kernel, s.kernel], seed: 12, name: "w")
                    .data
                let dy = randomInput([s.input[0], s.outputs, g.outputHeight, g.outputWidth], seed: 13, name: "dy").data
                let startX = randomInput(s.input, seed: 14, name: "dx0").data
                let startW = randomInput([s.outputs, s.input[1] / s.groups, s.kernel, s.kernel], seed: 15, name: "dw0")
                    .data
                var (separateX, separateW, togetherX, togetherW) = (startX, startW, startX, startW)
                var (onlyX, onlyW) = (startX, startW)
                x.withUnsafeBufferPointer { x in
                    weight.withUnsafeBufferPointer { w in
                        dy.withUnsafeBufferPointer { dy in
                            let (x, w, dy) = (x.baseAddress!, w.baseAddress!, dy.baseAddress!)
                            separateW.withUnsafeMutableBufferPointer {
                                plan.runBackwardWeights(x: x, dy: dy, dWeight: $0.baseAddress!)
                            }
                            separateX.withUnsafeMutableBufferPointer {
                                plan.runBackwardData(dy: dy, weight: w, dx: $0.baseAddress!)
                            }
                            togetherW.withUnsafeMutableBufferPointer { dw in
                                togetherX.withUnsafeMutableBufferPointer { dx in
                                    plan.runBackward(
                                        x: x, dy: dy, weight: w, dWeight: dw.baseAddress!, dx: dx.baseAddress!)
                                }
                            }
                            onlyW.withUnsafeMutableBufferPointer {
                                plan.runBackward(x: x, dy: dy, weight: w, dWeight: $0.baseAddress!, dx: nil)
                            }
                            onlyX.withUnsafeMutableBufferPointer {
                                plan.runBackward(x: x, dy: dy, weight: w, dWeight: nil, dx: $0.baseAddress!)
                            }
                        }
                    }
                }
                let label = "\(name), \(precision.rawValue)"
                XCTAssertEqual(togetherW, separateW, label)
                XCTAssertEqual(togetherX, separateX, label)
                XCTAssertEqual(onlyW, separateW, label)
                XCTAssertEqual(onlyX, separateX, label)
                XCTAssertNotEqual(separateX, startX, "\(label): the data pass must have added something")
            }
        }
    }

    /// A plan made on one thread runs on another, bit for bit as on the thread that made it
    /// (`smis serve` makes its plans on the thread that loads the model and runs them on its
    /// model thread). With oneDNN's default scratchpad, global per thread, the other thread had
    /// none and the kernels wrote through a null pointer: this test crashed.
    func testAPlanMadeOnOneThreadRunsOnAnother() throws {
        var routes: [(ConvolutionBackend, ConvolutionPrecision)] = [(.direct, .float32), (.winograd, .float32)]
        if ConvolutionSettings.supportsBFloat16 { routes.append((.direct, .bfloat16)) }
        for (backend, precision) in routes {
            try ConvolutionSettings.setPrecision(precision)
            for (name, shape) in Self.shapes {
                let here = try run(shape, backend)
                let elsewhere = try onAnotherThread { try self.run(shape, backend) }
                XCTAssertEqual(elsewhere, here, "\(name), \(backend.rawValue), \(precision.rawValue)")
            }
        }
    }

    /// Runs `body` on a new thread (8 MiB of stack, as the serve model thread has) and waits.
    private func onAnotherThread(_ body: @escaping () throws -> [String: [Float]]) throws -> [String: [Float]] {
        let box = ResultBox(), done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try body() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        done.wait()
        return try XCTUnwrap(box.result).get()
    }

    func testAutomaticRouteMatchesIm2col() throws {
        // Piecewise-constant channels (a one-hot map) send the forward and dW to im2col's
        // repeated-column path and dx to oneDNN: one convolution, two implementations.
        let shape = Shape(input: [1, 16, 16, 16], outputs: 32, kernel: 3, stride: 1, padding: 1, groups: 1, bias: true)
        try compare(shape, .automatic, Tolerance(ofScale: 2e-6, scaleFloor: 1), "automatic")
        let x = Tensor.zeros([1, 16, 16, 16])
        for index in x.data.indices where (index / 16) % 16 < 8 { x.data[index] = 1 }
        let g = try ConvolutionGeometry(
            input: x, weight: Tensor.zeros([32, 16, 3, 3]), bias: nil, stride: 1, padding: 1, groups: 1)
        XCTAssertTrue(x.data.withUnsafeBufferPointer { inputHasRepeatedColumns(g, x: $0.baseAddress!) })
        let route = ConvolutionRoute.choose(g, bias: false, repeatedColumns: true)
        guard case .im2col = route.forward, case .oneDNN = route.inputGradient else {
            return XCTFail("expected im2col forward and oneDNN input gradient, got \(route)")
        }
    }

    func testBFloat16ConvolutionsStayWithinBFloat16Rounding() throws {
        guard ConvolutionSettings.supportsBFloat16 else {
            XCTAssertThrowsError(try ConvolutionSettings.setPrecision(.bfloat16))
            throw XCTSkip("this CPU has no AVX512-BF16: bf16 is refused, as checked")
        }
        // bfloat16 keeps 8 significant bits: inputs rounded by 2⁻⁹ relative, sums of up to 288
        // terms of random signs: a few 1e-3 of the scale, and clearly not float32's 1e-7.
        for (name, shape) in Self.shapes.prefix(3) {
            try compare(
                shape, .automatic, Tolerance(ofScale: 1e-2, scaleFloor: 1, relativeL2: 5e-3), name,
                precision: .bfloat16)
        }
        try ConvolutionSettings.setPrecision(.bfloat16)
        let rounded = try run(Self.shapes[0].1, .automatic)
        try ConvolutionSettings.setPrecision(.float32)
        let exact = try run(Self.shapes[0].1, .im2col)
        let difference = zip(try XCTUnwrap(rounded["y"]), try XCTUnwrap(exact["y"])).map { Swift.abs($0 - $1) }.max()!
        XCTAssertGreaterThan(difference, 1e-3, "bf16 should round the products' inputs")
    }
}

/// What a thread hands back to the one waiting for it (the semaphore orders the two accesses).
private final class ResultBox: @unchecked Sendable {
    var result: Result<[String: [Float]], Error>?
}
