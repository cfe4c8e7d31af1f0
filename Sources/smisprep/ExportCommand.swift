import ArgumentParser
import Foundation
import Records

/// `smisprep export`: rewrites a shard set in another ecosystem's format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a shard set as WebDataset tars (KEY.jpg and KEY.seg.png side by side).")

    @Argument(help: "The shard set folder (holding manifest.json).")
    var directory: String

    @Option(help: "Folder to write one WebDataset tar per shard into.")
    var webdataset: String

    func run() throws {
        let set = try ShardSet(directory: URL(fileURLWithPath: directory))
        let tars = try WebDatasetExporter.export(set, to: URL(fileURLWithPath: webdataset))
        print("\(tars.count) tars, \(set.count) samples → \(webdataset)")
    }
}
