import Tensor

/// The multi-scale PatchGAN discriminator D (SPADE's `MultiscaleDiscriminator` of
/// `NLayerDiscriminator`s). Each scale: `model0` 4×4 stride-2 conv with bias + lrelu; `model1`…
/// `model(n-1)` 4×4 spectrally normalised convs without bias + instance norm + lrelu (stride 2,
/// the last one stride 1); `model(n)` a 4×4 stride-1 conv with bias to one channel; padding 2
/// throughout. Scale s+1 sees avg_pool(3, 2, 1, count_include_pad=False) of scale s's input.
///
/// State names: `discriminator_<s>.model0.0.*`, `discriminator_<s>.model<i>.0.0.*` (SN layers),
/// `discriminator_<s>.model<n>.0.*`.
public final class Discriminator: Module {
    public let configuration: GroupDNetConfiguration
    public let scales: [PatchDiscriminator]

    public init(_ configuration: GroupDNetConfiguration, using random: inout RandomSource) throws {
        try configuration.validate()
        self.configuration = configuration
        let layout = configuration.discriminator
        try require(
            layout.scales >= 1 && layout.layerCount >= 2 && layout.baseChannels > 0, "discriminator",
            "needs at least one scale, two layers and positive channels, got \(layout)")
        scales = try (0..<layout.scales).map {
            try PatchDiscriminator(
                Self.scaleName($0), inputChannels: configuration.segChannels + 3, layout: layout, using: &random)
        }
        assignStateNames()
    }

    /// Every layer's output at every scale, `[scale][layer]`, for `input` = seg ⊕ image
    /// (N × seg channels + 3 × H × W); the last entry of each scale is its patch prediction.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> [[Tensor]] {
        var x = input
        var outputs: [[Tensor]] = []
        for (index, scale) in scales.enumerated() {
            if index > 0 { x = try x.averagePool2d(kernelSize: 3, stride: 2, padding: 1) }
            outputs.append(try scale(x, training: training))
        }
        return outputs
    }

    static func scaleName(_ index: Int) -> String { "discriminator_\(index)" }

    public var children: [(name: String, module: Module)] { scales.map { ($0.name, $0 as Module) } }
    public var ownState: [(name: String, entry: StateEntry)] { [] }
}

/// One scale of ``Discriminator``.
public final class PatchDiscriminator: Module {
    public let name: String
    public let layers: [Convolution]

    init(_ name: String, inputChannels: Int, layout: DiscriminatorLayout, using random: inout RandomSource) throws {
        self.name = name
        var layers: [Convolution] = []
        var (input, output) = (inputChannels, layout.baseChannels)
        layers.append(
            try Convolution(
                name + "." + Self.layerName(0, spectral: false), inputChannels: input, outputChannels: output,
                kernelSize: 4, stride: 2,
                padding: 2, bias: true, spectralNorm: false, using: &random))
        for index in 1..<layout.layerCount {
            (input, output) = (output, min(output * 2, layout.maximumChannels))
            let stride = index == layout.layerCount - 1 ? 1 : 2
            layers.append(
                try Convolution(
                    name + "." + Self.layerName(index, spectral: true), inputChannels: input, outputChannels: output,
                    kernelSize: 4,
                    stride: stride, padding: 2, bias: false, spectralNorm: true, using: &random))
        }
        layers.append(
            try Convolution(
                name + "." + Self.layerName(layout.layerCount, spectral: false), inputChannels: output,
                outputChannels: 1, kernelSize: 4,
                stride: 1, padding: 2, bias: true, spectralNorm: false, using: &random))
        self.layers = layers
    }

    func callAsFunction(_ input: Tensor, training: Bool) throws -> [Tensor] {
        var outputs: [Tensor] = []
        var x = input
        for (index, layer) in layers.enumerated() {
            x = try layer(x, training: training)
            if layer.spectralNorm != nil { x = try x.instanceNorm() }
            if index < layers.count - 1 { x = x.leakyRelu(negativeSlope: 0.2) }
            outputs.append(x)
        }
        return outputs
    }

    /// `model<i>.0` for a plain conv (Sequential(conv, lrelu)); `model<i>.0.0` for a spectrally
    /// normalised one, which the reference nests once more as Sequential(conv, instance norm).
    static func layerName(_ index: Int, spectral: Bool) -> String { spectral ? "model\(index).0.0" : "model\(index).0" }

    public var children: [(name: String, module: Module)] {
        layers.enumerated().map { index, layer in
            (Self.layerName(index, spectral: layer.spectralNorm != nil), layer as Module)
        }
    }

    public var ownState: [(name: String, entry: StateEntry)] { [] }
}
