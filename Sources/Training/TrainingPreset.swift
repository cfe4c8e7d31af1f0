import GroupDNet

/// A named model size with its default schedule: what `--preset` chooses.
public enum TrainingPreset: String, Codable, CaseIterable, Sendable {
    /// The paper's DeepFashion model (256 × 256, 8 classes): 60 constant epochs, 40 decaying.
    case deepfashion
    /// The same architecture at 64 × 64 and a few channels, for tests and demos: 1 + 1 epochs.
    case tiny

    public var configuration: GroupDNetConfiguration {
        switch self {
        case .deepfashion: return .deepFashion
        case .tiny: return .tiny
        }
    }

    /// Epochs at the full learning rate (the reference's `niter`).
    public var constantEpochs: Int { self == .deepfashion ? 60 : 1 }
    /// Epochs of linear decay to zero after them (the reference's `niter_decay`).
    public var decayEpochs: Int { self == .deepfashion ? 40 : 1 }
}
