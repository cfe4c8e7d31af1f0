import Applications
import ArgumentParser
import Foundation
import ImageIO
import Tensor
import Training

/// `smis morph`: style morphing between two latent codes on one label map.
struct MorphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "morph",
        abstract: "Morph one appearance into another on a label map: frame PNGs and an animated GIF.",
        discussion: """
            Interpolates z linearly from --from to --to (each a seed, for z ~ N(0, I), or \
            PHOTO:LABEL, for the encoder's code of that photo) in --steps frames, both end points \
            included, and writes OUT/frame-001.png … and OUT/morph.gif (one 256-colour median-cut \
            palette for every frame, through giflib). With --classes, only those classes' latent \
            channels move; the rest of the image keeps --from's appearance.
            """)

    @Option(
        help: ArgumentHelp(
            "A checkpoint folder, its state.json, or a run folder (its latest checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The label map PNG to draw on (class ids 0…G−1).", valueName: "png"))
    var label: String

    @Option(help: ArgumentHelp("The first frame's code: a seed, or PHOTO:LABEL.", valueName: "seed|photo:label"))
    var from: String

    @Option(help: ArgumentHelp("The last frame's code: a seed, or PHOTO:LABEL.", valueName: "seed|photo:label"))
    var to: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Frames, both end points included (2…1000).", valueName: "k"))
    var steps: Int = 10

    @Option(
        help: ArgumentHelp(
            "Only these classes' appearance moves (names or ids, comma-separated).",
            valueName: "a,b"))
    var classes: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Hundredths of a second per GIF frame.", valueName: "cs"))
    var delay: Int = 10

    @Option(
        name: .customLong("out"),
        help: ArgumentHelp(
            "Folder to write the frames and morph.gif into.",
            valueName: "dir"))
    var outputDirectory: String

    @Flag(help: "Resample the label maps (nearest) and photos of another size to the model's size.")
    var resize = false

    @Option(parsing: .unconditional, help: "Seed of the encoder's noise for PHOTO:LABEL end points.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (2...1000).contains(steps) else { throw ValidationError("--steps must be between 2 and 1000.") }
        guard (0...65535).contains(delay) else { throw ValidationError("--delay must be between 0 and 65535.") }
        _ = try LatentSource(parsing: from, option: "--from")
        _ = try LatentSource(parsing: to, option: "--to")
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        try reportingErrors {
            let synthesizer = try ImageSynthesizer(checkpoint: URL(fileURLWithPath: checkpoint))
            try refuseInstanceEdges(synthesizer, "smis morph")
            let chosen = try classes.map { try classIndices($0, of: synthesizer, option: "--classes") }
            let map = try synthesizer.labelMap(contentsOfFile: label, resize: resize)
            var random = RandomSource(seed: seed)
            let start = try LatentSource(parsing: from, option: "--from").latent(
                with: synthesizer, resize: resize, using: &random)
            let end = try LatentSource(parsing: to, option: "--to").latent(
                with: synthesizer, resize: resize, using: &random)
            let output = try outputFolder(outputDirectory)
            let frames = try synthesizer.morphImages(label: map, from: start, to: end, frames: steps, classes: chosen)
            let digits = max(3, String(frames.count).count)
            let names = (1...frames.count).map {
                "frame-" + String(repeating: "0", count: digits - String($0).count) + "\($0).png"
            }
            for (frame, name) in zip(frames, names) { try writeImage(frame, to: output.appendingPathComponent(name)) }
            try writeFile(
                AnimatedGIF.encoded(frames, delayCentiseconds: delay), to: output.appendingPathComponent("morph.gif"))
            noteOlderFrames(in: output, besides: Set(names))
        }
    }

    /// Frames a longer earlier morph left in the folder are not this morph's: say so rather
    /// than delete files this run did not write.
    private func noteOlderFrames(in folder: URL, besides written: Set<String>) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let older = names.filter { $0.hasPrefix("frame-") && $0.hasSuffix(".png") && !written.contains($0) }.sorted()
        if let first = older.first {
            printError(
                "Note: \(folder.path) also holds \(older.count) older frames (\(first) …), not part of this morph.")
        }
    }
}
