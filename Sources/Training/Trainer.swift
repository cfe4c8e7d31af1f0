import AtomicFiles
import Dispatch
import Distributed
import Foundation
import GroupDNet
import Records
import Tensor

/// A GroupDNet training run: the model and its optimisers (``TrainingStep``), batches from
/// the shards (``ShardBatches``), the ``TrainingSchedule``, the ``SaveCadence``, metrics in
/// `metrics.jsonl`, TensorBoard events and `index.html` (`TrainingMonitor`) and checkpoints
/// (``TrainingCheckpoint``) in the run folder.
///
/// Reproducible: the weights come from `seed`, the data order from `seed`, and each sample's
/// flip and noise (ε for the G step, then for the D step) from (seed, the sample's stream
/// index) (``RunRandomness``), so a run resumed from a checkpoint takes exactly the steps the
/// uninterrupted run would.
///
/// Data-parallel: given a `communicator` of N ranks, each rank trains on its slice of every
/// global batch of N × `batchSize` samples, with batch norms synchronised and gradients
/// averaged over the ranks, so that the weights are those one process would train at the
/// global batch (up to the order of sums); rank 0 writes every file (see `DataParallel`).
public final class Trainer {
    public let options: TrainingOptions
    public let step: TrainingStep
    public let batches: ShardBatches
    public let schedule: TrainingSchedule
    public let cadence: SaveCadence
    /// The processes of the run (`SingleProcess` unless started by `mpirun` or `srun`).
    public let communicator: Communicator
    /// Steps done so far (the checkpoint's count after a resume).
    public private(set) var stepsDone: Int
    /// The checkpoint this run continued from, if any.
    public let resumedFrom: URL?
    /// The thread count the resumed checkpoint was trained with, when it differs from this
    /// run's `TensorThreads.count` (the steps then differ from an uninterrupted run's in the
    /// last bits); nil otherwise, or when the checkpoint did not record it.
    public let resumedWithOtherThreadCount: Int?
    /// The rank count the resumed run was trained with, when it differs from this run's (the
    /// same samples, with sums split otherwise: the last bits differ); nil otherwise.
    public let resumedWithOtherRankCount: Int?
    /// In a data-parallel run, the ranks compare their weights every this many steps (and when
    /// the run starts).
    public var consistencyCheckInterval = DataParallel.defaultConsistencyCheckInterval
    private let runDirectory: URL
    private let dataDigest: String
    private let parallel: DataParallel
    /// nil on ranks other than 0, which write nothing.
    private let metricsLog: MetricsLog?
    private let monitor: TrainingMonitor
    /// Where the fixed samples come from and what was left out, for the user.
    public var monitorNotes: [String] { monitor.notes }
    /// The TensorBoard event file this run appends to (nil on ranks other than 0).
    public var eventFile: URL? { monitor.eventFile }

    /// Builds the model and opens the data. With `resume`, loads the run folder's latest
    /// checkpoint and throws if there is none or it cannot be used; without, refuses a run
    /// folder that already holds a run (checkpoints or metrics), so that nothing is overwritten
    /// or mixed.
    ///
    /// With a `communicator` of several ranks (`options.ranks` of them), every rank reads the
    /// run folder, the checkpoint and the shards, which must be the same for all (a shared file
    /// system); only rank 0 writes. A failure on any rank is thrown on every rank (as
    /// `CollectiveFailure`), so that all of them end together.
    public init(options: TrainingOptions, resume: Bool, communicator: Communicator = SingleProcess()) throws {
        self.options = options
        self.communicator = communicator
        runDirectory = URL(fileURLWithPath: options.runDirectory)
        let run = runDirectory
        // Every rank reads and checks before rank 0 writes anything, so that no rank finds the
        // files rank 0 has just made (and refuses the folder as another run's).
        let opened = try communicator.collectively {
            try Self.open(options, resume: resume, run: run, communicator: communicator)
        }
        (step, batches, dataDigest) = (opened.step, opened.batches, opened.digest)
        // Only now that every rank got here: duplicating the communicator is itself a collective.
        let parallel = try DataParallel(communicator: communicator, model: opened.step.model, step: opened.step)
        self.parallel = parallel
        stepsDone = opened.saved?.step ?? 0
        resumedFrom = opened.checkpoint
        resumedWithOtherThreadCount = opened.saved?.tensorThreads.flatMap { $0 == TensorThreads.count ? nil : $0 }
        let savedRanks = opened.saved.map { $0.options.ranks ?? 1 }
        resumedWithOtherRankCount = savedRanks == (options.ranks ?? 1) ? nil : savedRanks
        schedule = TrainingSchedule(trainRecords: opened.batches.set.count, options: options)
        cadence = SaveCadence(every: options.saveEvery)
        let writes = parallel.writesFiles, stepsDone = self.stepsDone
        (monitor, metricsLog) = try communicator.collectively {
            if writes {
                try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
                TrainingCheckpoint.removeAbandonedFolders(in: TrainingCheckpoint.folder(inRun: run))
                // Files of a killed run's atomic writes (options.json, index.html, latest.json).
                for folder in [run, TrainingCheckpoint.folder(inRun: run)] {
                    AtomicFileWriter.removeAbandonedTemporaries(in: folder.path)
                }
                try options.writeEffectiveOptions(to: run.appendingPathComponent("options.json"))
            }
            let metricsFile = run.appendingPathComponent(MetricsLog.fileName)
            let monitor = try TrainingMonitor(options: options, model: opened.step.model,
                                              classes: opened.batches.set.manifest.classes, runDirectory: run,
                                              stepsDone: stepsDone, metricsFile: metricsFile,
                                              communicator: communicator)
            return (monitor, writes ? try MetricsLog(url: metricsFile) : nil)
        }
    }

