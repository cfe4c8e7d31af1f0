import Foundation
import GroupDNet
import ImageIO
import Statistics
import Tensor

/// What the monitor shows of one fixed sample at one step.
struct RenderedSample {
    var key: String
    /// The label map in the statistics report's class colours.
    var label: Image
    var generated: Image
    var photo: Image
    /// The image with one class's part of z drawn afresh, for each class in the label map
    /// (but background), by class id.
    var resamples: [(className: String, image: Image)]

    /// label | generated | photo side by side: TensorBoard's image of the sample.
    var row: Image {
        let width = label.width, height = label.height
        var pixels = [UInt8](repeating: 0, count: width * 3 * height * 3)
        let rowBytes = width * 3
        let panels = [label, generated, photo]
        for (panel, image) in panels.enumerated() where image.width == width && image.height == height {
            for y in 0..<height {
                let source = y * rowBytes, target = (y * width * 3 + panel * width) * 3
                pixels.replaceSubrange(target..<(target + rowBytes), with: image.pixels[source..<(source + rowBytes)])
            }
        }
        return Image(width: width * 3, height: height, pixels: pixels)
    }
}

/// Renders the fixed samples with the model as it is: z from E on the sample's own photo
/// (mu + ε·σ, the reconstruction the reference's training display shows), then G, both in
/// evaluation mode, so that nothing in the model changes. ε and every resampled class's noise
/// come from the run's seed and the sample's number only: the images of two steps differ only
/// by the weights, and the training steps' noise is never drawn from.
struct SampleImages {
    let records: [MonitorRecord]
    let classes: [String]
    let seed: UInt64

    func render(with synthesizer: ImageSynthesizer, resamples: Bool) throws -> [RenderedSample] {
        let table = LabelSet(targetClasses: classes)
        return try records.enumerated().map { number, record in
            var noise = RunRandomness.sampleImageNoise(seed: seed, sample: number, stream: 0)
            let z = try synthesizer.encodedLatent(
                style: record.photo, label: record.label, instances: record.instances, using: &noise)
            var sample = RenderedSample(
                key: record.key, label: LabelColours.image(of: record.label, labelSet: table),
                generated: try synthesizer.image(label: record.label, instances: record.instances, z: z),
                photo: record.photo, resamples: [])
            if resamples {
                sample.resamples = try self.resamples(of: record, number: number, z: z, synthesizer: synthesizer)
            }
            return sample
        }
    }

    private func resamples(of record: MonitorRecord, number: Int, z: Tensor,
                           synthesizer: ImageSynthesizer) throws -> [(className: String, image: Image)] {
        var present = [Bool](repeating: false, count: 256)
        for value in record.label.values { present[Int(value)] = true }
        return try (0..<min(classes.count, synthesizer.configuration.classCount))
            .filter { present[$0] && classes[$0] != "background" }
            .map { classIndex in
                var noise = RunRandomness.sampleImageNoise(seed: seed, sample: number, stream: 1 + classIndex)
                let changed = try synthesizer.resampling(z, classIndex: classIndex, using: &noise)
                let image = try synthesizer.image(label: record.label, instances: record.instances, z: changed)
                return (classes[classIndex], image)
            }
    }
}
