import GroupDNet
import Tensor

/// Every random choice a training run makes once its weights are built, each drawn from its
/// own stream of the run's seed (``Tensor/RandomSource/init(seed:keys:)``), named by what it
/// is for and the item it serves.
///
/// A training sample's flip and noise depend on its stream index alone (its position in the
/// data stream: epoch × records + position in the shuffled order), never on the step or the
/// batch it falls in. So a batch of 2 on one process and one sample on each of two ranks flip
/// and perturb the same samples alike, and a resumed run draws exactly what the uninterrupted
/// run would. Nothing here has state to save in a checkpoint.
public enum RunRandomness {
    /// The streams' first key.
    enum Purpose: UInt64 {
        case flip = 1
        case generatorStepNoise = 2
        case discriminatorStepNoise = 3
        case sampleImageNoise = 4
        case validationNoise = 5
        case crop = 6
    }

    /// Whether the training sample at `streamIndex` is mirrored left to right (photo and label
    /// together), with probability ½ as the reference's `random.random() > 0.5`.
    public static func flips(seed: UInt64, streamIndex: UInt64) -> Bool {
        var random = RandomSource(seed: seed, keys: Purpose.flip.rawValue, streamIndex)
        return random.next() >> 63 == 1
    }

    /// Where the training sample at `streamIndex` is cropped: the left and top of a `width` ×
    /// `height` window of a record of `recordWidth` × `recordHeight`, each uniform over its
    /// range as the reference's `random.randint(0, max(0, load - crop))`.
    public static func cropOrigin(
        seed: UInt64, streamIndex: UInt64, recordWidth: Int, recordHeight: Int, width: Int, height: Int
    ) -> (x: Int, y: Int) {
        var random = RandomSource(seed: seed, keys: Purpose.crop.rawValue, streamIndex)
        let x = Int(random.next() % UInt64(max(0, recordWidth - width) + 1))
        let y = Int(random.next() % UInt64(max(0, recordHeight - height) + 1))
        return (x, y)
    }

    /// ε for the samples at `streamIndices` (N × latent channels × latent grid), each sample's
    /// from its own stream: the G step's, or the D step's fresh fake.
    static func trainingEpsilon(seed: UInt64, streamIndices: [UInt64], discriminatorStep: Bool,
                                configuration: GroupDNetConfiguration) -> Tensor {
        let purpose = discriminatorStep ? Purpose.discriminatorStepNoise : .generatorStepNoise
        let perSample = configuration.latentShape(batch: 1).reduce(1, *)
        var values: [Float] = []
        values.reserveCapacity(perSample * streamIndices.count)
        for index in streamIndices {
            var random = RandomSource(seed: seed, keys: purpose.rawValue, index)
            values += random.normals(perSample)
        }
        return try! Tensor(shape: configuration.latentShape(batch: streamIndices.count), data: values)
    }

    /// The noise of the monitor's sample image `sample`: stream 0 for its z, 1 + c for
    /// resampling class c.
    static func sampleImageNoise(seed: UInt64, sample: Int, stream: Int) -> RandomSource {
        RandomSource(seed: seed, keys: Purpose.sampleImageNoise.rawValue, UInt64(sample), UInt64(stream))
    }

    /// The fixed noise of validation record `record`.
    static func validationNoise(seed: UInt64, record: Int) -> RandomSource {
        RandomSource(seed: seed, keys: Purpose.validationNoise.rawValue, UInt64(record))
    }
}

/// The ε of one training iteration: the G step's and the D step's (whose fake is generated
/// afresh, as the reference's `pix2pix_trainer.py` does), each N × latent channels × grid.
public struct StepNoise {
    public var generator: Tensor
    public var discriminator: Tensor

    public init(generator: Tensor, discriminator: Tensor) {
        self.generator = generator
        self.discriminator = discriminator
    }

    /// Each sample's ε from its own streams of `seed` (see ``RunRandomness``).
    public init(seed: UInt64, streamIndices: [UInt64], configuration: GroupDNetConfiguration) {
        generator = RunRandomness.trainingEpsilon(seed: seed, streamIndices: streamIndices, discriminatorStep: false,
                                                  configuration: configuration)
        discriminator = RunRandomness.trainingEpsilon(seed: seed, streamIndices: streamIndices, discriminatorStep: true,
                                                      configuration: configuration)
    }

    /// Both drawn from one source, the G step's first: for tests that replay a fixed sequence.
    public init(model: GroupDNetModel, batch: Int, drawingFrom random: inout RandomSource) {
        generator = model.sampleEpsilon(batch: batch, using: &random)
        discriminator = model.sampleEpsilon(batch: batch, using: &random)
    }
}
