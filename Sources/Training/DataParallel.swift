import Dispatch
import Distributed
import Foundation
import GroupDNet
import Tensor

/// What a ``Trainer`` does differently as one rank of a data-parallel run, all of it through the
/// `Communicator` protocol (MPI is never named here); with a `SingleProcess` communicator every
/// method is the identity and nothing is set on the model, so one process trains bit for bit as
/// it always did.
///
/// On each rank of N, for one global batch of N × B samples, of which it holds B:
/// - the batch norms of CG-Norm normalise by the mean and variance of all N × B samples, in the
///   forward pass and the backward pass (``Tensor/BatchNormStatistics/replicaSum``), and their
///   running statistics move with those, as the reference's `SynchronizedBatchNorm2d`;
/// - each step's gradients are averaged over the ranks in buckets while the backward pass runs
///   (`GradientAverager`), so every rank applies the same Adam update to the same weights;
/// - the losses shown and logged are the means over the ranks (each rank's is the mean over
///   its B samples, so their mean is the loss of the global batch);
/// - a stop asked of any rank stops every rank after the same step;
/// - every ``consistencyCheckInterval`` steps (and when the run starts) rank 0's checksum of
///   every weight and statistic is compared with every rank's, so a divergence, from a bug or
///   from ranks that loaded different checkpoints, is an error naming the step.
final class DataParallel {
    /// How often the ranks compare their weights: often enough to name the step of a
    /// divergence closely, rarely enough that hashing 115 M values (about 0.1 s) costs nothing.
    static let defaultConsistencyCheckInterval = 200

    let communicator: Communicator
    private let averager: GradientAverager?
    private let failures = FailureLatch()
    private let model: GroupDNetModel
    /// Nanoseconds the main thread spent in the batch norms' sums since the last step's metrics.
    private let synchronization = Stopwatch()

    init(communicator: Communicator, model: GroupDNetModel, step: TrainingStep) throws {
        self.communicator = communicator
        self.model = model
        guard communicator.isDistributed else {
            averager = nil
            return
        }
        let averager = GradientAverager(communicator: try communicator.duplicate())
        step.gradientAverager = averager
        self.averager = averager
        let networks: [Module] = [model.generator, model.encoder, model.discriminator]
        for network in networks {
            for (_, entry) in network.namedState {
                if case let .counter(statistics) = entry { statistics.replicaSum = replicaSum() }
            }
        }
    }

    /// Rank 0 writes the run's files; the others only read.
    var writesFiles: Bool { communicator.rank == 0 }

    /// The batch norms' cross-rank sum. A failure cannot be thrown from inside the backward
    /// pass: it is kept, and ``throwIfFailed()`` throws it after the step.
    private func replicaSum() -> ReplicaSum {
        { [communicator, failures, synchronization] values in
            let started = DispatchTime.now().uptimeNanoseconds
            do { try communicator.sum(values) } catch { failures.record(error) }
            synchronization.add(DispatchTime.now().uptimeNanoseconds - started)
        }
    }

    /// Throws the first communication failure the batch norms met in the last step.
    func throwIfFailed() throws {
        if let error = failures.first { throw error }
    }

    /// The step's losses averaged over the ranks (every rank holds the same number of samples).
    func globalLosses(_ losses: StepLosses) throws -> StepLosses {
        guard communicator.isDistributed else { return losses }
        let g = losses.generator, d = losses.discriminator
        var values = [g.total, g.adversarial, g.featureMatching, g.kullbackLeibler, g.vgg ?? 0,
                      d.total, d.fake, d.real].map(Double.init)
        try timed { try communicator.sum(&values) }
        let mean = values.map { Float($0 / Double(communicator.size)) }
        return StepLosses(
            generator: .init(total: mean[0], adversarial: mean[1], featureMatching: mean[2], kullbackLeibler: mean[3],
                             vgg: g.vgg == nil ? nil : mean[4]),
            discriminator: .init(total: mean[5], fake: mean[6], real: mean[7]))
    }

    /// Whether any rank asks to stop now (every rank then stops after the same step).
    func anyRankStops(_ stopHere: Bool) throws -> Bool {
        guard communicator.isDistributed else { return stopHere }
        return try timed { try communicator.maximum(stopHere ? 1 : 0) } == 1
    }

    /// Whether the weights are compared after `stepsDone` steps.
    func checksAgreement(afterSteps stepsDone: Int, interval: Int) -> Bool {
        communicator.isDistributed && stepsDone % max(1, interval) == 0
    }

