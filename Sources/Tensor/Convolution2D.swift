/// A 2-D convolution layer with its parameters named as PyTorch's `state_dict` names them,
/// optionally spectrally normalised: the building block of GroupDNet's encoder, decoder and
/// discriminator.
///
/// Names, for `name` = "head_0.conv_0": without spectral norm `head_0.conv_0.weight` and
/// `head_0.conv_0.bias`; with it `head_0.conv_0.weight_orig` (the trained parameter),
/// `head_0.conv_0.weight_u` and `head_0.conv_0.weight_v` (buffers), and the bias.
/// The weight is initialised Xavier-normal with `gain`, the bias with zeros (GroupDNet's
/// `init_weights('xavier', 0.02)`).
public final class Convolution2D {
    /// The weight (`weight`, or `weight_orig` under spectral norm), Cout×Cin/groups×K×K.
    public let weight: Tensor
    /// The bias of Cout values, if any.
    public let bias: Tensor?
    /// The power-iteration state, when spectrally normalised.
    public let spectralNorm: SpectralNorm?
    public let stride: Int
    public let padding: Int
    public let groups: Int

    /// Makes the layer; throws if `groups` does not divide both channel counts or a size is
    /// not positive.
    public init(name: String, inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, groups: Int = 1, bias: Bool = true, spectralNorm: Bool = false,
                gain: Float = 0.02, using random: inout RandomSource) throws {
        guard inputChannels > 0, outputChannels > 0, kernelSize > 0, stride > 0, padding >= 0, groups > 0,
              inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw TensorError.invalidArgument(
                operation: "Convolution2D \(name)",
                reason: "\(inputChannels)→\(outputChannels), kernel \(kernelSize), stride \(stride), padding \(padding), groups \(groups): sizes must be positive and groups must divide both channel counts")
        }
        let shape = [outputChannels, inputChannels / groups, kernelSize, kernelSize]
        weight = try Tensor.xavierNormal(shape, gain: gain, using: &random,
                                         name: name + (spectralNorm ? ".weight_orig" : ".weight"))
        self.bias = bias ? Tensor.zeros([outputChannels], requiresGrad: true, name: name + ".bias") : nil
        if spectralNorm {
            let norm = try SpectralNorm(weightShape: shape, using: &random)
            norm.u.name = name + ".weight_u"
            norm.v.name = name + ".weight_v"
            self.spectralNorm = norm
        } else {
            self.spectralNorm = nil
        }
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
    }

    /// The convolution of `x` (N×Cin×H×W). Under spectral norm, `training` runs one power
    /// iteration first (updating u and v); evaluation uses the stored u and v.
    public func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        let effectiveWeight = try spectralNorm?.normalizedWeight(weight, training: training) ?? weight
        return try x.conv2d(weight: effectiveWeight, bias: bias, stride: stride, padding: padding, groups: groups)
    }

    /// The trainable tensors, named: the weight, then the bias.
    public var parameters: [Tensor] { [weight] + (bias.map { [$0] } ?? []) }

    /// The non-trainable state saved in checkpoints: `weight_u`, `weight_v` under spectral norm.
    public var buffers: [Tensor] { spectralNorm.map { [$0.u, $0.v] } ?? [] }
}
