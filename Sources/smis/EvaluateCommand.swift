import ArgumentParser
import Evaluation
import Foundation
import Tensor

/// `smis evaluate`: the paper's metrics, computed as the reference implementations compute them.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a checkpoint or images with the SMIS paper's metrics (FID, mCSD, mOCD, LPIPS, FPS).",
        discussion: """
            Weights are never downloaded: export them once with scripts/evaluation_weights.py \
            (see the README's Evaluation section) and pass the files.
            """,
        subcommands: [EvaluateRunCommand.self, EvaluateFIDCommand.self, EvaluateLPIPSCommand.self],
        defaultSubcommand: EvaluateRunCommand.self)
}

/// Prints `values` as one JSON object with sorted keys.
func printJSON(_ values: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// `smis evaluate lpips A B`: the LPIPS distance of two photos.
struct EvaluateLPIPSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lpips",
        abstract: "Print the LPIPS distance (AlexNet, v0.1) between two photos of one size.")

    @Argument(help: ArgumentHelp("The first photo (PNG, JPEG or TIFF).", valueName: "image-a"))
    var imageA: String

    @Argument(help: ArgumentHelp("The second photo, of the first one's size.", valueName: "image-b"))
    var imageB: String

    @Option(help: ArgumentHelp("LPIPS AlexNet weights exported to safetensors.", valueName: "file"))
    var lpipsWeights: String

    @Flag(help: "Print one JSON object instead of a line of text.")
    var json = false

    func run() throws {
        try reportingErrors {
            let network = try LPIPS(contentsOf: URL(fileURLWithPath: lpipsWeights))
            let images = try [imageA, imageB].map { try ImageFolder.load(URL(fileURLWithPath: $0)) }
            guard images[0].width == images[1].width, images[0].height == images[1].height else {
                throw EvaluationError.invalidInput(
                    reason: "\(imageA) is \(images[0].width)×\(images[0].height) but \(imageB) is "
                        + "\(images[1].width)×\(images[1].height); LPIPS compares photos of one size")
            }
            let distance = try network.distance(photos: images[0], images[1])
            if json {
                try printJSON(["lpips": Double(distance), "image_a": imageA, "image_b": imageB])
            } else {
                print(String(format: "LPIPS %.6f", distance))
            }
        }
    }
}

/// `smis evaluate fid --real DIR --fake DIR`: as pytorch-fid's command on two folders.
struct EvaluateFIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fid",
        abstract: "Print the FID between two folders of photos, as pytorch-fid computes it.")

    @Option(help: ArgumentHelp("Folder of real photos (png, jpg, tif; not searched recursively).", valueName: "dir"))
    var real: String

    @Option(help: ArgumentHelp("Folder of generated photos.", valueName: "dir"))
    var fake: String

    @Option(help: ArgumentHelp("pytorch-fid's Inception weights exported to safetensors.", valueName: "file"))
    var inceptionWeights: String

    @Option(help: "Photos per Inception batch.")
    var batchSize = 8

    @Flag(help: "Print one JSON object instead of a line of text.")
    var json = false

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        try reportingErrors {
            let network = try FIDInception(contentsOf: URL(fileURLWithPath: inceptionWeights))
            let realStatistics = try network.statistics(ofFolder: URL(fileURLWithPath: real), batchSize: batchSize)
            let fakeStatistics = try network.statistics(ofFolder: URL(fileURLWithPath: fake), batchSize: batchSize)
            let fid = try FrechetDistance.distance(realStatistics, fakeStatistics)
            if json {
                try printJSON(["fid": fid, "real_images": realStatistics.count, "fake_images": fakeStatistics.count])
            } else {
                print(
                    String(
                        format: "FID %.4f (%d real, %d generated images)", fid, realStatistics.count,
                        fakeStatistics.count))
            }
        }
    }
}
