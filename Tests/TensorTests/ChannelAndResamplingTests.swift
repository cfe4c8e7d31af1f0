import _TestSupport
import XCTest
@testable import Tensor

final class ChannelAndResamplingTests: XCTestCase {
    func testConcatenateChannels() throws {
        let a = randomInput([2, 2, 3, 3], seed: 30), b = randomInput([2, 3, 3, 3], seed: 31)
        var expected: [Float] = []
        for sample in 0..<2 {
            expected += a.data[(sample * 18)..<(sample * 18 + 18)]
            expected += b.data[(sample * 27)..<(sample * 27 + 27)]
        }
        try checkGradients([a, b], expectedShape: [2, 5, 3, 3], expectedValues: expected) {
            try Tensor.concatenateChannels($0)
        }
    }

    func testConcatenateRejectsDifferentSizes() {
        XCTAssertThrowsError(try Tensor.concatenateChannels([Tensor.zeros([1, 2, 3, 3]), Tensor.zeros([1, 2, 3, 4])]))
    }

    func testSliceChannels() throws {
        let x = randomInput([2, 5, 3, 2], seed: 32)
        var expected: [Float] = []
        for sample in 0..<2 { expected += x.data[(sample * 30 + 6)..<(sample * 30 + 24)] }
        try checkGradients([x], expectedShape: [2, 3, 3, 2], expectedValues: expected) {
            try $0[0].sliceChannels(1..<4)
        }
        XCTAssertThrowsError(try x.sliceChannels(3..<6))
    }

    func testUpsampleNearest2x() throws {
        let x = randomInput([2, 2, 3, 5], seed: 33)
        var expected: [Float] = []
        for plane in 0..<4 {
            for oy in 0..<6 { for ox in 0..<10 { expected.append(x.data[plane * 15 + (oy / 2) * 5 + ox / 2]) } }
        }
        try checkGradients([x], expectedShape: [2, 2, 6, 10], expectedValues: expected) {
            try $0[0].upsampleNearest2x()
        }
    }

    func testResizeNearestDownAndUpFollowsPyTorchIndices() throws {
        // PyTorch: src = min(floor(dst · in/out), in − 1). 7 → 3: 0, 2, 4.  3 → 5: 0, 0, 1, 1, 2.
        XCTAssertEqual(nearestSourceIndices(input: 7, output: 3), [0, 2, 4])
        XCTAssertEqual(nearestSourceIndices(input: 3, output: 5), [0, 0, 1, 1, 2])
        XCTAssertEqual(nearestSourceIndices(input: 256, output: 4), [0, 64, 128, 192])
        let x = randomInput([2, 1, 7, 3], seed: 34)
        let down = try x.resizeNearest(height: 3, width: 5)
        XCTAssertEqual(down.data[0..<5].map { $0 }, [0, 0, 1, 1, 2].map { x.data[$0] })
        XCTAssertEqual(down.data[5..<10].map { $0 }, [0, 0, 1, 1, 2].map { x.data[6 + $0] })
        try checkGradients([x], expectedShape: [2, 1, 3, 5]) { try $0[0].resizeNearest(height: 3, width: 5) }
        try checkGradients([x], expectedShape: [2, 1, 11, 2]) { try $0[0].resizeNearest(height: 11, width: 2) }
    }

    func testAveragePoolExcludesPadding() throws {
        // A 3×3 input of ones pooled 3×3, stride 2, padding 1 stays all ones only if padded
        // zeros are excluded from each window's count.
        let ones = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        XCTAssertEqual(try ones.averagePool2d(kernelSize: 3, stride: 2, padding: 1).data, [1, 1, 1, 1])
        let x = randomInput([2, 2, 7, 5], seed: 35)
        // Corner output (0, 0) averages x[0..<2, 0..<2].
        let expectedCorner = (x.data[0] + x.data[1] + x.data[5] + x.data[6]) / 4
        let pooled = try x.averagePool2d(kernelSize: 3, stride: 2, padding: 1)
        XCTAssertEqual(pooled.shape, [2, 2, 4, 3])
        XCTAssertEqual(pooled.data[0], expectedCorner, accuracy: 1e-6)
        try checkGradients([x], expectedShape: [2, 2, 4, 3]) {
            try $0[0].averagePool2d(kernelSize: 3, stride: 2, padding: 1)
        }
    }

    /// Distinct values 0.05 apart in shuffled order: finite differences with step 1e-2 never
    /// change which input wins a window.
    private func distinctInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var source = RandomSource(seed: seed)
        let count = shape.reduce(1, *)
        let values = (0..<count).map { Float($0) * 0.05 - 1 }.shuffled(using: &source)
        return try! Tensor(shape: shape, data: values, requiresGrad: true)
    }

    func testMaxPool2dForwardAndGradient() throws {
        let x = distinctInput([2, 3, 6, 7], seed: 36)
        // 2×2 stride 2 drops the odd last column, as PyTorch's floor mode does.
        let pooled = try x.maxPool2d(kernelSize: 2, stride: 2)
        XCTAssertEqual(pooled.shape, [2, 3, 3, 3])
        XCTAssertEqual(pooled.data[0], max(x.data[0], x.data[1], x.data[7], x.data[8]))
        XCTAssertEqual(pooled.data[4], max(x.data[16], x.data[17], x.data[23], x.data[24]))
        try checkGradients([x], expectedShape: [2, 3, 3, 3]) { try $0[0].maxPool2d(kernelSize: 2, stride: 2) }
        // Overlapping windows: an input that wins two windows receives both gradients.
        try checkGradients([x], expectedShape: [2, 3, 2, 3]) { try $0[0].maxPool2d(kernelSize: 3, stride: 2) }
    }

    func testMaxPool2dTiesSendTheGradientToTheFirstMaximum() throws {
        let x = try Tensor(shape: [1, 1, 2, 4], data: [1, 1, 0, 5, 1, 1, 5, 5], requiresGrad: true)
        let pooled = try x.maxPool2d(kernelSize: 2, stride: 2)
        XCTAssertEqual(pooled.data, [1, 5])
        try pooled.sum().backward()
        XCTAssertEqual(x.grad, [1, 0, 0, 1, 0, 0, 0, 0])
    }

    func testMaxPool2dRejectsBadWindows() {
        XCTAssertThrowsError(try Tensor.zeros([1, 1, 1, 4]).maxPool2d(kernelSize: 2, stride: 2))
        XCTAssertThrowsError(try Tensor.zeros([1, 1, 4, 4]).maxPool2d(kernelSize: 2, stride: 0))
        XCTAssertThrowsError(try Tensor.zeros([4, 4]).maxPool2d(kernelSize: 2, stride: 2))
    }
}
