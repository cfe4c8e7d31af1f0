import Foundation
import ImageIO
import Training
import XCTest
import _TestSupport

/// TensorBoard's own reader (the `tensorboard` package's EventAccumulator) reads our event
/// files: every scalar at every step with the value `metrics.jsonl` holds, the sample images
/// decoding at their size, and a resumed run's repeated steps once. Skipped when Python or the
/// package is missing (`pip install tensorboard`; scripts/test installs it).
final class TensorBoardInteropTests: TemporaryFolderTestCase {
    private static let script = """
        import base64, json, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0})
        accumulator.Reload()
        tags = accumulator.Tags()
        print(json.dumps({
            "scalars": {t: [[e.step, e.value] for e in accumulator.Scalars(t)] for t in tags["scalars"]},
            "images": {t: [[e.step, e.width, e.height, base64.b64encode(e.encoded_image_string).decode()]
                           for e in accumulator.Images(t)] for t in tags["images"]},
        }))
        """

    private static let trainingScalars: [(tag: String, value: (StepMetrics) -> Double?)] = [
        ("loss/G/total", { Double($0.losses.generator.total) }),
        ("loss/G/adversarial", { Double($0.losses.generator.adversarial) }),
        ("loss/G/feature_matching", { Double($0.losses.generator.featureMatching) }),
        ("loss/G/kld", { Double($0.losses.generator.kullbackLeibler) }),
        ("loss/D/total", { Double($0.losses.discriminator.total) }),
        ("loss/D/fake", { Double($0.losses.discriminator.fake) }),
        ("loss/D/real", { Double($0.losses.discriminator.real) }),
        ("learning_rate/G", { Double($0.generatorLearningRate) }),
        ("learning_rate/D", { Double($0.discriminatorLearningRate) }),
        ("speed/samples_per_second", { $0.samplesPerSecond }),
        ("speed/data_wait_share", { $0.dataWaitShare }),
        ("val/G/total", { $0.validation.map { Double($0.losses.generator.total) } }),
        ("val/G/adversarial", { $0.validation.map { Double($0.losses.generator.adversarial) } }),
        ("val/G/feature_matching", { $0.validation.map { Double($0.losses.generator.featureMatching) } }),
        ("val/G/kld", { $0.validation.map { Double($0.losses.generator.kullbackLeibler) } }),
        ("val/D/total", { $0.validation.map { Double($0.losses.discriminator.total) } }),
        ("val/D/fake", { $0.validation.map { Double($0.losses.discriminator.fake) } }),
        ("val/D/real", { $0.validation.map { Double($0.losses.discriminator.real) } }),
    ]

    func testTensorBoardReadsOurScalarsAndImagesAndDropsTheStepsAResumeRepeats() throws {
        let shards = folder.appendingPathComponent("shards"), run = folder.appendingPathComponent("run")
        try SyntheticShards.write(to: shards, count: 6)
        var options = tinyOptions(shards: shards, run: "run", maxSteps: 3)
        options.sampleEvery = 2
        options.sampleCount = 2
        options.validationEvery = 2
        options.saveEvery = 2
        _ = try Trainer(options: options, resume: false).run()
        // As if the process had died after logging step 3 but before its checkpoint.
        let latest = run.appendingPathComponent("checkpoints/latest.json")
        try Data(#"{"checkpoint": "step-00000002"}"#.utf8).write(to: latest)
        options.maxSteps = 4
        _ = try Trainer(options: options, resume: true).run()

        let output = try Python.run(
            Self.script, arguments: [run.path], requiring: "tensorboard.backend.event_processing.event_accumulator",
            package: "tensorboard")
        let read = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: [[Any]]]])
        // metrics.jsonl holds step 3 twice; the later line is the one that counts.
        var byStep: [Int: StepMetrics] = [:]
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for line in lines.split(separator: "\n") {
            let metrics = try JSONDecoder().decode(StepMetrics.self, from: Data(line.utf8))
            byStep[metrics.step] = metrics
        }
        XCTAssertEqual(byStep.keys.sorted(), [1, 2, 3, 4])
        let scalars = try XCTUnwrap(read["scalars"])
        XCTAssertEqual(Set(scalars.keys), Set(Self.trainingScalars.map(\.tag)))
        for (tag, value) in Self.trainingScalars {
            let expected = byStep.keys.sorted().compactMap { step in value(byStep[step]!).map { (step, Float($0)) } }
            let events = scalars[tag] ?? []
            XCTAssertEqual(events.map { $0[0] as? Int }, expected.map(\.0), "\(tag): each step once")
            XCTAssertEqual(events.map { ($0[1] as? Double).map(Float.init) }, expected.map(\.1), tag)
        }
        XCTAssertEqual(scalars["val/G/total"]?.count, 2, "validation at steps 2 and 4")

        let images = try XCTUnwrap(read["images"])
        XCTAssertEqual(images.keys.sorted(), ["samples/0", "samples/1"])
        for (tag, events) in images {
            XCTAssertEqual(events.map { $0[0] as? Int }, [2, 4], tag)
            for event in events {
                XCTAssertEqual([event[1] as? Int, event[2] as? Int], [3 * 64, 64], "label | generated | photo")
                let png = folder.appendingPathComponent("image.png")
                try XCTUnwrap(Data(base64Encoded: event[3] as? String ?? "")).write(to: png)
                let image = try Image(contentsOfFile: png.path)
                XCTAssertEqual([image.width, image.height], [3 * 64, 64], tag)
            }
        }
    }
}
