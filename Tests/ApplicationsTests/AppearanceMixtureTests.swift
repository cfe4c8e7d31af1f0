import Applications
import GroupDNet
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

final class AppearanceMixtureTests: XCTestCase {
    func testMixingReplacesOnlyTheMixedClassesChannelsWithTheDonors() throws {
        let synthesizer = try TinyModel.synthesizer()
        let configuration = synthesizer.configuration
        var random = RandomSource(seed: 3)
        let z = synthesizer.randomLatent(using: &random)
        let donor = synthesizer.randomLatent(using: &random)
        let topClothes = try synthesizer.classIndex(named: "top-clothes", argument: "--mix")
        let mixed = try synthesizer.mixing(z, classIndex: topClothes, from: donor)
        XCTAssertEqual(mixed.shape, z.shape)
        for classIndex in 0..<configuration.classCount {
            let channels = configuration.latentChannels(ofClass: classIndex)
            let source = classIndex == topClothes ? donor : z
            XCTAssertEqual(
                TinyModel.values(of: mixed, channels: channels), TinyModel.values(of: source, channels: channels),
                "class \(classIndex)")
        }
        // Repeatable: a second class from a second donor leaves the first mixture in place.
        let second = synthesizer.randomLatent(using: &random)
        let twice = try synthesizer.mixing(mixed, classIndex: 0, from: second)
        let hair = configuration.latentChannels(ofClass: 0), top = configuration.latentChannels(ofClass: topClothes)
        XCTAssertEqual(TinyModel.values(of: twice, channels: hair), TinyModel.values(of: second, channels: hair))
        XCTAssertEqual(TinyModel.values(of: twice, channels: top), TinyModel.values(of: donor, channels: top))
        XCTAssertEqual(
            TinyModel.values(of: twice, channels: 8..<24), TinyModel.values(of: z, channels: 8..<24),
            "face and skin stay z's")
    }

    func testMixingFromAPhotoTakesThatClassFromItsEncodingAndTheImageFollowsZ() throws {
        let synthesizer = try TinyModel.synthesizer()
        let label = TinyModel.label()
        let styleLabel = TinyModel.label(shift: 5)
        let style = StyleExample(photo: TinyModel.photo(for: styleLabel, seed: 9), label: styleLabel)
        var random = RandomSource(seed: 4)
        let z = synthesizer.randomLatent(using: &random)
        var noise = RandomSource(seed: 5)
        let mixed = try synthesizer.mixing(z, classIndex: 4, style: style, using: &noise)
        var sameNoise = RandomSource(seed: 5)
        let encoded = try synthesizer.encodedLatent(style: style.photo, label: style.label, using: &sameNoise)
        let channels = synthesizer.configuration.latentChannels(ofClass: 4)
        XCTAssertEqual(
            TinyModel.values(of: mixed, channels: channels), TinyModel.values(of: encoded, channels: channels))
        XCTAssertNotEqual(TinyModel.values(of: mixed, channels: channels), TinyModel.values(of: z, channels: channels))
        XCTAssertEqual(
            TinyModel.values(of: mixed, channels: 0..<channels.lowerBound),
            TinyModel.values(of: z, channels: 0..<channels.lowerBound))
        let image = try synthesizer.image(label: label, z: mixed)
        XCTAssertEqual(image.pixels, try synthesizer.image(label: label, z: mixed).pixels, "deterministic")
        XCTAssertNotEqual(
            image.pixels, try synthesizer.image(label: label, z: z).pixels,
            "the mixed class's new code changes the image")
    }

    func testBadClassesAndShapesAreNamed() throws {
        let synthesizer = try TinyModel.synthesizer()
        var random = RandomSource(seed: 1)
        let z = synthesizer.randomLatent(using: &random)
        XCTAssertThrowsError(try synthesizer.mixing(z, classIndex: 8, from: z)) { error in
            XCTAssertEqual("\(error)", "class: class 8 is not in 0..<8")
        }
        let wrong = try Tensor(shape: [1, 8, 2, 2], data: [Float](repeating: 0, count: 32))
        XCTAssertThrowsError(try synthesizer.mixing(z, classIndex: 1, from: wrong)) { error in
            XCTAssertEqual("\(error)", "donor latent: latent code of shape [1, 8, 2, 2], the model's is [1, 64, 2, 2]")
        }
        XCTAssertThrowsError(try synthesizer.classIndex(named: "hat", argument: "--mix")) { error in
            XCTAssertTrue("\(error)".hasPrefix("--mix: hat is not a class; the classes are hair, face"), "\(error)")
        }
    }
}
