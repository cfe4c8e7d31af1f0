import Foundation
import GroupDNet
import ImageIO
import Training
import XCTest
import _TestSupport

/// What a run shows while it trains (TensorBoard events, index.html, validation losses) must
/// never change what it learns: the same weights with or without it, and an exact resume.
final class MonitorTests: TemporaryFolderTestCase {
    private var shards: URL { folder.appendingPathComponent("shards") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SyntheticShards.write(to: shards, count: 6, validation: 3)
    }

    private func run(_ options: TrainingOptions, resume: Bool = false,
                     stopAfter: Int? = nil) throws -> (TrainingOutcome, [StepMetrics]) {
        let trainer = try Trainer(options: options, resume: resume)
        var metrics: [StepMetrics] = []
        let stop = { stopAfter.map { metrics.count >= $0 } ?? false }
        let outcome = try trainer.run(shouldStop: stop) { metrics.append($0) }
        return (outcome, metrics)
    }

    /// Options that exercise every part of the monitor at every step or two.
    private func watched(_ run: String, maxSteps: Int) -> TrainingOptions {
        var options = tinyOptions(shards: shards, run: run, maxSteps: maxSteps)
        options.sampleEvery = 1
        options.sampleCount = 2
        options.validationEvery = 2
        options.validationRecords = 2
        options.saveEvery = 2
        return options
    }

    private func checkpointFiles(_ run: String, step: Int) throws -> [String: Data] {
        let checkpoint = folder.appendingPathComponent(run)
            .appendingPathComponent(String(format: "checkpoints/step-%08d", step))
        var files: [String: Data] = [:]
        for name in ["net_G", "net_E", "net_D", "optimizer_GE", "optimizer_D"] {
            files[name] = try Data(contentsOf: checkpoint.appendingPathComponent("\(name).safetensors"))
        }
        return files
    }

    func testSamplesAndValidationDoNotChangeTheWeights() throws {
        var plain = tinyOptions(shards: shards, run: "plain", maxSteps: 4)
        plain.sampleCount = 0
        let (_, plainMetrics) = try run(plain)
        let (_, watchedMetrics) = try run(watched("watched", maxSteps: 4))
        XCTAssertEqual(plainMetrics.map(\.losses), watchedMetrics.map(\.losses))
        XCTAssertEqual(try checkpointFiles("plain", step: 4), try checkpointFiles("watched", step: 4),
                       "weights and optimiser moments are byte for byte the same")
        XCTAssertEqual(watchedMetrics.map { $0.validation != nil }, [false, true, false, true])
        XCTAssertEqual(plainMetrics.compactMap(\.validation).count, 0)
        let validation = try XCTUnwrap(watchedMetrics[1].validation)
        XCTAssertEqual(validation.split, "validation")
        XCTAssertEqual(validation.records, 2)
        XCTAssertTrue(validation.losses.isFinite, "\(validation.losses)")
        XCTAssertNotEqual(validation.losses, watchedMetrics[3].validation?.losses, "the weights changed in between")
        for metrics in watchedMetrics {
            let share = try XCTUnwrap(metrics.dataWaitShare)
            XCTAssertTrue((0...1).contains(share), "\(share)")
        }
        // metrics.jsonl holds the validation losses in the line of their step.
        let lines = try String(contentsOf: folder.appendingPathComponent("watched/metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(StepMetrics.self, from: Data($0.utf8)) }
        XCTAssertEqual(lines, watchedMetrics)
    }

    func testAResumedWatchedRunRepeatsTheUninterruptedOneExactly() throws {
        let (_, straight) = try run(watched("straight", maxSteps: 5))
        let (stopped, first) = try run(watched("split", maxSteps: 5), stopAfter: 3)
        XCTAssertEqual(stopped.step, 3)
        let (_, rest) = try run(watched("split", maxSteps: 5), resume: true)
        XCTAssertEqual((first + rest).map(\.losses), straight.map(\.losses))
        XCTAssertEqual((first + rest).map(\.validation?.losses), straight.map(\.validation?.losses),
                       "validation noise is fixed: the same weights give the same losses")
        XCTAssertEqual(try checkpointFiles("split", step: 5), try checkpointFiles("straight", step: 5))
        let events = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("split").path)
            .filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        XCTAssertEqual(events.count, 2, "one event file per process: \(events)")
    }

    func testThePageShowsTheLatestSamplesWithResamplesAndCurves() throws {
        let (outcome, _) = try run(watched("run", maxSteps: 3))
        XCTAssertEqual(outcome.step, 3)
        let run = folder.appendingPathComponent("run")
        let page = try String(contentsOf: run.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("Step 3 of 3"), page)
        XCTAssertTrue(page.contains("2 label maps of the validation split"), page)
        XCTAssertGreaterThanOrEqual(page.components(separatedBy: "<polyline").count - 1, 5, "curves")
        XCTAssertTrue(page.contains("validation total"), "the validation curve is drawn")
        let sources = page.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertTrue(sources.allSatisfy { $0.hasPrefix("samples/step-00000003/") }, "\(sources)")
        // Per sample: label, generated, photo and one resample per class but background.
        XCTAssertGreaterThan(sources.count, 2 * 3, "\(sources)")
        XCTAssertTrue(page.contains("new top-clothes"), page)
        XCTAssertFalse(page.contains("new background"), page)
        for source in sources {
            let image = try Image(contentsOfFile: run.appendingPathComponent(source).path)
            XCTAssertEqual([image.width, image.height], [64, 64], source)
        }
        let folders = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("samples").path)
        XCTAssertEqual(folders, ["step-00000003"], "the folder of the step-2 page is gone")
    }

