import Foundation
import Tensor

/// G, E and D of one configuration, with the two training steps' losses.
///
/// One training iteration, as the reference trainer (`pix2pix_trainer.py`) does it:
/// ```swift
/// let batch = try TrainingBatch(seg: seg, image: image)
/// model.generatorAndEncoderParameters.forEach { $0.zeroGradient() }
/// let g = try model.generatorLosses(batch, epsilon: model.sampleEpsilon(batch: n, using: &noise))
/// try g.total.backward();  try adamG.step(model.generatorAndEncoderParameters)
/// model.discriminator.zeroGradients()
/// let d = try model.discriminatorLosses(batch, epsilon: model.sampleEpsilon(batch: n, using: &noise))
/// try d.total.backward();  try adamD.step(model.discriminator.parameters)
/// ```
public final class GroupDNetModel {
    public let configuration: GroupDNetConfiguration
    public let generator: Generator
    public let encoder: Encoder
    public let discriminator: Discriminator
    public var lossWeights: LossWeights
    /// The frozen VGG19 of the perceptual loss; nil (the default) leaves the term out, as the
    /// weights must come from the user. Never saved in the model's checkpoints.
    public var perceptualNetwork: VGG19Features?

    /// Builds the three networks with Xavier-normal (gain 0.02) weights from `random`
    /// (G first, then E, then D).
    public init(
        _ configuration: GroupDNetConfiguration, lossWeights: LossWeights = LossWeights(),
        using random: inout RandomSource
    ) throws {
        self.configuration = configuration
        self.lossWeights = lossWeights
        generator = try Generator(configuration, using: &random)
        encoder = try Encoder(configuration, using: &random)
        discriminator = try Discriminator(configuration, using: &random)
    }

    /// The parameters of G and E, which share one optimiser (lr 1e-4 with TTUR). Their
    /// state_dict keys do not collide, so Adam may key them by name.
    public var generatorAndEncoderParameters: [Tensor] { generator.parameters + encoder.parameters }

    /// ε ~ N(0, I) in the latent shape, for the reparameterisation or as z itself at inference.
    public func sampleEpsilon(batch: Int, using random: inout RandomSource) -> Tensor {
        Tensor.randomNormal(configuration.latentShape(batch: batch), using: &random)
    }

    /// E's mu and logvar for a batch's split image, then z = mu + ε·exp(logvar/2).
    public func encode(
        _ batch: TrainingBatch, epsilon: Tensor, training: Bool
    ) throws -> (z: Tensor, mu: Tensor, logVariance: Tensor) {
        let (mu, logVariance) = try encoder(batch.splitImage, training: training)
        let z = try Encoder.reparameterize(mu: mu, logVariance: logVariance, epsilon: epsilon)
        return (z, mu, logVariance)
    }

    /// The generator step's forward pass (G and E in training mode; D too, so that its spectral
    /// norms iterate once as in the reference). Call `backward()` on `total`, then step G+E.
    ///
    /// total = adversarial + featureMatching·λ_feat + KLD·λ_kld (scaled as ``LossWeights``
    /// says), + VGG(fake, image)·λ_vgg when ``perceptualNetwork`` is set. D sees fake and real as in
    /// the reference's stacked batch: D has no batch-coupled layer (instance norm is per
    /// sample), and its spectral norms iterate on the first (fake) call and reuse u, v on the
    /// second, which is what one stacked call does.
    public func generatorLosses(_ batch: TrainingBatch, epsilon: Tensor) throws -> GeneratorLosses {
        let (z, mu, logVariance) = try encode(batch, epsilon: epsilon, training: true)
        let fake = try generator(seg: batch.seg, z: z, training: true)
        let fakeOutputs = try discriminator(Tensor.concatenateChannels([batch.seg, fake]), training: true)
        let realOutputs = try Tensor.withoutGradients { try discriminator(batch.realInput, training: false) }
        let adversarial = try GroupDNetLoss.generatorAdversarial(fake: fakeOutputs)
        let featureMatching = try GroupDNetLoss.featureMatching(fake: fakeOutputs, real: realOutputs)
        let divergence = try GroupDNetLoss.kullbackLeibler(mu: mu, logVariance: logVariance)
        let divergenceFactor = lossWeights.kullbackLeiblerFactor(batch: batch.seg.shape[0])
        var total =
            try adversarial + featureMatching.scaled(by: lossWeights.featureMatching)
            + divergence.scaled(by: divergenceFactor)
        let perceptual = try perceptualNetwork.map { try GroupDNetLoss.vgg(fake: fake, real: batch.image, network: $0) }
        if let perceptual { total = try total + perceptual.scaled(by: lossWeights.vgg) }
        return GeneratorLosses(
            total: total, adversarial: adversarial.scalarValue,
            featureMatching: featureMatching.scalarValue * lossWeights.featureMatching,
            kullbackLeibler: divergence.scalarValue * divergenceFactor,
            vgg: perceptual.map { $0.scalarValue * lossWeights.vgg },
            fake: fake, mu: mu, logVariance: logVariance,
            fakeOutputs: fakeOutputs, realOutputs: realOutputs)
    }

