import Foundation
import _TestSupport
import GroupDNet
import Tensor
import XCTest

/// The VGG19 perceptual loss against PyTorch 2.13 (Fixtures/make_vgg_reference.py): the same
/// topology with widths divided by 32, weights in torchvision's names, 2×3×20×20 images.
final class VGGLossTests: XCTestCase {
    let fixture = fixtures.appendingPathComponent("tiny_vgg.safetensors")

    func testFeaturesLossAndGradientMatchPyTorch() throws {
        let reference = try SafeTensors.read(from: fixture)
        let network = try VGG19Features(contentsOf: fixture, channelDivisor: 32)
        let fake = try reference.tensor("input.fake")
        fake.requiresGrad = true
        let real = try reference.tensor("input.real")

        let features = try network(fake)
        XCTAssertEqual(
            features.map(\.shape), [[2, 2, 20, 20], [2, 4, 10, 10], [2, 8, 5, 5], [2, 16, 2, 2], [2, 16, 1, 1]])
        for (index, feature) in features.enumerated() {
            assertClose(feature.data, try reference.floats("vgg.features_\(index)"), .reference, "relu\(index + 1)_1")
        }
        let loss = try network.vggLoss(fake: fake, real: real)
        assertClose(loss.data, try reference.floats("vgg.loss"), .reference, "vgg.loss")
        try loss.backward()
        // The gradient is small (a mean over every feature), so compare it to its own scale.
        let expected = try reference.floats("vgg.grad_fake")
        let scale = expected.map(abs).max()!
        XCTAssertGreaterThan(scale, 1e-3, "the fixture's gradient should not vanish")
        let grad = try XCTUnwrap(fake.grad)
        assertClose(
            grad.map { $0 / scale }, expected.map { $0 / scale }, Tolerance(ofScale: 1e-4),
            "d vgg.loss / d fake (÷ max)")
    }

    func testFrozenWeightsReceiveNoGradientAndRealIsConstant() throws {
        let network = try VGG19Features(contentsOf: fixture, channelDivisor: 32)
        let reference = try SafeTensors.read(from: fixture)
        let fake = try reference.tensor("input.fake"), real = try reference.tensor("input.real")
        fake.requiresGrad = true
        real.requiresGrad = true
        try network.vggLoss(fake: fake, real: real).backward()
        XCTAssertNotNil(fake.grad)
        XCTAssertNil(real.grad, "the real image's features are detached")
        XCTAssertTrue(network.parameters.isEmpty, "VGG weights are not trainable")
        for (key, entry) in network.namedState {
            if case let .float(tensor) = entry { XCTAssertNil(tensor.grad, "\(key) got a gradient") }
        }
    }

    func testLossIsZeroForIdenticalImages() throws {
        let network = try VGG19Features(contentsOf: fixture, channelDivisor: 32)
        let image = try SafeTensors.read(from: fixture).tensor("input.real")
        XCTAssertEqual(try network.vggLoss(fake: image, real: image).scalarValue, 0)
    }

    func testStateNamesAreTorchvisions() throws {
        let network = try VGG19Features()
        let convolutions = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28]
        XCTAssertEqual(
            network.namedState.map(\.key), convolutions.flatMap { ["features.\($0).weight", "features.\($0).bias"] })
        // torchvision's vgg19 features[0:30]: Σ (Cin·9 + 1)·Cout over conv1_1…conv5_1.
        let total = network.namedState.reduce(0) { $0 + $1.entry.shape.reduce(1, *) }
        XCTAssertEqual(total, 12_944_960)
        XCTAssertEqual(network.namedState.first { $0.key == "features.28.weight" }?.entry.shape, [512, 512, 3, 3])
        XCTAssertThrowsError(try VGG19Features(channelDivisor: 3))
        // Σ 2·9·Cin·Cout·H·W over conv1_1…conv5_1 at 224² (conv5_2…5_4 and the classifier of
        // the usual 19.6 GMAC figure are not part of it).
        XCTAssertEqual(network.forwardFlops(height: 224, width: 224), 36_242_325_504)
    }

    func testRefusesMissingAndMisshapedTensorsNamingThem() throws {
        var file = try SafeTensors.read(from: fixture)
        let folder = try temporaryFolder("vgg")
        let network = try VGG19Features(contentsOf: fixture, channelDivisor: 32)
        let before = network.namedState.map { key, entry -> [Float] in
            if case let .float(tensor) = entry { return tensor.data }
            return []
        }

        file.entries["features.21.bias"] = SafeTensors.Entry(shape: [15], floats: [Float](repeating: 1, count: 15))
        let misshaped = folder.appendingPathComponent("misshaped.safetensors")
        try SafeTensors.write(file, to: misshaped)
        XCTAssertThrowsError(try network.load(from: misshaped)) { error in
            guard case let GroupDNetError.checkpoint(path, tensor, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, misshaped.path)
            XCTAssertEqual(tensor, "features.21.bias")
            XCTAssertTrue(reason.contains("[15]") && reason.contains("[16]"), reason)
        }

        file.entries["features.21.bias"] = nil
        let missing = folder.appendingPathComponent("missing.safetensors")
        try SafeTensors.write(file, to: missing)
        XCTAssertThrowsError(try network.load(from: missing)) { error in
            XCTAssertEqual(
                (error as? GroupDNetError).flatMap {
                    if case let .checkpoint(_, tensor, _) = $0 { tensor } else { nil }
                }, "features.21.bias")
        }
        // A failed load leaves the weights as they were; extra tensors are ignored.
        let after = network.namedState.map { key, entry -> [Float] in
            if case let .float(tensor) = entry { return tensor.data }
            return []
        }
        XCTAssertEqual(before, after)
        XCTAssertThrowsError(try VGG19Features(contentsOf: fixture, channelDivisor: 16), "widths of another divisor")
    }
}