    /// What every rank reads before anything is written.
    private struct Opened {
        var step: TrainingStep
        var batches: ShardBatches
        var digest: String
        var checkpoint: URL?
        var saved: CheckpointState?
    }

    private static func open(_ options: TrainingOptions, resume: Bool, run: URL,
                             communicator: Communicator) throws -> Opened {
        try checkRunFolder(run, resume: resume)
        try applyPrecision(options.precision ?? .float32)
        let checkpoint = try resume ? TrainingCheckpoint.resolve(run) : nil
        let saved = try checkpoint.map(TrainingCheckpoint.readState)
        if let checkpoint, let saved, saved.configuration != options.preset.configuration {
            throw TrainingError.checkpoint(file: checkpoint.appendingPathComponent(TrainingCheckpoint.stateFile).path,
                                           reason: "the checkpoint holds a \(saved.options.preset.rawValue) model, not the \(options.preset.rawValue) model requested")
        }
        var weights = RandomSource(seed: options.seed)
        let model = try GroupDNetModel(options.preset.configuration, lossWeights: options.lossWeights, using: &weights)
        model.perceptualNetwork = try options.vggWeightsPath.map { try VGG19Features(contentsOf: URL(fileURLWithPath: $0)) }
        let trainingStep = TrainingStep(model: model, options: options)
        let shardBatches = try ShardBatches(directory: URL(fileURLWithPath: options.shardsDirectory), configuration: model.configuration,
                                            batchSize: options.batchSize, seed: options.seed, state: saved?.reader,
                                            resize: options.resizeToModel, flip: options.flips,
                                            crop: options.preset.cropsTrainingSamples,
                                            rank: communicator.rank, ranks: communicator.size)
        let digest = shardBatches.set.manifest.contentDigest.map { String(format: "%02x", $0) }.joined()
        if let checkpoint, let saved {
            guard saved.dataDigest == digest else {
                throw TrainingError.checkpoint(file: checkpoint.appendingPathComponent(TrainingCheckpoint.stateFile).path,
                                               reason: "the checkpoint was trained on other shards (data digest \(saved.dataDigest.prefix(12))…, these are \(digest.prefix(12))…)")
            }
            _ = try TrainingCheckpoint.load(checkpoint, into: trainingStep)
        }
        return Opened(step: trainingStep, batches: shardBatches, digest: digest, checkpoint: checkpoint, saved: saved)
    }

    /// Trains until ``TrainingSchedule/lastStep`` or until `shouldStop` (checked between
    /// steps, on every rank: any rank's stop stops all after the same step) returns true;
    /// either way the last state is saved. `progress` gets every step's metrics.
    public func run(shouldStop: () -> Bool = { false }, progress: (StepMetrics) -> Void = { _ in }) throws -> TrainingOutcome {
        // The state on disk: writing the same step again would only open a window in which
        // `latest.json` names a folder being replaced.
        var savedStep = resumedFrom == nil ? nil : stepsDone
        var savedFolder = resumedFrom
        try checkRanksAgree()
        while stepsDone < schedule.lastStep {
            if try parallel.anyRankStops(shouldStop()) {
                let folder = savedStep == stepsDone ? savedFolder! : try saveCheckpoint()
                try parallel.waitForRankZero()
                return TrainingOutcome(interrupted: true, step: stepsDone, checkpoint: folder)
            }
            var metrics = try trainOneStep()
            _ = FaultPoint.step.reached()  // a test's kill -9 after this step (inert otherwise)
            metrics.validation = try monitor.validate(afterSteps: stepsDone)
            try metricsLog?.append(metrics)
            try monitor.record(metrics)
            progress(metrics)
            if parallel.checksAgreement(afterSteps: stepsDone, interval: consistencyCheckInterval) {
                try checkRanksAgree()
            }
            if cadence.shouldSave(afterSteps: stepsDone) {
                savedFolder = try saveCheckpointAndPage()
                savedStep = stepsDone
            }
        }
        let folder = savedStep == stepsDone ? savedFolder! : try saveCheckpointAndPage()
        try parallel.waitForRankZero()
        return TrainingOutcome(interrupted: false, step: stepsDone, checkpoint: folder)
    }

