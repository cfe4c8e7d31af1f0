import Distributed
import GroupDNet
import Tensor

/// One training iteration of GroupDNet, as the reference's `pix2pix_trainer.py`: a G step
/// (G+E loss = adversarial + 10 × feature matching + 0.05 × KLD, + 10 × VGG perceptual loss
/// when the model has VGG19 weights) with Adam on G and E, then a D step (hinge) with Adam on D. TTUR:
/// G+E at 1e-4, D at 4e-4, both with betas (0, 0.9).
public final class TrainingStep {
    public let model: GroupDNetModel
    /// Adam over G's and E's parameters (one optimiser, as the reference).
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam
    /// In a data-parallel run, averages each step's gradients over the ranks while the
    /// backward pass runs, before Adam; nil on one process.
    public var gradientAverager: GradientAverager?

    public init(model: GroupDNetModel, options: TrainingOptions) {
        self.model = model
        generatorOptimizer = Adam(learningRate: options.generatorLearningRate, beta1: options.beta1, beta2: options.beta2)
        discriminatorOptimizer = Adam(learningRate: options.discriminatorLearningRate, beta1: options.beta1, beta2: options.beta2)
    }

    /// The G step then the D step on one batch, with their ε from `noise`.
    public func run(_ batch: TrainingBatch, noise: StepNoise) throws -> StepLosses {
        let generator = try generatorStep(batch, epsilon: noise.generator)
        let discriminator = try discriminatorStep(batch, epsilon: noise.discriminator)
        return StepLosses(generator: generator, discriminator: discriminator)
    }

    /// Back-propagates the G+E loss and updates G and E. D is in the graph, but its parameters
    /// get no gradient here: the reference computes one and its D step clears it unused, so
    /// leaving it out changes no value and saves D's weight-gradient work and the memory of
    /// D's activations that only that work reads.
    public func generatorStep(_ batch: TrainingBatch, epsilon: Tensor) throws -> StepLosses.Generator {
        let parameters = model.generatorAndEncoderParameters
        parameters.forEach { $0.zeroGradient() }
        let discriminatorParameters = model.discriminator.parameters
        discriminatorParameters.forEach { $0.requiresGrad = false }
        defer { discriminatorParameters.forEach { $0.requiresGrad = true } }
        let losses = try model.generatorLosses(batch, epsilon: epsilon)
        try backward(losses.total, parameters)
        try generatorOptimizer.step(parameters)
        return .init(total: losses.total.scalarValue, adversarial: losses.adversarial,
                     featureMatching: losses.featureMatching, kullbackLeibler: losses.kullbackLeibler, vgg: losses.vgg)
    }

    /// Back-propagates D's hinge loss on a fresh, detached fake and the real batch; updates D.
    public func discriminatorStep(_ batch: TrainingBatch, epsilon: Tensor) throws -> StepLosses.Discriminator {
        let parameters = model.discriminator.parameters
        parameters.forEach { $0.zeroGradient() }
        let losses = try model.discriminatorLosses(batch, epsilon: epsilon)
        try backward(losses.total, parameters)
        try discriminatorOptimizer.step(parameters)
        return .init(total: losses.total.scalarValue, fake: losses.fake, real: losses.real)
    }

    /// Back-propagates `loss`; in a data-parallel run, `parameters`' gradients are then the
    /// mean over the ranks.
    private func backward(_ loss: Tensor, _ parameters: [Tensor]) throws {
        guard let gradientAverager else { return try loss.backward() }
        gradientAverager.begin(parameters)
        try loss.backward(onGradientReady: gradientAverager.gradientReady)
        try gradientAverager.finish()
    }

    /// Sets both optimisers' rates (from ``TrainingSchedule/learningRates(afterSteps:)``).
    public func setLearningRates(generator: Float, discriminator: Float) {
        generatorOptimizer.learningRate = generator
        discriminatorOptimizer.learningRate = discriminator
    }
}

/// The losses of one iteration (weighted as they enter the totals).
public struct StepLosses: Codable, Equatable, Sendable {
    public struct Generator: Codable, Equatable, Sendable {
        public var total: Float
        public var adversarial: Float
        public var featureMatching: Float
        public var kullbackLeibler: Float
        /// The weighted VGG perceptual loss; nil (absent from metrics.jsonl) when it is off.
        public var vgg: Float?
    }

    public struct Discriminator: Codable, Equatable, Sendable {
        public var total: Float
        /// mean relu(1 + D(fake)) and mean relu(1 − D(real)), averaged over scales.
        public var fake: Float
        public var real: Float
    }

    public var generator: Generator
    public var discriminator: Discriminator

    /// Whether every loss is a finite number.
    public var isFinite: Bool {
        [generator.total, generator.adversarial, generator.featureMatching, generator.kullbackLeibler,
         generator.vgg ?? 0, discriminator.total, discriminator.fake, discriminator.real].allSatisfy(\.isFinite)
    }
}
