import Distributed
import Foundation
import GroupDNet
import Records
import Training
import XCTest
import _TestSupport

/// Data-parallel semantics that need no MPI: each rank's slice of the global batch, the global
/// batch kept on a resume on another rank count, and the ranks' weight comparison (with a
/// communicator that plays the other rank).
final class DataParallelTests: TemporaryFolderTestCase {
    private var shards: URL { folder.appendingPathComponent("shards") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SyntheticShards.write(to: shards, count: 7)
        try SyntheticShards.damage(record: 1, ofShard: "train-00000", in: shards)
    }

    /// The ranks' slices of every step are, in rank order, exactly one process's batch at the
    /// global size, also across the skipped record and the epoch's end; every rank's reader
    /// stands where the one process's does.
    func testTheRanksSlicesAreOneProcesssBatchAcrossSkipsAndEpochs() throws {
        for (ranks, batch) in [(2, 1), (2, 2), (3, 1)] {
            func open(rank: Int, of count: Int, batch: Int) throws -> ShardBatches {
                try ShardBatches(directory: shards, configuration: .tiny, batchSize: batch, seed: 11, flip: true,
                                 rank: rank, ranks: count)
            }
            let single = try open(rank: 0, of: 1, batch: ranks * batch)
            let slices = try (0..<ranks).map { try open(rank: $0, of: ranks, batch: batch) }
            for step in 1...5 {
                let whole = try single.next()
                let parts = try slices.map { try $0.next() }
                let context = "\(ranks) ranks × \(batch), step \(step)"
                XCTAssertEqual(parts.flatMap(\.streamIndices), whole.streamIndices, context)
                XCTAssertEqual(parts.flatMap { $0.inputs.image.data }, whole.inputs.image.data, "photos, \(context)")
                XCTAssertEqual(parts.flatMap { $0.inputs.seg.data }, whole.inputs.seg.data, context)
                for slice in slices {
                    XCTAssertEqual(slice.readerState.cursor(count: 7), single.readerState.cursor(count: 7), context)
                    XCTAssertEqual(slice.skipped.count, single.skipped.count, context)
                }
            }
            XCTAssertGreaterThanOrEqual(single.skipped.count, 1, "five global batches read the whole first epoch")
        }
    }

    func testAResumeOnAnotherRankCountKeepsTheGlobalBatchOrIsRefused() throws {
        var saved = tinyOptions(shards: shards, run: "run", batchSize: 2)
        saved.ranks = 2
        saved.kullbackLeiblerDeviceBatch = nil   // a run from before the setting: G was the batch
        XCTAssertEqual(saved.globalBatchSize, 4)
        var request = TrainingRequest(shardsDirectory: shards.path, runDirectory: saved.runDirectory)
        for (ranks, perRank) in [(4, 1), (1, 4), (2, 2)] {
            request.ranks = ranks
            let options = try request.resumedOptions(saved: saved)
            XCTAssertEqual(options.batchSize, perRank, "\(ranks) ranks")
            XCTAssertEqual(options.ranks ?? 1, ranks)
            XCTAssertEqual(options.globalBatchSize, 4)
            XCTAssertEqual(options.lossWeights.kullbackLeiblerDeviceBatch, 4, "the KL scale stays the run's")
            XCTAssertEqual(TrainingSchedule(trainRecords: 12, options: options).stepsPerEpoch, 3)
        }
        request.ranks = 4
        request.batchSize = 1
        XCTAssertEqual(try request.resumedOptions(saved: saved).batchSize, 1, "the per-rank batch, given again")
        request.batchSize = 2
        XCTAssertThrowsError(try request.resumedOptions(saved: saved)) { error in
            let conflict = "--batch-size 2 (the run's global batch of 4 is 1 per rank on 4 ranks)"
            XCTAssertTrue("\(error)".contains(conflict), "\(error)")
        }
        request.batchSize = nil
        request.ranks = 3
        XCTAssertThrowsError(try request.resumedOptions(saved: saved)) { error in
            XCTAssertEqual("\(error)", "\(saved.runDirectory): --resume on 3 ranks cannot keep the run's global "
                + "batch of 4 (2 ranks × batch 2): 4 samples do not divide evenly among 3 ranks\n"
                + "Hint: resume on 1, 2, 4 ranks, or start a new run with another --out")
        }
        var fresh = TrainingRequest(shardsDirectory: shards.path, runDirectory: "r")
        fresh.ranks = 2
        fresh.batchSize = 3
        XCTAssertEqual(fresh.freshOptions().globalBatchSize, 6)
        fresh.ranks = 1
        XCTAssertNil(fresh.freshOptions().ranks, "one process saves no rank count: its options.json is as before")
    }

    /// A rank whose weights stop matching rank 0's is an error naming the step, on every rank;
    /// a rank started with other options is one before the first step.
    func testRanksThatDivergeAreAnErrorNamingTheStep() throws {
        var options = tinyOptions(shards: shards, run: "run", batchSize: 1, maxSteps: 6)
        options.ranks = 2
        options.sampleCount = 0
        let diverging = OtherRankMirror(corruptBroadcast: 2, checksum: 0)
        let trainer = try Trainer(options: options, resume: false, communicator: diverging)
        trainer.consistencyCheckInterval = 2
        XCTAssertThrowsError(try trainer.run()) { error in
            guard case let .ranksDiffer(step, reason, _)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 2)
            XCTAssertEqual(reason, "rank 1's weights differ from rank 0's (checksums of every weight and statistic)")
            XCTAssertTrue((error as? TrainingError)?.isSameOnEveryRank ?? false)
        }
        options.runDirectory = folder.appendingPathComponent("other").path
        let otherOptions = try Trainer(options: options, resume: false,
                                       communicator: OtherRankMirror(corruptBroadcast: 1, checksum: 1))
        XCTAssertThrowsError(try otherOptions.run()) { error in
            let reason = "after step 0: rank 1 runs with other options or another reader position"
            XCTAssertTrue("\(error)".hasPrefix(reason), "\(error)")
        }
    }
}

/// Rank 1 of 2 whose peer, rank 0, holds exactly its values (sums double them), until the
/// `corruptBroadcast`-th broadcast, where rank 0's checksum number `checksum` (0: weights,
/// 1: options and reader) arrives different.
private final class OtherRankMirror: Communicator, @unchecked Sendable {
    private let corruptBroadcast: Int
    private let checksum: Int
    private var broadcasts = 0

    init(corruptBroadcast: Int, checksum: Int) {
        self.corruptBroadcast = corruptBroadcast
        self.checksum = checksum
    }

    var rank: Int { 1 }
    var size: Int { 2 }
    func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        for index in values.indices { values[index] *= 2 }
    }
    func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        for index in values.indices { values[index] *= 2 }
    }
    func maximum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    func minimum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        broadcasts += 1
        if broadcasts == corruptBroadcast { bytes[checksum * 8] ^= 0xFF }
    }
    func barrier() {}
    func duplicate() -> Communicator { self }
}
