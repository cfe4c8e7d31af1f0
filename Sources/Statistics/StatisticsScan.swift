import Foundation
import ImageIO

/// Reads samples from files and accumulates their statistics on several threads.
public enum StatisticsScan {
    /// What a scan gathered: the merged accumulator and every sample it skipped.
    public struct Result: Sendable {
        public var accumulator: StatisticsAccumulator
        /// Samples whose label map could not be decoded (skipped whole), or whose photo could
        /// not (kept as a label-only sample, and listed here too); `file` names the file.
        public var skipped: [SkippedSample]
    }

    /// Decodes every sample and feeds it to an accumulator; `threads` threads each take an
    /// interleaved share of `samples` with their own accumulator, merged at the end.
    /// A bad file never stops the scan: it is listed in `skipped` with the decoder's message.
    ///
    /// `progress`, when given, is called with the number of samples done (kept or skipped) every
    /// `progressInterval` samples, from the scanning threads (one at a time).
    public static func run(
        _ samples: [SampleFiles], into empty: StatisticsAccumulator, threads: Int = 2, limits: DecodeLimits = .default,
        progressInterval: Int = 500, progress: (@Sendable (Int) -> Void)? = nil
    ) -> Result {
        let threadCount = max(1, min(threads, samples.count))
        let slots = ResultSlots(count: threadCount)
        let counter = ProgressCounter(interval: max(1, progressInterval), report: progress)
        DispatchQueue.concurrentPerform(iterations: threadCount) { thread in
            var accumulator = empty
            var skipped: [SkippedSample] = []
            for index in stride(from: thread, to: samples.count, by: threadCount) {
                defer { counter.step() }
                let sample = samples[index]
                let label: LabelMap
                do {
                    label = try LabelMap(contentsOfFile: sample.labelPath, limits: limits)
                } catch {
                    skipped.append(SkippedSample(stem: sample.key, file: sample.labelPath, reason: "\(error)"))
                    continue
                }
                var photo: Image?
                if let photoPath = sample.photoPath {
                    do {
                        photo = try Image(contentsOfFile: photoPath, limits: limits)
                    } catch {
                        skipped.append(SkippedSample(
                            stem: sample.key, file: photoPath, reason: "photo ignored, label kept: \(error)"))
                    }
                }
                accumulator.add(label: label, photo: photo, partition: sample.partition, key: sample.key)
            }
            slots.store(thread, accumulator: accumulator, skipped: skipped)
        }
        var merged = empty
        var skipped: [SkippedSample] = []
        for (accumulator, skips) in slots.contents() {
            merged.merge(accumulator)
            skipped += skips
        }
        let byFile = skipped.sorted { ($0.file ?? "", $0.reason) < ($1.file ?? "", $1.reason) }
        return Result(accumulator: merged, skipped: byFile)
    }
}

/// Counts finished samples across threads and reports every `interval`-th.
private final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private let interval: Int
    private let report: (@Sendable (Int) -> Void)?
    private var done = 0

    init(interval: Int, report: (@Sendable (Int) -> Void)?) {
        self.interval = interval
        self.report = report
    }

    func step() {
        guard let report else { return }
        lock.lock()
        defer { lock.unlock() }
        done += 1
        if done % interval == 0 { report(done) }
    }
}

/// Per-thread results, written once each under a lock.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [(StatisticsAccumulator, [SkippedSample])?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, accumulator: StatisticsAccumulator, skipped: [SkippedSample]) {
        lock.lock()
        slots[index] = (accumulator, skipped)
        lock.unlock()
    }

    func contents() -> [(StatisticsAccumulator, [SkippedSample])] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}

extension DatasetStatistics {
    /// The `statistics` object of a shard set's `manifest.json`, read without scanning shards.
    /// Accepts the statistics object itself or, when the shard writer stored a pipeline report
    /// there, the report's own `statistics` object.
    /// - Throws: `StatisticsError.malformedJSON` naming the manifest when it is unreadable or
    ///   has no `statistics` object; `.unsupportedSchemaVersion` for a newer schema.
    public static func fromManifest(at path: String) throws -> DatasetStatistics {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw StatisticsError.malformedJSON(source: path, message: "\(error)")
        }
        // The statistics object itself, or a pipeline report that embeds one under the same key.
        guard let manifest = object as? [String: Any], var statistics = manifest["statistics"] as? [String: Any],
            !statistics.isEmpty
        else {
            throw StatisticsError.malformedJSON(
                source: path, message: "the manifest stores no statistics (scan the prepared folder instead)")
        }
        if statistics["schemaVersion"] == nil, let embedded = statistics["statistics"] as? [String: Any] {
            statistics = embedded
        }
        let data = try JSONSerialization.data(withJSONObject: statistics)
        return try decode(fromJSON: data, source: "\(path) \"statistics\"")
    }
}
