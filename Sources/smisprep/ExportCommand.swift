import ArgumentParser
import Foundation
import Records

/// `smisprep export`: rewrites a shard set in another ecosystem's format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a shard set as WebDataset tars (KEY.jpg and KEY.seg.png side by side).",
        discussion: "Damaged records are listed on standard error and left out; the exit status is then 3.")

    @OptionGroup var shardSet: ShardSetFolder

    @Option(help: "Folder to write one WebDataset tar per shard into.")
    var webdataset: String

    func run() throws {
        let set = try shardSet.open()
        var skipped: [RecordsError] = []
        let tars = try WebDatasetExporter.export(set, to: URL(fileURLWithPath: webdataset)) { error in
            StandardError.print("skipped damaged record: \(error)")
            skipped.append(error)
        }
        print("\(tars.count) tars, \(set.count - skipped.count) samples → \(webdataset)")
        if !skipped.isEmpty {
            fflush(stdout)
            StandardError.print("\(skipped.count) damaged records are not in the tars (listed above); exit status 3")
            throw ExitCode.someInputsSkipped
        }
    }
}
