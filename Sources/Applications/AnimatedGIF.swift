import CGIFShim
import ImageIO

/// Animated GIFs through giflib (Debian's libgif): frames of one size share one median-cut
/// palette (``MedianCutPalette``) of the colours of every frame, so that a colour keeps its
/// index from frame to frame and the animation does not flicker.
public enum AnimatedGIF {
    /// The bytes of a GIF89a showing `frames` in turn, each for `delayCentiseconds` hundredths
    /// of a second (0…65535), looping `loopCount` times more (0: for ever).
    public static func encoded(_ frames: [Image], delayCentiseconds: Int = 10, loopCount: Int = 0) throws -> [UInt8] {
        guard let first = frames.first else {
            throw ApplicationError.invalidArgument("frames", reason: "an animation needs at least one frame")
        }
        guard frames.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw ApplicationError.invalidArgument("frames", reason: "frames of different sizes")
        }
        let palette = MedianCutPalette(images: frames)
        return try encoded(
            indices: frames.map(palette.indices(of:)), width: first.width, height: first.height, palette: palette,
            delayCentiseconds: delayCentiseconds, loopCount: loopCount)
    }

    /// The bytes of a GIF89a of frames given as palette indices (`width` × `height` each,
    /// row-major), all below `palette.count`.
    public static func encoded(
        indices frames: [[UInt8]], width: Int, height: Int, palette: MedianCutPalette, delayCentiseconds: Int,
        loopCount: Int
    ) throws -> [UInt8] {
        guard (1...65535).contains(width), (1...65535).contains(height), !frames.isEmpty,
            frames.allSatisfy({ $0.count == width * height && $0.allSatisfy { Int($0) < palette.count } })
        else {
            throw ApplicationError.invalidArgument(
                "frames",
                reason: "\(frames.count) frames of \(width)×\(height) indices below \(palette.count) expected")
        }
        guard (0...65535).contains(delayCentiseconds), (0...65535).contains(loopCount) else {
            throw ApplicationError.invalidArgument(
                "--delay", reason: "delay \(delayCentiseconds) cs and loop count \(loopCount) must be in 0…65535")
        }
        let indices = Array(frames.joined())
        var buffer = cgif_buffer()
        defer { cgif_buffer_free(&buffer) }
        let status = cgif_encode_animation(
            indices, Int32(frames.count), Int32(width), Int32(height), palette.rgb, Int32(palette.count),
            Int32(delayCentiseconds), Int32(loopCount), &buffer)
        guard status == 0, let data = buffer.data else {
            throw ApplicationError.gifEncoding(reason: String(cString: cgif_error_message(status)))
        }
        return Array(UnsafeBufferPointer(start: data, count: buffer.size))
    }
}
