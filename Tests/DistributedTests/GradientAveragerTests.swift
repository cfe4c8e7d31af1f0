import Dispatch
import Distributed
import Foundation
import Tensor
import XCTest

/// Gradient buckets without MPI: a fake second rank whose gradients are a fixed multiple of
/// this one's, so that the averages are known.
final class GradientAveragerTests: XCTestCase {
    /// A network of `layers` weights of `width` values each, applied one after the other.
    private func chain(layers: Int, width: Int) -> (parameters: [Tensor], loss: () throws -> Tensor) {
        var random = RandomSource(seed: 5)
        let parameters = (0..<layers).map {
            Tensor.randomNormal([width], using: &random, requiresGrad: true, name: "w\($0)")
        }
        let input = Tensor.randomNormal([width], using: &random)
        return (parameters, {
            var x = input
            for weight in parameters { x = try (x * weight).tanh() }
            return x.sum()
        })
    }

    func testGradientsBecomeTheMeanOverRanksInBucketsSentDuringTheBackwardPass() throws {
        let (parameters, loss) = chain(layers: 6, width: 1000)
        try loss().backward()
        let own = parameters.map { $0.grad! }
        parameters.forEach { $0.zeroGradient() }

        // The other rank's gradients are 3 × this one's: the mean is 2 × this one's.
        let communicator = ScaledPeer(peerFactor: 3)
        // 2,000 floats per bucket: two weights each, so three buckets.
        let averager = GradientAverager(communicator: communicator, bucketBytes: 2000 * 4)
        averager.begin(parameters)
        try loss().backward(onGradientReady: averager.gradientReady)
        XCTAssertEqual(communicator.firstSum.wait(timeout: .now() + 30), .success,
                       "a full bucket is summed while the backward pass runs, before finish()")
        try averager.finish()
        for (parameter, gradient) in zip(parameters, own) {
            XCTAssertEqual(parameter.grad, gradient.map { $0 * 2 }, parameter.name)
        }
        let timings = averager.takeTimings()
        XCTAssertEqual(timings.buckets, 3)
        XCTAssertEqual(timings.reducedBytes, 6000 * 4)
        XCTAssertEqual(communicator.summedCounts, [2000, 2000, 2000])
        XCTAssertGreaterThan(timings.backwardSeconds, 0)
        XCTAssertEqual(averager.takeTimings(), CommunicationTimings(), "taken, so reset")
    }

    func testParametersWithoutAGradientStaySoAndUnannouncedOnesAreStillAveraged() throws {
        let (parameters, loss) = chain(layers: 3, width: 10)
        let unused = Tensor.zeros([4], requiresGrad: true, name: "unused")
        let communicator = ScaledPeer(peerFactor: 1)
        let averager = GradientAverager(communicator: communicator)
        averager.begin(parameters + [unused])
        // A backward pass without the announcement: everything goes in one bucket at the end.
        try loss().backward()
        let own = parameters.map { $0.grad! }
        try averager.finish()
        XCTAssertEqual(parameters.map { $0.grad! }, own, "the mean of equal gradients")
        XCTAssertNil(unused.grad, "Adam skips a parameter without a gradient, as on one process")
        XCTAssertEqual(communicator.summedCounts, [30])
    }

    func testAFailedSumIsThrownByFinish() throws {
        let (parameters, loss) = chain(layers: 2, width: 10)
        let averager = GradientAverager(communicator: ScaledPeer(peerFactor: 1, failing: true))
        averager.begin(parameters)
        try loss().backward(onGradientReady: averager.gradientReady)
        XCTAssertThrowsError(try averager.finish()) { error in
            XCTAssertEqual("\(error)", "rank 0 of 2: MPI_Allreduce failed: the peer went away")
        }
    }
}

/// Rank 0 of two, whose peer's values are `peerFactor` × this rank's.
final class ScaledPeer: Communicator, @unchecked Sendable {
    let peerFactor: Float
    let failing: Bool
    let firstSum = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var counts: [Int] = []

    init(peerFactor: Float, failing: Bool = false) {
        self.peerFactor = peerFactor
        self.failing = failing
    }

    var rank: Int { 0 }
    var size: Int { 2 }
    var summedCounts: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        if failing {
            throw CommunicationError(operation: "MPI_Allreduce", rank: 0, size: 2, message: "the peer went away")
        }
        for index in values.indices { values[index] += values[index] * peerFactor }
        lock.lock()
        counts.append(values.count)
        let first = counts.count == 1
        lock.unlock()
        if first { firstSum.signal() }
    }

    func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        for index in values.indices { values[index] += values[index] * Double(peerFactor) }
    }

    func maximum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    func minimum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    func barrier() {}
    func duplicate() -> Communicator { self }
}
