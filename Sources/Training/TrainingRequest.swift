import Foundation
import Tensor

/// What `smis train` was asked for: the options given on the command line, nil (or false)
/// where one was not given.
///
/// A fresh run fills the gaps with the defaults. A resumed run fills them from the options
/// it was started with (saved in its checkpoint), so `smis train --out RUN --resume` alone
/// continues exactly the run that was stopped. An option given again must agree with the
/// saved one, except those that change nothing already learnt: where the run stops
/// (`--max-steps`), how often it saves, where the shards are (their content is checked by
/// digest), where the VGG weights file is, and what it shows while it trains (samples and
/// validation).
///
/// A run may resume on another number of processes: it keeps its global batch, which is
/// divided among them (and refused when it does not divide evenly).
public struct TrainingRequest: Equatable, Sendable {
    public var shardsDirectory: String
    public var runDirectory: String
    public var preset: TrainingPreset?
    public var batchSize: Int?
    /// `--resize` is a flag: true when given.
    public var resizeToModel = false
    public var constantEpochs: Int?
    public var decayEpochs: Int?
    public var maxSteps: Int?
    public var seed: UInt64?
    public var saveEvery: Int?
    public var vggWeightsPath: String?
    public var vggWeight: Float?
    public var sampleEvery: Int?
    public var sampleCount: Int?
    public var validationEvery: Int?
    public var validationRecords: Int?
    /// `--no-flip` is a flag: false when given.
    public var flip: Bool?
    public var kullbackLeiblerDeviceBatch: Int?
    public var precision: ConvolutionPrecision?
    /// The processes this run is started on (not an option: the launcher's count).
    public var ranks = 1

    public init(shardsDirectory: String, runDirectory: String) {
        self.shardsDirectory = shardsDirectory
        self.runDirectory = runDirectory
    }

    /// The options of a new run: what was given, defaults for the rest.
    public func freshOptions() -> TrainingOptions {
        let preset = self.preset ?? .deepfashion
        var options = TrainingOptions(preset: preset, shardsDirectory: shardsDirectory, runDirectory: runDirectory)
        options.batchSize = batchSize ?? options.batchSize
        options.ranks = ranks > 1 ? ranks : nil
        options.resizeToModel = resizeToModel
        options.constantEpochs = constantEpochs ?? preset.constantEpochs
        options.decayEpochs = decayEpochs ?? preset.decayEpochs
        options.maxSteps = maxSteps
        options.seed = seed ?? options.seed
        options.saveEvery = saveEvery ?? options.saveEvery
        options.vggWeightsPath = vggWeightsPath
        options.vggWeight = vggWeight
        (options.sampleEvery, options.sampleCount) = (sampleEvery, sampleCount)
        (options.validationEvery, options.validationRecords) = (validationEvery, validationRecords)
        options.flip = flip ?? options.flip
        options.kullbackLeiblerDeviceBatch = kullbackLeiblerDeviceBatch ?? options.kullbackLeiblerDeviceBatch
        options.precision = precision == .bfloat16 ? .bfloat16 : nil
        return options
    }

    /// The options to continue a run started with `saved`: the saved ones, with the few that
    /// may change replaced by what was given, and the global batch divided among ``ranks``.
    /// Throws ``TrainingError/runFolder(path:reason:hint:)`` listing every given option that
    /// contradicts the saved run, or when the global batch does not divide among the ranks.
    public func resumedOptions(saved: TrainingOptions) throws -> TrainingOptions {
        let perRank = try batchPerRank(saved: saved)
        var conflicts: [String] = []
        func check<Value: Equatable>(_ flag: String, _ given: Value?, _ started: Value, _ show: (Value) -> String) {
            if let given, given != started { conflicts.append("\(flag) \(show(given)) (the run has \(show(started)))") }
        }
        check("--preset", preset, saved.preset) { $0.rawValue }
        if (saved.ranks ?? 1) == ranks {
            check("--batch-size", batchSize, saved.batchSize) { "\($0)" }
        } else if let batchSize, batchSize != perRank {
            conflicts.append(
                "--batch-size \(batchSize) (the run's global batch of \(saved.globalBatchSize) is "
                    + "\(perRank) per rank on \(ranks) ranks)")
        }
        check("--epochs", constantEpochs, saved.constantEpochs) { "\($0)" }
        check("--decay-epochs", decayEpochs, saved.decayEpochs) { "\($0)" }
        check("--seed", seed, saved.seed) { "\($0)" }
        check("--lambda-vgg", vggWeight, saved.vggWeight ?? 10) { "\($0)" }
        let deviceBatch = saved.kullbackLeiblerDeviceBatch ?? saved.globalBatchSize
        check("--kl-device-batch", kullbackLeiblerDeviceBatch, deviceBatch) { "\($0)" }
        check("--precision", precision, saved.precision ?? .float32) { $0.rawValue }
        if flip == false && saved.flips { conflicts.append("--no-flip (the run flips its samples)") }
        if resizeToModel && !saved.resizeToModel { conflicts.append("--resize (the run was started without it)") }
        if vggWeightsPath != nil && saved.vggWeightsPath == nil {
            conflicts.append("--vgg-weights (the run was started without the VGG loss)")
        }
        guard conflicts.isEmpty else {
            throw TrainingError.runFolder(
                path: runDirectory,
                reason: "--resume continues the run with the options it was started with, and these differ: "
                    + conflicts.joined(separator: "; "),
                hint: "leave them out (options.json lists the run's), or start a new run with another --out")
        }
        var options = saved
        if (saved.ranks ?? 1) != ranks {
            // The global batch, hence the schedule and the KL scale, stays the run's.
            options.batchSize = perRank
            options.ranks = ranks > 1 ? ranks : nil
        }
        options.runDirectory = runDirectory
        options.shardsDirectory = shardsDirectory
        options.maxSteps = maxSteps ?? saved.maxSteps
        options.saveEvery = saveEvery ?? saved.saveEvery
        options.vggWeightsPath = vggWeightsPath ?? saved.vggWeightsPath
        options.sampleEvery = sampleEvery ?? saved.sampleEvery
        options.sampleCount = sampleCount ?? saved.sampleCount
        options.validationEvery = validationEvery ?? saved.validationEvery
        options.validationRecords = validationRecords ?? saved.validationRecords
        return options
    }

    /// The saved run's global batch divided among ``ranks``, or the refusal when it does not
    /// divide evenly (another global batch would be another training).
    private func batchPerRank(saved: TrainingOptions) throws -> Int {
        let global = saved.globalBatchSize
        guard global % ranks == 0 else {
            let divisors = (1...global).filter { global % $0 == 0 }.map(String.init)
            let started =
                (saved.ranks ?? 1) == 1
                ? "batch \(global) on one process"
                : "\(saved.ranks ?? 1) ranks × batch \(saved.batchSize)"
            throw TrainingError.runFolder(
                path: runDirectory,
                reason: "--resume on \(ranks) ranks cannot keep the run's global batch of \(global) (\(started)): "
                    + "\(global) samples do not divide evenly among \(ranks) ranks",
                hint: "resume on \(divisors.joined(separator: ", ")) ranks, or start a new run with another --out")
        }
        return global / ranks
    }
}
