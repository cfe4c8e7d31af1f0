import ArgumentParser
import Evaluation
import Foundation
import Tensor
import Training

/// `smis evaluate [run]`: a checkpoint's Table 1 row on a shard split.
struct EvaluateRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate a split's images with a checkpoint and print FID, mCSD, mOCD, LPIPS, FPS, parameters.",
        discussion: """
            For each label map of the split: one image for FID (against the split's photos), --pairs pairs \
            from independent z for LPIPS diversity, and --samples images per class present resampling only \
            that class's latent for mCSD / mOCD. The README's Evaluation section defines each metric.
            """)

    @Option(
        help: ArgumentHelp(
            "A checkpoint folder, its state.json, or a run folder (its latest checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Folder with manifest.json and the shards.", valueName: "dir"))
    var shards: String

    @Option(help: "The shard split to evaluate on.")
    var split = "validation"

    @Option(help: ArgumentHelp("pytorch-fid's Inception weights exported to safetensors.", valueName: "file"))
    var inceptionWeights: String

    @Option(help: ArgumentHelp("LPIPS AlexNet weights exported to safetensors.", valueName: "file"))
    var lpipsWeights: String

    @Option(
        help: ArgumentHelp("Use at most this many label maps, spread over the split (default: all).", valueName: "n"))
    var limit: Int?

    @Option(help: "LPIPS diversity: image pairs per label map.")
    var pairs = 1

    @Option(help: "mCSD / mOCD: images per class and label map.")
    var samples = 3

    @Option(help: "How a class region restricts LPIPS: mask-images or mask-average.")
    var region = RegionRestriction.maskImages.rawValue

    @Flag(help: "Resample records of another size to the model's (label nearest, photo bicubic).")
    var resize = false

    @Option(help: "Seed of every latent code.")
    var seed: UInt64 = 0

    @Option(
        help: ArgumentHelp(
            "Also write an HTML page with the table and per-class resampling grids here.", valueName: "dir"))
    var report: String?

    @Option(help: "Label maps shown in the --report page.")
    var reportMaps = 4

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        if pairs < 1 { throw ValidationError("--pairs must be at least 1.") }
        if samples < 2 { throw ValidationError("--samples must be at least 2 (diversity compares pairs).") }
        if reportMaps < 0 { throw ValidationError("--report-maps must not be negative.") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2 (FID needs two images).") }
        if RegionRestriction(rawValue: region) == nil {
            throw ValidationError("--region must be mask-images or mask-average, not \(region).")
        }
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        try reportingErrors {
            var options = ModelEvaluationOptions()
            (options.split, options.limit, options.pairsPerMap) = (split, limit, pairs)
            (options.samplesPerClass, options.resize, options.seed) = (samples, resize, seed)
            options.reportedMaps = report == nil ? 0 : reportMaps
            options.region = RegionRestriction(rawValue: region)!
            let synthesizer = try ImageSynthesizer(checkpoint: URL(fileURLWithPath: checkpoint))
            let evaluation = ModelEvaluation(
                synthesizer: synthesizer,
                inception: try FIDInception(contentsOf: URL(fileURLWithPath: inceptionWeights)),
                lpips: try LPIPS(contentsOf: URL(fileURLWithPath: lpipsWeights)), options: options)
            let result = try evaluation.run(shards: URL(fileURLWithPath: shards)) { printError($0) }
            if let report {
                let folder = URL(fileURLWithPath: report)
                try EvaluationReport.write(
                    result, maps: evaluation.reportedMaps, classes: synthesizer.classes, to: folder)
                printError("report → \(folder.appendingPathComponent("index.html").path)")
            }
            if json {
                let data = try JSONEncoder.sortedKeys.encode(result)
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(Self.table(result))
            }
        }
    }

    /// The seed paper's Table 1 columns, one row.
    static func table(_ r: ModelEvaluationResult) -> String {
        let header = "| FID ↓ | mCSD ↑ | mOCD ↓ | LPIPS ↑ | FPS ↑ | Params (M) |"
        let row = String(
            format: "| %.2f | %.4f | %.4f | %.4f | %.2f | %.1f |", r.fid, r.mcsd, r.mocd, r.lpips, r.fps,
            Double(r.parameters) / 1e6)
        return [
            header, "|---|---|---|---|---|---|", row,
            "\(r.images) label maps of the \(r.split) split; "
                + "\(r.pairsPerMap) pair(s) per map for LPIPS, \(r.samplesPerClass) samples per class (\(r.region))"
        ]
        .joined(separator: "\n")
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for output that diffs cleanly.
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
