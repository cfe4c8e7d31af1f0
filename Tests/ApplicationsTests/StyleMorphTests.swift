import Applications
import GroupDNet
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

final class StyleMorphTests: XCTestCase {
    func testEndFramesAreTheEndPointsImagesBitForBitAndTheMiddleIsBetween() throws {
        let synthesizer = try TinyModel.synthesizer()
        let label = TinyModel.label()
        var random = RandomSource(seed: 11)
        let start = synthesizer.randomLatent(using: &random), end = synthesizer.randomLatent(using: &random)
        let latents = try synthesizer.morphLatents(from: start, to: end, frames: 5)
        XCTAssertEqual(latents.count, 5)
        XCTAssertEqual(latents[0].data, start.data)
        XCTAssertEqual(latents[4].data, end.data)
        assertClose(latents[2].data, zip(start.data, end.data).map { ($0 + $1) / 2 }, .forward, "midpoint")
        assertClose(latents[1].data, zip(start.data, end.data).map { 0.75 * $0 + 0.25 * $1 }, .forward, "quarter")
        let frames = try synthesizer.morphImages(label: label, from: start, to: end, frames: 5)
        XCTAssertEqual(frames.count, 5)
        XCTAssertEqual(frames[0].pixels, try synthesizer.image(label: label, z: start).pixels)
        XCTAssertEqual(frames[4].pixels, try synthesizer.image(label: label, z: end).pixels)
        XCTAssertNotEqual(frames[0].pixels, frames[4].pixels, "the two end points must look different")
        XCTAssertNotEqual(frames[2].pixels, frames[0].pixels)
        XCTAssertNotEqual(frames[2].pixels, frames[4].pixels)
    }

    func testMorphingChosenClassesKeepsEveryOtherGroupAtTheStart() throws {
        let synthesizer = try TinyModel.synthesizer()
        let configuration = synthesizer.configuration
        let label = TinyModel.label(shift: 2)
        var random = RandomSource(seed: 12)
        let start = synthesizer.randomLatent(using: &random), end = synthesizer.randomLatent(using: &random)
        let chosen = [0, 3]
        let latents = try synthesizer.morphLatents(from: start, to: end, frames: 3, classes: chosen)
        for classIndex in 0..<configuration.classCount {
            let channels = configuration.latentChannels(ofClass: classIndex)
            for (frame, latent) in latents.enumerated() {
                let values = TinyModel.values(of: latent, channels: channels)
                if !chosen.contains(classIndex) {
                    XCTAssertEqual(values, TinyModel.values(of: start, channels: channels), "class \(classIndex)")
                } else if frame == 2 {
                    XCTAssertEqual(values, TinyModel.values(of: end, channels: channels), "class \(classIndex)")
                }
            }
        }
        // The last frame is the start with the chosen classes' appearance taken from the end.
        var mixed = start
        for classIndex in chosen { mixed = try synthesizer.mixing(mixed, classIndex: classIndex, from: end) }
        let frames = try synthesizer.morphImages(label: label, from: start, to: end, frames: 3, classes: chosen)
        XCTAssertEqual(frames[2].pixels, try synthesizer.image(label: label, z: mixed).pixels)
        XCTAssertEqual(frames[0].pixels, try synthesizer.image(label: label, z: start).pixels)
    }

    func testAMorphNeedsTwoFramesAndKnownClasses() throws {
        let synthesizer = try TinyModel.synthesizer()
        var random = RandomSource(seed: 1)
        let z = synthesizer.randomLatent(using: &random)
        XCTAssertThrowsError(try synthesizer.morphLatents(from: z, to: z, frames: 1)) { error in
            XCTAssertEqual("\(error)", "frames: 1 frames; a morph needs at least 2")
        }
        XCTAssertThrowsError(try synthesizer.morphLatents(from: z, to: z, frames: 2, classes: [9])) { error in
            XCTAssertEqual("\(error)", "classes: class 9 is not in 0..<8")
        }
        XCTAssertThrowsError(try synthesizer.interpolating(from: z, to: z, fraction: .nan)) { error in
            XCTAssertEqual("\(error)", "fraction: nan is not finite")
        }
    }
}
