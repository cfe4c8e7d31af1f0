import ArgumentParser

/// `smis`: the model side of the toolkit: train GroupDNet from shards, generate images.
@main
struct SMIS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smis",
        abstract: "Train GroupDNet on prepared shards and synthesise images from label maps.",
        version: ToolVersion.string,
        subcommands: []
    )
}
