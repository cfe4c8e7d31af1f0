import Tensor

/// The GroupDNet decoder G: `fc` (3×3 conv, groups = classes, with bias) maps z
/// (N × classes·8 × h × w) to 16·ngf channels; the CG-Blocks follow, each after a nearest ×2
/// upsampling where its layout says so; then lrelu(0.2), `conv_img` (3×3 to RGB, bias), tanh.
///
/// State names: `fc.*`, `<block>.*` (e.g. `head_0.conv_0.weight_orig`), `conv_img.*`.
public final class Generator: Module {
    public let configuration: GroupDNetConfiguration
    public let fc: Convolution
    public let blocks: [ConditionalGroupBlock]
    public let outputConv: Convolution

    /// Builds G with Xavier-normal (gain 0.02) weights and zero biases drawn from `random`.
    /// Throws when the configuration does not fit together (see ``GroupDNetConfiguration/validate()``).
    public init(_ configuration: GroupDNetConfiguration, using random: inout RandomSource) throws {
        try configuration.validate()
        self.configuration = configuration
        let layout = configuration.generator
        fc = try Convolution(
            Self.fcName, inputChannels: configuration.latentChannels, outputChannels: layout.fullChannels,
            kernelSize: 3, padding: 1, groups: layout.fcGroups, bias: true, spectralNorm: false, using: &random)
        blocks = try layout.blocks.map {
            try ConditionalGroupBlock(
                $0, labelChannels: configuration.classCount,
                normHiddenChannels: layout.normHiddenChannels, using: &random)
        }
        let last = layout.blocks.last?.outputChannels ?? layout.fullChannels
        outputConv = try Convolution(
            Self.outputConvName, inputChannels: last, outputChannels: 3, kernelSize: 3, padding: 1,
            bias: true, spectralNorm: false, using: &random)
        assignStateNames()
    }

    /// The generated image, N × 3 × H × W in [-1, 1], for the one-hot `seg` (N × classes × H × W)
    /// and latent `z` (N × classes·8 × h × w, see ``GroupDNetConfiguration/latentShape(batch:)``).
    /// `training` selects batch statistics and spectral-norm power iterations (updating state).
    public func callAsFunction(seg: Tensor, z: Tensor, training: Bool) throws -> Tensor {
        let batch = try checkSeg(seg, configuration)
        guard z.shape == configuration.latentShape(batch: batch) else {
            throw GroupDNetError.invalidInput(
                reason: "z must be \(configuration.latentShape(batch: batch)), got \(z.shape)")
        }
        var x = try fc(z, training: training)
        for block in blocks {
            if block.layout.upsampleBefore { x = try x.upsampleNearest2x() }
            x = try block(x, seg: seg, training: training)
        }
        return try outputConv(x.leakyRelu(negativeSlope: 0.2), training: training).tanh()
    }

    static let fcName = "fc", outputConvName = "conv_img"

    /// fc, the blocks under their layout names, conv_img.
    public var children: [(name: String, module: Module)] {
        [(Self.fcName, fc)] + blocks.map { ($0.layout.name, $0 as Module) } + [(Self.outputConvName, outputConv)]
    }

    public var ownState: [(name: String, entry: StateEntry)] { [] }

    /// Multiply–adds × 2 of the convolutions of one forward pass for one sample.
    public var forwardFlops: Double {
        var (height, width) = (configuration.latentHeight, configuration.latentWidth)
        var total = fc.forwardFlops(height: height, width: width)
        for block in blocks {
            if block.layout.upsampleBefore { (height, width) = (2 * height, 2 * width) }
            for conv in [block.conv0, block.conv1] + (block.shortcutConv.map { [$0] } ?? []) {
                total += conv.forwardFlops(height: height, width: width)
            }
            for norm in [block.norm0, block.norm1] + (block.shortcutNorm.map { [$0] } ?? []) {
                total +=
                    norm.shared.forwardFlops(height: height, width: width)
                    + norm.gamma.forwardFlops(height: height, width: width)
                    + norm.beta.forwardFlops(height: height, width: width)
            }
        }
        return total + outputConv.forwardFlops(height: height, width: width)
    }
}

/// Checks that `seg` is N × classes × H × W at the configured size; returns N.
func checkSeg(_ seg: Tensor, _ configuration: GroupDNetConfiguration) throws -> Int {
    let expected = [configuration.classCount, configuration.imageHeight, configuration.imageWidth]
    guard seg.rank == 4, Array(seg.shape.dropFirst()) == expected, seg.shape[0] > 0 else {
        throw GroupDNetError.invalidInput(
            reason: "seg must be N×\(expected.map(String.init).joined(separator: "×")), got \(seg.shape)")
    }
    return seg.shape[0]
}
