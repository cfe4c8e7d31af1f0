import Tensor

/// The GroupDNet decoder G: `fc` (3×3 conv, groups = classes, with bias) maps z
/// (N × classes·8 × h × w) to 16·ngf channels (ADE20K: 16·classes); the CG-Blocks follow, each
/// after a nearest ×2 upsampling where its layout says so (a block marked unused is built, so
/// that its weights are in the state, but not run); then lrelu(0.2), `conv_img` (3×3 to RGB,
/// bias), tanh. With instance edges (Cityscapes), the CG-Norms read the label map with the edge
/// channel beside every class channel, as the reference's Cityscapes generator rearranges it.
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
            Self.fcName, inputChannels: configuration.latentChannels, outputChannels: layout.fcOutputChannels,
            kernelSize: 3, padding: 1, groups: layout.fcGroups, bias: true, spectralNorm: false, using: &random)
        blocks = try layout.blocks.map {
            let norm = configuration.normShape(forGroups: $0.groups)
            return try ConditionalGroupBlock(
                $0, labelChannels: norm.labelChannels, normHiddenChannels: norm.hiddenChannels,
                normSharedGroups: norm.sharedGroups, normModulationGroups: norm.modulationGroups, using: &random)
        }
        let last = layout.usedBlocks.last?.outputChannels ?? layout.fcOutputChannels
        outputConv = try Convolution(
            Self.outputConvName, inputChannels: last, outputChannels: 3, kernelSize: 3, padding: 1,
            bias: true, spectralNorm: false, using: &random)
        assignStateNames()
    }

    /// The generated image, N × 3 × H × W in [-1, 1], for the one-hot `seg` (N × classes × H × W,
    /// then the instance-edge channel where the configuration has one) and latent `z`
    /// (N × classes·8 × h × w, see ``GroupDNetConfiguration/latentShape(batch:)``).
    /// `training` selects batch statistics and spectral-norm power iterations (updating state).
    public func callAsFunction(seg: Tensor, z: Tensor, training: Bool) throws -> Tensor {
        let batch = try checkSeg(seg, configuration)
        guard z.shape == configuration.latentShape(batch: batch) else {
            throw GroupDNetError.invalidInput(
                reason: "z must be \(configuration.latentShape(batch: batch)), got \(z.shape)")
        }
        let normSeg = configuration.hasInstanceEdges ? try Self.edgeBesideEachClass(seg) : seg
        var x = try fc(z, training: training)
        for block in blocks where block.layout.isUsed {
            if block.layout.upsampleBefore { x = try x.upsampleNearest2x() }
            x = try block(x, seg: normSeg, training: training)
        }
        return try outputConv(x.leakyRelu(negativeSlope: 0.2), training: training).tanh()
    }

    /// N × (C + 1) × H × W (C class channels, then the edge channel) → N × 2C × H × W holding
    /// class 0, edge, class 1, edge, …: the reference's Cityscapes generator does this (under
    /// `no_grad`) so that each class's CG-Norm group sees the edges too. Data, not part of the
    /// graph.
    static func edgeBesideEachClass(_ seg: Tensor) throws -> Tensor {
        let (batch, channels, height, width) = (seg.shape[0], seg.shape[1], seg.shape[2], seg.shape[3])
        let classes = channels - 1, plane = height * width
        var data = [Float](repeating: 0, count: batch * 2 * classes * plane)
        seg.data.withUnsafeBufferPointer { source in
            data.withUnsafeMutableBufferPointer { target in
                for sample in 0..<batch {
                    let edge = source.baseAddress! + (sample * channels + classes) * plane
                    for label in 0..<classes {
                        let classPlane = source.baseAddress! + (sample * channels + label) * plane
                        let out = target.baseAddress! + (sample * 2 * classes + 2 * label) * plane
                        out.update(from: classPlane, count: plane)
                        (out + plane).update(from: edge, count: plane)
                    }
                }
            }
        }
        return try Tensor(shape: [batch, 2 * classes, height, width], data: data)
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
        for block in blocks where block.layout.isUsed {
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

/// Checks that `seg` is N × seg channels × H × W at the configured size; returns N.
func checkSeg(_ seg: Tensor, _ configuration: GroupDNetConfiguration) throws -> Int {
    let expected = [configuration.segChannels, configuration.imageHeight, configuration.imageWidth]
    guard seg.rank == 4, Array(seg.shape.dropFirst()) == expected, seg.shape[0] > 0 else {
        throw GroupDNetError.invalidInput(
            reason: "seg must be N×\(expected.map(String.init).joined(separator: "×")), got \(seg.shape)")
    }
    return seg.shape[0]
}
