import ArgumentParser
import Pipeline

/// `smisprep merge`: joins the reports of `--worker I/N` runs that wrote into one folder.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the reports of worker slices (--worker I/N) into report.json and summary.txt.")

    @Argument(help: "The output folder all workers wrote into.")
    var folder: String

    func run() throws {
        do {
            var report = try RunReport.mergeWorkerReports(in: folder)
            // Worker statistics hold finished figures (medians, duplicate groups) that cannot be
            // added exactly, so the joined folder is scanned once instead.
            report.statistics = try RunStatistics.scan(preparedFolder: folder, threads: 2)
            try AtomicFile.write(try report.encodedJSON(), to: folder + "/" + PreparedLayout.report)
            print("merged \(report.workers) worker reports and the folder's statistics into \(folder)/report.json")
            print(report.summary(), terminator: "")
        } catch let error as MergeError {
            throw PipelineCommandError(message: error.description)
        }
    }
}
