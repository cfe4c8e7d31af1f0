import AtomicFiles
import Foundation
import GroupDNet
import Tensor

/// Every setting of a training run, explicit: what `smis train` parses and what the trainer
/// takes. Saved as `options.json` beside the checkpoints (the reference's `opt.txt`), with the
/// names of the settings that differ from their defaults.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var preset: TrainingPreset
    /// Folder holding `manifest.json` and the shards (only the "train" split is read).
    public var shardsDirectory: String
    /// Folder for checkpoints, options and metrics.
    public var runDirectory: String
    /// Samples per iteration of each process (the reference's per-GPU batch); the iteration's
    /// batch is ``globalBatchSize``.
    public var batchSize: Int = 1
    /// Processes of a data-parallel run (`mpirun -np N`, `srun`), each taking `batchSize` of
    /// every global batch; nil means one (and is what options saved before the setting existed
    /// hold).
    public var ranks: Int?
    /// Resample samples whose size differs from the preset's (else such shards are refused).
    public var resizeToModel: Bool = false
    /// Epochs at the base learning rates, then epochs of linear decay to zero.
    public var constantEpochs: Int
    public var decayEpochs: Int
    /// Stop when the step counter reaches this (counted from the run's start, also on resume).
    public var maxSteps: Int?
    /// Seeds the weights, the data order and every sample's flip and noise.
    public var seed: UInt64 = 0
    /// Save a checkpoint after every this many steps (and always at the end or on interrupt).
    public var saveEvery: Int = 1000
    /// TTUR: G and E at 1e-4, D at 4e-4; Adam betas (0, 0.9).
    public var generatorLearningRate: Float = 1e-4
    public var discriminatorLearningRate: Float = 4e-4
    public var beta1: Float = 0
    public var beta2: Float = 0.9
    public var featureMatchingWeight: Float = 10
    public var kullbackLeiblerWeight: Float = 0.05
    /// G of the KL term's scale, λ_kld × G × (mean over the batch of each sample's KL sum): the
    /// reference's per-GPU batch (2 in its published DeepFashion run; 1 reproduces a run with
    /// one sample per GPU), whatever this run's batch and however many processes run it. nil,
    /// in options saved before the setting existed, means the run's batch size (what those
    /// runs did: the KL summed over the batch).
    public var kullbackLeiblerDeviceBatch: Int? = 2
    /// Mirror each training sample left to right with probability ½ (the reference's default;
    /// `--no-flip` turns it off). nil, in options saved before the setting existed, means off:
    /// those runs did not flip.
    public var flip: Bool? = true
    /// A safetensors file of torchvision's VGG19 `features` weights; when set, the G loss gains
    /// the VGG perceptual term (see ``GroupDNet/VGG19Features``). Not copied into checkpoints.
    public var vggWeightsPath: String?
    /// The convolutions' product precision (`--precision`): nil or float32, the reference's
    /// numerics; bf16, bfloat16 products with float32 accumulation and float32 weights, on a CPU
    /// with AVX512-BF16 (see ``Tensor/ConvolutionPrecision``). Saved, so that a resume keeps it.
    public var precision: ConvolutionPrecision?
    /// λ_vgg; nil means the reference's 10. Optional (like the path) so that the options saved
    /// in checkpoints from before the VGG term still decode and resume.
    public var vggWeight: Float?
    // What the run shows while it trains (TrainingMonitor). nil means the default, so that
    // options saved before these settings existed still decode; none of them changes the
    // weights, so a resume may change them.
    /// TensorBoard images of the fixed samples every this many steps (default 100).
    public var sampleEvery: Int?
    /// Fixed samples (validation label maps) shown in TensorBoard and on the page (default 4;
    /// 0 shows none).
    public var sampleCount: Int?
    /// Validation losses every this many steps; nil or 0 (the default) computes none.
    public var validationEvery: Int?
    /// Validation records the losses are computed on, spread over the split (default 32).
    public var validationRecords: Int?

    public init(preset: TrainingPreset, shardsDirectory: String, runDirectory: String) {
        self.preset = preset
        self.shardsDirectory = shardsDirectory
        self.runDirectory = runDirectory
        constantEpochs = preset.constantEpochs
        decayEpochs = preset.decayEpochs
    }

    /// The samples of one iteration over every process: what one process would train on at
    /// the same step, and what the schedule's epoch counts.
    public var globalBatchSize: Int { batchSize * (ranks ?? 1) }

    public var lossWeights: LossWeights {
        // Runs from before the setting summed the KL over their batch, on one process.
        LossWeights(
            featureMatching: featureMatchingWeight, kullbackLeibler: kullbackLeiblerWeight, vgg: vggWeight ?? 10,
            kullbackLeiblerDeviceBatch: kullbackLeiblerDeviceBatch ?? globalBatchSize)
    }

    /// Whether the training samples are mirrored at random (see ``flip``).
    public var flips: Bool { flip ?? false }

    public static let defaultSampleEvery = 100
    public static let defaultSampleCount = 4
    public static let defaultValidationRecords = 32
    public var effectiveSampleEvery: Int { sampleEvery ?? Self.defaultSampleEvery }
    public var effectiveSampleCount: Int { sampleCount ?? Self.defaultSampleCount }
    public var effectiveValidationRecords: Int { validationRecords ?? Self.defaultValidationRecords }
    /// The validation interval, nil when validation is off.
    public var effectiveValidationEvery: Int? { validationEvery.flatMap { $0 > 0 ? $0 : nil } }

    /// The names of the settings that differ from a fresh `TrainingOptions` of the same preset
    /// and folders (the reference's `opt.txt` marks them "[default: …]").
    public var nonDefaultNames: [String] {
        let defaults = TrainingOptions(preset: preset, shardsDirectory: shardsDirectory, runDirectory: runDirectory)
        let mine = Self.fields(self), theirs = Self.fields(defaults)
        return mine.keys.filter { mine[$0] != theirs[$0] }.sorted()
    }

    private static func fields(_ options: TrainingOptions) -> [String: String] {
        guard let data = try? JSONEncoder().encode(options),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object.mapValues { "\($0)" }
    }

    /// Writes `options.json` (these options plus `nonDefault` and the model configuration)
    /// atomically into the run folder.
    public func writeEffectiveOptions(to url: URL) throws {
        struct File: Encodable {
            var options: TrainingOptions
            var nonDefault: [String]
            var configuration: GroupDNetConfiguration
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let file = File(options: self, nonDefault: nonDefaultNames, configuration: preset.configuration)
        try AtomicFileWriter.write(encoder.encode(file), to: url.path)
    }
}
