import ArgumentParser
import Foundation
import Pipeline

/// `smisprep synth`: draws a synthetic set in a data set's layout, for fixtures and benchmarks.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Draw synthetic samples with matching photos in DeepFashion's, Cityscapes' or ADE20K's layout.",
        discussion: """
            deepfashion (the default): people as LIP label maps, \
            DIR/img/<GENDER>/<CATEGORY>/<ITEM_ID>/<NN>_<VIEW>.jpg, \
            DIR/labels/<same>.png (LIP palette PNGs, as a LIP parser writes them) and DIR/list_eval_partition.txt.
            cityscapes: street scenes, DIR/leftImg8bit/<split>/<city>/…_leftImg8bit.png and DIR/gtFine/<same>… \
            _gtFine_labelIds.png, _instanceIds.png (16-bit) and _color.png; 3 train : 1 val : 1 test.
            ade20k: rooms, DIR/images/<training|validation>/ADE_….jpg and DIR/annotations/<same>.png \
            (ids 0...150); every third sample is validation.
            The same --seed gives the same files.
            """)

    enum Layout: String, ExpressibleByArgument, CaseIterable {
        case deepfashion, cityscapes, ade20k
    }

    @Option(name: .long, help: "Whose layout and classes: deepfashion, cityscapes or ade20k.")
    var layout = Layout.deepfashion

    @Option(name: .long, parsing: .unconditional, help: "Number of samples to draw.")
    var count: Int

    @Option(name: .long, help: "Folder to write into.")
    var out: String

    @Option(name: .long, parsing: .unconditional, help: "Seed; the same seed draws the same set.")
    var seed: UInt64 = 1

    @Option(name: .long, parsing: .unconditional, help: "JPEG quality of the photos (1...100).")
    var quality: Int = 90

    @Option(
        name: .long, parsing: .unconditional,
        help: "Photo size as WIDTHxHEIGHT (default the data set's: 750x1101, 2048x1024, 512x384).")
    var size: Size?

    @Option(name: .long, help: "Folder to also write one bad input of every kind into (for tests).")
    var defects: String?

    @Option(name: .long, parsing: .unconditional, help: "Threads drawing and encoding.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must not be negative.") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be in 1...100.") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
    }

    func run() throws {
        guard layout == .deepfashion else { return try runScenes() }
        let set = SyntheticDataSet(count: count, seed: seed, photoQuality: quality, size: size ?? SyntheticPerson.size)
        let written = try set.write(to: out, jobs: jobs)
        let extras = written.stems.filter { !(written.extrasByStem[$0] ?? []).isEmpty }
        print("wrote \(written.stems.count) samples to \(out) (\(extras.count) with a hat, glove, sunglasses or scarf)")
        for stem in extras { print("  \(stem): \(written.extrasByStem[stem]!.joined(separator: ", "))") }
        if let defects {
            for (stem, expected) in try SyntheticDataSet.writeDefects(to: defects) {
                print("defect \(stem): expect \(expected)")
            }
        }
    }

    private func runScenes() throws {
        guard defects == nil else { throw ValidationError("--defects is for the deepfashion layout only.") }
        let kind: SyntheticScene.Kind = layout == .cityscapes ? .street : .indoor
        let set = SyntheticSceneSet(
            kind: kind, count: count, seed: seed, size: size ?? SyntheticSceneSet.defaultSize(of: kind),
            photoQuality: quality)
        let stems = try set.write(to: out)
        let what = kind == .street ? "street scenes in Cityscapes' layout" : "rooms in ADE20K's layout"
        print("wrote \(stems.count) \(what) to \(out)")
        for stem in stems { print("  \(stem)") }
    }
}
