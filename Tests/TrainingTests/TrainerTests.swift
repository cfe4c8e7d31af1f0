import Foundation
import GroupDNet
import Records
import Tensor
import Training
import XCTest
import _TestSupport

final class TrainerTests: TemporaryFolderTestCase {
    private var shards: URL { folder.appendingPathComponent("shards") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SyntheticShards.write(to: shards, count: 6)
    }

    private func train(
        _ options: TrainingOptions, resume: Bool = false, stopAfter: Int? = nil
    ) throws -> (TrainingOutcome, [StepMetrics]) {
        let trainer = try Trainer(options: options, resume: resume)
        var metrics: [StepMetrics] = []
        let outcome = try trainer.run(shouldStop: { stopAfter.map { metrics.count >= $0 } ?? false }) {
            metrics.append($0)
        }
        return (outcome, metrics)
    }

    func testAFewStepsGiveFiniteLossesMetricsOptionsAndACheckpoint() throws {
        let (outcome, metrics) = try train(tinyOptions(shards: shards, run: "run", maxSteps: 3))
        XCTAssertFalse(outcome.interrupted)
        XCTAssertEqual(outcome.step, 3)
        XCTAssertEqual(metrics.map(\.step), [1, 2, 3])
        XCTAssertEqual(metrics.map(\.epoch), [1, 1, 1], "6 records / batch 2 = 3 steps per epoch")
        for step in metrics {
            XCTAssertTrue(step.losses.isFinite, "\(step.losses)")
            XCTAssertGreaterThan(step.losses.discriminator.total, 0)
            XCTAssertGreaterThan(step.samplesPerSecond, 0)
            XCTAssertTrue((0...1).contains(step.dataWaitShare ?? -1), "\(String(describing: step.dataWaitShare))")
        }
        let run = folder.appendingPathComponent("run")
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(
            separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(try JSONDecoder().decode(StepMetrics.self, from: Data(lines[2].utf8)), metrics[2])
        let options =
            try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("options.json")))
            as? [String: Any]
        XCTAssertEqual(Set(options?["nonDefault"] as? [String] ?? []), ["batchSize", "maxSteps", "seed"])
        XCTAssertEqual(outcome.checkpoint.lastPathComponent, "step-00000003")
        let state = try TrainingCheckpoint.readState(outcome.checkpoint)
        XCTAssertEqual(state.step, 3)
        XCTAssertEqual(state.reader.position, 0, "3 batches of 2 consumed all 6 records")
        XCTAssertEqual(state.reader.epoch, 1)
    }

    func testScheduleIsConstantThenDecaysToZeroAndSaveCadenceCountsSteps() {
        var options = TrainingOptions(preset: .deepfashion, shardsDirectory: "s", runDirectory: "r")
        options.batchSize = 2
        let schedule = TrainingSchedule(trainRecords: 11, options: options)
        XCTAssertEqual(schedule.stepsPerEpoch, 5)
        XCTAssertEqual(schedule.lastStep, 500)
        XCTAssertEqual(schedule.learningRates(afterSteps: 0).generator, 1e-4)
        XCTAssertEqual(schedule.learningRates(afterSteps: 0).discriminator, 4e-4)
        XCTAssertEqual(
            schedule.learningRates(afterSteps: 60 * 5 + 4).generator, 1e-4,
            "epoch 61 still runs at the base rate (SPADE)")
        XCTAssertEqual(schedule.learningRates(afterSteps: 61 * 5).generator, 1e-4 * (1 - 1 / 40), accuracy: 1e-10)
        XCTAssertEqual(schedule.learningRates(afterSteps: 99 * 5).discriminator, 4e-4 / 40, accuracy: 1e-10)
        XCTAssertEqual(schedule.epoch(afterSteps: 499), 100)
        let cadence = SaveCadence(every: 3)
        XCTAssertEqual((1...7).filter(cadence.shouldSave(afterSteps:)), [3, 6])
    }

    func testResumeAfterAnInterruptTakesExactlyTheStepsOfAnUninterruptedRun() throws {
        let (_, uninterrupted) = try train(tinyOptions(shards: shards, run: "straight", maxSteps: 5))
        let (interrupted, first) = try train(tinyOptions(shards: shards, run: "split", maxSteps: 5), stopAfter: 2)
        XCTAssertTrue(interrupted.interrupted)
        XCTAssertEqual(interrupted.step, 2)
        let (finished, rest) = try train(tinyOptions(shards: shards, run: "split", maxSteps: 5), resume: true)
        XCTAssertEqual(finished.step, 5)
        XCTAssertEqual(first.map(\.losses), Array(uninterrupted.prefix(2)).map(\.losses))
        XCTAssertEqual(rest.map(\.step), [3, 4, 5])
        XCTAssertEqual(
            rest.map(\.losses), Array(uninterrupted.suffix(3)).map(\.losses),
            "the resumed steps must repeat the uninterrupted ones exactly")
        let straightG = try SafeTensors.read(
            from: folder.appendingPathComponent("straight/checkpoints/step-00000005/net_G.safetensors"))
        let splitG = try SafeTensors.read(
            from: folder.appendingPathComponent("split/checkpoints/step-00000005/net_G.safetensors"))
        XCTAssertEqual(straightG.entries, splitG.entries)
    }

    func testADamagedOrUnsupportedCheckpointThrowsNamingTheFile() throws {
        let (outcome, _) = try train(tinyOptions(shards: shards, run: "run", maxSteps: 1))
        let generatorFile = outcome.checkpoint.appendingPathComponent("net_G.safetensors")
        let bytes = try Data(contentsOf: generatorFile)
        try bytes.prefix(bytes.count / 2).write(to: generatorFile)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)) {
            error in
            XCTAssertTrue("\(error)".contains(generatorFile.path), "\(error)")
        }
        try bytes.write(to: generatorFile)
        let stateFile = outcome.checkpoint.appendingPathComponent("state.json")
        let text = try String(contentsOf: stateFile, encoding: .utf8)
        try text.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 99").write(
            to: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)) {
            error in
            XCTAssertEqual("\(error)", "\(stateFile.path): unsupported version 99; this smis reads version 1")
        }
        try text.write(to: stateFile, atomically: true, encoding: .utf8)
        let optimizerFile = outcome.checkpoint.appendingPathComponent("optimizer_D.safetensors")
        try SafeTensors.write(SafeTensors.File(entries: [:]), to: optimizerFile)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)) {
            error in
            XCTAssertTrue("\(error)".hasPrefix(optimizerFile.path + ": tensor discriminator_0."), "\(error)")
        }
    }

    func testResumeWithoutACheckpointAndAFreshStartOverAnOldRunAreRefused() throws {
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "none", maxSteps: 1), resume: true))
        { error in
            XCTAssertTrue("\(error)".contains("no checkpoint to resume from"), "\(error)")
        }
        _ = try train(tinyOptions(shards: shards, run: "run", maxSteps: 1))
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false))
        { error in
            XCTAssertTrue("\(error)".contains("pass --resume to continue it"), "\(error)")
        }
        let otherShards = folder.appendingPathComponent("other")
        try SyntheticShards.write(to: otherShards, count: 5)
        XCTAssertThrowsError(
            try Trainer(options: tinyOptions(shards: otherShards, run: "run", maxSteps: 2), resume: true)
        ) { error in
            XCTAssertTrue("\(error)".contains("state.json: the checkpoint was trained on other shards"), "\(error)")
        }
        var other = tinyOptions(shards: shards, run: "run", maxSteps: 2)
        other.preset = .deepfashion
        XCTAssertThrowsError(try Trainer(options: other, resume: true)) { error in
            XCTAssertTrue(
                "\(error)".hasSuffix(
                    "state.json: the checkpoint holds a tiny model, not the deepfashion model requested"), "\(error)")
        }
    }

    func testAClassCountOrImageSizeOtherThanThePresetsIsAClearError() throws {
        let fiveClasses = folder.appendingPathComponent("five")
        try SyntheticShards.write(to: fiveClasses, count: 2, classes: Array(SyntheticShards.classes.prefix(5)))
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: fiveClasses, run: "a"), resume: false)) { error in
            XCTAssertEqual(
                error as? TrainingError,
                .dataMismatch(
                    file: fiveClasses.appendingPathComponent("manifest.json").path,
                    reason: "the shards have 5 classes (hair, face, skin, top-clothes, bottom-clothes), the model has "
                        + "8",
                    hint: "prepare the data with the model's 8 classes, or choose a preset with 5"))
        }
        let small = folder.appendingPathComponent("small")
        try SyntheticShards.write(to: small, count: 2, size: 32)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: small, run: "b"), resume: false)) { error in
            XCTAssertTrue("\(error)".contains("the records are 32×32, the model expects 64×64"), "\(error)")
        }
    }

    func testAResumeKeepsTheRunsOptionsAndRefusesContradictoryOnes() throws {
        var saved = tinyOptions(shards: shards, run: "run", batchSize: 2, maxSteps: 4, seed: 3)
        saved.resizeToModel = true
        saved.constantEpochs = 5
        var request = TrainingRequest(shardsDirectory: "moved-shards", runDirectory: saved.runDirectory)
        let plain = try request.resumedOptions(saved: saved)
        var expected = saved
        expected.shardsDirectory = "moved-shards"
        XCTAssertEqual(plain, expected, "nothing given: the run's own options, shards from the command line")

        request.maxSteps = 9
        request.saveEvery = 2
        request.seed = 3
        request.preset = .tiny
        let extended = try request.resumedOptions(saved: saved)
        XCTAssertEqual(extended.maxSteps, 9)
        XCTAssertEqual(extended.saveEvery, 2)
        XCTAssertEqual(extended.seed, 3)

        request.batchSize = 1
        request.seed = 7
        request.constantEpochs = 5
        request.vggWeightsPath = "vgg.safetensors"
        XCTAssertThrowsError(try request.resumedOptions(saved: saved)) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "these differ: --batch-size 1 (the run has 2); --seed 7 (the run has 3); --vgg-weights (the run "
                        + "was started without the VGG loss)"),
                "\(error)")
        }
        var fresh = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        XCTAssertEqual(
            fresh.freshOptions(), TrainingOptions(preset: .deepfashion, shardsDirectory: "s", runDirectory: "r"))
        fresh.preset = .tiny
        XCTAssertEqual(fresh.freshOptions().constantEpochs, TrainingPreset.tiny.constantEpochs)
    }

    /// --precision is saved with the run (float32 as nil, so that older options.json files read
    /// the same) and a resume may not change it.
    func testThePrecisionIsSavedAndAResumeKeepsIt() throws {
        var request = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        XCTAssertNil(request.freshOptions().precision)
        request.precision = .float32
        XCTAssertNil(request.freshOptions().precision)
        request.precision = .bfloat16
        let saved = request.freshOptions()
        XCTAssertEqual(saved.precision, .bfloat16)
        let decoded = try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(saved))
        XCTAssertEqual(decoded.precision, .bfloat16)
        var resume = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        XCTAssertEqual(try resume.resumedOptions(saved: saved).precision, .bfloat16, "kept when not given")
        resume.precision = .float32
        XCTAssertThrowsError(try resume.resumedOptions(saved: saved)) { error in
            XCTAssertTrue("\(error)".contains("--precision float32 (the run has bf16)"), "\(error)")
        }
    }

    func testAStopRightAfterAScheduledSaveDoesNotWriteTheCheckpointAgain() throws {
        var options = tinyOptions(shards: shards, run: "run", maxSteps: 5)
        options.saveEvery = 2
        let trainer = try Trainer(options: options, resume: false)
        var inode: Int?
        let outcome = try trainer.run(shouldStop: {
            guard trainer.stepsDone == 2 else { return false }
            inode = try? Self.inode(
                of: TrainingCheckpoint.folder(inRun: URL(fileURLWithPath: options.runDirectory))
                    .appendingPathComponent("step-00000002/state.json"))
            return true
        })
        XCTAssertTrue(outcome.interrupted)
        XCTAssertEqual(outcome.checkpoint.lastPathComponent, "step-00000002")
        XCTAssertNotNil(inode)
        XCTAssertEqual(try Self.inode(of: outcome.checkpoint.appendingPathComponent("state.json")), inode, "rewritten")

        // Resumed and stopped at once: the checkpoint it came from is the one returned.
        let resumed = try Trainer(options: options, resume: true)
        let again = try resumed.run(shouldStop: { true })
        XCTAssertEqual(again.checkpoint.lastPathComponent, "step-00000002")
        XCTAssertEqual(
            try Self.inode(of: again.checkpoint.appendingPathComponent("state.json")), inode, "rewritten on resume")
    }

    private static func inode(of url: URL) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int) ?? -1
    }

    func testRunFoldersThatAreFilesOrHoldAnotherRunsLeftoversAreRefused() throws {
        let file = folder.appendingPathComponent("file")
        try Data().write(to: file)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "file"), resume: false)) { error in
            XCTAssertEqual("\(error)", "\(file.path): is a file, not a run folder\nHint: choose another --out")
        }
        let stopped = folder.appendingPathComponent("stopped")
        try FileManager.default.createDirectory(at: stopped, withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: stopped.appendingPathComponent("metrics.jsonl"))
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "stopped"), resume: false)) {
            error in
            XCTAssertTrue(
                "\(error)".contains("already holds metrics.jsonl of a run stopped before its first checkpoint"),
                "\(error)")
        }
        let orphaned = folder.appendingPathComponent("orphaned/checkpoints/step-00000004")
        try FileManager.default.createDirectory(at: orphaned, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "orphaned"), resume: false)) {
            error in
            XCTAssertTrue(
                "\(error)".contains("checkpoint folders (step-00000004) but no checkpoints/latest.json"), "\(error)")
        }
    }

    func testAbandonedPartialSavesAreRemovedAndPointersAndStatesAreChecked() throws {
        let (outcome, _) = try train(tinyOptions(shards: shards, run: "run", maxSteps: 1))
        let checkpoints = outcome.checkpoint.deletingLastPathComponent()
        // pid_max is at most 2^22 on Linux, so no process has this id.
        let abandoned = checkpoints.appendingPathComponent(".partial-step-00000002-99999999")
        try FileManager.default.createDirectory(at: abandoned, withIntermediateDirectories: true)
        _ = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned.path))

        let latest = checkpoints.appendingPathComponent("latest.json")
        try Data(#"{"checkpoint": "../../elsewhere/step-00000001"}"#.utf8).write(to: latest)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)) {
            error in
            XCTAssertTrue("\(error)".hasPrefix(latest.path + ": not a latest-checkpoint pointer"), "\(error)")
        }
        try Data(#"{"checkpoint": "step-00000001"}"#.utf8).write(to: latest)
        let stateFile = outcome.checkpoint.appendingPathComponent("state.json")
        let text = try String(contentsOf: stateFile, encoding: .utf8)
        XCTAssertTrue(text.contains(#""step" : 1,"#), text)
        try text.replacingOccurrences(of: #""step" : 1,"#, with: #""step" : -5,"#).write(
            to: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)) {
            error in
            XCTAssertTrue("\(error)".contains("impossible state: step -5"), "\(error)")
        }
    }

    /// The checkpoint records the thread count; a resume on another one is told, since the
    /// sums of the convolutions are then split differently (no longer bit for bit).
    func testAResumeOnAnotherThreadCountIsNoticed() throws {
        let (outcome, _) = try train(tinyOptions(shards: shards, run: "run", maxSteps: 1))
        let used = TensorThreads.count
        XCTAssertEqual(try TrainingCheckpoint.readState(outcome.checkpoint).tensorThreads, used)
        XCTAssertNil(
            try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)
                .resumedWithOtherThreadCount)
        TensorThreads.count = used + 1
        defer { TensorThreads.count = used }
        XCTAssertEqual(
            try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 2), resume: true)
                .resumedWithOtherThreadCount, used)
    }

    func testABatchLargerThanTheTrainingSetIsRefused() throws {
        XCTAssertThrowsError(try Trainer(options: tinyOptions(shards: shards, run: "run", batchSize: 7), resume: false))
        { error in
            XCTAssertTrue("\(error)".contains("--batch-size 7 is larger than the 6 training records"), "\(error)")
        }
    }
}
