import ArgumentParser
import Foundation
import Pipeline
import Records
import Statistics

/// Options shared by `run` and `deepfashion` that add or change the pipeline's shard stage
/// (`outputs.shards`); each replaces the file's value.
struct ShardStageOptions: ParsableArguments {
    @Option(
        name: .customLong("shards"),
        help: "Also pack the prepared set into shards in this folder (the file's outputs.shards).")
    var directory: String?

    @Option(parsing: .unconditional, help: "Records per shard (excludes --shard-size).")
    var recordsPerShard: Int?

    @Option(parsing: .unconditional, help: "Largest shard size, e.g. 256MB, 64MiB, 1GB (default 256MB).")
    var shardSize: ShardSizing?

    @Option(help: "Photo storage in the shards: jpeg (keep the files' bytes), jpeg:Q, png or raw.")
    var shardImage: SegmentationRecord.ImageEncoding?

    @Option(help: "Label storage in the shards: png (the files' bytes) or raw.")
    var shardLabel: SegmentationRecord.LabelEncoding?

    func validate() throws {
        try ShardSizingOptions.check(recordsPerShard: recordsPerShard, shardSize: shardSize)
    }

    func apply(to overrides: inout PipelineOverrides) {
        overrides.shardDirectory = directory
        overrides.shardSizing = ShardSizingOptions.sizing(recordsPerShard: recordsPerShard, shardSize: shardSize)
        overrides.shardImage = shardImage
        overrides.shardLabel = shardLabel
    }
}

/// `--records-per-shard N` or `--shard-size SIZE`, checked and read once for `shard`, `run`
/// and `deepfashion`.
enum ShardSizingOptions {
    static func check(recordsPerShard: Int?, shardSize: ShardSizing?) throws {
        if recordsPerShard != nil && shardSize != nil {
            throw ValidationError("Give either --records-per-shard or --shard-size, not both.")
        }
        if let recordsPerShard, recordsPerShard < 1 { throw ValidationError("--records-per-shard must be at least 1.") }
    }

    /// The sizing the options give (after `check` accepted them); nil when neither is given.
    static func sizing(recordsPerShard: Int?, shardSize: ShardSizing?) -> ShardSizing? {
        recordsPerShard.map(ShardSizing.records) ?? shardSize
    }
}

/// Runs the shard stage for a command: every skipped sample on standard error, the summary on
/// standard output, then `ExitCode.someInputsSkipped` when anything was skipped.
enum TerminalShardStage {
    static func execute(_ settings: ShardSettings, preparedFolder: String, statistics: JSONValue, jobs: Int) throws {
        var stage = ShardStage(settings: settings, jobs: jobs, toolVersion: "smisprep \(ToolkitVersion.string)")
        let started = Date()
        stage.progress = { step in
            // One line per shard on standard error: a large set takes minutes to pack.
            StandardError.print(String(
                format: "%@ %@: %d of %d samples (%.0f s)", step.shard, step.reused ? "kept" : "written",
                step.inputsDone, step.inputsTotal, Date().timeIntervalSince(started)))
        }
        let outcome: ShardStage.Outcome
        do {
            outcome = try stage.run(preparedFolder: preparedFolder, statistics: statistics)
        } catch let error as ShardStageError {
            throw PipelineCommandError(message: error.description)
        }
        for sample in outcome.skipped { StandardError.print("skipped \(sample)") }
        let result = outcome.writer
        if !result.staleFilesRemoved.isEmpty {
            StandardError.print(
                "removed \(result.staleFilesRemoved.count) shard files the new manifest does not list: "
                    + result.staleFilesRemoved.joined(separator: ", "))
        }
        print("""
            \(result.manifest.shards.count) shards (\(result.shardsWritten) written, \
            \(result.shardsReused) kept from an earlier run), \(result.manifest.recordCount()) records, \
            \(outcome.skipped.count) inputs skipped → \(outcome.manifestPath)
            """)
        if !outcome.skipped.isEmpty {
            fflush(stdout)  // the summary first, also when both streams go to one file
            StandardError.print(
                "\(outcome.skipped.count) prepared samples are not in the shards (listed above); exit status 3")
            throw ExitCode.someInputsSkipped
        }
    }

    /// The manifest's statistics for a folder the caller has no statistics for: `report.json`'s
    /// when it has them (computed while the set was written), else a scan of the folder's label
    /// maps and photos (one extra read pass, announced on standard error).
    static func statistics(ofPreparedFolder folder: String, jobs: Int) throws -> JSONValue {
        if let statistics = ShardStage.reportStatistics(inPreparedFolder: folder) { return statistics }
        StandardError.print(
            "no statistics in \(folder)/\(PreparedLayout.report): scanning \(folder) for the manifest's statistics")
        let scanned = try RunStatistics.scan(preparedFolder: folder, threads: jobs) { StandardError.print($0) }
        return try ShardStage.manifestStatistics(scanned)
    }
}
