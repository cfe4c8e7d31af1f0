/// The sizes of a GroupDNet: classes, image size, and the layout of G, E and D. Presets are
/// values of this type (``deepFashion``, ``tiny``, ``cityscapes``, ``ade20k``); the model code
/// has no dataset branches.
///
/// Settings added after the DeepFashion model are optional and nil for it, so that its
/// configuration encodes (in `options.json` and checkpoints) as it always did.
public struct GroupDNetConfiguration: Equatable, Codable, Sendable {
    /// Semantic classes (G in the paper; DeepFashion: 8). One-hot `seg` has this many channels.
    public var classCount: Int
    /// Image height and width (the reference's crop size; DeepFashion: 256 × 256).
    public var imageHeight: Int
    public var imageWidth: Int
    /// Latent channels owned by each class (8): z has classCount × this many channels.
    public var latentChannelsPerClass: Int
    public var generator: GeneratorLayout
    public var encoder: EncoderLayout
    public var discriminator: DiscriminatorLayout
    /// Whether `seg` ends with an instance-edge channel after the class channels (Cityscapes):
    /// D sees it, G's CG-Norms see it beside every class, E does not. Nil means no.
    public var instanceEdges: Bool?

    public init(
        classCount: Int, imageHeight: Int, imageWidth: Int, latentChannelsPerClass: Int,
        generator: GeneratorLayout, encoder: EncoderLayout, discriminator: DiscriminatorLayout,
        instanceEdges: Bool? = nil
    ) {
        (self.classCount, self.imageHeight, self.imageWidth) = (classCount, imageHeight, imageWidth)
        self.latentChannelsPerClass = latentChannelsPerClass
        (self.generator, self.encoder, self.discriminator) = (generator, encoder, discriminator)
        self.instanceEdges = instanceEdges
    }

    /// Whether `seg` carries the instance-edge channel.
    public var hasInstanceEdges: Bool { instanceEdges ?? false }
    /// Channels of `seg`: the classes, and the instance-edge channel where there is one.
    public var segChannels: Int { classCount + (hasInstanceEdges ? 1 : 0) }
    /// Channels of the label map G's CG-Norms read: with instance edges, each class channel
    /// followed by the edge channel (the reference's Cityscapes generator interleaves them).
    public var normLabelChannels: Int { hasInstanceEdges ? 2 * classCount : classCount }

    /// Channels of z, mu and logvar (64 for DeepFashion).
    public var latentChannels: Int { classCount * latentChannelsPerClass }
    /// The latent grid (4 × 4 for DeepFashion): the encoder halves the image size per layer.
    public var latentHeight: Int { imageHeight >> encoder.layerCount }
    public var latentWidth: Int { imageWidth >> encoder.layerCount }
    /// The shape of z (and of mu and logvar) for `batch` samples.
    public func latentShape(batch: Int) -> [Int] { [batch, latentChannels, latentHeight, latentWidth] }

    /// Checks every number against its bound (``checkBounds()``), then that the pieces fit
    /// together: the encoder's output grid is the generator's input grid, and the generator's
    /// upsamplings bring it back to the image size.
    public func validate() throws {
        try checkBounds()
        let name = "configuration"
        try require(
            classCount > 0 && latentChannelsPerClass > 0, name,
            "classCount \(classCount) and latentChannelsPerClass \(latentChannelsPerClass) must be positive")
        try require(imageHeight > 0 && imageWidth > 0, name, "image size \(imageHeight)×\(imageWidth) must be positive")
        let reduction = 1 << encoder.layerCount
        try require(
            imageHeight % reduction == 0 && imageWidth % reduction == 0, name,
            "image \(imageHeight)×\(imageWidth) is not divisible by 2^\(encoder.layerCount) (the encoder's "
                + "\(encoder.layerCount) stride-2 layers)")
        let used = generator.usedBlocks
        let upsampling = 1 << used.filter(\.upsampleBefore).count
        try require(
            latentHeight * upsampling == imageHeight && latentWidth * upsampling == imageWidth, name,
            "the generator upsamples the \(latentHeight)×\(latentWidth) latent grid ×\(upsampling), not to "
                + "\(imageHeight)×\(imageWidth)")
        try require(
            used.first?.inputChannels == generator.fcOutputChannels, name,
            "the first block must take fc's \(generator.fcOutputChannels) channels")
        for (previous, next) in zip(used, used.dropFirst()) {
            try require(
                previous.outputChannels == next.inputChannels, next.name,
                "takes \(next.inputChannels) channels but \(previous.name) gives \(previous.outputChannels)")
        }
    }
}

/// One CG-Block of the decoder.
public struct GeneratorBlockLayout: Equatable, Codable, Sendable {
    /// The state_dict name (`head_0`, `G_middle_0`, …, `up_3`).
    public var name: String
    public var inputChannels: Int
    public var outputChannels: Int
    /// The group number of the block's convolutions and CG-Norms.
    public var groups: Int
    /// Whether a nearest ×2 upsampling precedes the block.
    public var upsampleBefore: Bool
    /// A block the reference builds (so its weights are in the state_dict) but never calls:
    /// ADE20K's `up_4`. Nil means the block is used.
    public var unused: Bool?

