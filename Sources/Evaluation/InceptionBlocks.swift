import Tensor

// The building blocks of pytorch-fid's Inception (pytorch_fid/inception.py over torchvision's
// models/inception.py), checked against their code. Every convolution is torchvision's
// BasicConv2d: conv without bias, BatchNorm2d(eps=0.001) in evaluation mode, ReLU; here the batch
// norm is folded into the convolution's weight and bias. The FID variants differ from
// torchvision's blocks only in their pooling branch: average pooling with
// count_include_pad=False (FIDInceptionA, C, E_1), and max pooling in FIDInceptionE_2.

/// BasicConv2d `<prefix>.conv` + `<prefix>.bn` with the batch norm folded in:
/// W' = W · γ/√(σ² + ε), b' = β − μ · γ/√(σ² + ε), ε = 0.001.
struct FoldedConvolution {
    let weight: Tensor, bias: Tensor
    let stride: Int
    /// Zero rows above and below, zero columns left and right (torchvision's padding=(p_h, p_w)).
    let padding: (rows: Int, columns: Int)

    init(
        _ weights: WeightSource, _ prefix: String, _ input: Int, _ output: Int, kernel: (Int, Int) = (1, 1),
        stride: Int = 1, padding: (Int, Int) = (0, 0)
    ) throws {
        let raw = try weights.tensor(prefix + ".conv.weight", shape: [output, input, kernel.0, kernel.1])
        let gamma = try weights.tensor(prefix + ".bn.weight", shape: [output]).data
        let beta = try weights.tensor(prefix + ".bn.bias", shape: [output]).data
        let mean = try weights.tensor(prefix + ".bn.running_mean", shape: [output]).data
        let variance = try weights.tensor(prefix + ".bn.running_var", shape: [output]).data
        let perOutput = input * kernel.0 * kernel.1
        var folded = raw.data, shift = [Float](repeating: 0, count: output)
        for channel in 0..<output {
            let factor = Double(gamma[channel]) / (Double(variance[channel]) + 0.001).squareRoot()
            for index in channel * perOutput..<(channel + 1) * perOutput {
                folded[index] = Float(Double(folded[index]) * factor)
            }
            shift[channel] = Float(Double(beta[channel]) - Double(mean[channel]) * factor)
        }
        weight = try Tensor(shape: raw.shape, data: folded)
        bias = try Tensor(shape: [output], data: shift)
        self.stride = stride
        self.padding = (padding.0, padding.1)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        if padding.rows == padding.columns {
            return try x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding.rows).relu()
        }
        // The tensor library pads both axes alike; pad the 1×7, 7×1, 1×3 and 3×1 inputs here.
        let paddedInput = try x.zeroPadded(rows: padding.rows, columns: padding.columns)
        return try paddedInput.conv2d(weight: weight, bias: bias, stride: stride).relu()
    }
}

/// Runs convolutions one after another.
func chain(_ layers: [FoldedConvolution], _ x: Tensor) throws -> Tensor {
    try layers.reduce(x) { try $1($0) }
}

/// One Inception block (Mixed_5b … Mixed_7c).
protocol InceptionBlock {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}

/// FIDInceptionA (Mixed_5b, 5c, 5d): 1×1; 1×1 → 5×5; 1×1 → 3×3 → 3×3; avg pool → 1×1.
struct InceptionA: InceptionBlock {
    let branch1x1: FoldedConvolution
    let branch5x5: [FoldedConvolution], branch3x3Double: [FoldedConvolution]
    let branchPool: FoldedConvolution

