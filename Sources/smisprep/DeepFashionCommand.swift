import ArgumentParser
import Pipeline
import Statistics

/// `smisprep deepfashion`: the bundled DeepFashion pipeline with command-line overrides.
struct DeepFashionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepfashion",
        abstract: "Prepare DeepFashion photos and a human parser's label maps for GroupDNet.",
        discussion:
            "Runs Pipelines/deepfashion.yaml (or --pipeline FILE) with the options below in place " +
            "of the file's values, writes train/, cihp_train_mask/, test/, cihp_test_mask/, " +
            "report.json, summary.txt and the effective pipeline.yaml into --out. Re-running the " +
            "same command after Ctrl-C or a crash resumes where it stopped. With --shards DIR it " +
            "then packs the prepared set into shards as `smisprep shard` does (changing only the " +
            "shard options later re-shards without preparing again); exit status 3 means the " +
            "shards were written but some prepared samples were skipped (named on standard error).")

    // --images, --labels and --out are RunCommand's options again on purpose: required here,
    // overrides of the file there, each with its own help, so no shared option group.
    @Option(name: .long, help: "DeepFashion's img/ folder (img/<GENDER>/<CATEGORY>/<ITEM_ID>/<NN>_<VIEW>.jpg).")
    var images: String

    @Option(name: .long, help: "The parser's label maps, same relative paths ending in .png.")
    var labels: String

    @Option(name: .long, help: "Output folder for the prepared set.")
    var out: String

    @Option(name: .long, help: "Pipeline file to start from (default: the bundled Pipelines/deepfashion.yaml).")
    var pipeline: String?

    @Option(name: .long, help: "Source label set: lip, cihp, atr, or a label-set file.")
    var source: String?

    @Option(name: .long, help: "Comma-separated source classes whose presence drops a sample, e.g. glove,sunglasses.")
    var filter: String?

    @Option(
        name: .long, parsing: .unconditional,
        help: "Pixels (500) or percent of the image (0.1%) a filtered class may cover.")
    var filterThreshold: FilterThreshold?

    @Option(name: .long, parsing: .unconditional, help: "Training size as WIDTHxHEIGHT, e.g. 256x256.")
    var size: Size?

    @Option(name: .long, help: "How the aspect ratio is handled: stretch, pad or crop.")
    var fit: ResizeSettings.Fit?

    @Option(
        name: .long, parsing: .unconditional,
        help: "Share of items sent to validation when no partition list is given (0...1).")
    var valFraction: Double?

    @Option(name: .long, help: "DeepFashion's list_eval_partition.txt (query and gallery become validation).")
    var partition: String?

    @Flag(name: .long, help: "Also write per-class masked crops under split/ for inspection.")
    var writeSplit = false

    @OptionGroup var shardStage: ShardStageOptions

    @OptionGroup var runner: RunnerOptions

    func validate() throws {
        if let valFraction, !(0...1).contains(valFraction) { throw ValidationError("--val-fraction must be in 0...1.") }
        if pipeline == nil && BundledPipelines.file("deepfashion.yaml") == nil {
            throw ValidationError(
                "cannot find Pipelines/deepfashion.yaml; run from the repository or give --pipeline FILE.")
        }
    }

    func run() throws {
        var overrides = PipelineOverrides()
        overrides.images = images
        overrides.labels = labels
        overrides.output = out
        overrides.source = source
        overrides.filterClasses = filter.map { list in
            list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        overrides.filterThreshold = filterThreshold
        overrides.size = size
        overrides.fit = fit
        overrides.validationFraction = valFraction
        overrides.partitionList = partition
        if writeSplit { overrides.writeSplit = true }
        shardStage.apply(to: &overrides)
        let file = pipeline ?? BundledPipelines.file("deepfashion.yaml")!
        let (configuration, baseline) = try loadPipeline(file, overrides: overrides)
        try TerminalRun.execute(configuration, baseline: baseline, options: runner)
    }
}
