import ArgumentParser
import Pipeline

/// `smisprep run FILE`: runs a pipeline file as written (inputs and output may be overridden).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file (a copy of Pipelines/deepfashion.yaml, edited).",
        discussion: """
            With outputs.shards in the file (or --shards DIR) the run ends by packing the prepared \
            set into shards, as `smisprep shard` does, with the run's statistics in the manifest; \
            a worker slice (--worker I/N) leaves that to `smisprep merge`. Exit status 3: the \
            shards were written but some prepared samples were skipped (named on standard error).
            """)

    @Argument(help: "The pipeline file.")
    var file: String

    @Option(name: .long, help: "Photo folder (DeepFashion's img/); overrides the file's `images`.")
    var images: String?

    @Option(name: .long, help: "Parser output folder; overrides the file's `labels`.")
    var labels: String?

    @Option(name: .long, help: "Output folder; overrides the file's `output`.")
    var out: String?

    @OptionGroup var shardStage: ShardStageOptions

    @OptionGroup var runner: RunnerOptions

    func run() throws {
        var overrides = PipelineOverrides()
        overrides.images = images
        overrides.labels = labels
        overrides.output = out
        shardStage.apply(to: &overrides)
        let (configuration, baseline) = try loadPipeline(file, overrides: overrides)
        try TerminalRun.execute(configuration, baseline: baseline, options: runner)
    }
}
