import Foundation
import ImageIO
import Tensor

// LPIPS as the `lpips` package computes it (lpips/lpips.py, class LPIPS, net='alex',
// version='0.1', lpips=True), checked against its code:
//   - inputs are images in [-1, 1]; the ScalingLayer maps each channel c to (x − shift_c)/scale_c
//     with shift = (−.030, −.088, −.188), scale = (.458, .448, .450);
//   - the backbone is torchvision's AlexNet `features`, tapped after each of its five ReLUs
//     (lpips/pretrained_networks.py, class alexnet: slices [0:2], [2:5], [5:8], [8:10], [10:12]);
//   - each tap is unit-normalised along channels, f / (√Σ_c f² + 1e-10) (`normalize_tensor`);
//   - the squared difference of the two images' normalised features goes through the layer's
//     learned 1×1 convolution to one channel, without bias (`NetLinLayer`; its dropout is off in
//     evaluation), and is averaged over space (`spatial_average`); the five averages add up.
// With spatial=True the package instead upsamples each layer's map bilinearly
// (align_corners=False) to the image size and adds the maps: ``LPIPS/distanceMap(_:_:_:_:)``.

/// The LPIPS perceptual distance (AlexNet, v0.1) with weights from a safetensors file.
///
/// The file holds the `lpips.LPIPS(net='alex')` state_dict under its own keys: the backbone's
/// `net.slice1.0`, `net.slice2.3`, `net.slice3.6`, `net.slice4.8`, `net.slice5.10` (`.weight`,
/// `.bias`) and the linear layers' `lin0.model.1.weight` … `lin4.model.1.weight` (1 × C × 1 × 1).
/// The duplicate `lins.*` keys and the scaling layer's constants may be present and are ignored.
public final class LPIPS {
    /// One AlexNet convolution (followed by ReLU), and whether a 3×3 stride-2 max pool precedes it.
    struct Layer {
        let key: String
        let weight: Tensor, bias: Tensor
        let stride: Int, padding: Int
        let poolsFirst: Bool
    }

    /// torchvision's AlexNet features: key, Cout, Cin, kernel, stride, padding, pool before.
    static let plan: [(key: String, output: Int, input: Int, kernel: Int, stride: Int, padding: Int, pools: Bool)] = [
        ("net.slice1.0", 64, 3, 11, 4, 2, false), ("net.slice2.3", 192, 64, 5, 1, 2, true),
        ("net.slice3.6", 384, 192, 3, 1, 1, true), ("net.slice4.8", 256, 384, 3, 1, 1, false),
        ("net.slice5.10", 256, 256, 3, 1, 1, false)
    ]
    static let shift: [Float] = [-0.030, -0.088, -0.188]
    static let scale: [Float] = [0.458, 0.448, 0.450]
    /// Every tensor the weight file must hold, with its shape.
    static var weightShapes: [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for (index, layer) in plan.enumerated() {
            shapes[layer.key + ".weight"] = [layer.output, layer.input, layer.kernel, layer.kernel]
            shapes[layer.key + ".bias"] = [layer.output]
            shapes["lin\(index).model.1.weight"] = [1, layer.output, 1, 1]
        }
        return shapes
    }
    /// The smallest side the backbone accepts: both 3×3 stride-2 pools need 3 pixels.
    public static let minimumSide = 31

    let layers: [Layer]
    /// The learned per-channel weights of each tap's linear layer.
    let linearWeights: [[Float]]

    /// Loads the weights (see the type's description).
    /// - Throws: ``EvaluationError/weights(file:tensor:reason:)`` naming the first tensor that
    ///   is missing, not float32 or of the wrong shape.
    public init(contentsOf url: URL) throws {
        let file = try WeightFile(
            contentsOf: url, expected: "the state_dict of lpips.LPIPS(net='alex'), as the README exports it")
        layers = try Self.plan.map { layer in
            Layer(
                key: layer.key,
                weight: try file.tensor(
                    layer.key + ".weight", shape: [layer.output, layer.input, layer.kernel, layer.kernel]),
                bias: try file.tensor(layer.key + ".bias", shape: [layer.output]),
                stride: layer.stride, padding: layer.padding, poolsFirst: layer.pools)
        }
        linearWeights = try Self.plan.enumerated().map { index, layer in
            try file.tensor("lin\(index).model.1.weight", shape: [1, layer.output, 1, 1]).data
        }
    }

