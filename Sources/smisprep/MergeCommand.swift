import ArgumentParser
import Foundation
import Pipeline
import Statistics

/// `smisprep merge`: joins the reports of `--worker I/N` runs that wrote into one folder.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the reports of worker slices (--worker I/N) into report.json and summary.txt.",
        discussion: """
            Workers on machines without a shared file system each write their own folder; \
            --from DIR… gathers those into FOLDER first (hard links where possible, else atomic \
            copies; the worker folders are left as they are), refusing folders prepared with \
            another configuration or a file name that two folders hold with different bytes. \
            When the folder's pipeline.yaml has outputs.shards, merge then packs the joined set \
            into shards (worker slices write none), with the merged statistics in the manifest; \
            exit status 3 means some prepared samples were skipped (named on standard error).
            """)

    @Argument(help: "The output folder all workers wrote into (with --from: the folder to gather them into).")
    var folder: String

    @Option(name: .customLong("from"), parsing: .upToNextOption,
            help: "Worker output folders to gather into FOLDER first, when the workers did not share a file system.")
    var workerFolders: [String] = []

    func run() throws {
        do {
            if !workerFolders.isEmpty {
                let gathered = try WorkerOutputGathering.gather(from: workerFolders, into: folder)
                print("""
                    gathered \(workerFolders.count) worker folders into \(folder): \
                    \(gathered.filesAdded) files linked or copied, \(gathered.filesAlreadyPresent) already there
                    """)
            }
            let report = try RunReport.mergeWorkerReports(in: folder) {
                try RunStatistics.scan(preparedFolder: folder, threads: 2, skipped: { StandardError.print($0) })
            }
            print("merged \(report.workers) worker reports and the folder's statistics into \(folder)/report.json")
            print(report.summary(), terminator: "")
            try writeShards(statistics: report.statistics!)
        } catch let error as MergeError {
            throw PipelineCommandError(message: error.description)
        }
    }

    /// The shard stage the workers left out, when the effective pipeline.yaml asks for it.
    private func writeShards(statistics: DatasetStatistics) throws {
        let pipelineFile = folder + "/" + PreparedLayout.pipeline
        guard FileManager.default.fileExists(atPath: pipelineFile) else { return }
        let (configuration, _) = try loadPipeline(pipelineFile, overrides: PipelineOverrides())
        guard let shards = configuration.outputs.shards else { return }
        let jobs = ProcessInfo.processInfo.activeProcessorCount
        let manifestStatistics = try ShardStage.manifestStatistics(statistics)
        try TerminalShardStage.execute(shards, preparedFolder: folder, statistics: manifestStatistics, jobs: jobs)
    }
}
