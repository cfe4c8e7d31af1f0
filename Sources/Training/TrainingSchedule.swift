import Tensor

/// Which epoch a step belongs to, the learning rates of that epoch, and when the run ends.
///
/// The shards stream without end (the reader crosses epochs by itself), so an epoch here is
/// `stepsPerEpoch = max(1, trainRecords / globalBatchSize)` steps, as the reference's loader with
/// `drop_last`. Step s (0-based, the number of steps done before it) is in epoch
/// s / stepsPerEpoch + 1. Rates follow SPADE: constant for `constantEpochs`, then linear
/// decay to zero over `decayEpochs` (see ``LearningRateSchedule``), for G+E and D alike.
public struct TrainingSchedule: Equatable {
    public let stepsPerEpoch: Int
    public let constantEpochs: Int
    public let decayEpochs: Int
    public let generator: LearningRateSchedule
    public let discriminator: LearningRateSchedule
    /// The step count at which the run stops: every epoch's steps, or `maxSteps` when smaller.
    public let lastStep: Int

    public init(trainRecords: Int, options: TrainingOptions) {
        stepsPerEpoch = max(1, trainRecords / max(1, options.globalBatchSize))
        constantEpochs = options.constantEpochs
        decayEpochs = options.decayEpochs
        generator = .constantThenLinearDecay(base: options.generatorLearningRate, constantEpochs: constantEpochs, decayEpochs: decayEpochs)
        discriminator = .constantThenLinearDecay(base: options.discriminatorLearningRate, constantEpochs: constantEpochs, decayEpochs: decayEpochs)
        let allEpochs = stepsPerEpoch * (constantEpochs + decayEpochs)
        lastStep = min(allEpochs, options.maxSteps ?? .max)
    }

    /// The 1-based epoch of the step that follows `stepsDone` steps.
    public func epoch(afterSteps stepsDone: Int) -> Int { stepsDone / stepsPerEpoch + 1 }

    /// (G+E, D) learning rates for that step.
    public func learningRates(afterSteps stepsDone: Int) -> (generator: Float, discriminator: Float) {
        let epoch = epoch(afterSteps: stepsDone)
        return (generator.rate(epoch: epoch), discriminator.rate(epoch: epoch))
    }
}

/// When to write a checkpoint: every `interval` steps, and always when the run ends or is
/// interrupted (the trainer handles those two).
public struct SaveCadence: Equatable, Sendable {
    public let interval: Int
    public init(every interval: Int) { self.interval = max(1, interval) }
    /// Whether to save after the step that brought the count to `stepsDone`.
    public func shouldSave(afterSteps stepsDone: Int) -> Bool { stepsDone % interval == 0 }
}
