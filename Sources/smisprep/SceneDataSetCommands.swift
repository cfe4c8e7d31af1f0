import ArgumentParser
import Foundation
import Pipeline
import Statistics

/// `smisprep cityscapes`: the bundled Cityscapes pipeline over an extracted Cityscapes folder.
struct CityscapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cityscapes",
        abstract:
            "Prepare Cityscapes (gtFine) for GroupDNet's Cityscapes model: 35 classes with instance maps, 512x256.",
        discussion: """
            Runs Pipelines/cityscapes.yaml (or --pipeline FILE) over ROOT/leftImg8bit and ROOT/gtFine \
            (leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip extracted into ROOT): train/ and val/ \
            become the training and validation sides, test/ (unlabelled) is not read. Writes train/, \
            cihp_train_mask/, train_instance/ (16-bit instance maps), their test/ counterparts, report.json, \
            summary.txt and pipeline.yaml into --out; resumes after Ctrl-C; --shards DIR packs the result as \
            `smisprep shard` does (exit status 3: some prepared samples were skipped).
            """)

    @OptionGroup var common: SceneDataSetOptions

    func validate() throws { try common.check(bundled: "cityscapes.yaml") }

    func run() throws {
        try common.execute(bundled: "cityscapes.yaml", images: "leftImg8bit", labels: "gtFine", trainSize: nil)
    }
}

/// `smisprep ade20k`: the bundled ADE20K pipeline over the scene-parsing release.
struct ADE20KCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ade20k",
        abstract: "Prepare ADE20K (ADEChallengeData2016) for GroupDNet's ADE20K model: 151 classes, 286 and 256.",
        discussion: """
            Runs Pipelines/ade20k.yaml (or --pipeline FILE) over ROOT/images and ROOT/annotations (ROOT is \
            ADEChallengeData2016, or the folder holding it): training/ and validation/ become the two sides. \
            Label ids shift as the reference reads them (1...150 become classes 0...149, 0 "other" becomes \
            class 150). Training samples are stored at 286x286, from which training crops 256x256 at random; \
            validation samples at 256x256. Writes the prepared layout, report.json, summary.txt and \
            pipeline.yaml into --out; resumes after Ctrl-C; --shards DIR packs the result.
            """)

    @OptionGroup var common: SceneDataSetOptions

    @Option(name: .long, parsing: .unconditional, help: "Training samples' size as WIDTHxHEIGHT (default 286x286).")
    var trainSize: Size?

    func validate() throws { try common.check(bundled: "ade20k.yaml") }

    func run() throws {
        var options = common
        let nested = (common.root as NSString).appendingPathComponent("ADEChallengeData2016")
        if FileManager.default.fileExists(atPath: nested + "/images") { options.root = nested }
        try options.execute(bundled: "ade20k.yaml", images: "images", labels: "annotations", trainSize: trainSize)
    }
}

/// The options `cityscapes` and `ade20k` share: where the data set is, where the prepared set
/// goes, the few settings worth changing from the command line, the shard stage, the runner.
struct SceneDataSetOptions: ParsableArguments {
    @Option(name: .long, help: "The data set's folder, as extracted from its archives.")
    var root: String

    @Option(name: .long, help: "Output folder for the prepared set.")
    var out: String

    @Option(name: .long, help: "Pipeline file to start from (default: the bundled one).")
    var pipeline: String?

    @Option(name: .long, parsing: .unconditional, help: "Training size as WIDTHxHEIGHT (the model's image size).")
    var size: Size?

    @Flag(name: .long, help: "Also write per-class masked crops under split/ for inspection.")
    var writeSplit = false

    @OptionGroup var shardStage: ShardStageOptions

    @OptionGroup var runner: RunnerOptions

    func check(bundled: String) throws {
        if pipeline == nil && BundledPipelines.file(bundled) == nil {
            throw ValidationError("cannot find Pipelines/\(bundled); run from the repository or give --pipeline FILE.")
        }
    }

    /// Runs the pipeline file with `root/images` and `root/labels` as its inputs.
    func execute(bundled: String, images: String, labels: String, trainSize: Size?) throws {
        var overrides = PipelineOverrides()
        overrides.images = (root as NSString).appendingPathComponent(images)
        overrides.labels = (root as NSString).appendingPathComponent(labels)
        overrides.output = out
        overrides.size = size
        overrides.trainSize = trainSize
        if writeSplit { overrides.writeSplit = true }
        shardStage.apply(to: &overrides)
        let (configuration, baseline) = try loadPipeline(
            pipeline ?? BundledPipelines.file(bundled)!, overrides: overrides)
        try TerminalRun.execute(configuration, baseline: baseline, options: runner)
    }
}
