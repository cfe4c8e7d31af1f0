import Tensor

/// CG-Norm (the DeepFashion variant of the reference's `GROUP_SPADE`):
/// `out = BN0(x) · (1 + γ) + β`, with `h = relu(mlp_shared(seg↓))`, `γ = mlp_gamma(h)`,
/// `β = mlp_beta(h)`, where seg↓ is the one-hot label map resized (nearest) to x's size and
/// all three convolutions are 3×3 with `groups` groups and biases.
///
/// BN0 is batch norm without affine parameters: batch statistics in training (updating the
/// running mean and variance with momentum 0.1), running statistics in evaluation.
/// State names: `param_free_norm.{running_mean,running_var,num_batches_tracked}`,
/// `mlp_shared.0.{weight,bias}`, `mlp_gamma.{weight,bias}`, `mlp_beta.{weight,bias}`.
public final class ConditionalGroupNorm: Module {
    public let channels: Int
    public let statistics: BatchNormStatistics
    public let shared: Convolution
    public let gamma: Convolution
    public let beta: Convolution

    /// - Parameters:
    ///   - channels: C, the channels of x (and of γ and β).
    ///   - labelChannels: channels of the one-hot seg (the class count).
    ///   - hiddenChannels: width of `mlp_shared` (128 in the reference).
    ///   - groups: the block's group number; must divide all three channel counts.
    ///   - sharedGroups, modulationGroups: the groups of `mlp_shared` and of `mlp_gamma` and
    ///     `mlp_beta` when not `groups` (the reference's Cityscapes and ADE20K variants, see
    ///     ``ConditionalNormRule``).
    public init(
        _ layer: String, channels: Int, labelChannels: Int, hiddenChannels: Int, groups: Int,
        sharedGroups: Int? = nil, modulationGroups: Int? = nil, using random: inout RandomSource
    ) throws {
        let sharedGroups = sharedGroups ?? groups, modulationGroups = modulationGroups ?? groups
        try require(
            channels > 0 && labelChannels > 0 && hiddenChannels > 0, layer,
            "channels \(channels), label channels \(labelChannels), hidden \(hiddenChannels) must be positive")
        try require(
            labelChannels % sharedGroups == 0 && hiddenChannels % sharedGroups == 0
                && hiddenChannels % modulationGroups == 0 && channels % modulationGroups == 0, layer,
            sharedGroups == modulationGroups
                ? "groups \(sharedGroups) must divide label channels \(labelChannels), hidden \(hiddenChannels) and "
                    + "channels \(channels)"
                : "mlp_shared's groups \(sharedGroups) must divide label channels \(labelChannels) and hidden "
                    + "\(hiddenChannels), mlp_gamma's and mlp_beta's \(modulationGroups) hidden and channels "
                    + "\(channels)")
        self.channels = channels
        statistics = BatchNormStatistics(channels: channels)
        shared = try Convolution(
            layer + "." + Self.sharedName, inputChannels: labelChannels, outputChannels: hiddenChannels,
            kernelSize: 3, padding: 1, groups: sharedGroups, bias: true, spectralNorm: false, using: &random)
        gamma = try Convolution(
            layer + "." + Self.gammaName, inputChannels: hiddenChannels, outputChannels: channels,
            kernelSize: 3, padding: 1, groups: modulationGroups, bias: true, spectralNorm: false, using: &random)
        beta = try Convolution(
            layer + "." + Self.betaName, inputChannels: hiddenChannels, outputChannels: channels,
            kernelSize: 3, padding: 1, groups: modulationGroups, bias: true, spectralNorm: false, using: &random)
    }

    /// Normalises x (N × C × H × W) and modulates it by the label map `seg` (N × classes × H' × W').
    public func callAsFunction(_ x: Tensor, seg: Tensor, training: Bool) throws -> Tensor {
        try modulate(x.batchNorm(statistics: statistics, training: training), seg: seg, training: training)
    }

    /// `normalized · (1 + γ) + β` for an already normalised x (see ``ConditionalGroupBlock``,
    /// whose `norm_0` and `norm_s` share one x̂ in training), as one operation from the resized
    /// label map on (``Tensor/modulation(normalized:labels:shared:gamma:beta:padding:groups:sharedGroups:)``),
    /// whose backward pass computes h and γ again instead of keeping them: the same values, two
    /// tensors less in memory per norm (one of x's size, one of the hidden width).
    func modulate(_ normalized: Tensor, seg: Tensor, training: Bool) throws -> Tensor {
        let resized = try seg.resizeNearest(height: normalized.shape[2], width: normalized.shape[3])
        // The three are plain convolutions (no spectral norm): their weights are used as stored.
        // ADE20K's rule groups mlp_shared by class and γ, β by the block.
        return try Tensor.modulation(
            normalized: normalized, labels: resized, shared: Self.parameters(shared),
            gamma: Self.parameters(gamma), beta: Self.parameters(beta), padding: gamma.padding, groups: gamma.groups,
            sharedGroups: shared.groups)
    }

    private static func parameters(_ convolution: Convolution) -> ConvolutionParameters {
        ConvolutionParameters(weight: convolution.weight, bias: convolution.bias)
    }

    // The reference's attribute names (`mlp_shared` is a Sequential(conv, ReLU), hence `.0`).
    static let sharedName = "mlp_shared.0", gammaName = "mlp_gamma", betaName = "mlp_beta"
    static let normName = "param_free_norm"

