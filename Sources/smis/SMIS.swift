import ArgumentParser
import Records

/// `smis`: the model side of the toolkit: train GroupDNet from shards, generate images,
/// evaluate them.
/// Each subcommand lives in its own file and stays thin: it parses, calls Training, reports.
@main
struct SMIS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smis",
        abstract: "Train GroupDNet on prepared shards and synthesise images from label maps.",
        discussion: """
            Typical use: `smis train --shards out/shards --out out/run` (Ctrl-C saves a checkpoint; \
            add --resume to continue), then `smis generate --checkpoint out/run --labels a.png --out images` \
            (--mix, --relabel for the paper's applications); `smis morph` and `smis grid` show appearances \
            changing; `smis serve --checkpoint out/run --shards out/shards` does them in a local web page.
            """,
        version: ToolkitVersion.string,
        subcommands: [
            TrainCommand.self, GenerateCommand.self, MorphCommand.self, GridCommand.self, EvaluateCommand.self,
            ServeCommand.self,
        ]
    )

    static func main() {
        OpenMPWaitPolicy.makePassiveUnlessSet()
        main(nil)
    }
}