    init(_ w: WeightSource, _ p: String, input: Int, poolFeatures: Int) throws {
        branch1x1 = try FoldedConvolution(w, p + ".branch1x1", input, 64)
        branch5x5 = [
            try FoldedConvolution(w, p + ".branch5x5_1", input, 48),
            try FoldedConvolution(w, p + ".branch5x5_2", 48, 64, kernel: (5, 5), padding: (2, 2))
        ]
        branch3x3Double = [
            try FoldedConvolution(w, p + ".branch3x3dbl_1", input, 64),
            try FoldedConvolution(w, p + ".branch3x3dbl_2", 64, 96, kernel: (3, 3), padding: (1, 1)),
            try FoldedConvolution(w, p + ".branch3x3dbl_3", 96, 96, kernel: (3, 3), padding: (1, 1))
        ]
        branchPool = try FoldedConvolution(w, p + ".branch_pool", input, poolFeatures)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = try x.averagePool2d(kernelSize: 3, stride: 1, padding: 1)
        return try Tensor.concatenateChannels([
            branch1x1(x), chain(branch5x5, x), chain(branch3x3Double, x), branchPool(pooled)
        ])
    }
}

/// torchvision's InceptionB (Mixed_6a): 3×3 stride 2; 1×1 → 3×3 → 3×3 stride 2; max pool.
struct InceptionB: InceptionBlock {
    let branch3x3: FoldedConvolution, branch3x3Double: [FoldedConvolution]

    init(_ w: WeightSource, _ p: String, input: Int) throws {
        branch3x3 = try FoldedConvolution(w, p + ".branch3x3", input, 384, kernel: (3, 3), stride: 2)
        branch3x3Double = [
            try FoldedConvolution(w, p + ".branch3x3dbl_1", input, 64),
            try FoldedConvolution(w, p + ".branch3x3dbl_2", 64, 96, kernel: (3, 3), padding: (1, 1)),
            try FoldedConvolution(w, p + ".branch3x3dbl_3", 96, 96, kernel: (3, 3), stride: 2)
        ]
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Tensor.concatenateChannels([
            branch3x3(x), chain(branch3x3Double, x), x.maxPool2d(kernelSize: 3, stride: 2)
        ])
    }
}

/// FIDInceptionC (Mixed_6b … 6e): 1×1; 1×1 → 1×7 → 7×1; 1×1 → 7×1 → 1×7 → 7×1 → 1×7; avg pool → 1×1.
struct InceptionC: InceptionBlock {
    let branch1x1: FoldedConvolution
    let branch7x7: [FoldedConvolution], branch7x7Double: [FoldedConvolution]
    let branchPool: FoldedConvolution

    init(_ w: WeightSource, _ p: String, input: Int, channels c7: Int) throws {
        let row = (kernel: (1, 7), padding: (0, 3)), column = (kernel: (7, 1), padding: (3, 0))
        branch1x1 = try FoldedConvolution(w, p + ".branch1x1", input, 192)
        branch7x7 = [
            try FoldedConvolution(w, p + ".branch7x7_1", input, c7),
            try FoldedConvolution(w, p + ".branch7x7_2", c7, c7, kernel: row.kernel, padding: row.padding),
            try FoldedConvolution(w, p + ".branch7x7_3", c7, 192, kernel: column.kernel, padding: column.padding)
        ]
        branch7x7Double = [
            try FoldedConvolution(w, p + ".branch7x7dbl_1", input, c7),
            try FoldedConvolution(w, p + ".branch7x7dbl_2", c7, c7, kernel: column.kernel, padding: column.padding),
            try FoldedConvolution(w, p + ".branch7x7dbl_3", c7, c7, kernel: row.kernel, padding: row.padding),
            try FoldedConvolution(w, p + ".branch7x7dbl_4", c7, c7, kernel: column.kernel, padding: column.padding),
            try FoldedConvolution(w, p + ".branch7x7dbl_5", c7, 192, kernel: row.kernel, padding: row.padding)
        ]
        branchPool = try FoldedConvolution(w, p + ".branch_pool", input, 192)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = try x.averagePool2d(kernelSize: 3, stride: 1, padding: 1)
        return try Tensor.concatenateChannels([
            branch1x1(x), chain(branch7x7, x), chain(branch7x7Double, x), branchPool(pooled)
        ])
    }
}

