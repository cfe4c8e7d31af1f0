// The convolution shapes of the DeepFashion GroupDNet generator (groupdnet.md §3) at a given
// resolution, batch 1, with how often each shape occurs in one forward pass.

/// One convolution as the generator runs it.
struct ConvolutionShape: Hashable {
    var inputChannels: Int
    var outputChannels: Int
    var kernel: Int
    var groups: Int
    var size: Int  // input height = width; stride 1 and "same" padding throughout
    var bias: Bool

    var padding: Int { kernel / 2 }
    /// Forward multiply-adds × 2 at batch 1.
    var forwardFlops: Double {
        2 * Double(outputChannels * size * size) * Double(inputChannels / groups * kernel * kernel)
    }
    var description: String {
        "\(inputChannels)→\(outputChannels) k\(kernel) g\(groups) @\(size)"
    }
}

/// A named layer of the generator and its shape.
struct GeneratorConvolution {
    var name: String
    var shape: ConvolutionShape
}

/// CG-Block settings of the DeepFashion decoder: name, fin, fout, groups, input resolution.
let deepFashionBlocks: [(name: String, input: Int, output: Int, groups: Int, size: Int)] = [
    ("head_0", 2560, 2560, 8, 4), ("G_middle_0", 2560, 2560, 8, 8), ("G_middle_1", 2560, 2560, 4, 16),
    ("up_0", 2560, 1280, 4, 32), ("up_1", 1280, 640, 2, 64), ("up_2", 640, 320, 2, 128), ("up_3", 320, 160, 1, 256)
]

/// Every convolution of one generator forward, in execution order (labels 8, latent 64, hidden 128).
func generatorConvolutions(
    labelChannels: Int = 8, latentChannels: Int = 64, hidden: Int = 128
) -> [GeneratorConvolution] {
    var layers = [
        GeneratorConvolution(
            name: "fc",
            shape: ConvolutionShape(
                inputChannels: latentChannels, outputChannels: deepFashionBlocks[0].input, kernel: 3, groups: 8,
                size: 4, bias: true))
    ]
    for block in deepFashionBlocks {
        let middle = min(block.input, block.output)
        func norm(_ name: String, channels: Int) -> [GeneratorConvolution] {
            [
                GeneratorConvolution(
                    name: "\(block.name).\(name).mlp_shared",
                    shape: ConvolutionShape(
                        inputChannels: labelChannels, outputChannels: hidden, kernel: 3, groups: block.groups,
                        size: block.size, bias: true)),
                GeneratorConvolution(
                    name: "\(block.name).\(name).mlp_gamma",
                    shape: ConvolutionShape(
                        inputChannels: hidden, outputChannels: channels, kernel: 3, groups: block.groups,
                        size: block.size, bias: true)),
                GeneratorConvolution(
                    name: "\(block.name).\(name).mlp_beta",
                    shape: ConvolutionShape(
                        inputChannels: hidden, outputChannels: channels, kernel: 3, groups: block.groups,
                        size: block.size, bias: true))
            ]
        }
        if block.input != block.output {
            layers += norm("norm_s", channels: block.input)
            layers.append(
                GeneratorConvolution(
                    name: "\(block.name).conv_s",
                    shape: ConvolutionShape(
                        inputChannels: block.input, outputChannels: block.output, kernel: 1, groups: block.groups,
                        size: block.size, bias: false)))
        }
        layers += norm("norm_0", channels: block.input)
        layers.append(
            GeneratorConvolution(
                name: "\(block.name).conv_0",
                shape: ConvolutionShape(
                    inputChannels: block.input, outputChannels: middle, kernel: 3, groups: block.groups,
                    size: block.size, bias: true)))
        layers += norm("norm_1", channels: middle)
        layers.append(
            GeneratorConvolution(
                name: "\(block.name).conv_1",
                shape: ConvolutionShape(
                    inputChannels: middle, outputChannels: block.output, kernel: 3, groups: block.groups,
                    size: block.size, bias: true)))
    }
    layers.append(
        GeneratorConvolution(
            name: "conv_img",
            shape: ConvolutionShape(
                inputChannels: 160, outputChannels: 3, kernel: 3, groups: 1, size: 256, bias: true)))
    return layers
}
