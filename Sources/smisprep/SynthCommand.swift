import ArgumentParser
import Foundation
import Pipeline

/// `smisprep synth`: draws a synthetic DeepFashion-style set for fixtures and benchmarks.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Draw synthetic people as LIP label maps with matching photos, in DeepFashion's layout.",
        discussion:
            "Writes DIR/img/<GENDER>/<CATEGORY>/<ITEM_ID>/<NN>_<VIEW>.jpg, DIR/labels/<same>.png " +
            "(LIP palette PNGs, as a LIP parser writes them) and DIR/list_eval_partition.txt. The " +
            "same --seed gives the same files.")

    @Option(name: .long, parsing: .unconditional, help: "Number of samples to draw.")
    var count: Int

    @Option(name: .long, help: "Folder to write into.")
    var out: String

    @Option(name: .long, parsing: .unconditional, help: "Seed; the same seed draws the same set.")
    var seed: UInt64 = 1

    @Option(name: .long, parsing: .unconditional, help: "JPEG quality of the photos (1...100).")
    var quality: Int = 90

    @Option(name: .long, parsing: .unconditional, help: "Photo size as WIDTHxHEIGHT (default DeepFashion's 750x1101).")
    var size = Size(width: 750, height: 1101)

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
        let set = SyntheticDataSet(count: count, seed: seed, photoQuality: quality, size: size)
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
}
