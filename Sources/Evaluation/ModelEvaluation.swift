import Dispatch
import Foundation
import GroupDNet
import ImageIO
import Records
import Tensor
import Training

/// The settings of ``ModelEvaluation``; the defaults are the ones the README states.
public struct ModelEvaluationOptions: Sendable {
    /// The shard split whose label maps drive generation and whose photos are FID's real set.
    public var split = "validation"
    /// At most this many label maps, spread evenly over the split (nil: all of them).
    public var limit: Int?
    /// LPIPS diversity: image pairs per label map, each pair from two independent full z.
    public var pairsPerMap = 1
    /// mCSD / mOCD: images per class and label map, resampling only that class's latent.
    public var samplesPerClass = 3
    public var region = RegionRestriction.maskImages
    /// FPS: generator runs timed at batch 1 after one warm-up run.
    public var timedRuns = 3
    /// Records of another size than the model's are resampled (label nearest, photo bicubic).
    public var resize = false
    public var seed: UInt64 = 0
    /// Label maps whose images ``ModelEvaluation/reportedMaps`` keeps for a report.
    public var reportedMaps = 0

    public init() {}
}

/// The metrics of Table 1 for one checkpoint.
public struct ModelEvaluationResult: Codable, Equatable, Sendable {
    public var fid, mcsd, mocd, lpips, fps: Double
    /// Trainable values of G and E.
    public var parameters: Int
    /// Label maps used (= generated images in FID's fake set = real photos in its real set).
    public var images: Int
    public var split: String
    public var region: String
    public var pairsPerMap, samplesPerClass: Int
}

/// Generates a split's images with a trained GroupDNet and measures them. For each label map
/// of the split (record r): one image from z₀ ~ N(0, I) for FID against the record's photo;
/// `pairsPerMap` pairs of images from fresh z for LPIPS diversity; for every class present,
/// `samplesPerClass` images resampling only that class's channels of z₀ for mCSD / mOCD. Every
/// z comes from (seed, r, purpose, index) alone, so results do not depend on the order.
public final class ModelEvaluation {
    let synthesizer: ImageSynthesizer
    let inception: FIDInception
    let lpips: LPIPS
    let options: ModelEvaluationOptions
    /// The first `options.reportedMaps` label maps with their images, after ``run(shards:progress:)``.
    public private(set) var reportedMaps: [EvaluatedLabelMap] = []

    public init(
        synthesizer: ImageSynthesizer, inception: FIDInception, lpips: LPIPS, options: ModelEvaluationOptions
    ) {
        (self.synthesizer, self.inception, self.lpips, self.options) = (synthesizer, inception, lpips, options)
    }

    /// Runs the evaluation on the shards in `directory`; `progress` receives one line per label map.
    /// Records are decoded one at a time and the photos go through Inception in batches as
    /// they come, so memory holds features (8 KB per image), not the split's photos.
    public func run(shards directory: URL, progress: (String) -> Void = { _ in }) throws -> ModelEvaluationResult {
        let records = try RecordReader(
            directory: directory, options: options, configuration: synthesizer.configuration)
        reportedMaps = []
        var real = FeatureBatches(network: inception), fake = FeatureBatches(network: inception)
        var pairDistances: [Double] = [], classes: [ClassDiversity] = []
        var firstLabel: LabelMap?
        for number in 0..<records.count {
            let record = try records.read(number)
            firstLabel = firstLabel ?? record.label
            var random = RandomSource(seed: options.seed, keys: UInt64(number), 0)
            let z = synthesizer.randomLatent(using: &random)
            let image = try synthesizer.image(label: record.label, z: z)
            try real.add(record.photo)
            try fake.add(image)
            pairDistances.append(try diversity(record.label, first: image, number: number))
            let resamples = try classResamples(record.label, z: z, number: number)
            classes += resamples.map(\.diversity)
            if number < options.reportedMaps {
                reportedMaps.append(
                    EvaluatedLabelMap(key: record.key, label: record.label, image: image, resamples: resamples))
            }
            progress("evaluated label map \(number + 1)/\(records.count) (\(record.key))")
        }
        let fid = try FrechetDistance.distance(
            FeatureStatistics(features: real.finish(), dimension: FIDInception.featureCount),
            FeatureStatistics(features: fake.finish(), dimension: FIDInception.featureCount))
        let (mcsd, mocd) = DiversityMetrics.meanOverClasses(classes)
        return ModelEvaluationResult(
            fid: fid, mcsd: mcsd, mocd: mocd, lpips: pairDistances.reduce(0, +) / Double(pairDistances.count),
            fps: try framesPerSecond(firstLabel!),
            parameters: synthesizer.generator.parameterCount + synthesizer.encoder.parameterCount,
            images: records.count, split: options.split, region: options.region.rawValue,
            pairsPerMap: options.pairsPerMap, samplesPerClass: options.samplesPerClass)
    }

