import Foundation
import Tensor

// The VGG19 perceptual loss of SPADE and SMIS (`models/networks/loss.py` `VGGLoss` over
// `architecture.py` `VGG19`), checked against the reference's code:
//   - the network is torchvision's `vgg19(pretrained=True).features`, cut into the slices
//     [0:2], [2:7], [7:12], [12:21], [21:30], whose outputs are relu1_1, relu2_1, relu3_1,
//     relu4_1 and relu5_1; its parameters are frozen (`requires_grad = False`);
//   - loss = Σᵢ wᵢ · L1(vgg(fake)ᵢ, vgg(real)ᵢ.detach()) with w = 1/32, 1/16, 1/8, 1/4, 1
//     and `nn.L1Loss` (the mean over all elements);
//   - the images go in as the generator makes them, in [-1, 1], with no ImageNet mean/std
//     normalisation (SPADE's VGG19.forward applies the slices to X directly);
//   - the generator's objective adds it × λ_vgg = 10 (`pix2pix_model.py`, `opt.lambda_vgg`).

/// The first 30 layers of torchvision's VGG19 `features` (up to relu5_1), with frozen weights
/// loaded from a safetensors file in torchvision's names, for the perceptual loss.
///
/// Topology (index = torchvision's `features` index): 3×3 convolutions with padding 1 and bias,
/// each followed by ReLU; 2×2 max pooling with stride 2 at indices 4, 9, 18 and 27. Widths are
/// 64, 128, 256, 512 and 512 divided by ``channelDivisor`` (1 for the real network; tests use
/// the same topology with small widths). The tensors are `features.<i>.weight` (Cout × Cin ×
/// 3 × 3) and `features.<i>.bias` (Cout) for the 13 convolutions i = 0, 2, 5, 7, 10, 12, 14,
/// 16, 19, 21, 23, 25, 28. They never require gradients, so a backward pass through the loss
/// computes only input gradients and no weight gradients.
///
/// The network is not part of any checkpoint: it is an input of training, not a result.
public final class VGG19Features: Module {
    /// One layer of `features`, by torchvision index.
    enum Layer {
        case convolution(weight: Tensor, bias: Tensor)
        case relu
        case maxPool
    }