    public init(
        name: String, inputChannels: Int, outputChannels: Int, groups: Int, upsampleBefore: Bool, unused: Bool? = nil
    ) {
        self.name = name
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.upsampleBefore = upsampleBefore
        self.unused = unused
    }

    /// Whether the forward pass runs the block.
    public var isUsed: Bool { !(unused ?? false) }
}

/// The decoder G: `fc` (grouped 3×3 conv from z), CG-Blocks, then lrelu, `conv_img`, tanh.
public struct GeneratorLayout: Equatable, Codable, Sendable {
    /// ngf (DeepFashion: 160); fc produces 16 × ngf channels.
    public var baseChannels: Int
    /// Groups of `fc` (DeepFashion: 8).
    public var fcGroups: Int
    /// Hidden channels of each CG-Norm's `mlp_shared` (the reference hard-codes 128), under the
    /// DeepFashion rule (`norm` nil).
    public var normHiddenChannels: Int
    public var blocks: [GeneratorBlockLayout]
    /// fc's output channels when not 16 × ngf (ADE20K: 16 × classes); nil means 16 × ngf.
    public var fcChannels: Int?
    /// How each CG-Norm's MLP is shaped; nil means DeepFashion's (see ``ConditionalNormRule``).
    public var norm: ConditionalNormRule?

    public init(
        baseChannels: Int, fcGroups: Int, normHiddenChannels: Int, blocks: [GeneratorBlockLayout],
        fcChannels: Int? = nil, norm: ConditionalNormRule? = nil
    ) {
        self.baseChannels = baseChannels
        self.fcGroups = fcGroups
        self.normHiddenChannels = normHiddenChannels
        self.blocks = blocks
        self.fcChannels = fcChannels
        self.norm = norm
    }

    /// 16 × ngf: the width of fc and of the first blocks (DeepFashion, Cityscapes).
    public var fullChannels: Int { 16 * baseChannels }
    /// The channels fc gives the first block.
    public var fcOutputChannels: Int { fcChannels ?? fullChannels }
    /// The blocks the forward pass runs, in order.
    public var usedBlocks: [GeneratorBlockLayout] { blocks.filter(\.isUsed) }
}

/// How a CG-Norm's three convolutions (`mlp_shared`, `mlp_gamma`, `mlp_beta`) are shaped in a
/// block of G groups over C classes: the three branches of the reference's `GROUP_SPADE`.
///
/// | rule (`GROUP_SPADE` branch) | hidden width | `mlp_shared` groups | γ, β groups |
/// |---|---|---|---|
/// | nil (deepfashion) | `normHiddenChannels` (128) | G | G |
/// | ``cityscapes`` | C × G | C | C |
/// | ``ade20k`` | 2C when G divides C, else C × G | C | G |
public struct ConditionalNormRule: Equatable, Codable, Sendable {
    public enum Hidden: String, Equatable, Codable, Sendable {
        /// `normHiddenChannels`.
        case fixed
        /// classes × the block's groups.
        case classesTimesGroups
        /// 2 × classes when the block's groups divide the classes, else classes × groups.
        case twiceClassesWhenGroupsDivide
    }

    public enum Grouping: String, Equatable, Codable, Sendable {
        /// The block's group number.
        case block
        /// One group per class.
        case classes
    }

    public var hidden: Hidden
    public var sharedGroups: Grouping
    public var modulationGroups: Grouping

    public init(hidden: Hidden, sharedGroups: Grouping, modulationGroups: Grouping) {
        (self.hidden, self.sharedGroups, self.modulationGroups) = (hidden, sharedGroups, modulationGroups)
    }

    /// The reference's `data_mode == 'cityscapes'` branch.
    public static let cityscapes = ConditionalNormRule(
        hidden: .classesTimesGroups, sharedGroups: .classes, modulationGroups: .classes)
    /// The reference's `data_mode == 'ade20k'` branch.
    public static let ade20k = ConditionalNormRule(
        hidden: .twiceClassesWhenGroupsDivide, sharedGroups: .classes, modulationGroups: .block)
}

/// One CG-Norm's shape: what ``ConditionalGroupNorm`` is built with.
public struct ConditionalNormShape: Equatable, Sendable {
    public var labelChannels: Int
    public var hiddenChannels: Int
    public var sharedGroups: Int
    public var modulationGroups: Int
}

