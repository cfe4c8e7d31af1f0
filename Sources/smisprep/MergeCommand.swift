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
            let report = try RunReport.mergeWorkerReports(in: folder)
            print("merged \(report.workers) worker reports into \(folder)/report.json")
            print(report.summary(), terminator: "")
        } catch let error as MergeError {
            throw PipelineCommandError(message: error.description)
        }
    }
}
