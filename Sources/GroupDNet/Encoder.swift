import Tensor

/// The GroupDNet encoder E (the reference's `ConvEncoder`): every convolution has
/// groups = classes, so class c's split image (channels 3c…3c+2) only reaches its own
/// channel slice. `layer1`…`layerN` are 3×3 stride-2 spectrally normalised convolutions
/// without bias, each followed by instance norm; lrelu(0.2) sits between layers and before
/// the heads `fc_mu` and `fc_var` (3×3, bias, no spectral norm), which give mu and logvar,
/// N × classes·8 × H/2ᴺ × W/2ᴺ, class c owning channels 8c…8c+7.
///
/// State names: `layer<i>.0.{weight_orig,weight_u,weight_v}`, `fc_mu.*`, `fc_var.*`.
public final class Encoder: Module {
    public let configuration: GroupDNetConfiguration
    public let layers: [Convolution]
    public let muHead: Convolution
    public let logVarianceHead: Convolution

    public init(_ configuration: GroupDNetConfiguration, using random: inout RandomSource) throws {
        try configuration.validate()
        self.configuration = configuration
        let layout = configuration.encoder, groups = configuration.classCount
        try require(
            layout.layerCount >= 1 && layout.width > 0, "encoder",
            "needs at least one layer and a positive width, got \(layout)")
        var input = 3 * groups
        var layers: [Convolution] = []
        for index in 0..<layout.layerCount {
            let output = layout.channels(ofLayer: index)
            layers.append(
                try Convolution(
                    Self.layerName(index), inputChannels: input, outputChannels: output, kernelSize: 3,
                    stride: 2, padding: 1, groups: groups, bias: false, spectralNorm: true, using: &random))
            input = output
        }
        self.layers = layers
        muHead = try Convolution(
            Self.muName, inputChannels: input, outputChannels: configuration.latentChannels, kernelSize: 3,
            padding: 1, groups: groups, bias: true, spectralNorm: false, using: &random)
        logVarianceHead = try Convolution(
            Self.logVarianceName, inputChannels: input, outputChannels: configuration.latentChannels, kernelSize: 3,
            padding: 1, groups: groups, bias: true, spectralNorm: false, using: &random)
        assignStateNames()
    }

    /// mu and logvar for a split image (N × 3·classes × H × W, see ``SplitImage``).
    public func callAsFunction(_ splitImage: Tensor, training: Bool) throws -> (mu: Tensor, logVariance: Tensor) {
        let expected = [3 * configuration.classCount, configuration.imageHeight, configuration.imageWidth]
        guard splitImage.rank == 4, Array(splitImage.shape.dropFirst()) == expected else {
            throw GroupDNetError.invalidInput(
                reason:
                    "the split image must be N×\(expected.map(String.init).joined(separator: "×")), got \(splitImage.shape)"
            )
        }
        var x = splitImage
        for (index, layer) in layers.enumerated() {
            if index > 0 { x = x.leakyRelu(negativeSlope: 0.2) }
            x = try layer(x, training: training).instanceNorm()
        }
        x = x.leakyRelu(negativeSlope: 0.2)
        return (try muHead(x, training: training), try logVarianceHead(x, training: training))
    }

    static let muName = "fc_mu", logVarianceName = "fc_var"
    /// `layer<i>.0`: the reference wraps each conv and its instance norm in a Sequential.
    static func layerName(_ index: Int) -> String { "layer\(index + 1).0" }

    public var children: [(name: String, module: Module)] {
        layers.enumerated().map { (Self.layerName($0.offset), $0.element as Module) }
            + [(Self.muName, muHead), (Self.logVarianceName, logVarianceHead)]
    }

    public var ownState: [(name: String, entry: StateEntry)] { [] }

    /// z = mu + ε · exp(logvar / 2), the reparameterisation; `epsilon` has mu's shape (N(0, I)
    /// samples). Gradients flow to mu and logvar.
    public static func reparameterize(mu: Tensor, logVariance: Tensor, epsilon: Tensor) throws -> Tensor {
        guard epsilon.shape == mu.shape, logVariance.shape == mu.shape else {
            throw GroupDNetError.invalidInput(
                reason: "mu \(mu.shape), logvar \(logVariance.shape) and ε \(epsilon.shape) must have one shape")
        }
        return try mu + epsilon * logVariance.scaled(by: 0.5).exp()
    }
}
