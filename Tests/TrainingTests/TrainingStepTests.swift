import Foundation
import GroupDNet
import Records
import Tensor
import Training
import XCTest
import _TestSupport

/// The step's wiring: each half lowers its own loss on a fixed batch when the other network
/// stands still. A wrong sign, an optimiser over the wrong parameters, gradients that are not
/// cleared or a step that does not update would break these.
final class TrainingStepTests: TemporaryFolderTestCase {
    private func makeStep(generatorRate: Float, discriminatorRate: Float) throws -> TrainingStep {
        var options = TrainingOptions(preset: .tiny, shardsDirectory: "", runDirectory: "")
        options.generatorLearningRate = generatorRate
        options.discriminatorLearningRate = discriminatorRate
        var random = RandomSource(seed: 3)
        return TrainingStep(model: try GroupDNetModel(.tiny, using: &random), options: options)
    }

    func testGeneratorStepsLowerTheGeneratorLossAgainstAFixedDiscriminator() throws {
        let step = try makeStep(generatorRate: 1e-3, discriminatorRate: 0)
        let batch = try SyntheticShards.fixedBatch()
        var totals: [Float] = []
        for _ in 0..<20 {
            var noise = RandomSource(seed: 11)
            let epsilon = step.model.sampleEpsilon(batch: batch.seg.shape[0], using: &noise)
            totals.append(try step.generatorStep(batch, epsilon: epsilon).total)
        }
        XCTAssertTrue(totals.allSatisfy(\.isFinite), "\(totals)")
        XCTAssertLessThan(totals.suffix(3).reduce(0, +) / 3, totals[0] * 0.8, "G loss over 20 steps: \(totals)")
    }

    func testDiscriminatorStepsLowerTheHingeLossAgainstAFixedGenerator() throws {
        let step = try makeStep(generatorRate: 0, discriminatorRate: 1e-3)
        let batch = try SyntheticShards.fixedBatch()
        var losses: [StepLosses.Discriminator] = []
        for _ in 0..<20 {
            var noise = RandomSource(seed: 11)
            let epsilon = step.model.sampleEpsilon(batch: batch.seg.shape[0], using: &noise)
            losses.append(try step.discriminatorStep(batch, epsilon: epsilon))
        }
        XCTAssertEqual(losses[0].total, 2, accuracy: 0.2, "an untrained D scores about 0 on both sides")
        XCTAssertLessThan(losses.last!.total, losses[0].total * 0.8, "D loss over 20 steps: \(losses.map(\.total))")
        XCTAssertLessThan(losses.last!.real, losses[0].real)
        XCTAssertLessThan(losses.last!.fake, losses[0].fake)
    }

    func testOneIterationUpdatesAllThreeNetworksAndTheAdamState() throws {
        let step = try makeStep(generatorRate: 1e-4, discriminatorRate: 4e-4)
        let model = step.model
        let before = (model.generator.parameters + model.encoder.parameters + model.discriminator.parameters).map(
            \.data)
        var noise = RandomSource(seed: 5)
        let batch = try SyntheticShards.fixedBatch()
        let losses = try step.run(batch, noise: StepNoise(model: model, batch: batch.seg.shape[0], drawingFrom: &noise))
        XCTAssertTrue(losses.isFinite)
        let after = (model.generator.parameters + model.encoder.parameters + model.discriminator.parameters).map(\.data)
        let names = (model.generator.parameters + model.encoder.parameters + model.discriminator.parameters).map(\.name)
        let unchanged = zip(names, zip(before, after)).filter { $0.1.0 == $0.1.1 }.map(\.0)
        // D's last biases get exactly zero gradient while every prediction is inside the hinge
        // margin: +1/n from each fake patch and −1/n from each real patch cancel. Everything
        // else must move.
        XCTAssertEqual(unchanged, ["discriminator_0.model4.0.bias", "discriminator_1.model4.0.bias"])
        XCTAssertEqual(step.generatorOptimizer.states.count, model.generatorAndEncoderParameters.count)
        XCTAssertEqual(step.discriminatorOptimizer.states.count, model.discriminator.parameters.count)
        XCTAssertEqual(
            step.generatorOptimizer.states.values.map(\.step),
            Array(repeating: 1, count: step.generatorOptimizer.states.count))
    }
}
