import _TestSupport
import XCTest
@testable import Tensor

final class ReductionAndLossTests: XCTestCase {
    func testSumAndMean() throws {
        let x = randomInput([2, 3, 5, 3], seed: 20)
        let total = x.data.reduce(0.0) { $0 + Double($1) }
        try checkGradients([x], expectedValues: [Float(total)]) { $0[0].sum() }
        try checkGradients([x], expectedValues: [Float(total / 90)]) { $0[0].mean() }
    }

    func testL1Loss() throws {
        let a = randomInput([2, 3, 4, 3], seed: 21), b = randomInput([2, 3, 4, 3], seed: 22)
        for i in a.data.indices where Swift.abs(a.data[i] - b.data[i]) < 0.05 { a.data[i] += 0.1 }
        let expected = zip(a.data, b.data).reduce(0.0) { $0 + Double(Swift.abs($1.0 - $1.1)) } / Double(a.count)
        try checkGradients([a, b], expectedValues: [Float(expected)]) { try Tensor.l1Loss($0[0], $0[1]) }
    }

    func testHingeTerms() throws {
        let x = randomInputAwayFrom([-1, 1], [2, 1, 5, 5], seed: 23)
        let realExpected = x.data.reduce(0.0) { $0 + Double(max(0, 1 - $1)) } / 50
        let fakeExpected = x.data.reduce(0.0) { $0 + Double(max(0, 1 + $1)) } / 50
        let generatorExpected = -x.data.reduce(0.0) { $0 + Double($1) } / 50
        try checkGradients([x], expectedValues: [Float(realExpected)]) { $0[0].hingeDiscriminatorLoss(isReal: true) }
        try checkGradients([x], expectedValues: [Float(fakeExpected)]) { $0[0].hingeDiscriminatorLoss(isReal: false) }
        try checkGradients([x], expectedValues: [Float(generatorExpected)]) { $0[0].hingeGeneratorLoss() }
    }

    func testKullbackLeiblerCompositeFromPrimitives() throws {
        // KLD = −0.5 · Σ(1 + logvar − mu² − exp(logvar)), as GroupDNet's loss composes it.
        let mu = randomInput([2, 4, 2, 2], seed: 24), logvar = randomInput([2, 4, 2, 2], seed: 25)
        let expected =
            -0.5
            * zip(mu.data, logvar.data).reduce(0.0) {
                $0 + Double(1 + $1.1 - $1.0 * $1.0 - Foundation.exp($1.1))
            }
        try checkGradients([mu, logvar], expectedValues: [Float(expected)]) { inputs in
            let (mu, logvar) = (inputs[0], inputs[1])
            return try ((logvar.adding(1) - mu * mu) - logvar.exp()).sum().scaled(by: -0.5)
        }
    }

    func testBackwardNeedsAScalar() {
        let x = randomInput([2, 2], seed: 26)
        XCTAssertThrowsError(try x.relu().backward()) { error in
            XCTAssertTrue("\(error)".contains("one element"), "\(error)")
        }
    }
}

final class VectorSumTests: XCTestCase {
    func testVectorSumsMatchDoubleOnLongOddLengths() {
        var source = RandomSource(seed: 27)
        let count = 70_001  // many flushes plus a scalar tail
        let a = source.normals(count).map { $0 + 3 }, b = source.normals(count)
        let sum = a.reduce(0.0) { $0 + Double($1) }
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let mean = Float(sum / Double(count))
        let squares = a.reduce(0.0) { $0 + (Double($1) - Double(mean)) * (Double($1) - Double(mean)) }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                XCTAssertEqual(vectorSum(ap.baseAddress!, count), sum, accuracy: Swift.abs(sum) * 1e-6)
                XCTAssertEqual(vectorDot(ap.baseAddress!, bp.baseAddress!, count), dot, accuracy: 1e-6 * Double(count))
                XCTAssertEqual(
                    vectorSumOfSquaredDeviations(ap.baseAddress!, count, mean: mean), squares, accuracy: squares * 1e-6)
                XCTAssertEqual(
                    vectorSum(ap.baseAddress!, 5), (0..<5).reduce(0.0) { $0 + Double(a[$1]) }, accuracy: 1e-5)
            }
        }
    }
}
