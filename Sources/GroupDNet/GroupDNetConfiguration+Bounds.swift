/// Bounds on every number of a configuration. A configuration can come from a file
/// (a checkpoint's `state.json`), and a number no model has (`classCount: 100000`) must be
/// refused at once, not spend minutes building a giant model or trap in the layout arithmetic.
/// Each bound is far above the presets (DeepFashion: 8 classes, 256 × 256, ngf 160, 115 M
/// parameters); class counts up to 256 are legitimate (ADE20K has 151, user tables more).
extension GroupDNetConfiguration {
    public static let maximumClassCount = 256
    public static let maximumImageSize = 4096
    public static let maximumChannels = 16384
    public static let maximumGroups = 256
    /// Weights of G, E and D together, about 4 × DeepFashion's (2 GB of float32).
    public static let maximumParameterCount = 500_000_000

    /// Throws naming the first number outside its bound, then when the weights would exceed
    /// ``maximumParameterCount``. Called first by ``validate()``.
    func checkBounds() throws {
        let name = "configuration"
        func check(_ value: Int, _ range: ClosedRange<Int>, _ what: String) throws {
            try require(
                range.contains(value), name, "\(what) \(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        try check(classCount, 1...Self.maximumClassCount, "classCount")
        try check(latentChannelsPerClass, 1...64, "latentChannelsPerClass")
        try check(imageHeight, 1...Self.maximumImageSize, "imageHeight")
        try check(imageWidth, 1...Self.maximumImageSize, "imageWidth")
        try check(encoder.layerCount, 1...12, "encoder.layerCount")
        try check(encoder.width, 1...Self.maximumChannels, "encoder.width")
        try check(generator.baseChannels, 1...Self.maximumChannels / 16, "generator.baseChannels")
        try check(generator.fcGroups, 1...Self.maximumGroups, "generator.fcGroups")
        // The scene presets' CG-Norm rules derive the hidden width from the classes and groups.
        let fixedHidden = generator.norm.map { $0.hidden == .fixed } ?? true
        try check(
            generator.normHiddenChannels, (fixedHidden ? 1 : 0)...Self.maximumChannels, "generator.normHiddenChannels")
        try check(generator.blocks.count, 1...32, "the number of generator blocks")
        for block in generator.blocks {
            try check(block.inputChannels, 1...Self.maximumChannels, "\(block.name).inputChannels")
            try check(block.outputChannels, 1...Self.maximumChannels, "\(block.name).outputChannels")
            try check(block.groups, 1...Self.maximumGroups, "\(block.name).groups")
        }
        try check(discriminator.scales, 1...8, "discriminator.scales")
        try check(discriminator.baseChannels, 1...Self.maximumChannels, "discriminator.baseChannels")
        try check(discriminator.layerCount, 2...12, "discriminator.layerCount")
        try check(discriminator.maximumChannels, 1...Self.maximumChannels, "discriminator.maximumChannels")
        let parameters = estimatedParameterCount
        try require(
            parameters <= Double(Self.maximumParameterCount), name,
            "the networks would hold about \(Int(parameters / 1e6)) M weights, over the limit of "
                + "\(Self.maximumParameterCount / 1_000_000) M")
    }

    /// About how many weights G, E and D hold (their convolutions' weights; biases and
    /// statistics left out), counted in floating point so that no configuration overflows it.
    public var estimatedParameterCount: Double {
        func conv(_ input: Double, _ output: Double, _ kernel: Double, groups: Int = 1) -> Double {
            input / Double(max(groups, 1)) * output * kernel * kernel
        }
        let classes = Double(classCount)
        func norm(_ channels: Int, groups: Int) -> Double {
            let shape = normShape(forGroups: groups)
            let hidden = Double(shape.hiddenChannels)
            return conv(classes, hidden, 3, groups: shape.sharedGroups)
                + 2 * conv(hidden, Double(channels), 3, groups: shape.modulationGroups)
        }
        let latent = Double(classCount) * Double(latentChannelsPerClass)
        var total = conv(latent, 16 * Double(generator.baseChannels), 3, groups: generator.fcGroups)
        for block in generator.blocks {
            let (fin, fout, groups) = (block.inputChannels, block.outputChannels, block.groups)
            let middle = min(fin, fout)
            total +=
                conv(Double(fin), Double(middle), 3, groups: groups)
                + conv(Double(middle), Double(fout), 3, groups: groups)
            total += norm(fin, groups: groups) + norm(middle, groups: groups)
            if fin != fout { total += conv(Double(fin), Double(fout), 1, groups: groups) + norm(fin, groups: groups) }
        }
        total += conv(Double(generator.blocks.last?.outputChannels ?? 0), 3, 3)
        // Layer counts far past any bound still count as huge, without looping for ever.
        var input = 3 * classes
        for layer in 0..<max(0, min(encoder.layerCount, 64)) {
            let output = Double(encoder.width) * Double(1 << min(layer, 3))
            total += conv(input, output, 3, groups: classCount)
            input = output
        }
        total += 2 * conv(input, latent, 3, groups: classCount)
        var (channelsIn, channelsOut) = (classes + 3, Double(discriminator.baseChannels))
        var scale = conv(channelsIn, channelsOut, 4)
        for _ in 1..<max(1, min(discriminator.layerCount, 64)) {
            (channelsIn, channelsOut) = (channelsOut, min(channelsOut * 2, Double(discriminator.maximumChannels)))
            scale += conv(channelsIn, channelsOut, 4)
        }
        scale += conv(channelsOut, 1, 4)
        return total + Double(discriminator.scales) * scale
    }
}
