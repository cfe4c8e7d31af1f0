import Foundation
import _TestSupport
import XCTest
@testable import Tensor

/// The two injection points data-parallel training uses, without any communication library:
/// the backward pass's announcement of final gradients, and batch norm's cross-replica sums.
final class DataParallelHookTests: XCTestCase {
    func testEachLeafIsAnnouncedOnceAndOnlyWhenItsGradientIsFinal() throws {
        let x = randomInput([2, 3], seed: 1, name: "x")
        let w1 = randomInput([2, 3], seed: 2, name: "w1")
        let w2 = randomInput([2, 3], seed: 3, name: "w2")
        let constant = Tensor(shape: [2, 3], repeating: 0.5, name: "constant")
        // w1 is used twice, once early and once late in the forward pass.
        func loss() throws -> Tensor {
            let a = try x * w1
            let b = try a * w2
            return try (b * w1 + a * constant).sum()
        }
        var announced: [(name: String, gradient: [Float])] = []
        try loss().backward { announced.append(($0.name, $0.grad ?? [])) }
        // Each leaf that requires a gradient, once. w1's late use (b · w1) is backed through
        // first, but w1 waits for its early one (x · w1), after w2's only use.
        XCTAssertEqual(announced.map(\.name), ["w2", "x", "w1"])
        for (name, gradient) in announced {
            let leaf = [x, w1, w2].first { $0.name == name }!
            XCTAssertEqual(gradient, leaf.grad, "\(name) was announced before its gradient was final")
        }
        // The announcement changes nothing in the gradients.
        let announcedGradients = [x, w1, w2].map { $0.grad! }
        [x, w1, w2].forEach { $0.zeroGradient() }
        try loss().backward()
        XCTAssertEqual([x, w1, w2].map { $0.grad! }, announcedGradients)
    }

    /// Two replicas, on two threads, each with half of a batch and batch norm statistics summed
    /// across them, compute what one batch norm computes on the whole batch: the output, the
    /// input gradient (each replica's loss being its part of the whole loss) and the running
    /// statistics.
    func testBatchNormAcrossReplicasMatchesOneBatchNormOnTheWholeBatch() throws {
        let (batch, channels, height, width) = (4, 3, 5, 6)
        let x = randomInput([batch, channels, height, width], seed: 50)
        var source = RandomSource(seed: 51)
        let projection = Tensor.randomNormal(x.shape, using: &source)
        let whole = BatchNormStatistics(channels: channels)
        let y = try x.batchNorm(statistics: whole, training: true)
        try (y * projection).sum().backward()

        let half = x.count / 2
        func part(_ tensor: Tensor, _ replica: Int, requiresGrad: Bool) throws -> Tensor {
            try Tensor(shape: [batch / 2, channels, height, width],
                       data: Array(tensor.data[(replica * half)..<((replica + 1) * half)]), requiresGrad: requiresGrad)
        }
        let sums = TwoReplicaSum()
        let replicas = try (0..<2).map { replica in
            (x: try part(x, replica, requiresGrad: true),
             projection: try part(projection, replica, requiresGrad: false),
             statistics: BatchNormStatistics(channels: channels))
        }
        for (number, replica) in replicas.enumerated() {
            replica.statistics.replicaSum = { sums.sum(replica: number, $0) }
        }
        let outputs = LockedOutputs()
        let failures = LockedErrors()
        let group = DispatchGroup()
        for (number, replica) in replicas.enumerated() {
            DispatchQueue.global().async(group: group) {
                do {
                    let output = try replica.x.batchNorm(statistics: replica.statistics, training: true)
                    outputs.set(number, output.data)
                    try (output * replica.projection).sum().backward()
                } catch { failures.add(error) }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success, "the replicas deadlocked")
        XCTAssertTrue(failures.errors.isEmpty, "\(failures.errors)")
        assertClose(outputs.values[0] + outputs.values[1], y.data, Tolerance(absolute: 1e-6), "outputs")
        assertClose(replicas[0].x.grad! + replicas[1].x.grad!, x.grad!, Tolerance(absolute: 1e-5), "input gradients")
        for replica in replicas {
            XCTAssertEqual(replica.statistics.batchesTracked, 1)
            assertClose(replica.statistics.runningMean.data, whole.runningMean.data, Tolerance(absolute: 1e-7),
                        "running mean")
            assertClose(replica.statistics.runningVariance.data, whole.runningVariance.data, Tolerance(absolute: 1e-6),
                        "running variance (unbiased over all 4 × 30 values)")
        }
        XCTAssertEqual(replicas[0].statistics.runningVariance.data, replicas[1].statistics.runningVariance.data,
                       "every replica holds the same statistics")
    }

    func testWithoutAReplicaSumBatchNormIsUnchanged() throws {
        let x = randomInput([2, 2, 3, 3], seed: 52)
        let plain = BatchNormStatistics(channels: 2), alone = BatchNormStatistics(channels: 2)
        // A sum over one replica is the identity: the synchronised kernel then equals the local one.
        alone.replicaSum = { _ in }
        let expected = try x.batchNorm(statistics: plain, training: true)
        let synchronised = try x.batchNorm(statistics: alone, training: true)
        assertClose(synchronised.data, expected.data, Tolerance(absolute: 1e-6), "one replica")
        XCTAssertEqual(alone.runningMean.data, plain.runningMean.data)
    }
}

/// Sums the buffers of two replicas on two threads: each call waits for the other replica's
/// call of the same round, and both receive replica 0's values plus replica 1's.
private final class TwoReplicaSum: @unchecked Sendable {
    private let condition = NSCondition()
    private var deposits: [[Double]?] = [nil, nil]
    private var result: [Double]?
    private var taken = 0

    func sum(replica: Int, _ values: UnsafeMutableBufferPointer<Double>) {
        condition.lock()
        defer { condition.unlock() }
        while deposits[replica] != nil { condition.wait() }   // the previous round is still being read
        deposits[replica] = Array(values)
        condition.broadcast()
        while result == nil {
            if let first = deposits[0], let second = deposits[1] {
                result = zip(first, second).map { $0 + $1 }
            } else {
                condition.wait()
            }
        }
        for index in values.indices { values[index] = result![index] }
        taken += 1
        if taken == 2 {
            (deposits, result, taken) = ([nil, nil], nil, 0)
            condition.broadcast()
        }
    }
}

private final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var errors: [Error] = []
    func add(_ error: Error) {
        lock.lock()
        errors.append(error)
        lock.unlock()
    }
}

private final class LockedOutputs: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [[Float]] = [[], []]
    func set(_ replica: Int, _ output: [Float]) {
        lock.lock()
        values[replica] = output
        lock.unlock()
    }
}
