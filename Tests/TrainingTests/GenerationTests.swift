import Foundation
import GroupDNet
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

final class GenerationTests: TemporaryFolderTestCase {
    func testResamplingOneClassChangesOnlyItsLatentChannelsAndTheImage() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 4)
        _ = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false).run()
        let synthesizer = try ImageSynthesizer(checkpoint: folder.appendingPathComponent("run"))
        XCTAssertEqual(synthesizer.classes, SyntheticShards.classes)
        let topClothes = try synthesizer.classIndex(named: "top-clothes")
        XCTAssertEqual(topClothes, 3)
        var random = RandomSource(seed: 1)
        let z = synthesizer.randomLatent(using: &random)
        let first = try synthesizer.resampling(z, classIndex: topClothes, using: &random)
        let second = try synthesizer.resampling(z, classIndex: topClothes, using: &random)
        let plane = z.shape[2] * z.shape[3]
        for channel in 0..<z.shape[1] {
            let range = channel * plane..<(channel + 1) * plane
            let owned = (24..<32).contains(channel)
            XCTAssertEqual(Array(first.data[range]) != Array(z.data[range]), owned, "channel \(channel)")
            XCTAssertEqual(Array(first.data[range]) != Array(second.data[range]), owned, "channel \(channel)")
        }
        let label = SyntheticShards.sample(number: 0, size: 64, classCount: 8).label
        let imageOne = try synthesizer.image(label: label, z: first)
        let imageTwo = try synthesizer.image(label: label, z: second)
        XCTAssertEqual(imageOne.width, 64)
        XCTAssertNotEqual(imageOne.pixels, imageTwo.pixels, "different codes for class 3 must give different images")
        XCTAssertEqual(
            try synthesizer.image(label: label, z: first).pixels, imageOne.pixels, "generation is deterministic")
        let style = SyntheticShards.sample(number: 2, size: 64, classCount: 8)
        var styleNoise = RandomSource(seed: 4)
        let encoded = try synthesizer.encodedLatent(style: style.image, label: style.label, using: &styleNoise)
        XCTAssertEqual(encoded.shape, z.shape)
        XCTAssertTrue(encoded.data.allSatisfy(\.isFinite))
        XCTAssertNotEqual(encoded.data, z.data)
        XCTAssertThrowsError(try synthesizer.classIndex(named: "hat")) { error in
            XCTAssertTrue("\(error)".contains("hat is not a class"), "\(error)")
        }
    }

    /// A bad value that a nearest resize would skip is still found, at the file's coordinates.
    func testLabelValuesAreCheckedInTheFileBeforeAnyResize() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 2)
        _ = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false).run()
        let synthesizer = try ImageSynthesizer(checkpoint: folder.appendingPathComponent("run"))
        var label = LabelMap(width: 256, height: 256)
        label.values[1 * 256 + 1] = 9  // 256 → 64 samples every fourth pixel from 2: (1, 1) is skipped
        let file = folder.appendingPathComponent("odd.png")
        try Data(label.encodedPNG()).write(to: file)
        XCTAssertThrowsError(try synthesizer.labelMap(contentsOfFile: file.path, resize: true)) { error in
            XCTAssertEqual("\(error)", "\(file.path): pixel (x 1, y 1) has class 9, not below 8")
        }
        label.values[1 * 256 + 1] = 7
        try Data(label.encodedPNG()).write(to: file)
        XCTAssertEqual(try synthesizer.labelMap(contentsOfFile: file.path, resize: true).width, 64)
    }
}