    func testWithoutAValidationSplitSamplesComeFromTrainingAndValidationIsRefused() throws {
        let trainOnly = folder.appendingPathComponent("train-only")
        try SyntheticShards.write(to: trainOnly, count: 4, validation: 0)
        var options = tinyOptions(shards: trainOnly, run: "fallback", maxSteps: 1)
        options.sampleCount = 2
        let trainer = try Trainer(options: options, resume: false)
        let notes = trainer.monitorNotes
        XCTAssertTrue(notes.contains { $0.contains("no validation split") && $0.contains("training records") },
                      "\(notes)")
        _ = try trainer.run()
        let page = try String(contentsOf: folder.appendingPathComponent("fallback/index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("the shards have no validation split"), page)

        options.runDirectory = folder.appendingPathComponent("validation").path
        options.validationEvery = 1
        XCTAssertThrowsError(try Trainer(options: options, resume: false)) { error in
            XCTAssertEqual("\(error)", trainOnly.appendingPathComponent("manifest.json").path
                + ": --val-every needs validation records, and the shards have none\n"
                + "Hint: shard a prepared folder with a validation partition, or leave --val-every out")
        }
    }

    /// Options saved before the monitor's settings existed still decode; a resume keeps the
    /// saved ones and may change them, since they change nothing learnt.
    func testMonitorOptionsAreSavedOptionalAndChangeableOnResume() throws {
        let old = TrainingOptions(preset: .tiny, shardsDirectory: "s", runDirectory: "r")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(old)) as? [String: Any])
        XCTAssertNil(object["sampleEvery"])
        object["sampleEvery"] = nil
        let data = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(TrainingOptions.self, from: data)
        XCTAssertEqual(decoded, old)
        let effective = [decoded.effectiveSampleEvery, decoded.effectiveSampleCount,
                         decoded.effectiveValidationRecords]
        XCTAssertEqual(effective, [100, 4, 32])
        XCTAssertNil(decoded.effectiveValidationEvery)

        var request = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        request.preset = .tiny
        request.validationEvery = 50
        request.sampleCount = 0
        let fresh = request.freshOptions()
        XCTAssertEqual(fresh.nonDefaultNames, ["sampleCount", "validationEvery"])
        var again = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        XCTAssertEqual(try again.resumedOptions(saved: fresh).validationEvery, 50)
        again.validationEvery = 0
        again.sampleEvery = 7
        let changed = try again.resumedOptions(saved: fresh)
        XCTAssertNil(changed.effectiveValidationEvery, "--val-every 0 turns validation off on a resume")
        XCTAssertEqual(changed.sampleEvery, 7)
        XCTAssertEqual(changed.sampleCount, 0)
    }
}
