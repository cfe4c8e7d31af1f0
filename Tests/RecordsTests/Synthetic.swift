import SeededRandom
import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport

/// Synthetic samples and shard sets of sequential ids, stored raw (no codec needed): sample n
/// has key "sample-NNNNN", its number in the first four photo bytes, and a label map whose
/// classes depend on n.
enum Synthetic {
    static let classes = ["hair", "face", "skin", "top", "bottom", "socks", "shoes", "background"]

    static func key(_ number: Int) -> String {
        let digits = String(number)
        return "sample-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    static func sample(number: Int, width: Int, height: Int) -> (image: Image, label: LabelMap) {
        var generator = SplitMix64(seed: UInt64(number))
        var pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        withUnsafeBytes(of: UInt32(number).littleEndian) { for i in 0..<min(4, pixels.count) { pixels[i] = $0[i] } }
        let values = (0..<(width * height)).map { i in UInt8((i / max(1, width) + number) % 8) }
        return (
            Image(width: width, height: height, pixels: pixels), LabelMap(width: width, height: height, values: values)
        )
    }

    static func payload(number: Int, width: Int, height: Int) throws -> [UInt8] {
        let sample = sample(number: number, width: width, height: height)
        return try SegmentationRecord.example(
            key: key(number), photo: .pixels(sample.image), label: sample.label, classCount: 8, imageEncoding: .raw,
            labelEncoding: .raw
        ).encoded()
    }

    static func source(
        split: String = "train", count: Int, width: Int = 8, height: Int = 6, identitySalt: String = "",
        failing: Set<Int> = []
    ) -> RecordSource {
        RecordSource(split: split, count: count, identity: { "\(split)/\($0)\(identitySalt)" }) { number in
            if failing.contains(number) {
                throw RecordsError(file: key(number), reason: .invalidValue("synthetic failure"))
            }
            return try payload(number: number, width: width, height: height)
        }
    }

    static func configuration(
        _ directory: URL, sizing: ShardSizing = .records(10), jobs: Int = 1
    ) -> ShardSetWriter.Configuration {
        ShardSetWriter.Configuration(
            directory: directory, sizing: sizing, jobs: jobs, toolVersion: "smisprep test",
            schema: SegmentationRecord.schema,
            classes: classes, settings: ["image": "raw", "label": "raw"], pipeline: "stages: [synthetic]\n")
    }

    @discardableResult
    static func writeSet(
        _ directory: URL, count: Int, sizing: ShardSizing = .records(10), jobs: Int = 1,
        width: Int = 8, height: Int = 6
    ) throws -> ShardSetWriter.Result {
        try ShardSetWriter(configuration: configuration(directory, sizing: sizing, jobs: jobs))
            .write(
                [source(count: count, width: width, height: height)],
                statistics: .object(["samples": .number(Double(count))]))
    }

    /// The number a sample's photo carries.
    static func number(ofPixels pixels: UnsafeBufferPointer<UInt8>) -> Int {
        Int(pixels[0]) | Int(pixels[1]) << 8 | Int(pixels[2]) << 16 | Int(pixels[3]) << 24
    }
}

/// Reading and damaging the files of a test's shard set in its temporary `folder`.
extension TemporaryFolderTestCase {
    func bytes(of name: String, in other: URL? = nil) throws -> [UInt8] {
        Array(try Data(contentsOf: (other ?? folder).appendingPathComponent(name)))
    }

    func modify(_ name: String, _ change: (inout [UInt8]) -> Void) throws {
        var contents = try bytes(of: name)
        change(&contents)
        try Data(contents).write(to: folder.appendingPathComponent(name))
    }
}
