import Foundation
import GroupDNet
import Records
import Tensor
import Training
import XCTest
import _TestSupport

/// The VGG perceptual term in training: it enters the G loss with weight 10, is reported, and
/// its weights stay frozen and out of checkpoints. A VGG19 with widths divided by 32 stands in
/// for the real one (same topology and names), written to a file and loaded back.
final class PerceptualLossTests: TemporaryFolderTestCase {
    private let divisor = 32

    /// A VGG19 of He-normal weights (so its features do not vanish), saved and loaded back.
    private func tinyVGG() throws -> VGG19Features {
        let network = try VGG19Features(channelDivisor: divisor)
        var random = RandomSource(seed: 21)
        for (_, entry) in network.namedState {
            guard case let .float(tensor) = entry else { continue }
            let fanIn = tensor.rank == 4 ? tensor.shape[1] * 9 : 100
            tensor.data = random.normals(tensor.count).map { $0 * (2 / Float(fanIn)).squareRoot() }
        }
        let file = folder.appendingPathComponent("vgg.safetensors")
        try network.saveCheckpoint(to: file)
        return try VGG19Features(contentsOf: file, channelDivisor: divisor)
    }

    func testGeneratorLossGainsTenTimesTheVGGLossWithTheSameNoise() throws {
        let vgg = try tinyVGG()
        let batch = try SyntheticShards.fixedBatch()
        let options = TrainingOptions(preset: .tiny, shardsDirectory: "", runDirectory: "")
        XCTAssertEqual(options.lossWeights.vgg, 10)

        // The same weights and noise without the term: its loss, and the VGG loss of its fake.
        var weights = RandomSource(seed: 3)
        let plain = try GroupDNetModel(.tiny, lossWeights: options.lossWeights, using: &weights)
        var noise = RandomSource(seed: 11)
        let plainLosses = try plain.generatorLosses(batch, epsilon: plain.sampleEpsilon(batch: 2, using: &noise))
        XCTAssertNil(plainLosses.vgg)
        let vggLoss = try vgg.vggLoss(fake: plainLosses.fake.detached(), real: batch.image).scalarValue
        XCTAssertGreaterThan(vggLoss, 0.01, "a term too small to see would prove nothing")

        weights = RandomSource(seed: 3)
        let model = try GroupDNetModel(.tiny, lossWeights: options.lossWeights, using: &weights)
        model.perceptualNetwork = vgg
        let vggBefore = vgg.namedState.map(\.entry.shape)
        let step = TrainingStep(model: model, options: options)
        noise = RandomSource(seed: 11)
        let losses = try step.run(batch, noise: StepNoise(model: model, batch: batch.seg.shape[0], drawingFrom: &noise))

        let reported = try XCTUnwrap(losses.generator.vgg)
        XCTAssertEqual(reported, 10 * vggLoss, accuracy: 1e-5 * max(1, reported))
        XCTAssertEqual(losses.generator.adversarial, plainLosses.adversarial, accuracy: 1e-6)
        let expectedTotal = plainLosses.total.scalarValue + 10 * vggLoss
        XCTAssertEqual(losses.generator.total, expectedTotal, accuracy: 1e-5 * max(1, abs(expectedTotal)))
        XCTAssertTrue(losses.isFinite)
        // The VGG weights are constants: no gradient, no optimiser state, same shapes.
        XCTAssertEqual(vgg.namedState.map(\.entry.shape), vggBefore)
        for (key, entry) in vgg.namedState {
            if case let .float(tensor) = entry { XCTAssertNil(tensor.grad, key) }
        }
        XCTAssertEqual(step.generatorOptimizer.states.count, model.generatorAndEncoderParameters.count)
        XCTAssertFalse(step.generatorOptimizer.states.keys.contains { $0.hasPrefix("features.") })
    }

    func testTrainerReportsTheTermAndKeepsVGGOutOfCheckpoints() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 4)
        let trainer = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false)
        trainer.step.model.perceptualNetwork = try tinyVGG()
        var metrics: [StepMetrics] = []
        let outcome = try trainer.run(progress: { metrics.append($0) })

        XCTAssertNotNil(metrics.first?.losses.generator.vgg)
        let line = try String(contentsOf: folder.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(line.contains("\"vgg\":"), line)
        let files = try FileManager.default.contentsOfDirectory(atPath: outcome.checkpoint.path).sorted()
        XCTAssertEqual(
            files,
            [
                "net_D.safetensors", "net_E.safetensors", "net_G.safetensors",
                "optimizer_D.safetensors", "optimizer_GE.safetensors", "state.json"
            ])
        let model = trainer.step.model
        for (file, network) in zip(
            ["net_G", "net_E", "net_D"], [model.generator, model.encoder, model.discriminator] as [Module])
        {
            let keys = try SafeTensors.read(from: outcome.checkpoint.appendingPathComponent("\(file).safetensors"))
                .entries.keys
            XCTAssertEqual(Set(keys), Set(network.namedState.map(\.key)), file)
        }
        for file in ["optimizer_D", "optimizer_GE"] {
            let keys = try SafeTensors.read(from: outcome.checkpoint.appendingPathComponent("\(file).safetensors"))
                .entries.keys
            XCTAssertFalse(keys.contains { $0.contains("features.") }, "\(file) holds VGG state")
        }
    }

    func testTrainerRefusesVGGWeightsOfTheWrongShapeNamingTheTensor() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 2)
        _ = try tinyVGG()
        var options = tinyOptions(shards: shards, run: "run", maxSteps: 1)
        options.vggWeightsPath = folder.appendingPathComponent("vgg.safetensors").path
        XCTAssertThrowsError(try Trainer(options: options, resume: false)) { error in
            let message = "\(error)"
            XCTAssertTrue(
                message.contains("vgg.safetensors") && message.contains("features.0.weight")
                    && message.contains("[64, 3, 3, 3]"), message)
        }
    }

    func testOptionsSavedBeforeTheVGGTermStillDecodeWithTheTermOff() throws {
        var options = TrainingOptions(preset: .tiny, shardsDirectory: "s", runDirectory: "r")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        XCTAssertNil(object["vggWeightsPath"], "absent when off")
        object["vggWeight"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old, options)
        XCTAssertEqual(old.lossWeights.vgg, 10)
        options.vggWeightsPath = "vgg19.safetensors"
        options.vggWeight = 5
        XCTAssertEqual(options.lossWeights.vgg, 5)
        XCTAssertEqual(options.nonDefaultNames, ["vggWeight", "vggWeightsPath"])
    }
}
