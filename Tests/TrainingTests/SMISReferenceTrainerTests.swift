import _TestSupport
import Foundation
import GroupDNet
import Tensor
import Training
import XCTest

/// ``TrainingStep`` (our G step then D step with Adam and TTUR, as `smis train` runs it)
/// against the reference's `Pix2PixTrainer.run_generator_one_step` and
/// `run_discriminator_one_step`, from the same weights and batch (the "trainer" entries of
/// Tests/GroupDNetTests/Fixtures/make_smis_reference.py).
///
/// TrainingStep draws its own noise, so the fixture forces the encoder's logvar very low
/// (fc_var's bias − 1000 on both sides): exp(logvar/2) underflows to 0 and z = mu + ε·0 = mu
/// exactly, whatever ε is. Compared: every loss term of both steps, and per parameter the sum,
/// the sum of absolute values and the largest magnitude of its gradient after the iteration
/// (G and E from the G step; D from the D step, which sees the updated G and E). The options
/// are `TrainingOptions`' defaults, so this also checks that they are the reference's (lr 1e-4
/// and 4e-4, betas (0, 0.9), λ 10, 0.05, 10).
///
/// Tolerance: 1e-2 of each summary, against 3e-3 for the full tensors in SMISReferenceTests.
/// With z = mu the gradients are ill-conditioned in the reference itself: adding 3e-7 to
/// fc_mu's bias changes its G and E gradients by up to 2e-3 of their largest values (measured
/// with torch 2.13), and the reference run without oneDNN moves these summaries by up to
/// 1.7e-3 (G), 1.9e-3 (E) and 2e-5 (D, after the patch; Fixtures/measure_reference_spread.py).
/// Ours, reduced fixture: im2col 1.2e-3, 2.4e-3, 3e-4; the oneDNN routes 1.6e-3, 3.9e-3, 3e-4.
/// A wrong learning rate, loss weight or step order changes them by far more.
final class SMISReferenceTrainerTests: XCTestCase {
    func testTrainingStepMatchesTheReferenceTrainer() throws {
        try checkTrainingStep(
            folder: TestPaths.repositoryRoot.appendingPathComponent("Tests/GroupDNetTests/Fixtures/smis"))
    }

    /// The same on the im2col route alone (the default, `auto`, runs most convolutions through oneDNN).
    func testTrainingStepMatchesTheReferenceTrainerOnTheIm2colRoute() throws {
        try ConvolutionSettings.withBackend(.im2col) {
            try checkTrainingStep(
                folder: TestPaths.repositoryRoot.appendingPathComponent("Tests/GroupDNetTests/Fixtures/smis"))
        }
    }
}

final class SMISReferenceTrainerFullSizeTests: XCTestCase {
    func testTrainingStepMatchesTheReferenceTrainer() throws {
        let (folder, message) = ReferenceComparison.fullSizeFixtures()
        guard let folder else { throw XCTSkip(message) }
        try checkTrainingStep(folder: folder)
    }
}

private let logVarianceShift: Float = 1000
private let lossTolerance: Float = 1e-4
private let gradientTolerance: Float = 1e-2

