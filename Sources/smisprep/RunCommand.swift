import ArgumentParser
import Pipeline

/// `smisprep run FILE`: runs a pipeline file as written (inputs and output may be overridden).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file (a copy of Pipelines/deepfashion.yaml, edited).")

    @Argument(help: "The pipeline file.")
    var file: String

    @Option(name: .long, help: "Photo folder (DeepFashion's img/); overrides the file's `images`.")
    var images: String?

    @Option(name: .long, help: "Parser output folder; overrides the file's `labels`.")
    var labels: String?

    @Option(name: .long, help: "Output folder; overrides the file's `output`.")
    var out: String?

    @OptionGroup var runner: RunnerOptions

    func run() throws {
        var overrides = PipelineOverrides()
        overrides.images = images
        overrides.labels = labels
        overrides.output = out
        let (configuration, baseline) = try loadPipeline(file, overrides: overrides)
        try TerminalRun.execute(configuration, baseline: baseline, options: runner)
    }
}
