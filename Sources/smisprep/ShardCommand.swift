import ArgumentParser
import Foundation
import Pipeline
import Records

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
            byte; jpeg:Q re-encodes at quality Q. A pipeline file's outputs.shards runs this same \
            stage at the end of `smisprep run` and `smisprep deepfashion`.

            Exit status: 0 when every prepared sample is in the shards; 3 when some were skipped \
            (a photo without its label map or the reverse, an unreadable or undecodable file): \
            each is named on standard error, and the shards and manifest hold all the others; 1 \
            when the command failed (nothing prepared, a full disk) and no manifest was written; \
            64 for invalid options.
            """)

    @Argument(help: "The prepared data set folder.")
    var preparedDirectory: String

    @Option(name: .customLong("out"), help: "Folder to write shards, indexes and manifest.json into.")
    var outputDirectory: String

    @Option(parsing: .unconditional, help: "Records per shard (excludes --shard-size).")
    var recordsPerShard: Int?

    @Option(parsing: .unconditional, help: "Largest shard size, e.g. 256MB, 64MiB, 1GB (default 256MB).")
    var shardSize: ShardSizing?

    @Option(help: "Photo storage: jpeg (keep the files' bytes), jpeg:Q (re-encode at quality Q), png or raw.")
    var image = SegmentationRecord.ImageEncoding.jpeg(quality: nil)

    @Option(help: "Label storage: png (lossless, the files' bytes) or raw (one byte per pixel).")
    var label = SegmentationRecord.LabelEncoding.png

    @Option(parsing: .unconditional, help: "Encoding threads (the output does not depend on it).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        try ShardSizingOptions.check(recordsPerShard: recordsPerShard, shardSize: shardSize)
        if !(1...maximumJobs).contains(jobs) { throw ValidationError("--jobs must be between 1 and \(maximumJobs).") }
    }

    func run() throws {
        let sizing = ShardSizingOptions.sizing(recordsPerShard: recordsPerShard, shardSize: shardSize) ?? .defaultSize
        let settings = ShardSettings(directory: outputDirectory, sizing: sizing, image: image, label: label)
        let statistics = try TerminalShardStage.statistics(ofPreparedFolder: preparedDirectory, jobs: jobs)
        try TerminalShardStage.execute(settings, preparedFolder: preparedDirectory, statistics: statistics, jobs: jobs)
    }
}
