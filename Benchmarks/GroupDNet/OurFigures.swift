import BenchmarkSupport
import Foundation
import GroupDNet
import Pipeline
import Tensor
import Training

/// Wall and CPU seconds of each repetition of one measurement.
typealias Times = [(wall: Double, cpu: Double)]

/// The DeepFashion inputs every measurement shares: label maps of drawn people (the fixtures'
/// `SyntheticPerson` at 256 × 256, its LIP classes folded into the eight as
/// Pipelines/deepfashion.yaml folds them: as piecewise constant as real parser output, about 6 %
/// of positions start a run of identical label columns at 256 × 256, as on real maps),
/// z ~ N(0, I) and a random photo.
struct BenchmarkInputs {
    let seg: Tensor
    let z: Tensor
    let batch: TrainingBatch

    /// LIP id → DeepFashion class (0 hair, 1 face, 2 skin, 3 top, 4 bottom, 5 socks, 6 shoes, 7 background).
    static let deepFashionClassOfLIP: [UInt8] = [7, 0, 0, 3, 1, 3, 3, 3, 5, 4, 3, 3, 4, 1, 2, 2, 2, 2, 6, 6]

    init(batch size: Int, using random: inout RandomSource) throws {
        let configuration = GroupDNetConfiguration.deepFashion
        let side = configuration.imageHeight
        let labels = (0..<size).flatMap { index in
            SyntheticPerson(seed: 16, index: index, width: side, height: side).label.values.map {
                Self.deepFashionClassOfLIP[Int($0)]
            }
        }
        seg = try ModelInput.oneHot(labels: labels, batch: size, height: side, width: side, classes: 8)
        z = Tensor.randomNormal(configuration.latentShape(batch: size), using: &random)
        let image = Tensor.randomNormal([size, 3, side, side], using: &random).tanh()
        batch = try TrainingBatch(seg: seg, image: image)
    }
}

/// The generator forward (evaluation, no gradients), the generator's forward + backward in
/// training mode, and one training iteration (G step + D step, no VGG loss) of a full model.
final class OurMeasurements {
    let generator: Generator
    let step: TrainingStep
    let inputs: BenchmarkInputs
    let repeats: Int

    init(batch: Int, repeats: Int) throws {
        var random = RandomSource(seed: 1)
        generator = try Generator(.deepFashion, using: &random)
        let options = TrainingOptions(preset: .deepfashion, shardsDirectory: "", runDirectory: "")
        step = TrainingStep(model: try GroupDNetModel(.deepFashion, using: &random), options: options)
        inputs = try BenchmarkInputs(batch: batch, using: &random)
        self.repeats = repeats
    }

    /// One untimed pass first (it makes every convolution's plan), then `repeats` timed ones.
    func forward() throws -> Times {
        func once() throws {
            _ = try Tensor.withoutGradients { try generator(seg: inputs.seg, z: inputs.z, training: false) }
        }
        try once()
        return try (0..<repeats).map { _ in try measure { try once() } }
    }

    /// (recording forward, forward + backward) per repetition.
    func forwardBackward() throws -> (recording: Times, total: Times) {
        var recording: Times = [], total: Times = []
        for _ in 0..<repeats {
            generator.zeroGradients()
            var output: Tensor?
            let forward = try measure { output = try generator(seg: inputs.seg, z: inputs.z, training: true) }
            let backward = try measure { try output!.mean().backward() }
            recording.append(forward)
            total.append((forward.wall + backward.wall, forward.cpu + backward.cpu))
        }
        return (recording, total)
    }

    /// One untimed iteration first (it makes Adam's state and every convolution's plan), then
    /// `repeats` timed ones.
    func iteration() throws -> Times {
        var noise = RandomSource(seed: 9)
        let size = inputs.seg.shape[0]
        func once() throws {
            _ = try step.run(inputs.batch, noise: StepNoise(model: step.model, batch: size, drawingFrom: &noise))
        }
        try once()
        return try (0..<repeats).map { _ in try measure { try once() } }
    }
}