extension GroupDNetConfiguration {
    /// The CG-Norm shape of a block with `groups` groups, under ``GeneratorLayout/norm``.
    public func normShape(forGroups groups: Int) -> ConditionalNormShape {
        guard let rule = generator.norm else {
            return ConditionalNormShape(
                labelChannels: normLabelChannels, hiddenChannels: generator.normHiddenChannels, sharedGroups: groups,
                modulationGroups: groups)
        }
        let hidden: Int
        switch rule.hidden {
        case .fixed: hidden = generator.normHiddenChannels
        case .classesTimesGroups: hidden = classCount * groups
        case .twiceClassesWhenGroupsDivide: hidden = classCount % groups == 0 ? 2 * classCount : classCount * groups
        }
        func count(_ grouping: ConditionalNormRule.Grouping) -> Int { grouping == .block ? groups : classCount }
        return ConditionalNormShape(
            labelChannels: normLabelChannels, hiddenChannels: hidden, sharedGroups: count(rule.sharedGroups),
            modulationGroups: count(rule.modulationGroups))
    }
}

/// The encoder E: `layerCount` grouped stride-2 SN convs with instance norm, then the
/// `fc_mu` / `fc_var` heads.
public struct EncoderLayout: Equatable, Codable, Sendable {
    /// ndf (DeepFashion: 256): layer widths are ndf, 2ndf, 4ndf, 8ndf, 8ndf, 8ndf.
    public var width: Int
    /// 6 when the image is at least 256 high, else 5, as the reference (`layer6` only at crop ≥ 256).
    public var layerCount: Int

    public init(width: Int, layerCount: Int) {
        self.width = width
        self.layerCount = layerCount
    }

    /// Output channels of layer `index` (0-based).
    public func channels(ofLayer index: Int) -> Int { width * (1 << min(index, 3)) }
}

/// The multi-scale PatchGAN discriminator D.
public struct DiscriminatorLayout: Equatable, Codable, Sendable {
    /// Discriminators at successively halved scales (2).
    public var scales: Int
    /// Channels of the first layer (ndf, 64); doubled per layer up to `maximumChannels`.
    public var baseChannels: Int
    /// Strided layers before the last (SPADE's n_layers_D, 4): model0 … model(n-1), then model(n).
    public var layerCount: Int
    public var maximumChannels: Int

    public init(scales: Int, baseChannels: Int, layerCount: Int, maximumChannels: Int = 512) {
        self.scales = scales
        self.baseChannels = baseChannels
        self.layerCount = layerCount
        self.maximumChannels = maximumChannels
    }
}

extension GroupDNetConfiguration {
    /// DeepFashion as in the paper and the reference: G = 8 classes, 256 × 256, ngf 160,
    /// decoder groups {8, 8, 4, 4, 2, 2, 1}, encoder width 256 with six layers, D with two
    /// scales of 64…512 channels. 96.32 M parameters in G, 12.84 M in E, 5.54 M in D.
    public static let deepFashion = deepFashionFamily(
        imageSize: 256, baseChannels: 160, normHiddenChannels: 128,
        encoderWidth: 256, discriminatorChannels: 64)

    /// A small model of the same architecture for tests: 64 × 64, ngf 4, narrower CG-Norm
    /// hidden layers, encoder and discriminator. Below 256 the reference drops `layer6`, so
    /// the latent grid is 64/32 = 2 × 2 and the decoder upsamples five times (SPADE's
    /// "normal" layout: no upsampling between `G_middle_0` and `G_middle_1`).
    public static let tiny = deepFashionFamily(
        imageSize: 64, baseChannels: 4, normHiddenChannels: 16,
        encoderWidth: 16, discriminatorChannels: 8)

    /// The DeepFashion layout at another size and width. Follows the reference's crop rule:
    /// at ≥ 256 the encoder has six layers and the decoder six upsamplings (SPADE's "more");
    /// below, five and five, so that z's grid is always image/2^layers on both sides.
    public static func deepFashionFamily(
        imageSize: Int, baseChannels ngf: Int, normHiddenChannels: Int,
        encoderWidth: Int, discriminatorChannels: Int
    ) -> GroupDNetConfiguration {
        let classes = 8
        let large = imageSize >= 256
        func block(_ name: String, _ input: Int, _ output: Int, _ groups: Int, _ up: Bool) -> GeneratorBlockLayout {
            GeneratorBlockLayout(
                name: name, inputChannels: input * ngf, outputChannels: output * ngf, groups: groups, upsampleBefore: up
            )
        }
        let blocks = [
            block("head_0", 16, 16, classes, false),
            block("G_middle_0", 16, 16, classes, true),
            block("G_middle_1", 16, 16, classes / 2, large),
            block("up_0", 16, 8, classes / 2, true),
            block("up_1", 8, 4, classes / 4, true),
            block("up_2", 4, 2, classes / 4, true),
            block("up_3", 2, 1, classes / 8, true)
        ]
        return GroupDNetConfiguration(
            classCount: classes, imageHeight: imageSize, imageWidth: imageSize, latentChannelsPerClass: 8,
            generator: GeneratorLayout(
                baseChannels: ngf, fcGroups: classes, normHiddenChannels: normHiddenChannels, blocks: blocks),
            encoder: EncoderLayout(width: encoderWidth, layerCount: large ? 6 : 5),
            discriminator: DiscriminatorLayout(scales: 2, baseChannels: discriminatorChannels, layerCount: 4))
    }
}