    /// Mean LPIPS of `pairsPerMap` pairs from independent z (the first pair reuses `first`).
    private func diversity(_ label: LabelMap, first: Image, number: Int) throws -> Double {
        var random = RandomSource(seed: options.seed, keys: UInt64(number), 1)
        var total = 0.0
        for pair in 0..<options.pairsPerMap {
            let a =
                pair == 0 ? first : try synthesizer.image(label: label, z: synthesizer.randomLatent(using: &random))
            let b = try synthesizer.image(label: label, z: synthesizer.randomLatent(using: &random))
            total += Double(try lpips.distance(photos: a, b))
        }
        return total / Double(options.pairsPerMap)
    }

    /// The resamples of every class present in `label`, with their CSD and OCD.
    private func classResamples(
        _ label: LabelMap, z: Tensor, number: Int
    ) throws -> [(classIndex: Int, images: [Image], diversity: ClassDiversity)] {
        let present = Set(label.values).sorted()
        return try present.map { value in
            var random = RandomSource(seed: options.seed, keys: UInt64(number), 2, UInt64(value))
            let images = try (0..<options.samplesPerClass).map { _ in
                try synthesizer.image(
                    label: label, z: synthesizer.resampling(z, classIndex: Int(value), using: &random))
            }
            let samples = ClassResamples(
                classIndex: Int(value), region: label.values.map { $0 == value }, images: images)
            let diversity = try DiversityMetrics.classDiversity(samples, network: lpips, restriction: options.region)
            return (Int(value), images, diversity)
        }
    }

    /// Generator images per second at batch 1, after one warm-up run.
    private func framesPerSecond(_ label: LabelMap) throws -> Double {
        var random = RandomSource(seed: options.seed, keys: 3)
        let z = synthesizer.randomLatent(using: &random)
        _ = try synthesizer.image(label: label, z: z)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<options.timedRuns { _ = try synthesizer.image(label: label, z: z) }
        return Double(options.timedRuns) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// The split's records (spread evenly when limited), decoded one at a time at the model's size.
struct RecordReader {
    let set: ShardSet
    let directory: URL
    let count: Int
    let resize: Bool
    let width: Int, height: Int

    init(directory: URL, options: ModelEvaluationOptions, configuration: GroupDNetConfiguration) throws {
        set = try ShardSet(directory: directory, split: options.split)
        self.directory = directory
        count = min(set.count, options.limit ?? set.count)
        guard count >= 2 else {
            throw EvaluationError.insufficientData(
                reason: "\(directory.path): the \(options.split) split has \(set.count) records; FID needs at least 2")
        }
        resize = options.resize
        (width, height) = (configuration.imageWidth, configuration.imageHeight)
    }

    /// The `number`-th of the `count` records spread over the split.
    func read(_ number: Int) throws -> (key: String, label: LabelMap, photo: Image) {
        let view = try set.segmentationRecord(at: number * set.count / count)
        var (photo, label) = try view.decoded()
        if label.width != width || label.height != height {
            guard resize else {
                throw EvaluationError.invalidInput(
                    reason: "\(directory.path): record \(view.key) is \(label.width)×\(label.height), the model "
                        + "makes \(width)×\(height) (pass --resize to resample)")
            }
            (photo, label) = (photo.resized(width: width, height: height), label.resized(width: width, height: height))
        }
        return (view.key, label, photo)
    }
}

/// Inception features of photos added one by one, computed `batchSize` at a time.
struct FeatureBatches {
    let network: FIDInception
    var batchSize = 8
    private var pending: [Image] = []
    private var features: [Float] = []

    init(network: FIDInception) { self.network = network }

    mutating func add(_ image: Image) throws {
        pending.append(image)
        if pending.count == batchSize { try flush() }
    }

    /// Every added photo's features, in order.
    mutating func finish() throws -> [Float] {
        try flush()
        return features
    }

    private mutating func flush() throws {
        guard !pending.isEmpty else { return }
        features += try network.features(batchTensor(pending, scale: 1 / 255, shift: 0))
        pending.removeAll()
    }
}
