import _TestSupport
import XCTest
@testable import Tensor

final class ElementwiseTests: XCTestCase {
    private let shape = [2, 3, 4, 5]

    func testRelu() throws {
        let x = randomInputAwayFrom([0], shape, seed: 10)
        try checkGradients([x], expectedValues: x.data.map { max($0, 0) }) { try XCTUnwrap($0.first).relu() }
    }

    func testReluGradientIsZeroAtZero() throws {
        let x = try Tensor(shape: [3], data: [-1, 0, 2], requiresGrad: true)
        try x.relu().sum().backward()
        XCTAssertEqual(x.grad, [0, 0, 1])
    }

    func testLeakyRelu() throws {
        let x = randomInputAwayFrom([0], shape, seed: 11)
        try checkGradients([x], expectedValues: x.data.map { $0 > 0 ? $0 : 0.2 * $0 }) {
            $0[0].leakyRelu(negativeSlope: 0.2)
        }
    }

    func testTanh() throws {
        let x = randomInput(shape, seed: 12)
        try checkGradients([x], expectedValues: x.data.map { Foundation.tanh($0) }) { $0[0].tanh() }
    }

    func testExp() throws {
        let x = randomInput(shape, seed: 13)
        try checkGradients([x], expectedValues: x.data.map { Foundation.exp($0) }) { $0[0].exp() }
    }

    func testAbs() throws {
        let x = randomInputAwayFrom([0], shape, seed: 14)
        try checkGradients([x], expectedValues: x.data.map { Swift.abs($0) }) { $0[0].abs() }
    }

    func testScaledAndAdding() throws {
        let x = randomInput(shape, seed: 15)
        try checkGradients([x], expectedValues: x.data.map { $0 * -2.5 + 1 }) { $0[0].scaled(by: -2.5).adding(1) }
    }

    func testAddSubtractMultiply() throws {
        let a = randomInput(shape, seed: 16), b = randomInput(shape, seed: 17)
        try checkGradients([a, b], expectedValues: zip(a.data, b.data).map { $0 + $1 }) { try $0[0] + $0[1] }
        try checkGradients([a, b], expectedValues: zip(a.data, b.data).map { $0 - $1 }) { try $0[0] - $0[1] }
        try checkGradients([a, b], expectedValues: zip(a.data, b.data).map { $0 * $1 }) { try $0[0] * $0[1] }
    }

    func testSameTensorOnBothSidesAccumulates() throws {
        let x = randomInput(shape, seed: 18)
        try checkGradients([x], expectedValues: x.data.map { $0 * $0 }) { try $0[0] * $0[0] }
    }

    func testMismatchedShapesThrowNamingBoth() {
        let a = Tensor(shape: [1, 2, 3, 3], repeating: 0, name: "gamma"), b = Tensor.zeros([1, 2, 3, 4])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertEqual("\(error)", "add: shape mismatch: shapes differ: gamma [1, 2, 3, 3] and [1, 2, 3, 4]")
        }
    }
}
