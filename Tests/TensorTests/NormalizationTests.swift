import _TestSupport
import XCTest
@testable import Tensor

final class NormalizationTests: XCTestCase {
    /// Normalises each group of `values` by its own mean and biased variance, in Double.
    private func reference(_ x: Tensor, groupsOf indices: [[Int]], epsilon: Double = 1e-5) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for group in indices {
            let mean = group.reduce(0.0) { $0 + Double(x.data[$1]) } / Double(group.count)
            let variance =
                group.reduce(0.0) { $0 + (Double(x.data[$1]) - mean) * (Double(x.data[$1]) - mean) }
                / Double(group.count)
            for i in group { y[i] = Float((Double(x.data[i]) - mean) / (variance + epsilon).squareRoot()) }
        }
        return y
    }

    func testInstanceNorm() throws {
        let x = randomInput([2, 3, 5, 3], seed: 40)
        let planes: [[Int]] = (0..<6).map { (plane: Int) -> [Int] in Array((plane * 15)..<(plane * 15 + 15)) }
        try checkGradients([x], expectedValues: reference(x, groupsOf: planes)) { try $0[0].instanceNorm() }
    }

    func testBatchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnes() throws {
        let x = randomInput([3, 2, 3, 5], seed: 41)
        var channels: [[Int]] = [[], []]
        for n in 0..<3 { for c in 0..<2 { channels[c] += Array(((n * 2 + c) * 15)..<((n * 2 + c) * 15 + 15)) } }
        let statistics = BatchNormStatistics(channels: 2)
        let y = try x.batchNorm(statistics: statistics, training: true)
        assertClose(y.data, reference(x, groupsOf: channels), .forward, "batch norm values")
        // Running statistics: 0.9·initial + 0.1·batch, the variance unbiased (45 values per channel).
        for c in 0..<2 {
            let values = channels[c].map { Double(x.data[$0]) }
            let mean = values.reduce(0, +) / 45
            let unbiased = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 44
            XCTAssertEqual(statistics.runningMean.data[c], Float(0.1 * mean), accuracy: 1e-6)
            XCTAssertEqual(statistics.runningVariance.data[c], Float(0.9 + 0.1 * unbiased), accuracy: 1e-6)
        }
        XCTAssertEqual(statistics.batchesTracked, 1)
        let gradientStatistics = BatchNormStatistics(channels: 2)
        try checkGradients([x]) { try $0[0].batchNorm(statistics: gradientStatistics, training: true) }
    }

    func testBatchNormEvaluationUsesRunningStatistics() throws {
        let statistics = BatchNormStatistics(channels: 2)
        statistics.runningMean.data = [0.5, -1]
        statistics.runningVariance.data = [4, 0.25]
        let x = randomInput([2, 2, 3, 3], seed: 42)
        var expected = [Float]()
        for plane in 0..<4 {
            let c = plane % 2
            expected += x.data[(plane * 9)..<(plane * 9 + 9)].map {
                ($0 - statistics.runningMean.data[c]) / (statistics.runningVariance.data[c] + 1e-5).squareRoot()
            }
        }
        try checkGradients([x], expectedValues: expected) {
            try $0[0].batchNorm(statistics: statistics, training: false)
        }
        XCTAssertEqual(statistics.runningMean.data, [0.5, -1], "evaluation must not move the statistics")
        XCTAssertEqual(statistics.batchesTracked, 0)
    }

    func testBatchNormChannelCountIsChecked() {
        XCTAssertThrowsError(
            try Tensor.zeros([1, 3, 2, 2]).batchNorm(statistics: BatchNormStatistics(channels: 2), training: true))
        XCTAssertThrowsError(
            try Tensor.zeros([1, 2, 2, 2]).batchNorm(
                statistics: BatchNormStatistics(channels: 2), twins: [BatchNormStatistics(channels: 3)],
                training: true),
            "a twin of another width")
    }

    /// Twins (GroupDNet's norm_0 and norm_s of one input) get the same running statistics as
    /// two separate norms would, from one x̂; evaluation leaves them alone.
    func testBatchNormTwinsShareOneNormalisationAndEachUpdate() throws {
        let x = randomInput([2, 3, 4, 4], seed: 43)
        let (own, twin, separate) = (BatchNormStatistics(channels: 3), BatchNormStatistics(channels: 3),
                                     BatchNormStatistics(channels: 3))
        let shared = try x.batchNorm(statistics: own, twins: [twin], training: true)
        let alone = try x.batchNorm(statistics: separate, training: true)
        XCTAssertEqual(shared.data, alone.data)
        for statistics in [own, twin] {
            XCTAssertEqual(statistics.runningMean.data, separate.runningMean.data)
            XCTAssertEqual(statistics.runningVariance.data, separate.runningVariance.data)
            XCTAssertEqual(statistics.batchesTracked, 1)
        }
        twin.runningMean.data = [5, 5, 5]
        _ = try x.batchNorm(statistics: own, twins: [twin], training: false)
        XCTAssertEqual(twin.runningMean.data, [5, 5, 5], "evaluation must not touch the twins")
        XCTAssertEqual(twin.batchesTracked, 1)
    }
}