    /// Compares every rank's checksum of the model's state, and of `context` (the options and
    /// the reader's position), with rank 0's; throws ``TrainingError/ranksDiffer(step:reason:hint:)``
    /// on every rank when one differs.
    func checkRanksAgree(afterSteps stepsDone: Int, context: Data) throws {
        guard communicator.isDistributed else { return }
        let mine = [Self.checksum(of: model), Self.checksum(of: context)]
        var rankZeros = mine
        try timed { try rankZeros.withUnsafeMutableBytes { try communicator.broadcast($0, root: 0) } }
        var differs: [Int64] = [rankZeros[0] == mine[0] ? 0 : 1, rankZeros[1] == mine[1] ? 0 : 1]
        try timed { try differs.withUnsafeMutableBufferPointer { try communicator.maximum($0) } }
        guard differs != [0, 0] else { return }
        let first = try timed { try communicator.minimum(rankZeros == mine ? Int64.max : Int64(communicator.rank)) }
        if differs[1] != 0 {
            throw TrainingError.ranksDiffer(
                step: stepsDone,
                reason: "rank \(first) runs with other options or another reader position than rank 0",
                hint: "start every rank with the same command, on the same run folder and shards "
                    + "(a shared file system)")
        }
        throw TrainingError.ranksDiffer(
            step: stepsDone,
            reason: "rank \(first)'s weights differ from rank 0's (checksums of every weight and statistic)",
            hint: "the ranks must train identical weights: resume from the last checkpoint; if it happens again, "
                + "suspect a faulty machine or a bug, and report it")
    }

    /// The step's communication figures, nil on one process.
    func takeMetrics() -> DataParallelMetrics? {
        guard let averager else { return nil }
        let timings = averager.takeTimings()
        return DataParallelMetrics(ranks: communicator.size, gradientBytes: timings.reducedBytes,
                                   buckets: timings.buckets, allreduceSeconds: timings.allreduceSeconds,
                                   exposedSeconds: timings.exposedSeconds,
                                   backwardSeconds: timings.backwardSeconds,
                                   synchronizationSeconds: Double(synchronization.take()) / 1e9)
    }

    /// After rank 0's final or interrupted save: no rank leaves before the checkpoint is written.
    func waitForRankZero() throws {
        guard communicator.isDistributed else { return }
        try communicator.barrier()
    }

    private func timed<Value>(_ body: () throws -> Value) rethrows -> Value {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { synchronization.add(DispatchTime.now().uptimeNanoseconds - started) }
        return try body()
    }

    // MARK: Checksums

    /// A 64-bit FNV-1a-style hash of every float and counter of G, E and D in state_dict order:
    /// weights, spectral-norm vectors, batch-norm statistics. Any differing bit changes it.
    static func checksum(of model: GroupDNetModel) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let networks: [Module] = [model.generator, model.encoder, model.discriminator]
        for network in networks {
            for (_, entry) in network.namedState {
                switch entry {
                case let .float(tensor):
                    tensor.data.withUnsafeBufferPointer { values in
                        for value in values { hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3 }
                    }
                case let .counter(statistics):
                    hash = (hash ^ UInt64(bitPattern: statistics.batchesTracked)) &* 0x0000_0100_0000_01B3
                }
            }
        }
        return Int64(bitPattern: hash)
    }

    static func checksum(of data: Data) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int64(bitPattern: hash)
    }
}

/// Communication figures of one iteration of a data-parallel run (in `metrics.jsonl` as
/// `dataParallel`), from rank 0.
public struct DataParallelMetrics: Codable, Equatable, Sendable {
    public var ranks: Int
    /// Gradient bytes averaged over the ranks (G and E in the G step, D in the D step), and
    /// the buckets they went in.
    public var gradientBytes: Int
    public var buckets: Int
    /// The gradient thread's time in the all-reduces.
    public var allreduceSeconds: Double
    /// The part of it the main thread waited for after the backward passes (not overlapped).
    public var exposedSeconds: Double
    /// The backward passes' time, in which the all-reduces overlap.
    public var backwardSeconds: Double
    /// The main thread's own collectives: batch-norm sums, losses, the stop flag.
    public var synchronizationSeconds: Double

    /// The share of the all-reduces hidden behind the backward passes, 0…1.
    public var overlappedShare: Double {
        allreduceSeconds > 0 ? max(0, min(1, 1 - exposedSeconds / allreduceSeconds)) : 1
    }
}

/// The first error recorded from any thread.
private final class FailureLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    func record(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

/// A running total of nanoseconds.
private final class Stopwatch: @unchecked Sendable {
    private let lock = NSLock()
    private var total: UInt64 = 0

    func add(_ nanoseconds: UInt64) {
        lock.lock()
        total += nanoseconds
        lock.unlock()
    }

    func take() -> UInt64 {
        lock.lock()
        defer { total = 0; lock.unlock() }
        return total
    }
}
