/// The reference's Cityscapes and ADE20K networks (SMIS supplementary, Table 2 and Figs. 2–4;
/// Seanseattle/SMIS's `CityscapesGenerator`, `ADE20KGenerator`, the `cityscapes` and `ade20k`
/// branches of `GROUP_SPADE` and `ConvEncoder`), as configurations of the one model code.
extension GroupDNetConfiguration {
    /// Cityscapes as the reference trains it (`--netG Cityscapes --ngf 280`): 35 classes plus
    /// the instance-edge channel, 512 × 256, decoder groups {35, 35, 20, 14, 10, 4, 1}, CG-Norm
    /// hidden width 35 × groups, encoder width 350, z of 35 × 8 channels on a 4 × 8 grid.
    /// G 76,501,358, E 5,768,210, D 5,601,410 parameters.
    public static let cityscapes = cityscapesFamily(
        imageHeight: 256, baseChannels: 280, encoderWidth: 350, discriminatorChannels: 64)

    /// ADE20K as the reference trains it (`--netG ADE20K --ngf 64`): 151 classes (150 and the
    /// don't-care class), 256 × 256, fc to 16 × 151 channels, decoder groups
    /// {151, 16, 16, 8, 4, 2, 1, 1} (the last block, `up_4`, is built but never called),
    /// CG-Norm hidden width 2 × 151 or 151 × groups, encoder width 604.
    /// G 68,326,847, E 4,411,012, D 5,836,930 parameters.
    public static let ade20k = ade20kFamily(
        imageSize: 256, baseChannels: 64, encoderWidth: 604, discriminatorChannels: 64)

    /// The Cityscapes layout at 128 × 64 with a narrower encoder and discriminator, for tests
    /// and demos on the fixtures. ngf stays 70, the least the group numbers allow (16, 8, 4, 2
    /// and 1 × ngf must divide by 35, 20, 14, 10 and 4).
    public static let cityscapesTiny = cityscapesFamily(
        imageHeight: 64, baseChannels: 70, encoderWidth: 35, discriminatorChannels: 8)

    /// The ADE20K layout at 64 × 64 with ngf 4 and narrower encoder and discriminator, for tests
    /// and demos. fc keeps 16 × 151 channels: the least that 151 and 16 groups both divide.
    public static let ade20kTiny = ade20kFamily(
        imageSize: 64, baseChannels: 4, encoderWidth: 151, discriminatorChannels: 8)

    /// The Cityscapes layout at `imageHeight` (the width is twice that) and other widths. At a
    /// height of 256 and more the encoder has six layers and the decoder six upsamplings, else
    /// five and five, as for DeepFashion.
    public static func cityscapesFamily(
        imageHeight: Int, baseChannels ngf: Int, encoderWidth: Int, discriminatorChannels: Int
    ) -> GroupDNetConfiguration {
        let classes = 35
        let large = imageHeight >= 256
        func block(_ name: String, _ input: Int, _ output: Int, _ groups: Int, _ up: Bool) -> GeneratorBlockLayout {
            GeneratorBlockLayout(
                name: name, inputChannels: input * ngf, outputChannels: output * ngf, groups: groups, upsampleBefore: up
            )
        }
        let blocks = [
            block("head_0", 16, 16, classes, false), block("G_middle_0", 16, 16, classes, true),
            block("G_middle_1", 16, 16, 20, large), block("up_0", 16, 8, 14, true), block("up_1", 8, 4, 10, true),
            block("up_2", 4, 2, 4, true), block("up_3", 2, 1, 1, true)
        ]
        return GroupDNetConfiguration(
            classCount: classes, imageHeight: imageHeight, imageWidth: 2 * imageHeight, latentChannelsPerClass: 8,
            generator: GeneratorLayout(
                baseChannels: ngf, fcGroups: classes, normHiddenChannels: 0, blocks: blocks, norm: .cityscapes),
            encoder: EncoderLayout(width: encoderWidth, layerCount: large ? 6 : 5),
            discriminator: DiscriminatorLayout(scales: 2, baseChannels: discriminatorChannels, layerCount: 4),
            instanceEdges: true)
    }

    /// The ADE20K layout at another size and widths (same rule for the depth as above).
    public static func ade20kFamily(
        imageSize: Int, baseChannels ngf: Int, encoderWidth: Int, discriminatorChannels: Int
    ) -> GroupDNetConfiguration {
        let classes = 151
        let large = imageSize >= 256
        let head = 16 * classes
        func block(
            _ name: String, _ input: Int, _ output: Int, _ groups: Int, _ up: Bool, unused: Bool? = nil
        )
            -> GeneratorBlockLayout
        {
            GeneratorBlockLayout(
                name: name, inputChannels: input, outputChannels: output, groups: groups, upsampleBefore: up,
                unused: unused)
        }
        let blocks = [
            block("head_0", head, head, classes, false), block("G_middle_0", head, 32 * ngf, 16, true),
            block("G_middle_1", 32 * ngf, 16 * ngf, 16, large), block("up_0", 16 * ngf, 16 * ngf, 8, true),
            block("up_1", 16 * ngf, 8 * ngf, 4, true), block("up_2", 8 * ngf, 4 * ngf, 2, true),
            block("up_3", 4 * ngf, 2 * ngf, 1, true), block("up_4", 2 * ngf, ngf, 1, false, unused: true)
        ]
        return GroupDNetConfiguration(
            classCount: classes, imageHeight: imageSize, imageWidth: imageSize, latentChannelsPerClass: 8,
            generator: GeneratorLayout(
                baseChannels: ngf, fcGroups: classes, normHiddenChannels: 0, blocks: blocks, fcChannels: head,
                norm: .ade20k),
            encoder: EncoderLayout(width: encoderWidth, layerCount: large ? 6 : 5),
            discriminator: DiscriminatorLayout(scales: 2, baseChannels: discriminatorChannels, layerCount: 4))
    }
}