    /// The `features` indices after which relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 are taken.
    public static let tappedLayers = [1, 6, 11, 20, 29]
    /// SPADE's weights of the five L1 terms, shallow to deep.
    public static let featureWeights: [Float] = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0]
    /// Output widths of the convolutions in order ("M" = 2×2 max pool), up to conv5_1.
    private static let plan: [Int?] = [
        64, 64, nil, 128, 128, nil, 256, 256, 256, 256, nil, 512, 512, 512, 512, nil, 512
    ]

    /// 1 for torchvision's VGG19; d > 1 divides every width by d (tests).
    public let channelDivisor: Int
    let layers: [Layer]

    /// A network of zeros with the given widths; load weights with ``load(from:)``.
    /// - Throws: ``GroupDNetError/invalidConfiguration(layer:reason:)`` unless `channelDivisor`
    ///   is positive and divides 64.
    public init(channelDivisor: Int = 1) throws {
        try require(
            channelDivisor > 0 && 64 % channelDivisor == 0, "VGG19Features",
            "channel divisor \(channelDivisor) must be positive and divide 64")
        self.channelDivisor = channelDivisor
        var layers: [Layer] = []
        var inputChannels = 3
        for width in Self.plan {
            guard let width else { layers.append(.maxPool); continue }
            let outputChannels = width / channelDivisor
            layers.append(
                .convolution(
                    weight: Tensor.zeros([outputChannels, inputChannels, 3, 3]),
                    bias: Tensor.zeros([outputChannels])))
            layers.append(.relu)
            inputChannels = outputChannels
        }
        self.layers = layers
        assignStateNames()
    }

    /// Builds the network and loads its weights from `url` (see ``load(from:)``).
    public convenience init(contentsOf url: URL, channelDivisor: Int = 1) throws {
        try self.init(channelDivisor: channelDivisor)
        try load(from: url)
    }

    /// Loads the 26 tensors from a safetensors file written from torchvision's
    /// `vgg19(...).features.state_dict()` with `features.` prefixed to each key. Other tensors
    /// in the file (`features.30.*` and deeper, `classifier.*`) are ignored, so a whole
    /// `vgg19` state_dict works too. Everything is checked before anything changes.
    /// - Throws: ``GroupDNetError/checkpoint(file:tensor:reason:)`` naming the first tensor
    ///   that is missing, not float32 or of the wrong shape, or the reader's error.
    public func load(from url: URL) throws {
        let file = try SafeTensors.read(from: url)
        var values: [(Tensor, [Float])] = []
        for (key, entry) in namedState {
            guard case let .float(tensor) = entry else { continue }
            guard let stored = file.entries[key] else {
                throw GroupDNetError.checkpoint(
                    file: url.path, tensor: key,
                    reason: "missing from the VGG19 weights (expected torchvision's features.<i>.weight/bias names)")
            }
            guard stored.shape == tensor.shape, let floats = stored.floats else {
                throw GroupDNetError.checkpoint(
                    file: url.path, tensor: key,
                    reason: "\(stored.dtype.rawValue) \(stored.shape), expected F32 \(tensor.shape)"
                        + (channelDivisor == 1 ? "" : " (channel divisor \(channelDivisor))"))
            }
            values.append((tensor, floats))
        }
        for (tensor, floats) in values { tensor.data = floats }
    }

    /// relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 of `images` (N × 3 × H × W, H and W at
    /// least 16 so that four poolings leave a pixel). Gradients flow to `images` only.
    public func callAsFunction(_ images: Tensor) throws -> [Tensor] {
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] >= 16, images.shape[3] >= 16 else {
            throw GroupDNetError.invalidInput(reason: "VGG19 needs N×3×H×W images with H, W ≥ 16, got \(images.shape)")
        }
        var features: [Tensor] = []
        var x = images
        for (index, layer) in layers.enumerated() {
            switch layer {
            case let .convolution(weight, bias): x = try x.conv2d(weight: weight, bias: bias, padding: 1)
            case .relu: x = x.relu()
            case .maxPool: x = try x.maxPool2d(kernelSize: 2, stride: 2)
            }
            if Self.tappedLayers.contains(index) { features.append(x) }
        }
        return features
    }

    /// Multiply–adds × 2 of one forward pass on an image of `height` × `width`, per sample.
    public func forwardFlops(height: Int, width: Int) -> Double {
        var (h, w) = (height, width), flops = 0.0
        for layer in layers {
            switch layer {
            case let .convolution(weight, _): flops += 2 * Double(h * w) * Double(weight.count)
            case .relu: break
            case .maxPool: (h, w) = (h / 2, w / 2)
            }
        }
        return flops
    }

    public var children: [(name: String, module: Module)] { [] }

    public var ownState: [(name: String, entry: StateEntry)] {
        layers.enumerated().flatMap { index, layer -> [(name: String, entry: StateEntry)] in
            guard case let .convolution(weight, bias) = layer else { return [] }
            return [
                ("features.\(index).\(StateName.weight)", .float(weight)),
                ("features.\(index).\(StateName.bias)", .float(bias))
            ]
        }
    }
}

extension GroupDNetLoss {
    /// SPADE's VGG perceptual loss (unweighted; GroupDNet weighs it 10):
    /// Σᵢ wᵢ · mean|vggᵢ(fake) − vggᵢ(real)| over relu1_1…relu5_1 with w = 1/32 … 1. `real` is
    /// a constant (its features are computed without gradients); the gradient reaches `fake`
    /// and never the frozen VGG weights. Both images are in [-1, 1], not ImageNet-normalised,
    /// as in the reference.
    public static func vgg(fake: Tensor, real: Tensor, network: VGG19Features) throws -> Tensor {
        guard fake.shape == real.shape else {
            throw GroupDNetError.invalidInput(
                reason: "VGG loss needs images of one shape, got \(fake.shape) and \(real.shape)")
        }
        let fakeFeatures = try network(fake)
        let realFeatures = try Tensor.withoutGradients { try network(real.detached()) }
        var total: Tensor?
        for (index, (fakeFeature, realFeature)) in zip(fakeFeatures, realFeatures).enumerated() {
            let term = try Tensor.l1Loss(fakeFeature, realFeature).scaled(by: VGG19Features.featureWeights[index])
            total = try total.map { try $0 + term } ?? term
        }
        return total!
    }
}

extension VGG19Features {
    /// ``GroupDNetLoss/vgg(fake:real:network:)`` with this network.
    public func vggLoss(fake: Tensor, real: Tensor) throws -> Tensor {
        try GroupDNetLoss.vgg(fake: fake, real: real, network: self)
    }
}
