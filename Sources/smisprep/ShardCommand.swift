import ArgumentParser
import Foundation
import Records
import Statistics

/// `smisprep shard`: packs a prepared folder into TFRecord shards with indexes and a manifest.
struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Pack a prepared data set into checksummed TFRecord shards with an index and a manifest.",
        discussion: """
            Reads PREPARED_DIR as the pipeline writes it (train/ with cihp_train_mask/, test/ with \
            cihp_test_mask/, classes.json, pipeline.yaml, report.json) and writes train-NNNNN and \
            validation-NNNNN shards. A re-run resumes: shards whose inputs and bytes are unchanged \
            are kept. With --image jpeg (the default) the prepared JPEG files are stored byte for \
            byte; jpeg:Q re-encodes at quality Q.
            """)

    @Argument(help: "The prepared data set folder.")
    var preparedDirectory: String

    @Option(name: .customLong("out"), help: "Folder to write shards, indexes and manifest.json into.")
    var outputDirectory: String

    @Option(help: "Records per shard (excludes --shard-size).")
    var recordsPerShard: Int?

    @Option(help: "Largest shard size, e.g. 256MB, 64MiB, 1GB (default 256MB).")
    var shardSize: String?

    @Option(help: "Photo storage: jpeg (keep the files' bytes), jpeg:Q (re-encode at quality Q), png or raw.")
    var image: String = "jpeg"

    @Option(help: "Label storage: png (lossless, the files' bytes) or raw (one byte per pixel).")
    var label: String = "png"

    @Option(help: "Encoding threads (the output does not depend on it).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if recordsPerShard != nil && shardSize != nil {
            throw ValidationError("Give either --records-per-shard or --shard-size, not both.")
        }
        if let recordsPerShard, recordsPerShard < 1 { throw ValidationError("--records-per-shard must be at least 1.") }
        if let shardSize, Self.parseByteSize(shardSize) == nil {
            throw ValidationError("--shard-size \(shardSize) is not a size such as 256MB or 64MiB.")
        }
        if Self.parseImageEncoding(image) == nil {
            throw ValidationError("--image must be jpeg, jpeg:Q with Q in 1…100, png or raw; got \(image).")
        }
        if SegmentationRecord.LabelEncoding(rawValue: label) == nil {
            throw ValidationError("--label must be png or raw; got \(label).")
        }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
    }

    func run() throws {
        let prepared = URL(fileURLWithPath: preparedDirectory)
        let classes = try Self.readClasses(prepared.appendingPathComponent("classes.json"))
        let imageEncoding = Self.parseImageEncoding(image)!
        let labelEncoding = SegmentationRecord.LabelEncoding(rawValue: label)!
        let sizing: ShardSizing = recordsPerShard.map { .records($0) } ?? .bytes(Self.parseByteSize(shardSize ?? "256MB")!)
        var sources: [RecordSource] = []
        for (split, photos, labels) in [("train", "train", "cihp_train_mask"), ("validation", "test", "cihp_test_mask")] {
            let photoFolder = prepared.appendingPathComponent(photos)
            guard FileManager.default.fileExists(atPath: photoFolder.path) else { continue }
            let pairs = try SegmentationRecord.FolderPairs(
                split: split, photoFolder: photoFolder, labelFolder: prepared.appendingPathComponent(labels),
                classCount: classes.count, imageEncoding: imageEncoding, labelEncoding: labelEncoding)
            for stem in pairs.unpaired { printError("skipped \(split)/\(stem): photo or label missing") }
            sources.append(pairs.source)
        }
        guard !sources.isEmpty else {
            throw ValidationError("\(prepared.path) has neither train/ nor test/; run the pipeline first.")
        }
        let configuration = ShardSetWriter.Configuration(
            directory: URL(fileURLWithPath: outputDirectory), sizing: sizing, jobs: jobs,
            toolVersion: "smisprep \(ToolVersion.string)", schema: SegmentationRecord.schema, classes: classes,
            settings: ["image": imageEncoding.description, "label": labelEncoding.rawValue, "sizing": sizing.description],
            pipeline: try? String(contentsOf: prepared.appendingPathComponent("pipeline.yaml"), encoding: .utf8))
        let statistics = try Self.statistics(of: prepared, jobs: jobs)
        let result = try ShardSetWriter(configuration: configuration).write(sources, statistics: statistics)
        for skipped in result.skipped { printError("skipped \(skipped.split) input \(skipped.input): \(skipped.reason)") }
        print("""
            \(result.manifest.shards.count) shards (\(result.shardsWritten) written, \(result.shardsReused) kept from an earlier run), \
            \(result.manifest.recordCount()) records, \(result.skipped.count) inputs skipped → \(outputDirectory)/manifest.json
            """)
    }

    /// The manifest's `statistics`: the `statistics` object of the pipeline's `report.json`
    /// when it has one (computed while the set was written), else a scan of the folder's
    /// label maps and photos (one extra read pass, announced on standard error).
    static func statistics(of prepared: URL, jobs: Int) throws -> JSONValue {
        let reportURL = prepared.appendingPathComponent("report.json")
        if let data = try? Data(contentsOf: reportURL),
            case .object(let report)? = try? JSONDecoder().decode(JSONValue.self, from: data),
            let statistics = report["statistics"], case .object = statistics {
            return statistics
        }
        printError("no statistics in \(reportURL.path): scanning \(prepared.path) for the manifest's statistics")
        let scanned = try RunStatistics.scan(preparedFolder: prepared.path, threads: jobs)
        return try JSONDecoder().decode(JSONValue.self, from: try scanned.encodedJSON())
    }

    /// "256MB" → 256_000_000, "64MiB" → 67_108_864, "4096" → 4096.
    static func parseByteSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000),
                                      ("GB", 1_000_000_000), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value > 0 else { return nil }
            return Int(value * Double(factor))
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }

    /// "jpeg" → keep bytes, "jpeg:95" → quality 95, "png", "raw".
    static func parseImageEncoding(_ text: String) -> SegmentationRecord.ImageEncoding? {
        switch text {
        case "jpeg", "jpeg:keep": return .jpeg(quality: nil)
        case "png": return .png
        case "raw": return .raw
        default:
            guard text.hasPrefix("jpeg:"), let quality = Int(text.dropFirst(5)), (1...100).contains(quality) else { return nil }
            return .jpeg(quality: quality)
        }
    }

    private static func readClasses(_ url: URL) throws -> [String] {
        struct ClassList: Decodable { var classes: [String] }
        do { return try JSONDecoder().decode(ClassList.self, from: Data(contentsOf: url)).classes } catch {
            throw ValidationError("cannot read the class list \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Writes a line to standard error (warnings and problems, kept apart from results).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
