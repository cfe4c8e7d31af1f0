import Foundation
import GroupDNet
import ImageIO
import Records
import Tensor
import Training
import XCTest
import _TestSupport

/// The reference's training behaviour that is ours too: random mirroring of photo and label
/// together, each sample's noise of its own, and the KL term's scale; each drawn or computed
/// per sample, so that the batch a sample falls in changes nothing.
final class ReferenceBehaviourTests: TemporaryFolderTestCase {
    private func batches(_ shards: URL, batchSize: Int, flip: Bool) throws -> ShardBatches {
        try ShardBatches(directory: shards, configuration: .tiny, batchSize: batchSize, seed: 7, flip: flip)
    }

    /// A flipped sample is its unflipped self mirrored left to right, label and photo alike;
    /// about half the samples flip, and which ones depends only on their stream index.
    func testFlipMirrorsPhotoAndLabelTogetherForAboutHalfTheSamples() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 6)
        let plain = try batches(shards, batchSize: 1, flip: false),
            flipped = try batches(shards, batchSize: 1, flip: true)
        var flips = 0
        for _ in 0..<24 {
            let a = try plain.next(), b = try flipped.next()
            XCTAssertEqual(a.streamIndices, b.streamIndices)
            let expected = RunRandomness.flips(seed: 7, streamIndex: a.streamIndices[0])
            flips += expected ? 1 : 0
            for tensor in [\TrainingBatch.seg, \TrainingBatch.image] {
                let original = a.inputs[keyPath: tensor], result = b.inputs[keyPath: tensor]
                XCTAssertEqual(
                    result.data, expected ? mirrored(original) : original.data,
                    "stream index \(a.streamIndices[0]), flipped: \(expected)")
            }
        }
        XCTAssertTrue((6...18).contains(flips), "\(flips) of 24 samples flipped")
        let many = (0..<4000 as Range<UInt64>).filter { RunRandomness.flips(seed: 7, streamIndex: $0) }.count
        XCTAssertEqual(Double(many) / 4000, 0.5, accuracy: 0.03)
    }

    /// Batch 2 holds the two samples batch 1 gives in two steps, flipped alike, and their ε is
    /// the two samples' own ε side by side: what a second rank at batch 1 would draw.
    func testFlipsAndNoiseDoNotDependOnTheBatch() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 6)
        let single = try batches(shards, batchSize: 1, flip: true),
            double = try batches(shards, batchSize: 2, flip: true)
        for _ in 0..<5 {
            let pair = try double.next(), first = try single.next(), second = try single.next()
            XCTAssertEqual(pair.streamIndices, first.streamIndices + second.streamIndices)
            XCTAssertEqual(pair.inputs.image.data, first.inputs.image.data + second.inputs.image.data)
            XCTAssertEqual(pair.inputs.seg.data, first.inputs.seg.data + second.inputs.seg.data)
            let both = StepNoise(seed: 7, streamIndices: pair.streamIndices, configuration: .tiny)
            let one = StepNoise(seed: 7, streamIndices: first.streamIndices, configuration: .tiny)
            let other = StepNoise(seed: 7, streamIndices: second.streamIndices, configuration: .tiny)
            XCTAssertEqual(both.generator.data, one.generator.data + other.generator.data)
            XCTAssertEqual(both.discriminator.data, one.discriminator.data + other.discriminator.data)
            XCTAssertNotEqual(one.generator.data, one.discriminator.data, "the D step's fake gets fresh noise")
        }
    }

    /// KL = 0.05 × G × (the batch mean of each sample's KL sum), whatever the batch: with G = 2
    /// a batch of 2 gives the sum over the batch (the reference's one-GPU term), a batch of 1
    /// twice its sample's KL.
    func testKullbackLeiblerTermIsScaledByTheDeviceBatchNotTheBatch() throws {
        let batch = try SyntheticShards.fixedBatch()
        for (deviceBatch, samples) in [(2, 2), (2, 1), (1, 2), (5, 1)] {
            var random = RandomSource(seed: 3)
            let weights = LossWeights(kullbackLeiblerDeviceBatch: deviceBatch)
            let model = try GroupDNetModel(.tiny, lossWeights: weights, using: &random)
            let inputs = samples == 2 ? batch : try TrainingBatch(seg: slice(batch.seg), image: slice(batch.image))
            var noise = RandomSource(seed: 4)
            let losses = try model.generatorLosses(inputs, epsilon: model.sampleEpsilon(batch: samples, using: &noise))
            let perSampleSum =
                try GroupDNetLoss.kullbackLeibler(mu: losses.mu, logVariance: losses.logVariance).scalarValue
                / Float(samples)
            XCTAssertEqual(
                losses.kullbackLeibler, 0.05 * Float(deviceBatch) * perSampleSum,
                accuracy: 1e-5 * max(1, losses.kullbackLeibler), "G \(deviceBatch), batch \(samples)")
        }
    }

    /// Options saved before flipping and the KL scale were options decode to what those runs
    /// did (no flip, KL summed over their batch); fresh runs flip, with G = 2; both are checked
    /// on resume.
    func testOldOptionsKeepTheirBehaviourAndNewOnesTheReferences() throws {
        var fresh = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        fresh.preset = .tiny
        fresh.batchSize = 3
        let options = fresh.freshOptions()
        XCTAssertTrue(options.flips)
        XCTAssertEqual(options.lossWeights.kullbackLeiblerDeviceBatch, 2)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        object["flip"] = nil
        object["kullbackLeiblerDeviceBatch"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertFalse(old.flips)
        XCTAssertEqual(old.lossWeights.kullbackLeiblerDeviceBatch, 3)

        var again = TrainingRequest(shardsDirectory: "s", runDirectory: "r")
        again.flip = false
        again.kullbackLeiblerDeviceBatch = 1
        XCTAssertThrowsError(try again.resumedOptions(saved: options)) { error in
            XCTAssertTrue("\(error)".contains("--no-flip (the run flips its samples)"), "\(error)")
            XCTAssertTrue("\(error)".contains("--kl-device-batch 1 (the run has 2)"), "\(error)")
        }
        again.kullbackLeiblerDeviceBatch = 3
        let resumed = try again.resumedOptions(saved: old)
        XCTAssertFalse(resumed.flips, "--no-flip agrees with a run that never flipped")
        XCTAssertEqual(
            resumed.lossWeights.kullbackLeiblerDeviceBatch, 3, "the old run's KL was summed over its 3 samples")
    }

    /// The first sample of an N×C×H×W batch.
    private func slice(_ tensor: Tensor) throws -> Tensor {
        let shape = [1] + tensor.shape.dropFirst()
        return try Tensor(shape: shape, data: Array(tensor.data.prefix(shape.reduce(1, *))))
    }

    /// Every H×W plane of `tensor` mirrored left to right.
    private func mirrored(_ tensor: Tensor) -> [Float] {
        let width = tensor.shape[3]
        var values = tensor.data
        for row in stride(from: 0, to: values.count, by: width) { values[row..<row + width].reverse() }
        return values
    }
}
