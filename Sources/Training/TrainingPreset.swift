import GroupDNet

/// A named model size with its default schedule: what `--preset` chooses.
public enum TrainingPreset: String, Codable, CaseIterable, Sendable {
    /// The paper's DeepFashion model (256 × 256, 8 classes): 60 constant epochs, 40 decaying.
    case deepfashion
    /// The same architecture at 64 × 64 and a few channels, for tests and demos: 1 + 1 epochs.
    case tiny
    /// The reference's Cityscapes model (512 × 256, 35 classes and instance edges): 100 + 100.
    case cityscapes
    /// The reference's ADE20K model (256 × 256, 151 classes, random 256 crops of 286): 100 + 100.
    case ade20k
    /// The Cityscapes layout at 128 × 64 and a narrower E and D, for tests and demos: 1 + 1.
    case cityscapesTiny = "cityscapes-tiny"
    /// The ADE20K layout at 64 × 64 with ngf 4, for tests and demos: 1 + 1.
    case ade20kTiny = "ade20k-tiny"

    public var configuration: GroupDNetConfiguration {
        switch self {
        case .deepfashion: return .deepFashion
        case .tiny: return .tiny
        case .cityscapes: return .cityscapes
        case .ade20k: return .ade20k
        case .cityscapesTiny: return .cityscapesTiny
        case .ade20kTiny: return .ade20kTiny
        }
    }

    /// Epochs at the full learning rate (the reference's `niter`; the seed's scripts for
    /// Cityscapes and ADE20K: 200 epochs, decaying from the 100th).
    public var constantEpochs: Int {
        switch self {
        case .deepfashion: return 60
        case .cityscapes, .ade20k: return 100
        case .tiny, .cityscapesTiny, .ade20kTiny: return 1
        }
    }

    /// Epochs of linear decay to zero after them (the reference's `niter_decay`).
    public var decayEpochs: Int {
        switch self {
        case .deepfashion: return 40
        case .cityscapes, .ade20k: return 100
        case .tiny, .cityscapesTiny, .ade20kTiny: return 1
        }
    }

    /// Whether training takes random crops of the model's size from larger records, as the
    /// reference's ADE20K data (`resize_and_crop`: load 286, crop 256) does; other presets
    /// take records of the model's size.
    public var cropsTrainingSamples: Bool { self == .ade20k || self == .ade20kTiny }
}
