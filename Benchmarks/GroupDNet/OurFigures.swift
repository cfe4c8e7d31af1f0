import BenchmarkSupport
import Foundation
import GroupDNet
import Tensor
import Training

/// Wall and CPU seconds of each repetition of one measurement.
typealias Times = [(wall: Double, cpu: Double)]

/// The DeepFashion inputs every measurement shares: a label map of horizontal bands of the
/// eight classes (piecewise constant, as real label maps are), z ~ N(0, I) and a random photo.
struct BenchmarkInputs {
    let seg: Tensor
    let z: Tensor
    let batch: TrainingBatch

    init(batch size: Int, using random: inout RandomSource) throws {
        let configuration = GroupDNetConfiguration.deepFashion
        let side = configuration.imageHeight
        let plane = (0..<(side * side)).map { UInt8(($0 / side) * 8 / side) }
        let labels = Array([[UInt8]](repeating: plane, count: size).joined())
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
