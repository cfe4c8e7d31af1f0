// A minimal GroupDNet generator (groupdnet.md §3, DeepFashion preset) built only from the
// Tensor target's public operations, to time a whole forward and forward+backward before the
// real model exists. It follows the layer list exactly (spectral norm on conv_0/conv_1/conv_s,
// CG-Norm with training-mode BN0, nearest resizes of the label map, upsampling before every
// block but the first) but is not the model: no checkpoint names, no encoder.
import Tensor

/// A convolution with its parameters and optional spectral norm.
final class BenchConvolution {
    let weight: Tensor
    let bias: Tensor?
    let spectralNorm: SpectralNorm?
    let groups: Int

    init(
        _ input: Int, _ output: Int, kernel: Int, groups: Int, bias: Bool, spectral: Bool,
        using random: inout RandomSource
    ) throws {
        weight = try Tensor.xavierNormal([output, input / groups, kernel, kernel], gain: 0.02, using: &random)
        self.bias = bias ? Tensor.zeros([output], requiresGrad: true) : nil
        spectralNorm = spectral ? try SpectralNorm(weightShape: weight.shape, using: &random) : nil
        self.groups = groups
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let w = try spectralNorm?.normalizedWeight(weight, training: true) ?? weight
        return try x.conv2d(weight: w, bias: bias, stride: 1, padding: weight.shape[2] / 2, groups: groups)
    }

    var parameters: [Tensor] { [weight] + (bias.map { [$0] } ?? []) }
}

/// CG-Norm: BN0(x)·(1 + γ(seg)) + β(seg).
final class BenchConditionalNorm {
    let statistics: BatchNormStatistics
    let shared, gamma, beta: BenchConvolution

    init(channels: Int, labels: Int, groups: Int, using random: inout RandomSource) throws {
        statistics = BatchNormStatistics(channels: channels)
        shared = try BenchConvolution(
            labels, 128, kernel: 3, groups: groups, bias: true, spectral: false, using: &random)
        gamma = try BenchConvolution(
            128, channels, kernel: 3, groups: groups, bias: true, spectral: false, using: &random)
        beta = try BenchConvolution(
            128, channels, kernel: 3, groups: groups, bias: true, spectral: false, using: &random)
    }

    func callAsFunction(_ x: Tensor, _ seg: Tensor) throws -> Tensor {
        let normalized = try x.batchNorm(statistics: statistics, training: true)
        let labels = try seg.resizeNearest(height: x.shape[2], width: x.shape[3])
        let hidden = try shared(labels).relu()
        return try normalized * gamma(hidden).adding(1) + beta(hidden)
    }

    var parameters: [Tensor] { shared.parameters + gamma.parameters + beta.parameters }
}

/// CG-Block: shortcut + conv_1(lrelu(norm_1(conv_0(lrelu(norm_0(x)))))).
final class BenchBlock {
    let norm0, norm1: BenchConditionalNorm
    let conv0, conv1: BenchConvolution
    let shortcut: (norm: BenchConditionalNorm, conv: BenchConvolution)?

    init(_ input: Int, _ output: Int, groups: Int, labels: Int, using random: inout RandomSource) throws {
        let middle = min(input, output)
        if input != output {
            shortcut = (
                try BenchConditionalNorm(channels: input, labels: labels, groups: groups, using: &random),
                try BenchConvolution(
                    input, output, kernel: 1, groups: groups, bias: false, spectral: true, using: &random)
            )
        } else {
            shortcut = nil
        }
        norm0 = try BenchConditionalNorm(channels: input, labels: labels, groups: groups, using: &random)
        conv0 = try BenchConvolution(
            input, middle, kernel: 3, groups: groups, bias: true, spectral: true, using: &random)
        norm1 = try BenchConditionalNorm(channels: middle, labels: labels, groups: groups, using: &random)
        conv1 = try BenchConvolution(
            middle, output, kernel: 3, groups: groups, bias: true, spectral: true, using: &random)
    }

    func callAsFunction(_ x: Tensor, _ seg: Tensor) throws -> Tensor {
        let skip = try shortcut.map { try $0.conv($0.norm(x, seg)) } ?? x
        let middle = try conv0(norm0(x, seg).leakyRelu(negativeSlope: 0.2))
        return try skip + conv1(norm1(middle, seg).leakyRelu(negativeSlope: 0.2))
    }

    var parameters: [Tensor] {
        norm0.parameters + norm1.parameters + conv0.parameters + conv1.parameters
            + (shortcut.map { $0.norm.parameters + $0.conv.parameters } ?? [])
    }
}

final class BenchGenerator {
    let fc: BenchConvolution
    let blocks: [BenchBlock]
    let image: BenchConvolution

    init(using random: inout RandomSource) throws {
        fc = try BenchConvolution(64, 2560, kernel: 3, groups: 8, bias: true, spectral: false, using: &random)
        blocks = try deepFashionBlocks.map {
            try BenchBlock($0.input, $0.output, groups: $0.groups, labels: 8, using: &random)
        }
        image = try BenchConvolution(160, 3, kernel: 3, groups: 1, bias: true, spectral: false, using: &random)
    }

    func callAsFunction(_ z: Tensor, _ seg: Tensor) throws -> Tensor {
        var x = try fc(z)
        for (index, block) in blocks.enumerated() {
            if index > 0 { x = try x.upsampleNearest2x() }
            x = try block(x, seg)
        }
        return try image(x.leakyRelu(negativeSlope: 0.2)).tanh()
    }

    var parameters: [Tensor] { fc.parameters + blocks.flatMap(\.parameters) + image.parameters }
}

/// A one-hot 1×8×size×size label map of horizontal bands with a square in the middle.
func syntheticLabelMap(size: Int) -> Tensor {
    let seg = Tensor.zeros([1, 8, size, size])
    for y in 0..<size {
        for x in 0..<size {
            let inSquare = abs(x - size / 2) < size / 5 && abs(y - size / 2) < size / 4
            let label = inSquare ? 3 : min(7, y * 7 / size)
            seg.data[(label * size + y) * size + x] = 1
        }
    }
    return seg
}
