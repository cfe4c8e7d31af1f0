import Foundation
import _TestSupport
import GroupDNet
import Tensor
import XCTest

/// The tiny GroupDNet against PyTorch 2.13 (Fixtures/make_reference.py): the reference's
/// state_dicts load into the Swift model, which then replays the script's sequence (eval
/// forward, generator step, discriminator step, three Adam iterations) and must give every
/// stored tensor within 1e-4 (relative to the tensor's largest magnitude when above 1).
final class ReferenceTests: XCTestCase {
    var reference: SafeTensors.File!
    var model: GroupDNetModel!
    var seg: Tensor!
    var image: Tensor!
    let batch = 2

    override func setUpWithError() throws {
        reference = try SafeTensors.read(from: fixtures.appendingPathComponent("tiny_reference.safetensors"))
        var random = RandomSource(seed: 9)
        model = try GroupDNetModel(.tiny, using: &random)
        try model.generator.loadCheckpoint(from: fixtures.appendingPathComponent("tiny_G.safetensors"))
        try model.encoder.loadCheckpoint(from: fixtures.appendingPathComponent("tiny_E.safetensors"))
        try model.discriminator.loadCheckpoint(from: fixtures.appendingPathComponent("tiny_D.safetensors"))
        let size = GroupDNetConfiguration.tiny.imageHeight
        seg = try ModelInput.oneHot(
            labels: reference.entry("input.labels").bytes, batch: batch, height: size, width: size, classes: 8)
        image = try ModelInput.image(
            rgb: reference.entry("input.image_bytes").bytes, batch: batch, height: size, width: size)
    }

    func testEvaluationForwardMatchesPyTorch() throws {
        let fake = try model.generate(seg: seg, z: reference.tensor("input.z"))
        assertClose(fake.data, try reference.floats("eval.fake"), .reference, "eval.fake")
    }

    func testSplitImageMatchesPyTorch() throws {
        let split = try SplitImage.make(seg: seg, image: image)
        let boxes = try XCTUnwrap(reference.entry("split.boxes").int64s)
        let plane = 64 * 64
        for sample in 0..<batch {
            for label in 0..<8 {
                let offset = (sample * 8 + label) * plane
                let box = SplitImage.boundingBox(of: seg.data[offset..<offset + plane], height: 64, width: 64)
                let expected = boxes[(sample * 8 + label) * 4..<(sample * 8 + label + 1) * 4].map(Int.init)
                XCTAssertEqual(
                    box.map { [$0.top, $0.bottom, $0.left, $0.right] } ?? [-1, -1, -1, -1], expected,
                    "box of class \(label) in sample \(sample)")
            }
        }
        var sums: [Float] = [], weighted: [Float] = []
        for block in 0..<(batch * 24) {
            var sum = 0.0, weightedSum = 0.0
            for i in 0..<plane {
                let value = Double(split.data[block * plane + i])
                sum += value
                weightedSum += value * (Double(i) * 37).truncatingRemainder(dividingBy: 101) / 101
            }
            sums.append(Float(sum)); weighted.append(Float(weightedSum))
        }
        assertClose(sums, try reference.floats("split.sums"), Tolerance(ofScale: 1e-5), "split image sums per block")
        assertClose(
            weighted, try reference.floats("split.weighted_sums"), Tolerance(ofScale: 1e-5), "split image weighted sums"
        )
    }

