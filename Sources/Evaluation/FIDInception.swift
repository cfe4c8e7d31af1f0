import Foundation
import Tensor

// pytorch-fid's InceptionV3 for FID (pytorch_fid/inception.py, InceptionV3 with
// output_blocks=[3], resize_input=True, normalize_input=True, use_fid_inception=True), checked
// against its code:
//   - input images in [0, 1] (torchvision's ToTensor of the 8-bit files) are resized to
//     299 × 299 by F.interpolate(mode='bilinear', align_corners=False), then mapped to 2x − 1;
//   - block 0: Conv2d_1a_3x3 (stride 2), Conv2d_2a_3x3, Conv2d_2b_3x3 (padding 1), max pool 3/2;
//     block 1: Conv2d_3b_1x1, Conv2d_4a_3x3, max pool 3/2; block 2: Mixed_5b…5d (FIDInceptionA),
//     Mixed_6a (InceptionB), Mixed_6b…6e (FIDInceptionC); block 3: Mixed_7a (InceptionD),
//     Mixed_7b (FIDInceptionE_1), Mixed_7c (FIDInceptionE_2), adaptive average pool to 1 × 1;
//   - the FID features are that pool's 2048 values ("pool3").

/// The Inception-v3 of pytorch-fid, up to its 2048 pool3 features, with weights from a
/// safetensors file of its state_dict (torchvision's keys: `Conv2d_1a_3x3.conv.weight`,
/// `Conv2d_1a_3x3.bn.running_var`, `Mixed_7c.branch3x3dbl_3b.conv.weight`, …). The classifier
/// (`fc.*`) and `num_batches_tracked` are not needed and are ignored when present.
public final class FIDInception {
    /// The length of one image's feature vector.
    public static let featureCount = 2048
    /// The side every image is resized to.
    public static let inputSide = 299

    let stem: [FoldedConvolution]
    let blocks: [InceptionBlock]

    /// Loads the weights (see the type's description).
    /// - Throws: ``EvaluationError/weights(file:tensor:reason:)`` naming the first tensor that
    ///   is missing, not float32 or of the wrong shape.
    public convenience init(contentsOf url: URL) throws {
        try self.init(
            weights: WeightFile(
                contentsOf: url, expected: "pytorch-fid's FID Inception state_dict, as the README exports it"))
    }

    init(weights w: WeightSource) throws {
        stem = [
            try FoldedConvolution(w, "Conv2d_1a_3x3", 3, 32, kernel: (3, 3), stride: 2),
            try FoldedConvolution(w, "Conv2d_2a_3x3", 32, 32, kernel: (3, 3)),
            try FoldedConvolution(w, "Conv2d_2b_3x3", 32, 64, kernel: (3, 3), padding: (1, 1)),
            try FoldedConvolution(w, "Conv2d_3b_1x1", 64, 80),
            try FoldedConvolution(w, "Conv2d_4a_3x3", 80, 192, kernel: (3, 3))
        ]
        blocks = [
            try InceptionA(w, "Mixed_5b", input: 192, poolFeatures: 32),
            try InceptionA(w, "Mixed_5c", input: 256, poolFeatures: 64),
            try InceptionA(w, "Mixed_5d", input: 288, poolFeatures: 64),
            try InceptionB(w, "Mixed_6a", input: 288),
            try InceptionC(w, "Mixed_6b", input: 768, channels: 128),
            try InceptionC(w, "Mixed_6c", input: 768, channels: 160),
            try InceptionC(w, "Mixed_6d", input: 768, channels: 160),
            try InceptionC(w, "Mixed_6e", input: 768, channels: 192),
            try InceptionD(w, "Mixed_7a", input: 768),
            try InceptionE(w, "Mixed_7b", input: 1280, poolsMaximum: false),
            try InceptionE(w, "Mixed_7c", input: 2048, poolsMaximum: true)
        ]
    }

    /// Every tensor a weight file must hold, with its shape.
    static var weightShapes: [String: [Int]] {
        let recorder = WeightShapeRecorder()
        _ = try? FIDInception(weights: recorder)
        return recorder.shapes
    }

    /// The pool3 features of `images` (N × 3 × H × W in [0, 1], any size), N × 2048 values
    /// row-major, computed without recording gradients.
    public func features(_ images: Tensor) throws -> [Float] {
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] > 0, images.shape[3] > 0 else {
            throw EvaluationError.invalidInput(reason: "the FID Inception needs N×3×H×W images, got \(images.shape)")
        }
        return try Tensor.withoutGradients {
            var x = try images.resizedBilinear(height: Self.inputSide, width: Self.inputSide).affine(
                scale: 2, shift: -1)
            x = try chain(Array(stem[0..<3]), x)
            x = try x.maxPool2d(kernelSize: 3, stride: 2)
            x = try chain(Array(stem[3..<5]), x)
            x = try x.maxPool2d(kernelSize: 3, stride: 2)
            for block in blocks { x = try block(x) }
            return Self.spatialMeans(x)
        }
    }

    /// The mean of every plane (adaptive average pooling to 1 × 1).
    private static func spatialMeans(_ x: Tensor) -> [Float] {
        let plane = x.shape[2] * x.shape[3]
        return (0..<x.shape[0] * x.shape[1]).map { index in
            var total: Float = 0
            for position in index * plane..<(index + 1) * plane { total += x.data[position] }
            return total / Float(plane)
        }
    }
}
