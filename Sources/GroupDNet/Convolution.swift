import Tensor

/// A 2-D convolution layer, optionally spectrally normalised: PyTorch's `nn.Conv2d`, or
/// `spectral_norm(nn.Conv2d(…))` when `spectralNorm` is true.
///
/// State names: `weight` and `bias`; with spectral norm the raw weight is `weight_orig` and the
/// power-iteration vectors `weight_u` (Cout) and `weight_v` (Cin/groups·k·k). The weight is
/// Cout × Cin/groups × k × k, Xavier-normal with gain `initialGain`; the bias starts at zero.
public final class Convolution: Module {
    public let inputChannels, outputChannels, kernelSize, stride, padding, groups: Int
    /// `weight`, or `weight_orig` under spectral norm.
    public let weight: Tensor
    public let bias: Tensor?
    public let spectralNorm: SpectralNorm?

    /// - Parameters:
    ///   - layer: the layer's name for error messages (e.g. `up_1.conv_0`).
    ///   - initialGain: Xavier-normal gain of the weight (GroupDNet and SPADE use 0.02).
    /// - Throws: ``GroupDNetError/invalidConfiguration(layer:reason:)`` when a size is not
    ///   positive or `groups` does not divide both channel counts.
    public init(
        _ layer: String, inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int, groups: Int = 1, bias: Bool, spectralNorm: Bool,
        initialGain: Float = 0.02, using random: inout RandomSource
    ) throws {
        try require(
            inputChannels > 0 && outputChannels > 0, layer,
            "channels \(inputChannels)→\(outputChannels) must be positive")
        try require(
            kernelSize > 0 && stride > 0 && padding >= 0, layer,
            "kernel \(kernelSize), stride \(stride) must be positive, padding \(padding) not negative")
        try require(
            groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0, layer,
            "groups \(groups) must divide input channels \(inputChannels) and output channels \(outputChannels)")
        (self.inputChannels, self.outputChannels, self.kernelSize) = (inputChannels, outputChannels, kernelSize)
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
        let shape = [outputChannels, inputChannels / groups, kernelSize, kernelSize]
        weight = try Tensor.xavierNormal(shape, gain: initialGain, using: &random)
        self.bias = bias ? Tensor.zeros([outputChannels], requiresGrad: true) : nil
        self.spectralNorm = spectralNorm ? try SpectralNorm(weightShape: shape, using: &random) : nil
    }

    /// The convolution of `x` (N × Cin × H × W). Under spectral norm the weight is W/σ(W), with
    /// one power iteration first when `training` (u and v are updated in place, as in PyTorch).
    public func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        let effectiveWeight = try spectralNorm.map { try $0.normalizedWeight(weight, training: training) } ?? weight
        return try x.conv2d(weight: effectiveWeight, bias: bias, stride: stride, padding: padding, groups: groups)
    }

    public var children: [(name: String, module: Module)] { [] }

    public var ownState: [(name: String, entry: StateEntry)] {
        var state: [(name: String, entry: StateEntry)] = []
        if let bias { state.append((StateName.bias, .float(bias))) }
        if let spectralNorm {
            state.append((StateName.weightOriginal, .float(weight)))
            state.append((StateName.spectralU, .float(spectralNorm.u)))
            state.append((StateName.spectralV, .float(spectralNorm.v)))
        } else {
            state.append((StateName.weight, .float(weight)))
        }
        return state
    }

    /// Multiply–adds × 2 of one forward pass on an input of `height` × `width`, per sample.
    public func forwardFlops(height: Int, width: Int) -> Double {
        let outputHeight = (height + 2 * padding - kernelSize) / stride + 1
        let outputWidth = (width + 2 * padding - kernelSize) / stride + 1
        return 2 * Double(outputChannels * outputHeight * outputWidth)
            * Double(inputChannels / groups * kernelSize * kernelSize)
    }
}
