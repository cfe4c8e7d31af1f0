import Foundation
import ImageIO
import Records
import Statistics

/// The pipeline's optional last stage: packs a prepared folder (`PreparedLayout`) into a shard
/// set with `Records.ShardSetWriter`. One code path for `smisprep shard` and for `smisprep run`
/// and `smisprep deepfashion` with `outputs.shards`.
///
/// It lives in Pipeline, which depends on Records, because it joins the two: the prepared
/// layout and its `classes.json` and `pipeline.yaml` are the pipeline's, the shard format is
/// Records', and Records knows nothing of the pipeline.
///
/// Train samples become `train-NNNNN` shards, validation samples `validation-NNNNN`; a set
/// prepared with instance maps (`train_instance/`, `test_instance/`) stores them in its records
/// and says so in the manifest's settings (`"instance": "png"`). A re-run
/// keeps every shard whose inputs (path, size, modification time) and settings are unchanged
/// and whose bytes still hash as journaled, so re-sharding after a change costs only the shards
/// that changed. Bad inputs never stop the stage: a photo without its label map (or the reverse)
/// and a file the writer cannot read or decode are skipped and listed in `Outcome.skipped`;
/// every other sample is written and the manifest lists it.
public struct ShardStage {
    public var settings: ShardSettings
    /// Encoding threads (the shards do not depend on it).
    public var jobs: Int
    /// Stored in the manifest, e.g. "smisprep 0.1.0".
    public var toolVersion: String
    /// Called after each shard is written or kept (see `ShardSetWriter.ShardProgress`).
    public var progress: ((ShardSetWriter.ShardProgress) -> Void)?

    public init(settings: ShardSettings, jobs: Int, toolVersion: String) {
        self.settings = settings
        self.jobs = max(1, jobs)
        self.toolVersion = toolVersion
    }

    public struct Outcome {
        /// What the writer did: the manifest, shards written and kept, records, bytes.
        public var writer: ShardSetWriter.Result
        /// Every prepared sample left out (split, prepared file stem, and why: "photo or label
        /// missing", or the reader's or decoder's error naming the file), in split then stem
        /// order.
        public var skipped: [SkippedSample]
        /// Path of the `manifest.json` written, inside `settings.directory` as given.
        public var manifestPath: String
    }

    /// Writes the shards of `preparedFolder` and then the manifest, with `statistics` stored
    /// as the manifest's `statistics` unchanged (pass the run's `report.json` statistics, so the
    /// set is not read a second time).
    ///
    /// A split whose photo folder is absent is left out (a set without validation samples has
    /// no `test/`). The manifest's `pipeline` is the folder's `pipeline.yaml`, when present.
    /// - Throws: `ShardStageError` when the folder has no class list or no split at all;
    ///   `RecordsError` when a folder cannot be listed or a shard cannot be written (a full
    ///   disk included: completed shards stay valid for a re-run, no partial file is left
    ///   under a final name, and no manifest is written).
    public func run(preparedFolder: String, statistics: JSONValue) throws -> Outcome {
        let prepared = URL(fileURLWithPath: preparedFolder)
        let classes = try Self.classNames(in: prepared)
        var sources: [RecordSource] = []
        var skipped: [SkippedSample] = []
        var hasInstances = false
        for split in DataSplit.allCases {
            let photoFolder = prepared.appendingPathComponent(split.photoFolder)
            guard FileManager.default.fileExists(atPath: photoFolder.path) else { continue }
            // A set prepared with instance maps (Cityscapes) has their folder beside the labels.
            let instanceFolder = prepared.appendingPathComponent(split.instanceFolder)
            let withInstances = FileManager.default.fileExists(atPath: instanceFolder.path)
            hasInstances = hasInstances || withInstances
            let pairs = try SegmentationRecord.FolderPairs(
                split: split.rawValue, photoFolder: photoFolder,
                labelFolder: prepared.appendingPathComponent(split.labelFolder),
                instanceFolder: withInstances ? instanceFolder : nil,
                classCount: classes.count, imageEncoding: settings.image, labelEncoding: settings.label)
            skipped += pairs.unpaired.map {
                SkippedSample(stem: $0, split: split.rawValue, reason: "photo or label missing")
            }
            sources.append(pairs.source)
        }
        guard !sources.isEmpty else { throw ShardStageError.nothingPrepared(folder: prepared.path) }
        // An empty set would replace a good manifest in the output folder with one of no records.
        guard sources.contains(where: { $0.count > 0 }) else { throw ShardStageError.noSamples(folder: prepared.path) }

        let directory = URL(fileURLWithPath: settings.directory)
        var writerSettings = [
            "image": settings.image.description, "label": settings.label.rawValue,
            "sizing": settings.sizing.description,
        ]
        if hasInstances { writerSettings["instance"] = settings.label.rawValue }
        var configuration = ShardSetWriter.Configuration(
            directory: directory, sizing: settings.sizing, jobs: jobs, toolVersion: toolVersion,
            schema: SegmentationRecord.schema, classes: classes,
            settings: writerSettings,
            pipeline: try? String(
                contentsOf: prepared.appendingPathComponent(PreparedLayout.pipeline), encoding: .utf8))
        configuration.progress = progress
        let writer = ShardSetWriter(configuration: configuration)
        var result = try writer.write(sources, statistics: statistics)
        skipped += result.skipped
        if !skipped.isEmpty {
            // The given statistics describe the prepared folder, skipped samples included: the
            // manifest gets those of the records the shards hold instead (one more read pass,
            // only when something was left out).
            let set = try ShardSet(directory: directory)
            result.manifest.statistics = try Self.manifestStatistics(Self.scanStatistics(of: set) { _ in }.finish())
            try result.manifest.write(to: directory)
        }
        let order = Dictionary(uniqueKeysWithValues: DataSplit.allCases.enumerated().map { ($1.rawValue, $0) })
        skipped.sort { (order[$0.split ?? ""] ?? 0, $0.stem) < (order[$1.split ?? ""] ?? 0, $1.stem) }
        let manifestPath = (settings.directory as NSString).appendingPathComponent(Manifest.fileName)
        return Outcome(writer: result, skipped: skipped, manifestPath: manifestPath)
    }