    func testTrainingStepsMatchPyTorch() throws {
        let batch = try TrainingBatch(seg: seg, image: image)

        // Generator step.
        let g = try model.generatorLosses(batch, epsilon: reference.tensor("input.eps_g"))
        assertClose(g.mu.data, try reference.floats("gstep.mu"), .reference, "gstep.mu")
        assertClose(g.logVariance.data, try reference.floats("gstep.logvar"), .reference, "gstep.logvar")
        assertClose(g.fake.data, try reference.floats("gstep.fake"), .reference, "gstep.fake")
        for scale in 0..<2 {
            assertClose(
                g.fakeOutputs[scale].last!.data, try reference.floats("gstep.pred_fake_\(scale)"), .reference,
                "gstep.pred_fake_\(scale)")
            assertClose(
                g.realOutputs[scale].last!.data, try reference.floats("gstep.pred_real_\(scale)"), .reference,
                "gstep.pred_real_\(scale)")
        }
        assertClose([g.adversarial], try reference.floats("gstep.gan"), .reference, "gstep.gan")
        assertClose([g.featureMatching], try reference.floats("gstep.feat"), .reference, "gstep.feat (×10)")
        assertClose([g.kullbackLeibler], try reference.floats("gstep.kld"), .reference, "gstep.kld (×0.05)")
        assertClose(g.total.data, try reference.floats("gstep.total"), .reference, "gstep.total")
        try g.total.backward()
        try compareGradients(of: model.generator, network: "G")
        try compareGradients(of: model.encoder, network: "E")

        // Discriminator step (D's gradients from the generator step are discarded first).
        model.discriminator.zeroGradients()
        let d = try model.discriminatorLosses(batch, epsilon: reference.tensor("input.eps_d"))
        assertClose(d.fakeImage.data, try reference.floats("dstep.fake"), .reference, "dstep.fake")
        for scale in 0..<2 {
            let stacked = d.fakeOutputs[scale].last!.data + d.realOutputs[scale].last!.data
            assertClose(
                stacked, try reference.floats("dstep.pred_\(scale)"), .reference, "dstep.pred_\(scale) (fake then real)"
            )
        }
        assertClose([d.fake], try reference.floats("dstep.loss_fake"), .reference, "dstep.loss_fake")
        assertClose([d.real], try reference.floats("dstep.loss_real"), .reference, "dstep.loss_real")
        try d.total.backward()
        try compareGradients(of: model.discriminator, network: "D")

        // Every buffer after both steps: spectral-norm u, v and batch-norm running statistics.
        for (network, module) in [("G", model.generator as Module), ("E", model.encoder), ("D", model.discriminator)] {
            var compared = 0
            for (key, entry) in module.namedState {
                switch entry {
                case let .float(tensor) where !tensor.requiresGrad:
                    assertClose(
                        tensor.data, try reference.floats("after.\(network).\(key)"), .reference,
                        "after.\(network).\(key)")
                case let .counter(statistics):
                    XCTAssertEqual(
                        statistics.batchesTracked,
                        try XCTUnwrap(reference.entry("after.\(network).\(key)").int64s?.first), key)
                default: continue
                }
                compared += 1
            }
            let stored = reference.entries.keys.filter { $0.hasPrefix("after.\(network).") }.count
            XCTAssertEqual(compared, stored, "buffers of \(network) compared")
        }

        // Three training iterations with Adam and TTUR, as a trainer would run them.
        let optimizerG = Adam(learningRate: 1e-4, beta1: 0, beta2: 0.9)
        let optimizerD = Adam(learningRate: 4e-4, beta1: 0, beta2: 0.9)
        for iteration in 0..<3 {
            model.generatorAndEncoderParameters.forEach { $0.zeroGradient() }
            let g = try model.generatorLosses(batch, epsilon: reference.tensor("adam.\(iteration).eps_g"))
            try g.total.backward()
            try optimizerG.step(model.generatorAndEncoderParameters)
            model.discriminator.zeroGradients()
            let d = try model.discriminatorLosses(batch, epsilon: reference.tensor("adam.\(iteration).eps_d"))
            try d.total.backward()
            try optimizerD.step(model.discriminator.parameters)
            let losses: [(String, Float)] = [
                ("gan", g.adversarial), ("feat", g.featureMatching), ("kld", g.kullbackLeibler),
                ("total", g.total.scalarValue), ("loss_fake", d.fake), ("loss_real", d.real)
            ]
            for (name, value) in losses {
                assertClose(
                    [value], try reference.floats("adam.\(iteration).\(name)"), .reference, "adam.\(iteration).\(name)")
            }
        }
        let networks: [String: Module] = ["G": model.generator, "E": model.encoder, "D": model.discriminator]
        for key in reference.entries.keys.filter({ $0.hasPrefix("adam.final.") }).sorted() {
            let parts = key.dropFirst("adam.final.".count).split(separator: ".", maxSplits: 1).map(String.init)
            let parameter = try XCTUnwrap(networks[parts[0]]?.parameters.first { $0.name == parts[1] }, key)
            assertClose(parameter.data, try reference.floats(key), .reference, key)
        }
    }

    /// Compares every `grad.<network>.<key>` entry of the fixture with the parameter's gradient.
    private func compareGradients(of module: Module, network: String) throws {
        let prefix = "grad.\(network)."
        let keys = reference.entries.keys.filter { $0.hasPrefix(prefix) }.sorted()
        XCTAssertFalse(keys.isEmpty)
        let parameters = Dictionary(uniqueKeysWithValues: module.parameters.map { ($0.name, $0) })
        for key in keys {
            let name = String(key.dropFirst(prefix.count))
            let parameter = try XCTUnwrap(parameters[name], "no parameter \(name)")
            assertClose(
                try XCTUnwrap(parameter.grad, "\(name) has no gradient"), try reference.floats(key), .reference, key)
        }
    }
}
