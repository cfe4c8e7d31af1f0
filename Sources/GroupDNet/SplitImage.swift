import Tensor

/// The encoder's input: per sample and class, the image masked to the class, cropped to the
/// class's bounding box and resized back to the full size (nearest), stacked class-major.
///
/// For sample n and class c: take `image × seg[c]`, find the bounding box of the pixels where
/// `seg[c]` is non-zero, crop the masked image to it and resize the crop to H × W with
/// PyTorch's nearest rule (source index min(⌊dst · in/out⌋, in − 1), scale in Float32).
/// Channels 3c…3c+2 of the result are class c; a class absent from the sample gives zeros.
///
/// The box comes from the mask. The reference (`trans_img` in Seanseattle/SMIS) takes it from
/// the non-zero row and column sums of the masked image instead, which misses class pixels
/// whose RGB values sum to 0 (and whole rows whose sums cancel); with the mask, a class that is
/// present always gets its full box.
public enum SplitImage {
    /// An inclusive bounding box in pixel rows and columns.
    public struct Box: Equatable, Sendable {
        public var top, bottom, left, right: Int
        public init(top: Int, bottom: Int, left: Int, right: Int) {
            (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        }
        public var height: Int { bottom - top + 1 }
        public var width: Int { right - left + 1 }
    }

    /// The split image for `seg` (N × C × H × W, one-hot) and `image` (N × 3 × H × W):
    /// N × 3C × H × W, a new leaf tensor (it is data, not part of the graph). With `classes`,
    /// only the first `classes` channels of `seg` are classes (Cityscapes' last one holds the
    /// instance edges, which the reference's `trans_img` leaves out too).
    public static func make(seg: Tensor, image: Tensor, classes: Int? = nil) throws -> Tensor {
        guard seg.rank == 4, image.rank == 4, image.shape[1] == 3, seg.shape[0] == image.shape[0],
            seg.shape[2] == image.shape[2], seg.shape[3] == image.shape[3]
        else {
            throw GroupDNetError.invalidInput(
                reason: "seg N×C×H×W and image N×3×H×W must share N, H, W; got \(seg.shape) and \(image.shape)")
        }
        let (batch, channels, height, width) = (seg.shape[0], seg.shape[1], seg.shape[2], seg.shape[3])
        let classes = min(classes ?? channels, channels)
        let plane = height * width
        var output = [Float](repeating: 0, count: batch * 3 * classes * plane)
        for sample in 0..<batch {
            for label in 0..<classes {
                let maskOffset = (sample * channels + label) * plane
                guard let box = boundingBox(of: seg.data[maskOffset..<maskOffset + plane], height: height, width: width)
                else { continue }
                let rows = nearestSourceIndices(input: box.height, output: height).map { $0 + box.top }
                let columns = nearestSourceIndices(input: box.width, output: width).map { $0 + box.left }
                for channel in 0..<3 {
                    let imageOffset = (sample * 3 + channel) * plane
                    let outputOffset = ((sample * classes + label) * 3 + channel) * plane
                    for y in 0..<height {
                        let sourceRow = rows[y] * width
                        for x in 0..<width {
                            let source = sourceRow + columns[x]
                            output[outputOffset + y * width + x] =
                                image.data[imageOffset + source] * seg.data[maskOffset + source]
                        }
                    }
                }
            }
        }
        return try Tensor(shape: [batch, 3 * classes, height, width], data: output)
    }

    /// The box of the non-zero values of one H × W mask plane, or nil when there are none.
    public static func boundingBox(of mask: ArraySlice<Float>, height: Int, width: Int) -> Box? {
        var box: Box?
        let start = mask.startIndex
        for y in 0..<height {
            for x in 0..<width where mask[start + y * width + x] != 0 {
                if var found = box {
                    found.bottom = y
                    found.left = min(found.left, x)
                    found.right = max(found.right, x)
                    box = found
                } else {
                    box = Box(top: y, bottom: y, left: x, right: x)
                }
            }
        }
        return box
    }

    /// PyTorch's nearest source indices for resizing `input` to `output` samples.
    static func nearestSourceIndices(input: Int, output: Int) -> [Int] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { min(Int((Float($0) * scale).rounded(.down)), input - 1) }
    }
}