    /// One iteration on the next batch: rates from the schedule, each sample's ε from its
    /// stream index, the G step then the D step; the step's metrics, before validation.
    private func trainOneStep() throws -> StepMetrics {
        let started = DispatchTime.now().uptimeNanoseconds
        let rates = schedule.learningRates(afterSteps: stepsDone)
        step.setLearningRates(generator: rates.generator, discriminator: rates.discriminator)
        let batch = try batches.next()
        let waited = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let noise = StepNoise(seed: options.seed, streamIndices: batch.streamIndices, configuration: step.model.configuration)
        let rankLosses = try step.run(batch.inputs, noise: noise)
        try parallel.throwIfFailed()
        let losses = try parallel.globalLosses(rankLosses)
        guard losses.isFinite else { throw TrainingError.diverged(step: stepsDone + 1, losses: "\(losses)") }
        stepsDone += 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return StepMetrics(step: stepsDone, lastStep: schedule.lastStep, epoch: schedule.epoch(afterSteps: stepsDone - 1),
                           generatorLearningRate: rates.generator, discriminatorLearningRate: rates.discriminator,
                           losses: losses, seconds: seconds,
                           samplesPerSecond: Double(options.globalBatchSize) / seconds,
                           skippedRecords: batches.skipped.count, dataWaitShare: waited / seconds,
                           dataParallel: parallel.takeMetrics())
    }

    /// Compares the ranks' weights, options and reader positions (nothing on one process).
    private func checkRanksAgree() throws {
        guard communicator.isDistributed else { return }
        // Sorted keys: JSONEncoder's order otherwise follows a hash seeded differently in every process.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var context = try encoder.encode(options)
        context.append(contentsOf: Array("\(batches.readerState) \(stepsDone)".utf8))
        try parallel.checkRanksAgree(afterSteps: stepsDone, context: context)
    }

    /// The options the run in `runDirectory` was started with, from its latest checkpoint
    /// (what `smis train --resume` continues with).
    public static func savedOptions(inRun runDirectory: String) throws -> TrainingOptions {
        let run = URL(fileURLWithPath: runDirectory)
        try checkRunFolder(run, resume: true)
        return try TrainingCheckpoint.readState(TrainingCheckpoint.resolve(run)).options
    }

    /// Refuses a run folder that is a file, one without a checkpoint to resume, or, for a new
    /// run, one already holding another run's checkpoints or metrics.
    private static func checkRunFolder(_ run: URL, resume: Bool) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: run.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw TrainingError.runFolder(path: run.path, reason: "is a file, not a run folder", hint: "choose another --out")
        }
        let checkpoints = TrainingCheckpoint.folder(inRun: run)
        let hasCheckpoint = manager.fileExists(atPath: checkpoints.appendingPathComponent(TrainingCheckpoint.latestFile).path)
        if resume && !hasCheckpoint {
            throw TrainingError.runFolder(path: run.path, reason: "no checkpoint to resume from (checkpoints/latest.json is missing)",
                                          hint: "start the run without --resume")
        }
        guard !resume else { return }
        if hasCheckpoint {
            throw TrainingError.runFolder(path: run.path, reason: "already holds a run's checkpoints",
                                          hint: "pass --resume to continue it, or choose another --out")
        }
        let steps = ((try? manager.contentsOfDirectory(atPath: checkpoints.path)) ?? []).filter { $0.hasPrefix("step-") }
        let metrics = run.appendingPathComponent(MetricsLog.fileName)
        if !steps.isEmpty || manager.fileExists(atPath: metrics.path) {
            let what = steps.isEmpty ? "\(MetricsLog.fileName) of a run stopped before its first checkpoint"
                : "checkpoint folders (\(steps.sorted().joined(separator: ", "))) but no checkpoints/latest.json"
            throw TrainingError.runFolder(path: run.path, reason: "already holds \(what)",
                                          hint: "choose another --out, or delete the folder to start over in it")
        }
    }

    /// Saves the current state as a checkpoint of the run; returns its folder. Ranks other than
    /// 0 write nothing and return the folder rank 0 writes.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        guard parallel.writesFiles else {
            let name = TrainingCheckpoint.folderName(step: stepsDone)
            return TrainingCheckpoint.folder(inRun: runDirectory).appendingPathComponent(name)
        }
        let state = CheckpointState(step: stepsDone, epoch: schedule.epoch(afterSteps: stepsDone), reader: batches.readerState,
                                    dataDigest: dataDigest, classes: batches.set.manifest.classes,
                                    configuration: step.model.configuration, options: options,
                                    tensorThreads: TensorThreads.count)
        return try TrainingCheckpoint.save(step, state: state, runDirectory: runDirectory)
    }

    /// A scheduled or final checkpoint, then the page (an interrupted run saves without it).
    private func saveCheckpointAndPage() throws -> URL {
        let folder = try saveCheckpoint()
        try monitor.checkpointSaved(step: stepsDone, lastStep: schedule.lastStep,
                                    epoch: schedule.epoch(afterSteps: max(0, stepsDone - 1)))
        return folder
    }
}

/// How a run ended.
public struct TrainingOutcome: Equatable, Sendable {
    /// True when `shouldStop` ended it before the last step.
    public var interrupted: Bool
    public var step: Int
    /// The checkpoint folder holding the final state.
    public var checkpoint: URL
}
