import ArgumentParser
import Records

/// `smisprep`: the data side of the toolkit. Each subcommand lives in its own file and stays
/// thin: it parses options, calls a library target, and reports.
@main
struct SMISPrep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smisprep",
        abstract: "Prepare DeepFashion, Cityscapes or ADE20K for semantically multi-modal image synthesis.",
        discussion: """
            Turns a human parser's label maps and their photos into a training-ready data set \
            for GroupDNet: remap classes, filter rare attributes, resize, partition, split, \
            and pack into checksummed shards.

            A whole run on the bundled fixtures:
              smisprep deepfashion --images Fixtures/deepfashion/img \\
                --labels Fixtures/deepfashion/labels --out out/prepared --filter glove
              smisprep shard out/prepared --out out/shards
              smisprep verify out/shards
              smisprep stats out/shards
            """,
        version: ToolkitVersion.string,
        subcommands: [
            DeepFashionCommand.self, CityscapesCommand.self, ADE20KCommand.self, RunCommand.self, MergeCommand.self,
            SynthCommand.self,
            ShardCommand.self, VerifyCommand.self, InspectCommand.self, ExportCommand.self,
            StatsCommand.self
        ]
    )
}
