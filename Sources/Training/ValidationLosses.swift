import Dispatch
import Distributed
import Foundation
import GroupDNet
import Tensor

/// The losses of the model on validation records (`--val-every`): the G loss terms, and D's two
/// hinge terms, which come from the same discriminator outputs at no extra cost. Stored as the
/// `validation` key of the step's line in `metrics.jsonl`, and as `val/…` scalars in TensorBoard.
public struct ValidationMetrics: Codable, Equatable, Sendable {
    /// The split the records came from ("validation").
    public var split: String
    /// Records evaluated (damaged ones are left out when the run starts).
    public var records: Int
    /// Means over the records, weighted as the training losses are (see ``ValidationEvaluator``).
    public var losses: StepLosses
    /// Wall time of the evaluation.
    public var seconds: Double
}

/// Computes ``ValidationMetrics`` without changing the model: E, G and D run in evaluation mode
/// (running statistics, stored spectral-norm vectors: nothing is updated) and without the
/// gradient tape, one record at a time. The noise is fixed: record i always gets the same ε
/// (from the run's seed and i), so successive evaluations differ only by the weights.
///
/// Each loss is the mean over the records of the record's loss alone, the KLD term scaled as
/// in training (λ_kld × G × the record's KL sum, see `LossWeights`), so that the values are on
/// the scale of the training values they are plotted against.
///
/// In a data-parallel run the records are split across the ranks (rank r of N evaluates records
/// r, r + N, …, with the same noise as one process would) and the sums are added over the ranks,
/// so every rank gets the losses one process would (up to the order of the sums).
struct ValidationEvaluator {
    let records: [MonitorRecord]
    let split: String
    let seed: UInt64
    var communicator: Communicator = SingleProcess()

    func evaluate(_ model: GroupDNetModel) throws -> ValidationMetrics {
        let started = DispatchTime.now().uptimeNanoseconds
        var sums = [Double](repeating: 0, count: 6)
        for (index, record) in records.enumerated() where index % communicator.size == communicator.rank {
            let terms = try losses(of: record, number: index, model: model)
            for term in 0..<terms.count { sums[term] += Double(terms[term]) }
        }
        if communicator.isDistributed { try communicator.sum(&sums) }
        let count = Double(max(1, records.count))
        let mean = sums.map { Float($0 / count) }
        let vgg: Float? = model.perceptualNetwork == nil ? nil : mean[3]
        let generator = StepLosses.Generator(total: mean[0] + mean[1] + mean[2] + (vgg ?? 0), adversarial: mean[0],
                                             featureMatching: mean[1], kullbackLeibler: mean[2], vgg: vgg)
        let discriminator = StepLosses.Discriminator(total: mean[4] + mean[5], fake: mean[4], real: mean[5])
        return ValidationMetrics(split: split, records: records.count,
                                 losses: StepLosses(generator: generator, discriminator: discriminator),
                                 seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// [adversarial, feature matching, KLD, VGG (0 when off), D fake, D real], weighted.
    private func losses(of record: MonitorRecord, number: Int, model: GroupDNetModel) throws -> [Float] {
        let size = (height: record.label.height, width: record.label.width)
        let batch = try TrainingBatch(
            seg: ModelInput.seg(labels: record.label.values, instances: record.instances?.values, batch: 1,
                                height: size.height, width: size.width, configuration: model.configuration),
            image: ModelInput.image(rgb: record.photo.pixels, batch: 1, height: size.height, width: size.width),
            classes: model.configuration.classCount)
        var noise = RunRandomness.validationNoise(seed: seed, record: number)
        let weights = model.lossWeights
        return try Tensor.withoutGradients {
            let epsilon = model.sampleEpsilon(batch: 1, using: &noise)
            let (z, mu, logVariance) = try model.encode(batch, epsilon: epsilon, training: false)
            let fake = try model.generator(seg: batch.seg, z: z, training: false)
            let fakeOutputs = try model.discriminator(Tensor.concatenateChannels([batch.seg, fake]), training: false)
            let realOutputs = try model.discriminator(batch.realInput, training: false)
            let vgg = try model.perceptualNetwork.map {
                try GroupDNetLoss.vgg(fake: fake, real: batch.image, network: $0).scalarValue
            }
            let divergence = try GroupDNetLoss.kullbackLeibler(mu: mu, logVariance: logVariance).scalarValue
            return [
                try GroupDNetLoss.generatorAdversarial(fake: fakeOutputs).scalarValue,
                try GroupDNetLoss.featureMatching(fake: fakeOutputs, real: realOutputs).scalarValue
                    * weights.featureMatching,
                divergence * weights.kullbackLeiblerFactor(batch: 1),
                (vgg ?? 0) * weights.vgg,
                try GroupDNetLoss.discriminatorHinge(fakeOutputs, isReal: false).scalarValue,
                try GroupDNetLoss.discriminatorHinge(realOutputs, isReal: true).scalarValue,
            ]
        }
    }
}
