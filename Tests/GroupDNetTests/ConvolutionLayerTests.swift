import GroupDNet
import Tensor
import XCTest
import _TestSupport

/// The one convolution layer (`GroupDNet.Convolution`): its state_dict names, its spectral
/// norm against the composed operations, and its argument checks.
final class ConvolutionLayerTests: XCTestCase {
    func testNamesFollowThePyTorchStateDict() throws {
        var random = RandomSource(seed: 80)
        let plain = try Convolution(
            "fc", inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1,
            groups: 8, bias: true, spectralNorm: false, using: &random)
        XCTAssertEqual(plain.namedState.map(\.key), ["bias", "weight"])
        XCTAssertEqual(plain.parameters.map(\.shape), [[16], [16, 1, 3, 3]])
        let normalised = try Convolution(
            "head_0.conv_s", inputChannels: 8, outputChannels: 4, kernelSize: 1,
            padding: 0, groups: 2, bias: false, spectralNorm: true, using: &random)
        XCTAssertEqual(normalised.namedState.map(\.key), ["weight_orig", "weight_u", "weight_v"])
        XCTAssertEqual(normalised.parameters.map(\.shape), [[4, 4, 1, 1]], "u and v are buffers, not parameters")
        XCTAssertEqual(normalised.weight.shape, [4, 4, 1, 1])
        XCTAssertEqual(normalised.namedState.dropFirst().map(\.entry.shape), [[4], [4]])
        XCTAssertTrue(plain.bias!.data.allSatisfy { $0 == 0 })
    }

    func testSpectralNormLayerMatchesTheComposedOperations() throws {
        var random = RandomSource(seed: 81)
        let layer = try Convolution(
            "conv", inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2,
            padding: 1, groups: 2, bias: true, spectralNorm: true, initialGain: 1, using: &random)
        let x = Tensor.randomNormal([2, 4, 5, 7], using: &random)
        let uBefore = layer.spectralNorm!.u.data
        let y = try layer(x, training: true)
        XCTAssertNotEqual(layer.spectralNorm!.u.data, uBefore, "training runs a power iteration")
        // Evaluation with the updated u, v equals W/σ applied by hand.
        let evaluation = try layer(x, training: false)
        let manual = try x.conv2d(
            weight: layer.spectralNorm!.normalizedWeight(layer.weight, training: false),
            bias: layer.bias, stride: 2, padding: 1, groups: 2)
        XCTAssertEqual(evaluation.data, manual.data)
        XCTAssertEqual(y.shape, [2, 6, 3, 4])
        try checkGradients([x.detached().requiringGradient(), layer.weight]) { inputs in
            try inputs[0].conv2d(
                weight: layer.spectralNorm!.normalizedWeight(inputs[1], training: false),
                bias: layer.bias, stride: 2, padding: 1, groups: 2)
        }
    }

    func testInvalidGroupsThrowWithTheLayerName() {
        var random = RandomSource(seed: 82)
        XCTAssertThrowsError(
            try Convolution(
                "up_0.conv_0", inputChannels: 6, outputChannels: 4, kernelSize: 3,
                padding: 1, groups: 4, bias: true, spectralNorm: false, using: &random)
        ) {
            XCTAssertTrue("\($0)".contains("up_0.conv_0"), "\($0)")
        }
    }
}
