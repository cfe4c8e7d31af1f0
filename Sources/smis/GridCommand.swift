import Applications
import ArgumentParser
import Foundation
import ImageIO
import Tensor
import Training

/// `smis grid`: the contact sheet of a per-class resampling (the supplementary's Figure 5).
struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "A contact sheet: one row per class, each column that class's appearance drawn again.",
        discussion: """
            Starts from one z (--seed, or the encoder's code of --style PHOTO:LABEL) and, for each \
            class of --classes (default: every class the label map shows), draws only that class's \
            latent channels again --samples times; row r shows those images, its class name on the \
            left. Writes the sheet as one PNG (--out).
            """)

    @Option(
        help: ArgumentHelp(
            "A checkpoint folder, its state.json, or a run folder (its latest checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The label map PNG (class ids 0…G−1).", valueName: "png"))
    var label: String

    @Option(help: ArgumentHelp("Rows: classes (names or ids, comma-separated).", valueName: "a,b"))
    var classes: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Columns: samples per class (1…64).", valueName: "n"))
    var samples: Int = 4

    @Option(help: ArgumentHelp("Start from this photo's code instead of z ~ N(0, I).", valueName: "photo:label"))
    var style: String?

    @Option(name: .customLong("out"), help: ArgumentHelp("The sheet's PNG file.", valueName: "png"))
    var outputFile: String

    @Flag(help: "Resample the label maps (nearest) and photo of another size to the model's size.")
    var resize = false

    @Option(parsing: .unconditional, help: "Seed of z, the encoder's noise and the resampled codes.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (1...64).contains(samples) else { throw ValidationError("--samples must be between 1 and 64.") }
        if let style { _ = try StylePaths(parsing: style, option: "--style") }
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        try reportingErrors {
            let synthesizer = try ImageSynthesizer(checkpoint: URL(fileURLWithPath: checkpoint))
            try refuseInstanceEdges(synthesizer, "smis grid")
            let map = try synthesizer.labelMap(contentsOfFile: label, resize: resize)
            let rows =
                try classes.map { try classIndices($0, of: synthesizer, option: "--classes") }
                ?? Set(map.values).map(Int.init).sorted()
            var random = RandomSource(seed: seed)
            // z and the resampled codes come from one stream, so that no sample repeats z's values.
            let z =
                try style.map {
                    try LatentSource.style(StylePaths(parsing: $0, option: "--style"))
                        .latent(with: synthesizer, resize: resize, using: &random)
                } ?? synthesizer.randomLatent(using: &random)
            let sheet = try synthesizer.contactSheet(label: map, z: z, classes: rows, samples: samples, using: &random)
            let file = URL(fileURLWithPath: outputFile)
            try checkWritable(file)
            try writeImage(sheet.image, to: file)
        }
    }

    /// The sheet is one file: refuse a folder in its place and create its parent folder.
    private func checkWritable(_ file: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), isFolder.boolValue {
            throw TrainingError.invalidInput(file: file.path, reason: "--out is a folder; give the sheet's PNG file")
        }
        _ = try outputFolder(file.deletingLastPathComponent().path)
    }
}