private func checkTrainingStep(folder: URL) throws {
    let reference = try SafeTensors.read(from: folder.appendingPathComponent("reference.safetensors"))
    func metadata(_ key: String) throws -> Int { try XCTUnwrap(Int(reference.metadata[key] ?? ""), "metadata \(key)") }
    let configuration = GroupDNetConfiguration.deepFashionFamily(
        imageSize: 256, baseChannels: try metadata("ngf"), normHiddenChannels: try metadata("hidden"),
        encoderWidth: try metadata("encoder"), discriminatorChannels: try metadata("ndf"))
    let options = TrainingOptions(preset: .deepfashion, shardsDirectory: "", runDirectory: "")
    var random = RandomSource(seed: 1)
    let model = try GroupDNetModel(configuration, lossWeights: options.lossWeights, using: &random)
    try model.generator.loadCheckpoint(from: folder.appendingPathComponent("G.safetensors"))
    try model.encoder.loadCheckpoint(from: folder.appendingPathComponent("E.safetensors"))
    try model.discriminator.loadCheckpoint(from: folder.appendingPathComponent("D.safetensors"))
    let vgg = try VGG19Features(channelDivisor: try metadata("vgg_divisor"))
    try vgg.load(from: folder.appendingPathComponent("vgg.safetensors"))
    model.perceptualNetwork = vgg
    let logVarianceBias = try XCTUnwrap(model.encoder.parameters.first { $0.name == "fc_var.bias" })
    logVarianceBias.data = logVarianceBias.data.map { $0 - logVarianceShift }

    let labels = try XCTUnwrap(reference.entries["input.labels"])
    let batchSize = labels.shape[0]
    let seg = try ModelInput.oneHot(
        labels: labels.bytes, batch: batchSize, height: 256, width: 256, classes: configuration.classCount)
    let image = try ModelInput.image(
        rgb: try XCTUnwrap(reference.entries["input.image_bytes"]).bytes, batch: batchSize, height: 256, width: 256)
    let step = TrainingStep(model: model, options: options)
    let batch = try TrainingBatch(seg: seg, image: image)
    let networks: [(String, Module)] = [("G", model.generator), ("E", model.encoder), ("D", model.discriminator)]
    var before: [String: [Float]] = [:]
    for (network, module) in networks {
        for parameter in module.parameters { before["\(network).\(parameter.name)"] = parameter.data }
    }
    var noise = RandomSource(seed: 7)
    // run(_:noise:) is these two calls; between them, the few G and E weights whose gradient
    // is within float32 rounding of 0 (so that Adam's ±lr step goes either way) take the
    // reference's updated values, as in SMISReferenceTests, so that the D step starts from
    // the reference's weights.
    let generatorLosses = try step.generatorStep(batch, epsilon: model.sampleEpsilon(batch: batchSize, using: &noise))
    var generatorUpdate: [String: [Float]] = [:]
    for (network, module) in networks.prefix(2) {
        for parameter in module.parameters { generatorUpdate["\(network).\(parameter.name)"] = parameter.data }
    }
    let generatorNetworks = networks.prefix(2).map { ($0.0, $0.1.parameters) }
    print(
        try ReferenceComparison.applyReferenceValues(to: generatorNetworks) { key in
            guard let positions = reference.entries["trainer.patch.\(key).index"]?.int64s else { return nil }
            return (positions, try XCTUnwrap(reference.entries["trainer.patch.\(key).value"]?.floats))
        })
    let discriminatorLosses = try step.discriminatorStep(
        batch, epsilon: model.sampleEpsilon(batch: batchSize, using: &noise))

    func expected(_ key: String) throws -> [Float] {
        try XCTUnwrap(reference.entries[key]?.floats, "fixture entry \(key)")
    }
    print("losses of TrainingStep against Pix2PixTrainer (logvar forced low):")
    let vggLoss = try XCTUnwrap(generatorLosses.vgg)
    for (name, value) in [
        ("GAN", generatorLosses.adversarial), ("GAN_Feat", generatorLosses.featureMatching),
        ("KLD", generatorLosses.kullbackLeibler), ("VGG", vggLoss),
        ("D_Fake", discriminatorLosses.fake), ("D_real", discriminatorLosses.real)
    ] {
        assertClose([value], try expected("trainer.\(name)"), Tolerance(ofScale: lossTolerance), "trainer.\(name)")
    }

    // Biases whose gradient is zero by structure (see SMISReference.structuralZeros in
    // GroupDNetTests): the reference holds float32 noise there, so only smallness is checked.
    var zeros: Set<String> = ["fc.bias"]
    for (index, block) in configuration.generator.blocks.enumerated() {
        zeros.insert("\(block.name).conv_0.bias")
        if index < configuration.generator.blocks.count - 1 {
            zeros.insert("\(block.name).conv_1.bias")
            zeros.insert("\(block.name).norm_s.mlp_beta.bias")
        }
    }
    for (network, module) in networks {
        print("gradient summaries of \(network) after the iteration (sum, sum |g|, max |g|):")
        var largest: Float = 0
        for parameter in module.parameters {
            largest = max(largest, try expected("trainer.grad.\(network).\(parameter.name)")[2])
        }
        var worst: (name: String, relative: Float) = ("", 0)
        for parameter in module.parameters {
            let key = "trainer.grad.\(network).\(parameter.name)"
            let gradient = try XCTUnwrap(parameter.grad, "\(key): no gradient")
            var sum = 0.0, absoluteSum = 0.0, maximum: Float = 0
            for value in gradient {
                sum += Double(value)
                absoluteSum += Double(abs(value))
                maximum = max(maximum, abs(value))
            }
            let stored = try expected(key)
            if network == "G" && zeros.contains(parameter.name) {
                XCTAssertLessThanOrEqual(maximum, 1e-4 * largest, "\(key) should vanish by structure")
                XCTAssertLessThanOrEqual(
                    stored[2], 1e-4 * largest, "\(key) should vanish by structure in the reference")
                continue
            }
            let relative = Float(
                max(
                    abs(sum - Double(stored[0])) / Double(stored[1]),
                    abs(absoluteSum - Double(stored[1])) / Double(stored[1]),
                    Double(abs(maximum - stored[2]) / stored[2])))
            XCTAssertLessThanOrEqual(
                relative, gradientTolerance,
                "\(key): sum \(sum) vs \(stored[0]), sum|g| \(absoluteSum) vs \(stored[1]), max \(maximum) vs "
                    + "\(stored[2])")
            if relative >= worst.relative { worst = (key, relative) }
        }
        print(
            String(
                format: "  %d tensors, largest relative difference %.2e (%@)", module.parameters.count, worst.relative,
                worst.name as NSString))
    }

    // Adam's first step with β1 = 0 moves each weight by about lr·sign(g), so the sums of
    // the updates (Σ Δ and Σ |Δ| per tensor, from TrainingStep's own optimisers) check the
    // learning rates and betas of TrainingOptions' defaults against the reference's TTUR.
    // G's and E's are taken before the patch above; each patched element may differ by 2 lr.
    for (network, module) in networks {
        let learningRate = Double(network == "D" ? options.discriminatorLearningRate : options.generatorLearningRate)
        var largest: Float = 0
        for parameter in module.parameters {
            largest = max(largest, try expected("trainer.grad.\(network).\(parameter.name)")[2])
        }
        var worst: (name: String, relative: Double) = ("", 0)
        for parameter in module.parameters where !(network == "G" && zeros.contains(parameter.name)) {
            let key = "\(network).\(parameter.name)"
            guard try expected("trainer.grad.\(key)")[2] >= 1e-6 * largest else { continue }  // vanishes for this batch
            let after = network == "D" ? parameter.data : try XCTUnwrap(generatorUpdate[key])
            var sum = 0.0, absoluteSum = 0.0
            for (new, old) in zip(after, try XCTUnwrap(before[key])) {
                sum += Double(new) - Double(old)
                absoluteSum += abs(Double(new) - Double(old))
            }
            let stored = try expected("trainer.update.\(key)").map(Double.init)
            let patched = Double(reference.entries["trainer.patch.\(key).index"]?.elementCount ?? 0)
            let allowance = 1e-2 * stored[1] + 2 * learningRate * (patched + 1)
            XCTAssertEqual(absoluteSum, stored[1], accuracy: allowance, "sum |Δ| of \(key)")
            XCTAssertEqual(sum, stored[0], accuracy: allowance, "sum Δ of \(key)")
            let relative = max(abs(absoluteSum - stored[1]), abs(sum - stored[0])) / stored[1]
            if relative >= worst.relative { worst = (key, relative) }
        }
        print(
            String(
                format: "Adam update of %@ (lr %.0e): sums agree within %.2e of Σ|Δ| (worst %@)", network as NSString,
                learningRate, worst.relative, worst.name as NSString))
    }
}