/// Conversions from raw label maps and RGB bytes to the model's input tensors.
public enum ModelInput {
    /// The one-hot label map, N × classes × H × W, from N label planes of H × W class ids
    /// (row-major, sample after sample). Throws naming the sample and pixel of an id ≥ classes.
    public static func oneHot(labels: [UInt8], batch: Int, height: Int, width: Int, classes: Int) throws -> Tensor {
        let plane = height * width
        guard labels.count == batch * plane else {
            throw GroupDNetError.invalidInput(
                reason: "\(labels.count) labels for \(batch) planes of \(height)×\(width)")
        }
        var data = [Float](repeating: 0, count: batch * classes * plane)
        for sample in 0..<batch {
            for pixel in 0..<plane {
                let label = Int(labels[sample * plane + pixel])
                guard label < classes else {
                    throw GroupDNetError.invalidInput(
                        reason: "sample \(sample), pixel (\(pixel / width), \(pixel % width)): class \(label) ≥ "
                            + "\(classes)")
                }
                data[(sample * classes + label) * plane + pixel] = 1
            }
        }
        return try Tensor(shape: [batch, classes, height, width], data: data)
    }

    /// The instance-edge map, N × 1 × H × W, from N instance-id planes of H × W: 1 where a
    /// pixel's left, right, upper or lower neighbour has another id, else 0 (the reference's
    /// `get_edges`).
    public static func instanceEdges(instances: [UInt16], batch: Int, height: Int, width: Int) throws -> Tensor {
        let plane = height * width
        guard instances.count == batch * plane else {
            throw GroupDNetError.invalidInput(
                reason: "\(instances.count) instance ids for \(batch) planes of \(height)×\(width)")
        }
        var edges = [Float](repeating: 0, count: instances.count)
        for sample in 0..<batch {
            let base = sample * plane
            for y in 0..<height {
                for x in 0..<width {
                    let index = base + y * width + x
                    if x + 1 < width, instances[index] != instances[index + 1] {
                        (edges[index], edges[index + 1]) = (1, 1)
                    }
                    if y + 1 < height, instances[index] != instances[index + width] {
                        (edges[index], edges[index + width]) = (1, 1)
                    }
                }
            }
        }
        return try Tensor(shape: [batch, 1, height, width], data: edges)
    }

    /// G's and D's label input for `configuration`: the one-hot classes and, where the
    /// configuration has instance edges, the edge channel of `instances` (required then).
    public static func seg(
        labels: [UInt8], instances: [UInt16]?, batch: Int, height: Int, width: Int,
        configuration: GroupDNetConfiguration
    ) throws -> Tensor {
        let classes = try oneHot(
            labels: labels, batch: batch, height: height, width: width, classes: configuration.classCount)
        guard configuration.hasInstanceEdges else { return classes }
        guard let instances else {
            throw GroupDNetError.invalidInput(reason: "the model takes instance edges, and no instance map was given")
        }
        let edges = try instanceEdges(instances: instances, batch: batch, height: height, width: width)
        return try Tensor.concatenateChannels([classes, edges])
    }

    /// The image tensor, N × 3 × H × W with values byte/127.5 − 1 in [-1, 1], from N interleaved
    /// RGB8 images of H × W (the layout of ImageIO's `Image.pixels`).
    public static func image(rgb: [UInt8], batch: Int, height: Int, width: Int) throws -> Tensor {
        let plane = height * width
        guard rgb.count == batch * 3 * plane else {
            throw GroupDNetError.invalidInput(
                reason: "\(rgb.count) bytes for \(batch) RGB images of \(height)×\(width)")
        }
        var data = [Float](repeating: 0, count: rgb.count)
        for sample in 0..<batch {
            for pixel in 0..<plane {
                for channel in 0..<3 {
                    data[(sample * 3 + channel) * plane + pixel] =
                        Float(rgb[(sample * plane + pixel) * 3 + channel]) / 127.5 - 1
                }
            }
        }
        return try Tensor(shape: [batch, 3, height, width], data: data)
    }
}
