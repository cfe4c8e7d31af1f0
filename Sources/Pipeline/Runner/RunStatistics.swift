import Foundation
import ImageIO
import Statistics

/// Statistics of a prepared set, gathered while the pipeline writes it and stored as
/// `report.json`'s `statistics`.
///
/// Labels are taken from memory (the PNG is lossless, so they equal the files). Photos are
/// decoded back from the JPEG bytes just written (a 256×256 decode, small beside the full-size
/// decode before it): the figures then describe the stored set, so they equal a later
/// `smisprep stats` of the folder and the manifest of its shards, bit for bit.
///
/// `smisprep deepfashion` and `smisprep run` attach one to every whole run, not to worker
/// slices, whose statistics `smisprep merge` would replace by a scan of the joined folder.
/// `bench-pipeline` attaches one to each of its slices, so that it measures a whole run.
public final class RunStatistics: @unchecked Sendable {
    private let shared: SharedStatisticsAccumulator
    private let classNames: [String]
    private let output: String
    private let skipped: @Sendable (String) -> Void

    /// - Parameter skipped: told, one line each, of the samples a scan of the folder could not
    ///   read (a resumed run scans instead of observing; see `attach(to:)`).
    public init(configuration: PipelineConfiguration, skipped: @escaping @Sendable (String) -> Void) {
        self.skipped = skipped
        classNames = configuration.classMapping.names
        shared = SharedStatisticsAccumulator(StatisticsAccumulator(classNames: classNames))
        output = configuration.output!
    }

    /// Feeds every kept sample to the accumulator and puts the result into the report.
    public func attach(to runner: PipelineRunner) {
        runner.observer = { [self] sample, storedPhoto in observe(sample, storedPhoto: storedPhoto) }
        runner.completeReport = { [self] report in report.statistics = try statistics(for: report) }
    }

    private func observe(_ sample: PreparedSample, storedPhoto: [UInt8]?) {
        var photo = sample.photo
        if let storedPhoto {
            // The bytes were just encoded; failing to decode them would be a bug, and the
            // in-memory photo is then the closest stand-in.
            let decoded = try? storedPhoto.withUnsafeBytes { try Image(decoding: $0, source: sample.flatStem) }
            photo = decoded ?? sample.photo
        }
        shared.add(label: sample.label, photo: photo, partition: Self.partition(of: sample.split), key: sample.flatStem)
    }

    /// The observed statistics when this run saw every kept sample; after a resume the earlier
    /// samples were not observed, so a whole run scans its folder instead, and a worker slice
    /// leaves it to `smisprep merge` (which scans the joined folder).
    private func statistics(for report: RunReport) throws -> DatasetStatistics? {
        if report.resumed == 0 { return shared.finish() }
        return report.workers == 1 ? try Self.scan(preparedFolder: output, threads: 2, skipped: skipped) : nil
    }

    /// The partition names of `DatasetListing.prepared`: `train` and `val`.
    public static func partition(of split: DataSplit) -> String { split == .train ? "train" : "val" }

    /// Statistics of a prepared folder read from its files (what `smisprep stats OUT` shows).
    /// Samples that could not be read are left out and passed to `skipped`, one line each.
    public static func scan(
        preparedFolder: String, threads: Int, skipped: (String) -> Void
    ) throws -> DatasetStatistics {
        let listing = try DatasetListing.prepared(at: preparedFolder)
        let empty = StatisticsAccumulator(classNames: listing.classNames ?? DatasetListing.defaultTargetClasses)
        let result = StatisticsScan.run(listing.samples, into: empty, threads: threads)
        for item in result.skipped { skipped("statistics: skipped \(item)") }
        return result.accumulator.finish()
    }
}