/// torchvision's InceptionD (Mixed_7a): 1×1 → 3×3 stride 2; 1×1 → 1×7 → 7×1 → 3×3 stride 2; max pool.
struct InceptionD: InceptionBlock {
    let branch3x3: [FoldedConvolution], branch7x7x3: [FoldedConvolution]

    init(_ w: WeightSource, _ p: String, input: Int) throws {
        branch3x3 = [
            try FoldedConvolution(w, p + ".branch3x3_1", input, 192),
            try FoldedConvolution(w, p + ".branch3x3_2", 192, 320, kernel: (3, 3), stride: 2)
        ]
        branch7x7x3 = [
            try FoldedConvolution(w, p + ".branch7x7x3_1", input, 192),
            try FoldedConvolution(w, p + ".branch7x7x3_2", 192, 192, kernel: (1, 7), padding: (0, 3)),
            try FoldedConvolution(w, p + ".branch7x7x3_3", 192, 192, kernel: (7, 1), padding: (3, 0)),
            try FoldedConvolution(w, p + ".branch7x7x3_4", 192, 192, kernel: (3, 3), stride: 2)
        ]
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Tensor.concatenateChannels([
            chain(branch3x3, x), chain(branch7x7x3, x), x.maxPool2d(kernelSize: 3, stride: 2)
        ])
    }
}

/// FIDInceptionE_1 (Mixed_7b, average pooling) and FIDInceptionE_2 (Mixed_7c, max pooling):
/// 1×1; 1×1 → [1×3, 3×1]; 1×1 → 3×3 → [1×3, 3×1]; pool → 1×1.
struct InceptionE: InceptionBlock {
    let branch1x1: FoldedConvolution
    let branch3x3: FoldedConvolution, branch3x3Split: [FoldedConvolution]
    let branch3x3Double: [FoldedConvolution], branch3x3DoubleSplit: [FoldedConvolution]
    let branchPool: FoldedConvolution
    let poolsMaximum: Bool

    init(_ w: WeightSource, _ p: String, input: Int, poolsMaximum: Bool) throws {
        branch1x1 = try FoldedConvolution(w, p + ".branch1x1", input, 320)
        branch3x3 = try FoldedConvolution(w, p + ".branch3x3_1", input, 384)
        branch3x3Split = [
            try FoldedConvolution(w, p + ".branch3x3_2a", 384, 384, kernel: (1, 3), padding: (0, 1)),
            try FoldedConvolution(w, p + ".branch3x3_2b", 384, 384, kernel: (3, 1), padding: (1, 0))
        ]
        branch3x3Double = [
            try FoldedConvolution(w, p + ".branch3x3dbl_1", input, 448),
            try FoldedConvolution(w, p + ".branch3x3dbl_2", 448, 384, kernel: (3, 3), padding: (1, 1))
        ]
        branch3x3DoubleSplit = [
            try FoldedConvolution(w, p + ".branch3x3dbl_3a", 384, 384, kernel: (1, 3), padding: (0, 1)),
            try FoldedConvolution(w, p + ".branch3x3dbl_3b", 384, 384, kernel: (3, 1), padding: (1, 0))
        ]
        branchPool = try FoldedConvolution(w, p + ".branch_pool", input, 192)
        self.poolsMaximum = poolsMaximum
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let single = try branch3x3(x), double = try chain(branch3x3Double, x)
        let pooled =
            poolsMaximum
            ? try x.maxPooled(kernelSize: 3, stride: 1, padding: 1)
            : try x.averagePool2d(kernelSize: 3, stride: 1, padding: 1)
        return try Tensor.concatenateChannels(
            [try branch1x1(x)] + branch3x3Split.map { try $0(single) } + branch3x3DoubleSplit.map { try $0(double) }
                + [try branchPool(pooled)])
    }
}