    /// Statistics of every record of `set`, in order, CRC checked; a record that cannot be read
    /// or decoded is passed to `skipped` (its shard, record, offset and the reason) and left out.
    public static func scanStatistics(of set: ShardSet, skipped: (String) -> Void) -> StatisticsAccumulator {
        var accumulator = StatisticsAccumulator(classNames: set.manifest.classes)
        for global in 0..<set.count {
            let (shardNumber, record) = set.location(ofGlobalIndex: global)
            let shard = set.shards[shardNumber]
            do {
                let view = try set.segmentationRecord(at: global)
                let (photo, label) = try view.decoded()
                let partition = shard.entry.split == "validation" ? "val" : shard.entry.split
                accumulator.add(label: label, photo: photo, partition: partition, key: view.key)
            } catch let error as RecordsError {  // names shard, record, offset and key
                skipped("\(error)")
            } catch {  // a decoding error names only the record's key: add where it is
                let offset = shard.index.range(ofRecord: record).lowerBound
                skipped("\(shard.file.url.path), record \(record) at byte \(offset): \(error)")
            }
        }
        return accumulator
    }

    /// Statistics as the manifest stores them: the same JSON object `report.json` holds.
    public static func manifestStatistics(_ statistics: DatasetStatistics) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: statistics.encodedJSON())
    }

    /// The `statistics` object of the folder's `report.json`, or nil when the report is
    /// missing, unreadable or has none (a merged worker run before `smisprep merge`).
    public static func reportStatistics(inPreparedFolder folder: String) -> JSONValue? {
        let url = URL(fileURLWithPath: folder).appendingPathComponent(PreparedLayout.report)
        guard let data = try? Data(contentsOf: url),
              case .object(let report)? = try? JSONDecoder().decode(JSONValue.self, from: data),
              let statistics = report["statistics"], case .object = statistics else { return nil }
        return statistics
    }

    private static func classNames(in prepared: URL) throws -> [String] {
        struct ClassList: Decodable { var classes: [String] }
        let url = prepared.appendingPathComponent(PreparedLayout.classes)
        do { return try JSONDecoder().decode(ClassList.self, from: Data(contentsOf: url)).classes } catch {
            throw ShardStageError.classList(file: url.path, message: error.localizedDescription)
        }
    }
}

/// Why the shard stage could not start.
public enum ShardStageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `classes.json` is missing or not `{"classes": [...]}`.
    case classList(file: String, message: String)
    /// The folder has neither `train/` nor `test/`.
    case nothingPrepared(folder: String)
    /// `train/` and `test/` hold no photo with its label map.
    case noSamples(folder: String)

    public var description: String {
        switch self {
        case .classList(let file, let message): return "cannot read the class list \(file): \(message)"
        case .nothingPrepared(let folder): return "\(folder) has neither train/ nor test/; run the pipeline first"
        case .noSamples(let folder):
            return "\(folder) holds no sample (a photo with its label map) in train/ or test/; nothing to shard"
        }
    }
}