final class SpectralNormTests: XCTestCase {
    func testPowerIterationThenDivisionBySigma() throws {
        var source = RandomSource(seed: 50)
        let weight = Tensor.randomNormal([4, 2, 3, 3], using: &source, requiresGrad: true)
        let norm = try SpectralNorm(weightShape: weight.shape, using: &source)
        let (rows, columns) = (4, 18)
        // One power iteration by hand, in Double.
        let u0 = norm.u.data.map(Double.init)
        var v = (0..<columns).map { c in (0..<rows).reduce(0.0) { $0 + Double(weight.data[$1 * columns + c]) * u0[$1] }
        }
        let vNorm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / vNorm }
        let wv = (0..<rows).map { r in (0..<columns).reduce(0.0) { $0 + Double(weight.data[r * columns + $1]) * v[$1] }
        }
        let wvNorm = wv.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let u = wv.map { $0 / wvNorm }
        let sigma = zip(u, wv).reduce(0) { $0 + $1.0 * $1.1 }
        let normalized = try norm.normalizedWeight(weight, training: true)
        assertClose(norm.u.data, u.map(Float.init), .forward, "u after one iteration")
        assertClose(norm.v.data, v.map(Float.init), .forward, "v after one iteration")
        assertClose(normalized.data, weight.data.map { Float(Double($0) / sigma) }, .forward, "W / σ")
        // Evaluation leaves u and v alone.
        let storedU = norm.u.data
        _ = try norm.normalizedWeight(weight, training: false)
        XCTAssertEqual(norm.u.data, storedU)
    }

    func testGradientTreatsUAndVAsConstants() throws {
        var source = RandomSource(seed: 51)
        let weight = Tensor.randomNormal([3, 1, 3, 3], using: &source, requiresGrad: true)
        let norm = try SpectralNorm(weightShape: weight.shape, using: &source)
        _ = try norm.normalizedWeight(weight, training: true)  // settle u, v; then hold them fixed
        try checkGradients([weight]) { try norm.normalizedWeight($0[0], training: false) }
    }

    /// The passes over W are split over the threads by rows or columns: the same values whatever
    /// the thread count, and training's σ (from the power iteration's W v) equals evaluation's.
    func testSameValuesOnOneThreadAndOnSeveral() throws {
        let saved = TensorThreads.count
        defer { TensorThreads.count = saved }
        func run(threads: Int) throws -> (u: [Float], v: [Float], output: [Float], evaluated: [Float], grad: [Float]) {
            TensorThreads.count = threads
            var source = RandomSource(seed: 53)
            // 64 × 2,304 (a 256-channel 3 × 3 convolution's rows): several tasks per pass, and
            // a column count that is not a multiple of the eight lanes plus one.
            let weight = Tensor.randomNormal([64, 256, 3, 3], using: &source, requiresGrad: true)
            let norm = try SpectralNorm(weightShape: weight.shape, using: &source)
            let output = try norm.normalizedWeight(weight, training: true)
            let upstream = Tensor.randomNormal(weight.shape, using: &source)
            try (output * upstream).sum().backward()
            let evaluated = try norm.normalizedWeight(weight, training: false)
            return (norm.u.data, norm.v.data, output.data, evaluated.data, try XCTUnwrap(weight.grad))
        }
        let one = try run(threads: 1), three = try run(threads: 3)
        XCTAssertEqual(one.u, three.u)
        XCTAssertEqual(one.v, three.v)
        XCTAssertEqual(one.output, three.output)
        XCTAssertEqual(one.grad, three.grad)
        XCTAssertEqual(one.evaluated, one.output, "evaluation with the stored u and v must give training's W / σ")
    }

    func testMismatchedWeightThrows() throws {
        var source = RandomSource(seed: 52)
        let norm = try SpectralNorm(weightShape: [4, 2, 3, 3], using: &source)
        XCTAssertThrowsError(try norm.normalizedWeight(Tensor.zeros([4, 2, 1, 1]), training: true))
    }
}
