/// Bounds on the numbers of a run's options, far beyond any real run. `smis train` checks the
/// command line against them, and a checkpoint's `state.json` (the options a `--resume`
/// continues with, from a file that may come from someone else) is refused outside them:
/// they keep the step arithmetic from overflowing and the batch buffers finite.
extension TrainingOptions {
    public static let maximumEpochs = 1_000_000
    public static let maximumBatchSize = 65_536
    public static let maximumRanks = 65_536
    public static let maximumKullbackLeiblerDeviceBatch = 4096
    public static let maximumSamples = 64
    public static let maximumValidationRecords = 100_000

    /// The first option outside its bound, described for an error message; nil when all fit.
    public var outOfBounds: String? {
        func outside(_ name: String, _ value: Int?, _ range: ClosedRange<Int>) -> String? {
            guard let value, !range.contains(value) else { return nil }
            return "\(name) \(value) is outside \(range.lowerBound)...\(range.upperBound)"
        }
        func notFinite(_ name: String, _ value: Float?) -> String? {
            guard let value, !value.isFinite else { return nil }
            return "\(name) \(value) is not a finite number"
        }
        let problems: [String?] = [
            outside("batchSize", batchSize, 1...Self.maximumBatchSize),
            outside("ranks", ranks, 1...Self.maximumRanks),
            outside("the global batch", globalBatchSizeIfFinite, 1...Self.maximumBatchSize),
            outside("constantEpochs", constantEpochs, 0...Self.maximumEpochs),
            outside("decayEpochs", decayEpochs, 0...Self.maximumEpochs),
            constantEpochs + decayEpochs == 0 ? "constantEpochs and decayEpochs are both 0" : nil,
            outside("maxSteps", maxSteps, 1...Int.max),
            outside("saveEvery", saveEvery, 1...Int.max),
            outside(
                "kullbackLeiblerDeviceBatch", kullbackLeiblerDeviceBatch, 1...Self.maximumKullbackLeiblerDeviceBatch),
            outside("sampleEvery", sampleEvery, 1...Int.max),
            outside("sampleCount", sampleCount, 0...Self.maximumSamples),
            outside("validationEvery", validationEvery, 0...Int.max),
            outside("validationRecords", validationRecords, 1...Self.maximumValidationRecords),
            notFinite("generatorLearningRate", generatorLearningRate),
            notFinite("discriminatorLearningRate", discriminatorLearningRate),
            notFinite("beta1", beta1), notFinite("beta2", beta2),
            notFinite("featureMatchingWeight", featureMatchingWeight),
            notFinite("kullbackLeiblerWeight", kullbackLeiblerWeight), notFinite("vggWeight", vggWeight)
        ]
        return problems.lazy.compactMap { $0 }.first
    }

    /// batchSize × ranks, Int.max when the product overflows.
    private var globalBatchSizeIfFinite: Int {
        let (product, overflow) = batchSize.multipliedReportingOverflow(by: ranks ?? 1)
        return overflow ? Int.max : product
    }
}
