import Foundation
import GroupDNet
import ImageIO
import Tensor
import XCTest
import _TestSupport

@testable import Evaluation

/// LPIPS against the lpips package (Fixtures/make_lpips_reference.py, run in the reference
/// environment), and its properties on random weights.
final class LPIPSTests: TemporaryFolderTestCase {
    func testMatchesTheLPIPSPackage() throws {
        let printed = try ReferencePython.run(
            "make_lpips_reference.py", arguments: [TestPaths.repositoryRoot.path, folder.path], requiring: "lpips")
        let network = try LPIPS(contentsOf: folder.appendingPathComponent("weights.safetensors"))
        let reference = try SafeTensors.read(from: folder.appendingPathComponent("reference.safetensors"))
        let (a, b) = (try reference.tensor("input.a"), try reference.tensor("input.b"))
        let features = try network.features(a)
        for layer in 0..<5 {
            assertClose(
                features.layerData[layer].values, try reference.floats("features.\(layer)"),
                Tolerance(ofScale: 1e-4), "normalised features of layer \(layer)")
        }
        let expected = try reference.floats("distance")
        XCTAssertGreaterThan(expected[0], expected[1], "the fixture's closer pair should be closer")
        assertClose(try network.distances(a, b), expected, Tolerance(relative: 1e-4), "LPIPS (printed \(printed))")
        let other = try network.features(b)
        let maps = try (0..<2).flatMap { try network.distanceMap(features, $0, other, $0) }
        assertClose(maps, try reference.floats("spatial"), Tolerance(ofScale: 1e-4), "spatial LPIPS")
    }

    func testIdenticalImagesAreAtZeroAndDistanceIsSymmetric() throws {
        let network = try randomNetwork()
        var random = RandomSource(seed: 3)
        let images = try Tensor(shape: [2, 3, 40, 36], data: Tensor.randomNormal([2, 3, 40, 36], using: &random).data)
        let features = try network.features(images)
        XCTAssertEqual(network.distance(features, 0, features, 0), 0)
        let forward = network.distance(features, 0, features, 1), backward = network.distance(features, 1, features, 0)
        XCTAssertGreaterThan(forward, 0)
        XCTAssertEqual(forward, backward, accuracy: 1e-6 * forward)
        // The spatial map averages back to about the distance (bilinear upsampling keeps means
        // only approximately), and is zero everywhere for an image against itself.
        let map = try network.distanceMap(features, 0, features, 1)
        XCTAssertEqual(map.count, 40 * 36)
        XCTAssertEqual(map.reduce(0, +) / Float(map.count), forward, accuracy: 0.05 * forward)
        XCTAssertEqual(try network.distanceMap(features, 1, features, 1).max(), 0)
    }

    func testRefusesSmallImagesAndBadWeightsNamingTheTensor() throws {
        let network = try randomNetwork()
        XCTAssertThrowsError(try network.features(Tensor.zeros([1, 3, 30, 64]))) { error in
            XCTAssertTrue("\(error)".contains("H, W ≥ 31"), "\(error)")
        }
        var file = try SafeTensors.read(from: folder.appendingPathComponent("lpips.safetensors"))
        file.entries["lin3.model.1.weight"] = SafeTensors.Entry(
            shape: [1, 255, 1, 1], floats: .init(repeating: 0, count: 255))
        let misshaped = folder.appendingPathComponent("misshaped.safetensors")
        try SafeTensors.write(file, to: misshaped)
        XCTAssertThrowsError(try LPIPS(contentsOf: misshaped)) { error in
            XCTAssertEqual(
                error as? EvaluationError,
                .weights(
                    file: misshaped.path, tensor: "lin3.model.1.weight",
                    reason: "F32 [1, 255, 1, 1], expected F32 [1, 256, 1, 1]"))
        }
        file.entries["net.slice2.3.bias"] = nil
        try SafeTensors.write(file, to: misshaped)
        XCTAssertThrowsError(try LPIPS(contentsOf: misshaped)) { error in
            guard case let .weights(_, tensor, reason) = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "net.slice2.3.bias")
            XCTAssertTrue(reason.contains("missing"), reason)
        }
    }

    func testImagesMapToTheRangesOfTheReferences() throws {
        let image = Image(width: 1, height: 1, pixels: [0, 255, 51])
        assertClose(image.tensor(scale: 1 / 127.5, shift: -1), [-1, 1, -0.6], .forward, "lpips' im2tensor")
        assertClose(image.tensor(scale: 1 / 255, shift: 0), [0, 1, 0.2], .forward, "torchvision's ToTensor")
        let other = Image(width: 2, height: 1)
        XCTAssertThrowsError(try batchTensor([image, other], scale: 1, shift: 0))
    }

    private func randomNetwork() throws -> LPIPS {
        let url = folder.appendingPathComponent("lpips.safetensors")
        try writeRandomWeights(LPIPS.weightShapes, to: url, seed: 1)
        return try LPIPS(contentsOf: url)
    }
}