    /// The discriminator step's forward pass: a fresh fake (new ε) generated without gradients
    /// by E and G in training mode, then D on fake and real. Call `backward()` on `total`,
    /// then step D.
    public func discriminatorLosses(_ batch: TrainingBatch, epsilon: Tensor) throws -> DiscriminatorLosses {
        let fake = try Tensor.withoutGradients {
            try generator(seg: batch.seg, z: encode(batch, epsilon: epsilon, training: true).z, training: true)
        }
        let fakeOutputs = try discriminator(Tensor.concatenateChannels([batch.seg, fake]), training: true)
        let realOutputs = try discriminator(batch.realInput, training: false)
        let fakeTerm = try GroupDNetLoss.discriminatorHinge(fakeOutputs, isReal: false)
        let realTerm = try GroupDNetLoss.discriminatorHinge(realOutputs, isReal: true)
        return DiscriminatorLosses(
            total: try fakeTerm + realTerm, fake: fakeTerm.scalarValue, real: realTerm.scalarValue,
            fakeImage: fake, fakeOutputs: fakeOutputs, realOutputs: realOutputs)
    }

    /// Inference: G in evaluation mode (running statistics, stored u and v) for a given z,
    /// without gradients.
    public func generate(seg: Tensor, z: Tensor) throws -> Tensor {
        try Tensor.withoutGradients { try generator(seg: seg, z: z, training: false) }
    }
}

/// The weights of the generator's loss terms (the reference's λ_feat = 10, λ_kld = 0.05,
/// λ_vgg = 10). `vgg` applies only when the model has a ``GroupDNetModel/perceptualNetwork``.
///
/// The KL term's scale: the reference sums KL over each GPU's samples and DataParallel
/// averages the GPUs' losses, so its term is λ_kld × G × (the mean over the batch of each
/// sample's KL sum), with G its per-GPU batch. `kullbackLeiblerDeviceBatch` is that G; nil sums
/// over the batch given (G = the batch, one device), as a batch on one GPU does.
public struct LossWeights: Equatable, Sendable {
    public var featureMatching: Float
    public var kullbackLeibler: Float
    public var vgg: Float
    public var kullbackLeiblerDeviceBatch: Int?

    public init(
        featureMatching: Float = 10, kullbackLeibler: Float = 0.05, vgg: Float = 10,
        kullbackLeiblerDeviceBatch: Int? = nil
    ) {
        (self.featureMatching, self.kullbackLeibler, self.vgg) = (featureMatching, kullbackLeibler, vgg)
        self.kullbackLeiblerDeviceBatch = kullbackLeiblerDeviceBatch
    }

    /// The factor on the KL divergence summed over a batch of `batch` samples.
    public func kullbackLeiblerFactor(batch: Int) -> Float {
        guard let devices = kullbackLeiblerDeviceBatch else { return kullbackLeibler }
        return kullbackLeibler * Float(devices) / Float(batch)
    }
}

/// One batch's inputs, with the split image and D's real input built once for both steps.
public struct TrainingBatch {
    /// One-hot label map, N × classes × H × W (then the instance-edge channel, if any).
    public let seg: Tensor
    /// Photo in [-1, 1], N × 3 × H × W.
    public let image: Tensor
    /// E's input, N × 3·classes × H × W (see ``SplitImage``).
    public let splitImage: Tensor
    /// seg ⊕ image along channels: D's input for the real samples.
    public let realInput: Tensor

    /// `classes`: the class channels of `seg` when it has more (an instance-edge channel),
    /// which the split image leaves out.
    public init(seg: Tensor, image: Tensor, classes: Int? = nil) throws {
        self.seg = seg
        self.image = image
        splitImage = try SplitImage.make(seg: seg, image: image, classes: classes)
        realInput = try Tensor.concatenateChannels([seg, image])
    }
}

