import Foundation
import GroupDNet
import ImageIO
import Tensor
import Training

/// A tiny-preset synthesizer with fresh weights (no training needed) and label maps and
/// photos for it, shared by the application tests.
enum TinyModel {
    static let classes = ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"]
    static let size = 64

    static func synthesizer(seed: UInt64 = 1) throws -> ImageSynthesizer {
        try ImageSynthesizer(untrained: .tiny, classes: classes, seed: seed)
    }

    /// Eight horizontal bands, one per class, moved down by `shift` rows; the right half is one
    /// class further, so that every class meets several others.
    static func label(shift: Int = 0) -> LabelMap {
        var label = LabelMap(width: size, height: size)
        for y in 0..<size {
            for x in 0..<size {
                label.values[y * size + x] = UInt8(((y + shift) / (size / 8) + (x >= size / 2 ? 1 : 0)) % 8)
            }
        }
        return label
    }

    /// A photo for `label`: each class its own colour, varied by a seeded hash of the pixel.
    static func photo(for label: LabelMap, seed: UInt64) -> Image {
        var random = RandomSource(seed: seed)
        var pixels = [UInt8](repeating: 0, count: label.pixelCount * 3)
        for pixel in 0..<label.pixelCount {
            let value = Int(label.values[pixel])
            for channel in 0..<3 {
                pixels[pixel * 3 + channel] = UInt8((value * 53 + channel * 71 + Int(random.next() % 40)) % 256)
            }
        }
        return Image(width: label.width, height: label.height, pixels: pixels)
    }

    /// The values of `z` in the channels of `channels`, plane after plane.
    static func values(of z: Tensor, channels: Range<Int>) -> [Float] {
        let plane = z.shape[2] * z.shape[3]
        return Array(z.data[channels.lowerBound * plane..<channels.upperBound * plane])
    }
}