    /// The five unit-normalised feature maps of `images` (N × 3 × H × W in [-1, 1], H and W at
    /// least ``minimumSide``), computed without recording gradients.
    public func features(_ images: Tensor) throws -> LPIPSFeatures {
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] >= Self.minimumSide,
            images.shape[3] >= Self.minimumSide
        else {
            throw EvaluationError.invalidInput(
                reason: "LPIPS needs N×3×H×W images with H, W ≥ \(Self.minimumSide), got \(images.shape)")
        }
        return try Tensor.withoutGradients {
            var x = try scaled(images)
            var taps: [Tensor] = []
            for layer in layers {
                if layer.poolsFirst { x = try x.maxPool2d(kernelSize: 3, stride: 2) }
                x = try x.conv2d(weight: layer.weight, bias: layer.bias, stride: layer.stride, padding: layer.padding)
                    .relu()
                taps.append(x)
            }
            return LPIPSFeatures(
                layers: taps.map(Self.unitNormalised), imageHeight: images.shape[2], imageWidth: images.shape[3])
        }
    }

    /// LPIPS between image `i` of `a` and image `j` of `b`: Σ_l mean_{y,x} Σ_c w_lc (â − b̂)².
    public func distance(_ a: LPIPSFeatures, _ i: Int, _ b: LPIPSFeatures, _ j: Int) -> Float {
        var total = 0.0
        for layer in 0..<layers.count {
            let map = layerMap(a, i, b, j, layer: layer)
            total += map.reduce(0.0) { $0 + Double($1) } / Double(map.count)
        }
        return Float(total)
    }

    /// The package's spatial LPIPS (`spatial=True`) between image `i` of `a` and `j` of `b`:
    /// each layer's map upsampled bilinearly to the image's H × W, summed; H·W values, row-major.
    public func distanceMap(_ a: LPIPSFeatures, _ i: Int, _ b: LPIPSFeatures, _ j: Int) throws -> [Float] {
        let (height, width) = (a.imageHeight, a.imageWidth)
        var total = [Float](repeating: 0, count: height * width)
        for layer in 0..<layers.count {
            let shape = a.layerData[layer]
            let map = try Tensor(shape: [1, 1, shape.height, shape.width], data: layerMap(a, i, b, j, layer: layer))
            let upsampled = try map.resizedBilinear(height: height, width: width).data
            for index in total.indices { total[index] += upsampled[index] }
        }
        return total
    }

    /// LPIPS of each pair (a[n], b[n]) of two batches of one shape.
    public func distances(_ a: Tensor, _ b: Tensor) throws -> [Float] {
        guard a.shape == b.shape else {
            throw EvaluationError.invalidInput(
                reason: "LPIPS compares images of one shape, got \(a.shape) and \(b.shape)")
        }
        let (first, second) = (try features(a), try features(b))
        return (0..<a.shape[0]).map { distance(first, $0, second, $0) }
    }

    /// One layer's map Σ_c w_c (â_c − b̂_c)² over its h × w positions.
    private func layerMap(_ a: LPIPSFeatures, _ i: Int, _ b: LPIPSFeatures, _ j: Int, layer: Int) -> [Float] {
        let shape = a.layerData[layer]
        let plane = shape.height * shape.width, size = shape.channels * plane
        let weights = linearWeights[layer]
        var map = [Float](repeating: 0, count: plane)
        a.layerData[layer].values.withUnsafeBufferPointer { first in
            b.layerData[layer].values.withUnsafeBufferPointer { second in
                for channel in 0..<shape.channels {
                    let x = first.baseAddress! + i * size + channel * plane
                    let y = second.baseAddress! + j * size + channel * plane
                    let weight = weights[channel]
                    for position in 0..<plane {
                        let difference = x[position] - y[position]
                        map[position] += weight * difference * difference
                    }
                }
            }
        }
        return map
    }

    /// (x − shift_c) / scale_c per channel: lpips' ScalingLayer.
    private func scaled(_ images: Tensor) throws -> Tensor {
        let plane = images.shape[2] * images.shape[3]
        var data = images.data
        for index in data.indices {
            let channel = index / plane % 3
            data[index] = (data[index] - Self.shift[channel]) / Self.scale[channel]
        }
        return try Tensor(shape: images.shape, data: data)
    }

    /// f / (√Σ_c f² + 1e-10) at every position of every sample.
    private static func unitNormalised(_ features: Tensor) -> LPIPSFeatures.Layer {
        let (batch, channels) = (features.shape[0], features.shape[1])
        let (height, width) = (features.shape[2], features.shape[3])
        let plane = height * width
        var data = features.data
        for sample in 0..<batch {
            let base = sample * channels * plane
            var norms = [Float](repeating: 0, count: plane)
            for channel in 0..<channels {
                for position in 0..<plane {
                    let value = data[base + channel * plane + position]
                    norms[position] += value * value
                }
            }
            for position in 0..<plane { norms[position] = 1 / (norms[position].squareRoot() + 1e-10) }
            for channel in 0..<channels {
                for position in 0..<plane { data[base + channel * plane + position] *= norms[position] }
            }
        }
        return LPIPSFeatures.Layer(values: data, channels: channels, height: height, width: width)
    }
}

/// The unit-normalised AlexNet features of a batch of images, from ``LPIPS/features(_:)``:
/// compute them once per image and compare any pair.
public struct LPIPSFeatures {
    struct Layer {
        let values: [Float]
        let channels: Int, height: Int, width: Int
    }

    let layerData: [Layer]
    /// The size of the images the features came from.
    public let imageHeight: Int, imageWidth: Int

    init(layers: [Layer], imageHeight: Int, imageWidth: Int) {
        layerData = layers
        (self.imageHeight, self.imageWidth) = (imageHeight, imageWidth)
    }

    /// The number of images.
    public var count: Int {
        let first = layerData[0]
        return first.values.count / (first.channels * first.height * first.width)
    }
}

extension LPIPS {
    /// LPIPS between two photos of one size, each mapped to [-1, 1] as lpips' `im2tensor` does.
    public func distance(photos a: Image, _ b: Image) throws -> Float {
        let first = try features(batchTensor([a], scale: 1 / 127.5, shift: -1))
        let second = try features(batchTensor([b], scale: 1 / 127.5, shift: -1))
        return distance(first, 0, second, 0)
    }
}