/// The generator step's result.
public struct GeneratorLosses {
    /// The scalar to back-propagate.
    public let total: Tensor
    /// −mean D(fake), averaged over scales.
    public let adversarial: Float
    /// Feature matching, already weighted.
    public let featureMatching: Float
    /// KLD, already weighted.
    public let kullbackLeibler: Float
    /// The VGG perceptual loss, already weighted; nil without a perceptual network.
    public let vgg: Float?
    public let fake: Tensor
    public let mu: Tensor
    public let logVariance: Tensor
    public let fakeOutputs: [[Tensor]]
    public let realOutputs: [[Tensor]]
}

/// The discriminator step's result.
public struct DiscriminatorLosses {
    /// The scalar to back-propagate: hinge(fake) + hinge(real), each averaged over scales.
    public let total: Tensor
    /// mean relu(1 + D(fake)), averaged over scales.
    public let fake: Float
    /// mean relu(1 − D(real)), averaged over scales.
    public let real: Float
    /// The regenerated (detached) fake image D judged.
    public let fakeImage: Tensor
    public let fakeOutputs: [[Tensor]]
    public let realOutputs: [[Tensor]]
}

// MARK: - Checkpoint folders and class-wise latent codes

extension GroupDNetModel {
    /// The file names of the three networks in a checkpoint folder (`<prefix>_net_G.safetensors`,
    /// as the reference names its `.pth` files).
    public static func checkpointFiles(
        in folder: URL, prefix: String
    ) -> (generator: URL, encoder: URL, discriminator: URL) {
        (
            folder.appendingPathComponent("\(prefix)_net_G.safetensors"),
            folder.appendingPathComponent("\(prefix)_net_E.safetensors"),
            folder.appendingPathComponent("\(prefix)_net_D.safetensors")
        )
    }

    /// Writes G, E and D to `folder` (each file atomically; see ``SafeTensors/write(_:to:)``).
    public func saveCheckpoints(in folder: URL, prefix: String = "latest", metadata: [String: String] = [:]) throws {
        let files = Self.checkpointFiles(in: folder, prefix: prefix)
        try generator.saveCheckpoint(to: files.generator, metadata: metadata)
        try encoder.saveCheckpoint(to: files.encoder, metadata: metadata)
        try discriminator.saveCheckpoint(to: files.discriminator, metadata: metadata)
    }

    /// Loads G, E and D from `folder`. All three files are read and checked before any network
    /// changes, so a missing or mismatched file leaves the model as it was.
    public func loadCheckpoints(in folder: URL, prefix: String = "latest") throws {
        let files = Self.checkpointFiles(in: folder, prefix: prefix)
        let loaded = try [files.generator, files.encoder, files.discriminator].map { try SafeTensors.read(from: $0) }
        let networks: [Module] = [generator, encoder, discriminator]
        let urls = [files.generator, files.encoder, files.discriminator]
        for index in 0..<3 { try networks[index].validate(loaded[index], file: urls[index].path) }
        for index in 0..<3 { try networks[index].load(loaded[index], file: urls[index].path) }
    }
}

extension GroupDNetConfiguration {
    /// The channels of z owned by class `label` (8c…8c+7 for DeepFashion).
    public func latentChannels(ofClass label: Int) -> Range<Int> {
        label * latentChannelsPerClass..<(label + 1) * latentChannelsPerClass
    }

    /// A copy of `z` with class `label`'s channels replaced by fresh N(0, I) samples, all other
    /// classes unchanged: the semantically multi-modal edit (change one class's appearance).
    public func resamplingClass(_ label: Int, of z: Tensor, using random: inout RandomSource) throws -> Tensor {
        guard (0..<classCount).contains(label) else {
            throw GroupDNetError.invalidInput(reason: "class \(label) is not in 0..<\(classCount)")
        }
        guard z.rank == 4, z.shape[1] == latentChannels else {
            throw GroupDNetError.invalidInput(reason: "z must be N×\(latentChannels)×h×w, got \(z.shape)")
        }
        var data = z.data
        let plane = z.shape[2] * z.shape[3]
        for sample in 0..<z.shape[0] {
            for channel in latentChannels(ofClass: label) {
                let offset = (sample * latentChannels + channel) * plane
                for index in offset..<offset + plane { data[index] = random.normal() }
            }
        }
        return try Tensor(shape: z.shape, data: data)
    }
}