    public var children: [(name: String, module: Module)] {
        [(Self.sharedName, shared), (Self.gammaName, gamma), (Self.betaName, beta)]
    }

    public var ownState: [(name: String, entry: StateEntry)] {
        let prefix = Self.normName + "."
        return [
            (prefix + StateName.runningMean, .float(statistics.runningMean)),
            (prefix + StateName.runningVariance, .float(statistics.runningVariance)),
            (prefix + StateName.batchesTracked, .counter(statistics))
        ]
    }
}

/// CG-Block (the reference's `SPADEV2ResnetBlock`) with fmiddle = min(fin, fout):
/// `dx = conv_1(lrelu(norm_1(conv_0(lrelu(norm_0(x))))))`, plus the shortcut: x itself when
/// fin = fout, else `conv_s(norm_s(x))` (1×1, no bias, no activation). conv_0 and conv_1 are
/// 3×3 with biases; all three convolutions are spectrally normalised and grouped.
public final class ConditionalGroupBlock: Module {
    public let layout: GeneratorBlockLayout
    public let norm0, norm1: ConditionalGroupNorm
    public let conv0, conv1: Convolution
    /// The learned shortcut, present when the channel count changes.
    public let shortcutNorm: ConditionalGroupNorm?
    public let shortcutConv: Convolution?

    /// `normSharedGroups` and `normModulationGroups` pass on to the CG-Norms (nil: the block's
    /// groups; see ``ConditionalGroupNorm``'s initialiser).
    public init(
        _ layout: GeneratorBlockLayout, labelChannels: Int, normHiddenChannels: Int,
        normSharedGroups: Int? = nil, normModulationGroups: Int? = nil, using random: inout RandomSource
    ) throws {
        let (name, fin, fout, groups) = (layout.name, layout.inputChannels, layout.outputChannels, layout.groups)
        let middle = min(fin, fout)
        self.layout = layout
        conv0 = try Convolution(
            name + "." + Self.conv0Name, inputChannels: fin, outputChannels: middle, kernelSize: 3, padding: 1,
            groups: groups, bias: true, spectralNorm: true, using: &random)
        conv1 = try Convolution(
            name + "." + Self.conv1Name, inputChannels: middle, outputChannels: fout, kernelSize: 3, padding: 1,
            groups: groups, bias: true, spectralNorm: true, using: &random)
        shortcutConv =
            fin == fout
            ? nil
            : try Convolution(
                name + "." + Self.shortcutConvName, inputChannels: fin, outputChannels: fout, kernelSize: 1, padding: 0,
                groups: groups, bias: false, spectralNorm: true, using: &random)
        norm0 = try ConditionalGroupNorm(
            name + "." + Self.norm0Name, channels: fin, labelChannels: labelChannels,
            hiddenChannels: normHiddenChannels, groups: groups,
            sharedGroups: normSharedGroups, modulationGroups: normModulationGroups, using: &random)
        norm1 = try ConditionalGroupNorm(
            name + "." + Self.norm1Name, channels: middle, labelChannels: labelChannels,
            hiddenChannels: normHiddenChannels, groups: groups,
            sharedGroups: normSharedGroups, modulationGroups: normModulationGroups, using: &random)
        shortcutNorm =
            fin == fout
            ? nil
            : try ConditionalGroupNorm(
                name + "." + Self.shortcutNormName, channels: fin, labelChannels: labelChannels,
                hiddenChannels: normHiddenChannels, groups: groups,
                sharedGroups: normSharedGroups, modulationGroups: normModulationGroups, using: &random)
    }

    public func callAsFunction(_ x: Tensor, seg: Tensor, training: Bool) throws -> Tensor {
        // The shortcut runs first, as in the reference (the order of state updates is irrelevant
        // to the values, since every norm and conv has its own state).
        var shortcut = x
        var normalized: Tensor?
        if let shortcutNorm, let shortcutConv {
            // In training norm_s and norm_0 normalise x by the same batch statistics: one x̂ for
            // both (the same values, half the memory); in evaluation each has its own running ones.
            let xHat = try x.batchNorm(
                statistics: shortcutNorm.statistics, twins: [norm0.statistics], training: training)
            if training { normalized = xHat }
            shortcut = try shortcutConv(shortcutNorm.modulate(xHat, seg: seg, training: training), training: training)
        }
        let normalized0 = try normalized ?? x.batchNorm(statistics: norm0.statistics, training: training)
        let modulated0 = try norm0.modulate(normalized0, seg: seg, training: training)
        let hidden = try conv0(modulated0.leakyRelu(negativeSlope: 0.2), training: training)
        let dx = try conv1(
            norm1(hidden, seg: seg, training: training).leakyRelu(negativeSlope: 0.2), training: training)
        return try shortcut + dx
    }

    static let conv0Name = "conv_0", conv1Name = "conv_1", shortcutConvName = "conv_s"
    static let norm0Name = "norm_0", norm1Name = "norm_1", shortcutNormName = "norm_s"

    public var children: [(name: String, module: Module)] {
        var list: [(name: String, module: Module)] = [(Self.conv0Name, conv0), (Self.conv1Name, conv1)]
        if let shortcutConv { list.append((Self.shortcutConvName, shortcutConv)) }
        list += [(Self.norm0Name, norm0), (Self.norm1Name, norm1)]
        if let shortcutNorm { list.append((Self.shortcutNormName, shortcutNorm)) }
        return list
    }

    public var ownState: [(name: String, entry: StateEntry)] { [] }
}
