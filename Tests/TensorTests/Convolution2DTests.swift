import XCTest
@testable import Tensor

final class Convolution2DTests: XCTestCase {
    func testNamesFollowThePyTorchStateDict() throws {
        var random = RandomSource(seed: 80)
        let plain = try Convolution2D(name: "fc", inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1,
                                      groups: 8, using: &random)
        XCTAssertEqual(plain.parameters.map(\.name), ["fc.weight", "fc.bias"])
        XCTAssertEqual(plain.buffers.map(\.name), [])
        let normalised = try Convolution2D(name: "head_0.conv_s", inputChannels: 8, outputChannels: 4, kernelSize: 1,
                                           groups: 2, bias: false, spectralNorm: true, using: &random)
        XCTAssertEqual(normalised.parameters.map(\.name), ["head_0.conv_s.weight_orig"])
        XCTAssertEqual(normalised.buffers.map(\.name), ["head_0.conv_s.weight_u", "head_0.conv_s.weight_v"])
        XCTAssertEqual(normalised.weight.shape, [4, 4, 1, 1])
        XCTAssertEqual(normalised.buffers.map(\.count), [4, 4])
        XCTAssertTrue(plain.bias!.data.allSatisfy { $0 == 0 })
    }

    func testSpectralNormLayerMatchesTheComposedOperations() throws {
        var random = RandomSource(seed: 81)
        let layer = try Convolution2D(name: "conv", inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2,
                                      padding: 1, groups: 2, spectralNorm: true, gain: 1, using: &random)
        let x = Tensor.randomNormal([2, 4, 5, 7], using: &random)
        let uBefore = layer.spectralNorm!.u.data
        let y = try layer(x, training: true)
        XCTAssertNotEqual(layer.spectralNorm!.u.data, uBefore, "training runs a power iteration")
        // Evaluation with the updated u, v equals W/σ applied by hand.
        let evaluation = try layer(x, training: false)
        let manual = try x.conv2d(weight: layer.spectralNorm!.normalizedWeight(layer.weight, training: false),
                                  bias: layer.bias, stride: 2, padding: 1, groups: 2)
        XCTAssertEqual(evaluation.data, manual.data)
        XCTAssertEqual(y.shape, [2, 6, 3, 4])
        try checkGradients([x.detached().requiringGradient(), layer.weight]) { inputs in
            try inputs[0].conv2d(weight: layer.spectralNorm!.normalizedWeight(inputs[1], training: false),
                                 bias: layer.bias, stride: 2, padding: 1, groups: 2)
        }
    }

    func testInvalidGroupsThrowWithTheLayerName() {
        var random = RandomSource(seed: 82)
        XCTAssertThrowsError(try Convolution2D(name: "up_0.conv_0", inputChannels: 6, outputChannels: 4, kernelSize: 3,
                                               groups: 4, using: &random)) { error in
            XCTAssertTrue("\(error)".contains("up_0.conv_0"), "\(error)")
        }
    }
}

extension Tensor {
    /// This tensor with `requiresGrad` set, for tests that build inputs from values.
    func requiringGradient() -> Tensor {
        requiresGrad = true
        return self
    }
}
